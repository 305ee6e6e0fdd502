"""The paged exports a metrics driver reads (the year's synthetic history), and the portal sync's failures."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.core.formats import vietnam_now
from mocks.reference import inputs
from mocks.reference.history import History, build_history
from mocks.reference.shared import EXPORT_KINDS, Shared, forbidden, problem, unauthenticated


def routes(s: Shared) -> list[Route]:
    settings, defects, variations, sync, principal = s.settings, s.defects, s.variations, s.sync, s.principal
    past_years: dict[int, History] = {}

    def history() -> History:
        """The year's history, built on first use: most runs of the app never ask for it."""
        year = settings.year or vietnam_now().year
        if year not in past_years:
            past_years[year] = build_history(year, defects)
        return past_years[year]

    async def export_history(request: Request) -> JSONResponse:
        """The paged export a metrics driver reads: the year's dossiers as synced to the portal, the procedure
        catalog, the agency registry and the transaction log."""
        who = await principal(request)
        if who is None:
            return unauthenticated()
        if not who.officer or "export-refused-to-officers" in defects:
            return forbidden("officers only")
        kind = request.path_params["kind"]
        rows = getattr(history(), kind, None) if kind in EXPORT_KINDS else None
        if rows is None:
            return problem(404, "not-found", f"unknown export {kind!r}; known: {', '.join(EXPORT_KINDS)}")
        try:
            page = inputs.query_int(request.query_params, "page", 1, 1, 2**31 - 1)
            size = inputs.query_int(request.query_params, "size", 1000, 1, 5000)
        except inputs.InvalidInput as exc:
            return problem(422, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        if "exports-cursor" in variations:
            return JSONResponse(_cursor_page(rows, request.query_params.get("cursor"), size))
        items = rows[(page - 1) * size : page * size]
        return JSONResponse({"page": page, "size": size, "total": len(rows), "items": items})

    async def sync_failures(request: Request) -> JSONResponse:
        return JSONResponse(sync.failures)

    return [Route("/api/exports/{kind}", export_history), Route("/_p111/sync-failures", sync_failures)]


def _cursor_page(rows: list[Any], cursor: str | None, size: int) -> dict[str, Any]:
    """exports-cursor: an opaque cursor (the next offset, encoded) instead of page numbers; none when done."""
    try:
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except (ValueError, binascii.Error):
        start = 0
    end = start + size
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(rows) else None
    return {"items": rows[start:end], "next_cursor": following}
