"""Benchmark of the metrics: `p111 kpi` against a bare DuckDB scan of the same file, in one run, with their ratio.

    python benchmarks/metrics.py [--sizes 1000000] [--big] [--format ndjson parquet] [--dir /tmp/p111-bench]
                                 [--python-max 0] [--stages]

For each size, a synthetic history is written once under --dir by `harness.metrics.synth` (`--big` adds 10^7 rows:
about 7 GB of NDJSON, written in ~20 minutes) and, for `--format parquet`, converted to Parquet once. Every file is
then read once (so that no mode pays for a cold page cache), and each mode runs in a fresh process so that its wall
time includes the process start and imports and its peak memory (max RSS) is its own:
- `p111 kpi`: the command as a user runs it (`p111 kpi --data <the four files> --year Y --json`): every Plan 111 KPI
  and the QĐ 766 groups, the dossier file and the transaction log each read once;
- `kpi -log`: the same command without the transaction log (the two KPIs read from it are NOT-TESTED): the dossier
  file is then the only large input, as it is for the bare scan;
- `duckdb`: a bare DuckDB scan of the dossier file computing five per-agency ratios (no validation, no samples): the
  issue's anchor;
- `duckdb+log`: that scan and a bare scan of the transaction log computing its two ratios (authenticated
  transactions, dossiers transferred electronically), in one process: the same inputs as `p111 kpi`;
- `python` (up to --python-max rows): the five dossier ratios with json.loads in a loop, for scale.
It prints wall seconds, CPU seconds (user + system, all threads), peak MiB, and three ratios, on wall time and on CPU
time (the machine is shared, so wall time carries other people's load and CPU time is the steadier comparison):
`p111 kpi` / `duckdb` (the goal as the issue states it, though only one side reads the transaction log),
`p111 kpi` / `duckdb+log` (the same files on both sides) and `kpi -log` / `duckdb` (the same file on both sides).
The figures each pair shares must be equal, and the benchmark says whether they are. `--stages` also prints, in one
process, where the time of `p111 kpi` goes (imports, each pass over a file).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

YEAR = 2023
FIVE = ("online", "paid", "digitised", "components", "population")  # numerators; denominators below
DENOMINATORS = {"online": "received", "paid": "fee", "digitised": "finished", "components": "received",
                "population": "received"}
HISTORY = ("history.ndjson", "history.agencies.json", "history.procedures.json", "history.transactions.ndjson")


def files(directory: Path, file_format: str) -> list[Path]:
    names = list(HISTORY)
    if file_format == "parquet":
        names[0], names[3] = "history.parquet", "history.transactions.parquet"
    return [directory / name for name in names]


def ensure_history(directory: Path, size: int, file_format: str) -> None:
    """In a child process: a child's peak memory (max RSS) starts from its parent's at fork, so the parent stays
    small for the measured children's figures to be their own."""
    subprocess.run([sys.executable, __file__, "--prepare", str(directory), str(size), file_format], check=True)


def prepare(directory: Path, size: int, file_format: str) -> None:
    from harness.metrics import synth

    done = directory / ".done"
    if not done.exists():
        started = time.perf_counter()
        synth.write_history(directory / "history.ndjson", dossiers=size, year=YEAR, seed=111, progress=True)
        done.write_text(f"{time.perf_counter() - started:.1f}\n", encoding="utf-8")
    if file_format == "parquet" and not (directory / "history.parquet").exists():
        import duckdb

        for source, target in (("history.ndjson", "history.parquet"),
                               ("history.transactions.ndjson", "history.transactions.parquet")):
            with duckdb.connect() as con:
                con.execute(f"COPY (SELECT * FROM read_json('{directory / source}', format='newline_delimited', "
                            f"sample_size=-1)) TO '{directory / target}' (FORMAT parquet, COMPRESSION zstd)")


# ----------------------------------------------------------------------------------------------- the modes (child)


def run_kpi(directory: Path, file_format: str, *, log: bool = True) -> dict[str, int]:
    """`p111 kpi` in this (fresh) process, exactly as the console script runs it; the shared figures from its JSON."""
    import contextlib
    import io

    from harness.cli import main

    data = files(directory, file_format)[:None if log else 3]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["kpi", "--data", *map(str, data), "--year", str(YEAR), "--json"])
    document = json.loads(buffer.getvalue())
    results = document["results"]
    online = next(r for r in results if r["requirement"] == "P111-KPI-ONLINE-DOSSIERS" and r["level"] == "all")
    paid = next(r for r in results if r["requirement"] == "P111-KPI-PAYMENT" and r["reading"] == "per-dossier")
    levels = [r for r in results if r["requirement"] == "P111-KPI-DIGITISATION" and r["level"] != "all"]
    assert any(s["scope"] == "province" for s in document["score766"])
    figures = {"received": online["denominator"], "online": online["numerator"], "fee": paid["denominator"],
               "paid": paid["numerator"], "finished": sum(r["denominator"] for r in levels),
               "digitised": sum(r["numerator"] for r in levels)}
    if log:
        auth = next(r for r in results if r["requirement"] == "P111-KPI-AUTH")
        moved = next(r for r in results if r["requirement"] == "P111-KPI-TRANSFER")
        figures |= {"transactions": auth["denominator"], "authenticated": auth["numerator"],
                    "moved": moved["denominator"], "electronic": moved["numerator"]}
    return figures


def run_kpi_without_log(directory: Path, file_format: str) -> dict[str, int]:
    return run_kpi(directory, file_format, log=False)


def run_duckdb_with_log(directory: Path, file_format: str) -> dict[str, int]:
    """The bare dossier scan, then a bare scan of the transaction log: the transactions of the year and those with an
    authenticated subject; the dossiers transferred that year and those never moved on paper (no validation)."""
    import duckdb

    figures = run_duckdb(directory, file_format)
    path = str(files(directory, file_format)[3]).replace("'", "''")
    columns = """{'at': 'VARCHAR', 'action': 'VARCHAR', 'MaHoSo': 'VARCHAR', 'subject': 'VARCHAR',
                 'assurance': 'VARCHAR', 'transfer_method': 'VARCHAR'}"""
    source = (f"read_parquet('{path}')" if file_format == "parquet"
              else f"read_json('{path}', format='newline_delimited', columns={columns})")
    rows = duckdb.connect().execute(f"""
        SELECT CASE WHEN action = 'transfer' THEN MaHoSo END AS moved, count(*) AS transactions,
               count_if(coalesce(subject, '') <> '' AND coalesce(assurance, '') <> '') AS authenticated,
               bool_or(transfer_method <> 'electronic') AS on_paper
        FROM {source}
        WHERE left("at", 4) = '{YEAR}'
        GROUP BY moved""").fetchall()
    figures["transactions"] = sum(int(row[1]) for row in rows)
    figures["authenticated"] = sum(int(row[2]) for row in rows)
    figures["moved"] = sum(1 for row in rows if row[0] is not None)
    figures["electronic"] = sum(1 for row in rows if row[0] is not None and not row[3])
    return figures


def run_duckdb(directory: Path, file_format: str) -> dict[str, int]:
    import duckdb

    path = str(files(directory, file_format)[0]).replace("'", "''")
    columns = """{
            'MaHoSo': 'VARCHAR', 'KenhThucHien': 'VARCHAR', 'TrangThaiHoSo': 'VARCHAR', 'NgayTiepNhan': 'VARCHAR',
            'DuocThanhToanTrucTuyen': 'VARCHAR', 'HoSoCoThanhPhanSoHoa': 'VARCHAR',
            'DanhSachLePhi': 'STRUCT(Gia VARCHAR)[]', 'DanhSachGiayToKetQua': 'STRUCT(DuongDanTepTinKetQua VARCHAR)[]',
            'DSKetNoiCSDL': 'JSON[]'}"""
    source = (f"read_parquet('{path}')" if file_format == "parquet"
              else f"read_json('{path}', format='newline_delimited', columns={columns})")
    rows = duckdb.connect().execute(f"""
        SELECT split_part(MaHoSo, '-', 1) AS agency, count(*) AS received,
               count_if(KenhThucHien = '2') AS online,
               count_if(list_bool_or(list_transform(DanhSachLePhi, lambda f: try_cast(f.Gia AS DOUBLE) > 0))) AS fee,
               count_if(list_bool_or(list_transform(DanhSachLePhi, lambda f: try_cast(f.Gia AS DOUBLE) > 0))
                        AND DuocThanhToanTrucTuyen IN ('1', '2')) AS paid,
               count_if(TrangThaiHoSo IN ('9', '10') AND len(DanhSachGiayToKetQua) > 0) AS finished,
               count_if(TrangThaiHoSo IN ('9', '10') AND len(DanhSachGiayToKetQua) > 0 AND list_bool_and(
                   list_transform(DanhSachGiayToKetQua, lambda r: coalesce(r.DuongDanTepTinKetQua, '') <> '')))
                   AS digitised,
               count_if(HoSoCoThanhPhanSoHoa = '1') AS components,
               count_if(len(DSKetNoiCSDL) > 0) AS population
        FROM {source}
        WHERE left(NgayTiepNhan, 4) = '{YEAR}'
        GROUP BY agency""").fetchall()
    names = ("received", "online", "fee", "paid", "finished", "digitised", "components", "population")
    return {name: sum(int(row[index + 1]) for row in rows) for index, name in enumerate(names)}


def run_python(directory: Path, file_format: str) -> dict[str, int]:
    from harness.metrics import oracle

    per_agency: dict[str, dict[str, int]] = {}
    with (directory / "history.ndjson").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if oracle.dossier_year(row) != YEAR:
                continue
            counts = per_agency.setdefault(oracle.agency_of(row), dict.fromkeys({*DENOMINATORS.values(), *FIVE}, 0))
            counts["received"] += 1
            counts["online"] += oracle.text(row.get("KenhThucHien")) == "2"
            if oracle.fee_bearing(row):
                counts["fee"] += 1
                counts["paid"] += oracle.paid_online(row)
            if oracle.finished_with_result(row):
                counts["finished"] += 1
                counts["digitised"] += oracle.results_digitised(row)
            counts["components"] += oracle.text(row.get("HoSoCoThanhPhanSoHoa")) == "1"
            counts["population"] += bool(row.get("DSKetNoiCSDL"))
    totals: dict[str, int] = {}
    for counts in per_agency.values():
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
    return totals


MODES = {"p111 kpi": run_kpi, "kpi -log": run_kpi_without_log, "duckdb": run_duckdb, "duckdb+log": run_duckdb_with_log,
         "python": run_python}
# (numerator, denominator, what the ratio compares) printed after the modes
RATIOS = (("p111 kpi", "duckdb", "all KPIs / bare dossier scan (the issue's anchor; only p111 reads the log)"),
          ("p111 kpi", "duckdb+log", "all KPIs / bare scans of the same two files"),
          ("kpi -log", "duckdb", "KPIs of the dossier file / bare scan of that file"))


def stages(directory: Path, file_format: str) -> None:
    """Where the time of `p111 kpi` goes, in this process: imports, each pass over a file, the rest."""
    started = time.perf_counter()
    from harness.metrics import load_datasets, loading, measure, score766
    from harness.metrics.results import build_results

    imported = time.perf_counter()
    passes: list[tuple[str, float]] = []
    aggregate = loading._aggregate

    def timed(con: object, table: str, path: Path, *rest: object) -> None:
        begun = time.perf_counter()
        aggregate(con, table, path, *rest)  # type: ignore[arg-type]
        passes.append((f"{table} ({path.name})", time.perf_counter() - begun))

    loading._aggregate = timed  # type: ignore[assignment]  # where loading a file looks it up
    datasets = load_datasets(files(directory, file_format))
    loaded = time.perf_counter()
    measurements = measure(datasets, year=YEAR)
    measured = time.perf_counter()
    build_results(measurements)
    score766.score_dossiers(measurements)
    done = time.perf_counter()
    print(f"    imports {imported - started:.2f} s; reading the small files {loaded - imported:.2f} s; "
          + "; ".join(f"pass over {name} {seconds:.2f} s" for name, seconds in passes)
          + f"; the rest of measuring {measured - loaded - sum(s for _, s in passes):.2f} s; "
          f"results and 766 {done - measured:.3f} s; {len(passes)} passes over the data in all", flush=True)


# ----------------------------------------------------------------------------------------------------- the parent


def warm(paths: list[Path]) -> None:
    """Read every file once, so that each mode finds it in the page cache: the first mode to run paid for the disk
    (17 CPU s more for p111 kpi at 10^7 NDJSON, in system time) when it met the files cold."""
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def measure_in_child(mode: str, directory: Path, file_format: str) -> tuple[float, float, float, dict[str, int]]:
    """(wall seconds, CPU seconds, peak RSS in MiB, figures) of one mode in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--one", mode, str(directory), file_format],
                             stdout=subprocess.PIPE)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{mode} failed with exit code {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, json.loads(output)


def ratios(totals: dict[str, int]) -> str:
    parts = []
    for name, over in (*((name, DENOMINATORS[name]) for name in FIVE), ("authenticated", "transactions"),
                       ("electronic", "moved")):
        if name not in totals:
            continue
        denominator = totals[over]
        parts.append(f"{name} {100 * totals[name] / denominator:.2f}%" if denominator else f"{name} —")
    return ", ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--big", action="store_true", help="add 10^7 rows (about 7 GB of NDJSON)")
    parser.add_argument("--format", nargs="+", choices=("ndjson", "parquet"), default=["ndjson"])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/p111-bench"))
    parser.add_argument("--python-max", type=int, default=0, help="run plain Python up to this size (0: never)")
    parser.add_argument("--stages", action="store_true", help="also print where the time of p111 kpi goes")
    parser.add_argument("--one", nargs=3, metavar=("MODE", "DIR", "FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=3, metavar=("DIR", "SIZE", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.prepare[0]), int(args.prepare[1]), args.prepare[2])
        return 0
    if args.one:
        mode, directory, file_format = args.one
        if mode == "stages":
            stages(Path(directory), file_format)
        else:
            print(json.dumps(MODES[mode](Path(directory), file_format)))
        return 0
    sizes = list(args.sizes) + ([10_000_000] if args.big and 10_000_000 not in args.sizes else [])
    # The dossier file of 10^7 rows (7 GB) is over p111's default cap on one export (4 GB, harness.core.limits): the
    # children run as a user who raised it would.
    os.environ.setdefault("P111_MAX_EXPORT_MB", str(64 * 1024))
    print(f"{'rows':>10} {'format':<8} {'MB':>6} {'mode':<9} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9}  "
          f"province-wide ratios of {YEAR}")
    for size in sizes:
        directory = args.dir / str(size)
        directory.mkdir(parents=True, exist_ok=True)
        for file_format in args.format:
            ensure_history(directory, size, file_format)
            megabytes = files(directory, file_format)[0].stat().st_size / 1e6
            warm(files(directory, file_format))
            figures: dict[str, tuple[float, float, float, dict[str, int]]] = {}
            for mode in MODES:
                if mode == "python" and (size > args.python_max or file_format != "ndjson"):
                    continue
                figures[mode] = measure_in_child(mode, directory, file_format)
                wall, cpu, peak, totals = figures[mode]
                print(f"{size:>10} {file_format:<8} {megabytes:>6.0f} {mode:<9} {wall:>7.2f} {cpu:>7.2f} {peak:>9.0f}"
                      f"  {ratios(totals)}", flush=True)
            for over, under, meaning in RATIOS:
                kpi, bare = figures[over], figures[under]
                shared = kpi[3].keys() & bare[3].keys()
                same = all(bare[3][name] == kpi[3][name] for name in shared)
                print(f"{'':>10} {file_format:<8} {'':>6} {'ratio':<9} {kpi[0] / bare[0]:>6.2f}x "
                      f"{kpi[1] / bare[1]:>6.2f}x {'':>9}  {over} / {under} (wall, CPU): {meaning}; "
                      f"{len(shared)} shared figures {'equal' if same else 'DIFFER'}", flush=True)
            print(f"{'':>10} {file_format:<8} {'':>6} {'goal':<9} {'2.00x':>7} {'2.00x':>7} {500:>9}", flush=True)
            if args.stages:  # in a child too: the parent's memory would become the next children's peak
                subprocess.run([sys.executable, __file__, "--one", "stages", str(directory), file_format], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
