"""Benchmark of the metrics engine: harness time, a bare DuckDB scan and plain Python, side by side, per size.

    python benchmarks/metrics.py [--sizes 100000 1000000 10000000] [--dir /tmp/p111-bench] [--python-max 1000000]

Histories are written once by `harness.metrics.synth` under --dir (not in the repository) and reused. Each
measurement runs in a fresh process, so its wall time includes reading the files, and its peak memory (max RSS) is
its own. The harness measures all seven Plan 111 metrics and the 766 scoring from dossier data (dossiers, agencies,
procedures and the transaction log); the bare DuckDB scan and the plain-Python loop compute five ratios per agency
over the dossier file only: the province-wide figures of the three must be equal.
The harness keeps no per-row table (each file folds into group totals as it is read, and DuckDB spills to disk
beyond harness.metrics.engine.MEMORY_LIMIT), so its peak memory stays bounded as the rows grow.
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


def files(directory: Path) -> list[Path]:
    return [directory / "history.ndjson", directory / "history.agencies.json", directory / "history.procedures.json",
            directory / "history.transactions.ndjson"]


def ensure_history(directory: Path, size: int) -> None:
    done = directory / ".done"
    if done.exists():
        return
    from harness.metrics import synth

    started = time.perf_counter()
    synth.write_history(directory / "history.ndjson", dossiers=size, year=YEAR, seed=111, progress=True)
    done.write_text(f"{time.perf_counter() - started:.1f}\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------- the three modes


def run_harness(directory: Path) -> dict[str, int]:
    from harness.metrics import load_datasets, measure, score766
    from harness.metrics.results import build_results

    datasets = load_datasets(files(directory))
    measurements = measure(datasets, year=YEAR)
    build_results(measurements)
    score766.score_dossiers(measurements)
    totals = {"received": 0, "online": 0, "fee": 0, "paid": 0, "finished": 0, "digitised": 0, "components": 0,
              "population": 0}
    for counts in measurements.agencies.values():
        totals["received"] += counts.received
        totals["online"] += counts.online
        totals["fee"] += counts.fee_dossiers
        totals["paid"] += counts.fee_paid_online
        totals["finished"] += counts.finished_with_result
        totals["digitised"] += counts.digitised_results
        totals["components"] += counts.digitised_components
        totals["population"] += counts.population_data
    return totals


def run_duckdb(directory: Path) -> dict[str, int]:
    import duckdb

    path = str(directory / "history.ndjson").replace("'", "''")
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
        FROM read_json('{path}', format='newline_delimited', columns={{
            'MaHoSo': 'VARCHAR', 'KenhThucHien': 'VARCHAR', 'TrangThaiHoSo': 'VARCHAR', 'NgayTiepNhan': 'VARCHAR',
            'DuocThanhToanTrucTuyen': 'VARCHAR', 'HoSoCoThanhPhanSoHoa': 'VARCHAR',
            'DanhSachLePhi': 'STRUCT(Gia VARCHAR)[]', 'DanhSachGiayToKetQua': 'STRUCT(DuongDanTepTinKetQua VARCHAR)[]',
            'DSKetNoiCSDL': 'JSON[]'}})
        WHERE left(NgayTiepNhan, 4) = '{YEAR}'
        GROUP BY agency""").fetchall()
    names = ("received", "online", "fee", "paid", "finished", "digitised", "components", "population")
    return {name: sum(int(row[index + 1]) for row in rows) for index, name in enumerate(names)}


def run_python(directory: Path) -> dict[str, int]:
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


MODES = {"harness": run_harness, "duckdb": run_duckdb, "python": run_python}


def measure_in_child(mode: str, directory: Path) -> tuple[float, float, dict[str, int]]:
    """(wall seconds, peak RSS in MiB, totals) of one mode in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--one", mode, str(directory)], stdout=subprocess.PIPE)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{mode} failed with exit code {child.returncode}")
    return wall, usage.ru_maxrss / 1024, json.loads(output)


def ratios(totals: dict[str, int]) -> str:
    parts = []
    for name in FIVE:
        denominator = totals[DENOMINATORS[name]]
        parts.append(f"{name} {100 * totals[name] / denominator:.2f}%" if denominator else f"{name} —")
    return ", ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/p111-bench"))
    parser.add_argument("--python-max", type=int, default=1_000_000, help="skip plain Python above this size")
    parser.add_argument("--one", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        mode, directory = args.one
        print(json.dumps(MODES[mode](Path(directory))))
        return 0
    print(f"{'rows':>10} {'dossiers MB':>11} {'mode':<8} {'wall s':>7} {'peak MiB':>9}  province-wide ratios of {YEAR}")
    for size in args.sizes:
        directory = args.dir / str(size)
        directory.mkdir(parents=True, exist_ok=True)
        ensure_history(directory, size)
        megabytes = (directory / "history.ndjson").stat().st_size / 1e6
        results = {}
        for mode in MODES:
            if mode == "python" and size > args.python_max:
                print(f"{size:>10} {megabytes:>11.0f} {mode:<8} {'skipped':>7} (above --python-max)")
                continue
            wall, peak, totals = measure_in_child(mode, directory)
            results[mode] = totals
            print(f"{size:>10} {megabytes:>11.0f} {mode:<8} {wall:>7.2f} {peak:>9.0f}  {ratios(totals)}", flush=True)
        same = all(totals == results["harness"] for totals in results.values())
        print(f"{'':>10} {'':>11} {'equal':<8} {'yes' if same else 'NO: the figures differ'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
