"""Sign-in through the SSO, the session it opens, and the portal's hand-off page."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mocks.reference.shared import SESSION_COOKIE, Shared, local_code, problem, unauthenticated
from mocks.reference.signon import LoginRefused

# The anonymous-to-login-page variation: the system's own login page, where it sends a caller without a session, and
# the service page it redirects a signed-in citizen to (the target declares it: sut.refusals.login_redirect).
TO_LOGIN_PAGE = "anonymous-to-login-page"
LOGIN_PAGE = "/auth/login"
SERVICE_PAGE = "/dvc/dich-vu/{service_id}"


def routes(s: Shared) -> list[Route]:
    settings, defects, own_login = s.settings, s.defects, TO_LOGIN_PAGE in s.variations
    services, principal, relying_party = s.services, s.principal, s.relying_party

    async def handoff(request: Request) -> Response:
        """The portal's hand-off (vnconnect=1&MaTTHCDP=…&MaCoQuanThucHien=…&MaDVC=…): the service page for a
        signed-in citizen, otherwise the portal's sign-on."""
        if "handoff-link-error" in defects:
            return HTMLResponse("<h1>500 Internal Server Error</h1>", status_code=500)
        service = _handed_off(request.query_params, services)
        if service is None:
            return _not_found()
        if await principal(request) is None or "handoff-ignores-session" in defects:
            if own_login:
                return RedirectResponse(LOGIN_PAGE, status_code=302)
            return RedirectResponse(relying_party.begin(str(request.url_for("signed_in"))), status_code=302)
        if own_login:
            return RedirectResponse(SERVICE_PAGE.format(service_id=service["service_id"]), status_code=303)
        return _service_page(service)

    async def service_page_route(request: Request) -> Response:
        """The service page the anonymous-to-login-page variation redirects a signed-in citizen to."""
        service = _service(services, request.path_params["service_id"])
        if service is None:
            return _not_found()
        if await principal(request) is None:
            return RedirectResponse(LOGIN_PAGE, status_code=302)
        return _service_page(service)

    async def sign_in(request: Request) -> Response:
        """Starts a login: the browser goes to the provider's authorization endpoint."""
        return RedirectResponse(relying_party.begin(str(request.url_for("signed_in"))), status_code=302)

    async def signed_in(request: Request) -> Response:
        """The provider's redirect back: a session bound to the account's TechID, or a refusal and no session."""
        try:
            who = await relying_party.complete(dict(request.query_params))
        except LoginRefused as exc:
            return problem(401, "sign-on-refused", f"Đăng nhập bị từ chối / sign-on refused: {exc}")
        answer = RedirectResponse("/api/me", status_code=302)
        answer.set_cookie(SESSION_COOKIE, relying_party.open_session(who), httponly=True, samesite="lax")
        return answer

    async def me(request: Request) -> JSONResponse:
        who = await principal(request)
        return JSONResponse(who.public()) if who is not None else unauthenticated()

    return [
        Route(settings.handoff_path, handoff),
        Route(LOGIN_PAGE, sign_in),
        *([Route(SERVICE_PAGE, service_page_route)] if own_login else []),
        Route("/auth/callback", signed_in, name="signed_in"),
        Route("/api/me", me),
    ]


def _not_found() -> HTMLResponse:
    return HTMLResponse("<h1>Không tìm thấy dịch vụ / service not found</h1>", status_code=404)


def _service(services: dict[str, dict], service_id: str | None) -> dict | None:
    return next((s for s in services.values() if s["service_id"] == service_id), None)


def _handed_off(query: Any, services: dict[str, dict]) -> dict | None:
    """The service a hand-off link (vnconnect=1&MaTTHCDP=…&MaCoQuanThucHien=…&MaDVC=…) names, if it names one
    consistently."""
    service = _service(services, query.get("MaDVC"))
    if (
        query.get("vnconnect") != "1"
        or service is None
        or query.get("MaTTHCDP") != local_code(service)
        or query.get("MaCoQuanThucHien") != service["agency_code"]
    ):
        return None
    return service


def _service_page(service: dict) -> HTMLResponse:
    title = html.escape(service["name"])
    return HTMLResponse(f"<html lang='vi'><h1>{title}</h1><p>Mã TTHC {html.escape(service['code'])}</p></html>")

