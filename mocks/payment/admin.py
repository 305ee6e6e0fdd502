"""The platform's /_p111/ routes, for the checks: what it received and sent, its transactions, settling, reset."""

from __future__ import annotations

import itertools
import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.payment.settling import settler
from mocks.payment.shared import Shared


def routes(s: Shared) -> list[Route]:
    state, scrub = s.state, s.scrub
    settle = settler(s)

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse(state.messages)

    async def transactions(request: Request) -> JSONResponse:
        return JSONResponse(scrub([t.summary() for t in state.transactions.values()]))

    async def admin_settle(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("MaThamChieu"), str):
            return JSONResponse({"error": 'body must be {"MaThamChieu", "outcome", "callback"}'}, status_code=400)
        callback = body.get("callback", True)
        if not isinstance(callback, bool):
            return JSONResponse({"error": "callback must be true or false"}, status_code=400)
        return await settle(body["MaThamChieu"], body.get("outcome"), callback=callback)

    async def reset(request: Request) -> JSONResponse:
        state.messages.clear()
        state.transactions.clear()
        state.counter = itertools.count(1)
        return JSONResponse({"reset": True})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return [
        Route("/_p111/messages", messages),
        Route("/_p111/transactions", transactions),
        Route("/_p111/settle", admin_settle, methods=["POST"]),
        Route("/_p111/reset", reset, methods=["POST"]),
        Route("/_p111/health", health),
    ]
