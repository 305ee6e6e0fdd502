"""The year's exports a metrics driver reads: figures at the plan's thresholds, from the harness's synthetic history."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.core.catalog import load_catalog
from harness.metrics import synth
from mocks.demo3.model import EXPORTS
from mocks.demo3.shared import Shared


def routes(s: Shared) -> list[Route]:
    settings, error, who = s.settings, s.error, s.who
    history: dict[int, dict[str, list[dict[str, Any]]]] = {}  # the year's exports, built on first use

    def year_data() -> dict[str, list[dict[str, Any]]]:
        if settings.year not in history:
            history[settings.year] = _history(settings.year)
        return history[settings.year]

    async def export(request: Request) -> JSONResponse:
        person = who(request)
        if person is None or not person.officer:
            return error(401 if person is None else 403, "Chỉ cán bộ")
        kind = request.path_params["loai"]
        if kind not in EXPORTS:
            return error(404, f"Không có kết xuất {kind}")
        start, count = request.query_params.get("tu", "0"), request.query_params.get("so", "500")
        if not (start.isascii() and start.isdigit() and count.isascii() and count.isdigit()
                and 1 <= int(count) <= 5000):
            return error(400, "tu ≥ 0, 1 ≤ so ≤ 5000: số nguyên")
        start, count = int(start), int(count)
        rows = year_data()[kind]
        return JSONResponse({"tong": len(rows), "dong": rows[max(0, start): max(0, start) + max(1, min(count, 5000))]})

    return [Route("/mc/ket-xuat/{loai}", export)]


# The year's figures: each exactly at the plan's threshold for the year, from the harness's synthetic history.
FIGURES = {
    "P111-KPI-ONLINE-DOSSIERS": ("online-dossiers", "all"), "P111-KPI-PORTAL": ("portal", "all"),
    "P111-KPI-ONLINE-SERVICES": ("online-services", "all"), "P111-KPI-PAYMENT": ("payment.per-procedure", "all"),
    "P111-KPI-DIGITISATION": ("digitisation@", None),
}


def _history(year: int) -> dict[str, list[dict[str, Any]]]:
    catalog = load_catalog()
    figures: dict[str, float] = {"payment.per-dossier": 70.0}
    for requirement, (key, level) in FIGURES.items():
        thresholds = catalog[requirement].thresholds_for_year(year)
        if level is None:
            figures.update({f"{key}{lv}": t for lv, t in thresholds.items() if lv != "all"})
        elif thresholds.get(level) is not None:
            figures[key] = thresholds[level]
    with tempfile.TemporaryDirectory(prefix="p111-demo3-") as directory:
        summary = synth.write_history(Path(directory) / "nam.ndjson", dossiers=2000, year=year, seed=314,
                                      overrides=figures)

        def read(path: Path) -> list[dict[str, Any]]:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".ndjson":
                return [json.loads(line) for line in text.splitlines() if line.strip()]
            return list(json.loads(text))

        return {"dossiers": read(summary.dossiers), "procedures": read(summary.procedures),
                "agencies": read(summary.agencies)}
