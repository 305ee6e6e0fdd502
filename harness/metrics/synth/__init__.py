"""A synthetic dossier history whose true ratios are known exactly: for demos, tests, boundary defects and benchmarks.

`write_history(path, dossiers=N, year=Y, seed=S)` writes, deterministically for a seed:
- `path`: the synced dossiers (HoSoDongBoDVC), NDJSON;
- `<stem>.agencies.json`, `<stem>.procedures.json` (JSON arrays) and `<stem>.transactions.ndjson` next to it
  (`<stem>` is `path` without its suffix: history.ndjson → history.agencies.json, …);
`to_parquet(summary)` then rewrites the dossiers and transactions as Parquet (`p111 synth --format parquet`).

Each target ratio is met exactly: a metric's denominator is made a multiple of the ratio's denominator (units that do
not fit drop out of it: a dossier left unfinished, a fee of 0, a dossier or transaction dated the year before), then
exactly ratio × denominator units count. `overrides` sets targets by metric key, e.g.
{"digitisation@commune": 54.0} or {"online-dossiers": 59.5}; `SynthSummary.ratios` has the true figures.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

from harness.metrics.synth.dossiers import plan_sets, write_dossiers
from harness.metrics.synth.figures import (
    AGENCIES,
    AGENCY_WEIGHTS,
    DEFAULTS,
    EXTRA_PROCEDURES,
    KEYS,
    USED_PROCEDURES,
    SynthError,
    SynthSummary,
    exact_split,
    normal_key,
)
from harness.metrics.synth.side_files import write_agencies, write_procedures, write_transactions

__all__ = [
    "AGENCIES",
    "AGENCY_WEIGHTS",
    "DEFAULTS",
    "EXTRA_PROCEDURES",
    "KEYS",
    "USED_PROCEDURES",
    "SynthError",
    "SynthSummary",
    "exact_split",
    "history_path",
    "sidecar_paths",
    "to_parquet",
    "write_history",
]


# The extensions `p111 kpi` (harness.metrics.datasets.detect_format) reads as each format the history is written in.
OUTPUT_SUFFIXES: dict[str, tuple[str, ...]] = {"ndjson": (".ndjson", ".jsonl", ".json"), "parquet": (".parquet",)}


def history_path(path: Path, file_format: str) -> Path:
    """Where the dossiers of `p111 synth --output NAME --format F` go, so that `p111 kpi` reads them back: NAME when it
    ends in an extension kpi reads as F; NAME with F's extension added when it has none (history → history.ndjson,
    the name then only says where); refused when it has another (history.csv, history.txt), since the file would
    claim a format it does not hold and guessing what was meant would write a name nobody typed."""
    suffixes = OUTPUT_SUFFIXES[file_format]
    if not path.suffix:
        return path.with_name(path.name + suffixes[0])
    if path.suffix.lower() in suffixes:
        return path
    wanted = ", ".join(suffixes)
    example = path.with_suffix(suffixes[0]).name
    raise SynthError(
        f"{path}: tên tệp phải có đuôi {wanted} (hoặc không có đuôi) để `p111 kpi` đọc được dạng {file_format}, "
        f"ví dụ {example} / the name must end in {wanted} (or have no extension) for `p111 kpi` to read it as "
        f"{file_format}, e.g. {example}"
    )


def sidecar_paths(path: Path) -> tuple[Path, Path, Path]:
    stem = path.with_suffix("")
    return (Path(f"{stem}.agencies.json"), Path(f"{stem}.procedures.json"), Path(f"{stem}.transactions.ndjson"))


def write_history(
    path: Path, *, dossiers: int, year: int, seed: int, overrides: Mapping[str, float] | None = None,
    progress: bool = False,
) -> SynthSummary:
    """Write the history and its side files; return the true figures of `year` (see module docstring)."""
    targets = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        targets[normal_key(key)] = float(value)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    agencies_path, procedures_path, transactions_path = sidecar_paths(path)
    summary = SynthSummary(path, agencies_path, procedures_path, transactions_path, year, seed, dossiers)
    rng = random.Random(seed)
    write_agencies(agencies_path)
    write_procedures(procedures_path, year, targets, rng, summary)
    plan = plan_sets(dossiers, targets, rng)
    written = write_dossiers(path, plan, year, rng, progress)
    tally = written.tally
    write_transactions(transactions_path, summary, dossiers, year, plan.agency_of, plan.in_year, written.tx_count,
                        written.transfer_kind, written.paid_flags, written.days, written.previous_days,
                        targets["auth"], rng, tally)
    summary.counts.update({key: (value[0], value[1]) for key, value in tally.items()})
    return summary


def to_parquet(summary: SynthSummary) -> SynthSummary:
    """Rewrite the dossiers and the transaction log as Parquet beside their NDJSON (history.parquet,
    history.transactions.parquet) and remove the NDJSON; the small agency and procedure files stay JSON. DuckDB
    infers the column types from every record (sample_size=-1), so a field that is an empty list for the first
    thousands of rows still gets its full type."""
    import duckdb

    converted = []
    for source in (summary.dossiers, summary.transactions):
        target = source.with_suffix(".parquet")
        quoted_source = str(source).replace("'", "''")
        quoted_target = str(target).replace("'", "''")
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT * FROM read_json('{quoted_source}', format='newline_delimited', sample_size=-1)) "
                f"TO '{quoted_target}' (FORMAT parquet, COMPRESSION zstd)"
            )
        source.unlink()
        converted.append(target)
    summary.dossiers, summary.transactions = converted
    return summary

