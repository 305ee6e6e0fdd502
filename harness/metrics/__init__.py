"""Plan 111 metrics measured from dossier data (by year and level) and the portal's own QĐ 766 scoring.

    datasets = load_datasets([Path("dossiers.ndjson"), Path("agencies.json"), ...])   # or load_rows(dossiers=[...])
    results = evaluate(datasets, year=2024)                                            # list[MetricResult]

`evaluate` uses the DuckDB engine (harness.metrics.engine); harness.metrics.oracle is the readable reference the
engine is tested against. Bad rows land in `datasets.bad_rows`, with file, line and reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.core.catalog import Catalog
from harness.metrics.datasets import BadRow, DatasetError, Datasets, Source, load_datasets, load_rows
from harness.metrics.results import Measurements, MetricResult, build_results, requirement_verdicts

if TYPE_CHECKING:  # only a type here: importing the configuration (pydantic) would cost `p111 kpi` ~0.15 s
    from harness.config.target import Agency

__all__ = [
    "BadRow",
    "DatasetError",
    "Datasets",
    "Measurements",
    "MetricResult",
    "Source",
    "evaluate",
    "load_datasets",
    "load_rows",
    "measure",
    "requirement_verdicts",
]


def measure(
    datasets: Datasets, *, year: int, agencies: Sequence[Agency] | None = None, engine: str = "duckdb"
) -> Measurements:
    """The raw tallies of `year`; `engine` "duckdb" (fast) or "oracle" (the pure-Python reference)."""
    levels = {agency.code: agency.level for agency in agencies} if agencies is not None else None
    if engine == "oracle":
        from harness.metrics import oracle

        return oracle.measure(datasets, year=year, levels=levels)
    if engine != "duckdb":
        raise ValueError(f"unknown engine {engine!r}; expected duckdb or oracle")
    from harness.metrics import engine as duckdb_engine

    return duckdb_engine.measure(datasets, year=year, levels=levels)


def evaluate(
    datasets: Datasets,
    *,
    year: int,
    agencies: Sequence[Agency] | None = None,
    catalog: Catalog | None = None,
    engine: str = "duckdb",
) -> list[MetricResult]:
    """Every metric verdict of `year`, per level where the plan distinguishes levels (agencies: the registry to use,
    else the agencies data in `datasets`)."""
    return build_results(measure(datasets, year=year, agencies=agencies, engine=engine), catalog=catalog)


