"""The fast path: DuckDB reads the dossier and transaction files (NDJSON or Parquet) directly and aggregates every tally
in one pass each.

Each NDJSON file is read once, straight into a small table of group totals (per agency × procedure × year for the
dossiers, per year × transferred dossier for the transactions), by the rules of data/metrics.yaml written in SQL (the
same rules harness.metrics.oracle writes in Python). No per-row table exists, so memory stays nearly flat as the files
grow; each group also keeps the few smallest codes counting against a figure, enough for every sample. Every tally and
per-agency count is then a query over those totals. Rows that break the schema on a field the metrics read (or a
required field) land in one group of their own; only when it is not empty does a second, narrow scan name their lines.
A file DuckDB cannot parse falls back to the row-by-row loader, which names each bad line. A Parquet file brings its
own column types: each column the metrics read is brought to the type the reading declares (`_parquet_columns`), so
both formats go through the same rules (engine_sql: NDJSON read as JSON text, Parquet as text where it can).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from harness.metrics import oracle
from harness.metrics.datasets import Datasets
from harness.metrics.loading import load_kind, register_catalog, register_levels
from harness.metrics.results import Measurements, level_map
from harness.metrics.tallying import dossier_tallies, transaction_tallies

# DuckDB may use this much memory and spills to the scratch directory beyond it: the groups of transferred dossiers
# grow with the log (they would take about 650 MB for 10^7 dossiers), everything else stays small. With the
# interpreter on top, the process peaks up to ~100 MB above the limit: a run of 10^7 rows peaked at 533 MiB with
# 512 MB, at 489–500 MiB with 400 MB, at 469–474 MiB with 384 MB (benchmarks/metrics.py); the goal is 500 MB.
MEMORY_LIMIT = "384MB"


@contextmanager
def _workspace() -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    with tempfile.TemporaryDirectory(prefix="p111-metrics-") as directory:
        con = duckdb.connect(config={
            "threads": max(1, os.cpu_count() or 1),
            # Aggregating needs no order (keeping it costs time and memory); the bad-row scan turns it on for itself.
            "preserve_insertion_order": False,
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(Path(directory) / "spill"),
        })
        try:
            yield con, Path(directory)
        finally:
            con.close()


def measure(datasets: Datasets, *, year: int, levels: Mapping[str, str] | None = None) -> Measurements:
    """Every tally of `year` (see oracle.measure, which must give equal Measurements)."""
    registry = dict(levels) if levels is not None else level_map(datasets.rows("agencies"))
    have_registry = levels is not None or datasets.has("agencies")
    procedures = list(datasets.rows("procedures"))
    result = Measurements(year=year, levels=registry)
    oracle._missing(result, datasets, have_registry)
    with _workspace() as (con, scratch):
        dossier_rows = load_kind(con, scratch, datasets, "dossiers")
        transaction_rows = load_kind(con, scratch, datasets, "transactions")
        result.rows_read = {"dossiers": dossier_rows or 0, "procedures": len(procedures),
                            "transactions": transaction_rows or 0, "agencies": len(registry)}
        register_catalog(con, procedures)
        register_levels(con, registry)
        if dossier_rows is not None:
            dossier_tallies(con, result, year, have_registry)
        if transaction_rows is not None:
            transaction_tallies(con, result, year, sources=len(datasets.sources("transactions")))
    oracle._procedures(result, procedures, year)  # the catalog is small: the oracle's loop is the engine's too
    oracle.tallies_for_all_levels(result)
    return result
