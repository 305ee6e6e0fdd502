"""Serves a synchronous httpx.Client from ASGI apps running on one event loop in a background thread."""

from __future__ import annotations

from typing import Any

import httpx
from anyio.from_thread import BlockingPortal


class BlockingASGITransport(httpx.BaseTransport):
    """httpx.ASGITransport is async only; the checks are synchronous. Each request is handed to the event loop that
    runs every in-process app, so an app calling another app (the SUT calling the portal) shares that loop."""

    def __init__(self, portal: BlockingPortal, app: Any) -> None:
        self._portal = portal
        # A SUT that raises must answer 500 like a real server, not crash the harness.
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def forward() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._transport.handle_async_request(inner)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        status, headers, body = self._portal.call(forward)
        return httpx.Response(status, headers=headers, content=body, request=request)
