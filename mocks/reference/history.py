"""The reference system's past year: a synthetic dossier history whose figures sit exactly on the plan's thresholds
for the evaluation year, or, with a boundary defect, just under one of them."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.catalog import Catalog, load_catalog
from harness.metrics import synth

DOSSIERS = 2000  # enough for every ratio the plan sets to be met exactly
SEED = 111

# Which synthetic figure stands for which requirement (and level).
OVERRIDE_KEYS = {
    ("P111-KPI-TRANSFER", "all"): "transfer",
    ("P111-KPI-ONLINE-DOSSIERS", "all"): "online-dossiers",
    ("P111-KPI-AUTH", "all"): "auth",
    ("P111-KPI-PORTAL", "all"): "portal",
    ("P111-KPI-ONLINE-SERVICES", "all"): "online-services",
    ("P111-KPI-PAYMENT", "all"): "payment.per-procedure",  # the reading that decides (catalog: decides)
    ("P111-KPI-DIGITISATION", "province"): "digitisation@province",
    ("P111-KPI-DIGITISATION", "district"): "digitisation@district",
    ("P111-KPI-DIGITISATION", "commune"): "digitisation@commune",
}

# Boundary defects: the figure they lower, and by how much (one point; one procedure of forty where the unit is a
# procedure, since a share of forty cannot be 99% exactly).
BOUNDARY_DEFECTS = {
    "kpi-digitisation-commune-below": ("digitisation@commune", 1.0),
    "kpi-transfer-below": ("transfer", 1.0),
    "kpi-online-dossiers-below": ("online-dossiers", 1.0),
    "kpi-auth-below": ("auth", 1.0),
    "kpi-portal-below": ("portal", 2.5),
    "kpi-online-services-below": ("online-services", 2.5),
    "kpi-payment-below": ("payment.per-procedure", 5.0),  # one fee-bearing procedure of twenty
}


@dataclass(frozen=True)
class History:
    dossiers: list[dict[str, Any]]
    procedures: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
    transactions: list[dict[str, Any]]


def overrides_for(year: int, defects: frozenset[str], catalog: Catalog | None = None) -> dict[str, float]:
    """Each figure exactly at the year's threshold (where the plan sets one), one defect's figure just under it."""
    catalog = catalog or load_catalog()
    figures: dict[str, float] = {}
    for (requirement, level), key in OVERRIDE_KEYS.items():
        thresholds = catalog[requirement].thresholds_for_year(year)
        threshold = thresholds.get(level, thresholds.get("all"))
        if threshold is not None:
            figures[key] = threshold
    for defect in defects & BOUNDARY_DEFECTS.keys():
        key, drop = BOUNDARY_DEFECTS[defect]
        figures[key] = figures.get(key, 100.0) - drop
    if "payment.per-procedure" in figures:
        # Procedures never paid online also lower the per-dossier reading: keep it within reach (it does not decide).
        figures["payment.per-dossier"] = 70.0
    return figures


def _read(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return list(json.loads(text))


def build_history(year: int, defects: frozenset[str]) -> History:
    with tempfile.TemporaryDirectory(prefix="p111-history-") as directory:
        summary = synth.write_history(
            Path(directory) / "history.ndjson",
            dossiers=DOSSIERS,
            year=year,
            seed=SEED,
            overrides=overrides_for(year, defects),
        )
        return History(
            dossiers=_read(summary.dossiers),
            procedures=_read(summary.procedures),
            agencies=_read(summary.agencies),
            transactions=_read(summary.transactions),
        )
