"""The reference provincial one-stop system: a documented API for drivers, and a client of the National Portal.

It generates dossier codes per the national format, follows the lifecycle of harness/data/lifecycle.yaml, moves
dossiers electronically to a second agency (liên thông), welcomes citizens handed off by the portal, and syncs every
dossier and every status change to the portal it is configured with. Named defects break it on purpose.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from mocks.reference.routes import actions, dossiers, exports, payments, procedures, signon, transfers
from mocks.reference.routes.signon import LOGIN_PAGE, TO_LOGIN_PAGE
from mocks.reference.shared import ReferenceSettings, load_services, local_code, problem, share

__all__ = ["ReferenceSettings", "create_reference_app", "load_services", "local_code"]


def create_reference_app(settings: ReferenceSettings) -> Starlette:
    shared = share(settings)
    routes: list[Route] = [
        *procedures.routes(shared),
        *dossiers.submission_routes(shared),
        *dossiers.reading_routes(shared),
        *actions.routes(shared),
        *payments.routes(shared),
        *transfers.routes(shared),
        *exports.routes(shared),
        *signon.routes(shared),
    ]

    async def unrouted(request: Request, exc: Exception) -> JSONResponse:
        """No such route or method: a JSON problem like every other refusal, not Starlette's plain text."""
        status = getattr(exc, "status_code", 404)
        error = "not-found" if status == 404 else "method-not-allowed"
        answer = problem(status, error, f"{request.method} {request.url.path}")
        if status == 405:  # what every route of this path allows (RFC 9110), not only the first one's
            allowed = {m for r in routes if r.matches(request.scope)[0] != Match.NONE for m in r.methods or ()}
            answer.headers["allow"] = ", ".join(sorted(allowed))
        return answer

    own_login = [Middleware(BaseHTTPMiddleware, dispatch=_to_login_page)] if TO_LOGIN_PAGE in shared.variations else []
    return Starlette(exception_handlers={404: unrouted, 405: unrouted}, routes=routes, middleware=own_login)


async def _to_login_page(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """The anonymous-to-login-page variation: a write refused for want of a session (401) is answered as a web
    application's form would be, by a redirect to the system's own login page."""
    answer = await call_next(request)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and answer.status_code == 401:
        return RedirectResponse(LOGIN_PAGE, status_code=302)
    return answer
