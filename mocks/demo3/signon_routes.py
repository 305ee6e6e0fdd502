"""Sign-on through the portal's SSO (the session token it issues) and the portal's hand-off page."""

from __future__ import annotations

import html

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mocks.demo3.model import CALLBACK_PATH, HANDOFF_PATH, LOGIN_PATH, SERVICES
from mocks.demo3.shared import Shared
from mocks.demo3.signon import Refused


def routes(s: Shared) -> list[Route]:
    settings, error, who = s.settings, s.error, s.who

    async def sign_in(request: Request) -> Response:
        return RedirectResponse(settings.sign_on.start(), status_code=302)

    async def back(request: Request) -> JSONResponse:
        try:
            person = await settings.sign_on.finish(dict(request.query_params))
        except (Refused, httpx.HTTPError, ValueError, KeyError) as exc:
            return error(401, f"Đăng nhập không thành công: {exc}")
        return JSONResponse({"phien": settings.sign_on.issue(person)})

    async def handoff(request: Request) -> Response:
        query = request.query_params
        service = next((s for s in SERVICES if s["ma_dich_vu"] == query.get("MaDVC")), None)
        if query.get("vnconnect") != "1" or service is None:
            return HTMLResponse("<h1>Không có dịch vụ</h1>", status_code=404)
        if who(request) is None:  # not signed on yet: to the portal's sign-on first
            return RedirectResponse(settings.sign_on.start(), status_code=302)
        return HTMLResponse(f"<h1>{html.escape(str(service.get('ten', service['ma_dich_vu'])))}</h1>")

    return [Route(LOGIN_PATH, sign_in), Route(CALLBACK_PATH, back), Route(HANDOFF_PATH, handoff)]
