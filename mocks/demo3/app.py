"""Demo 3's API (its own paths and words, all under /mc/): services, dossiers and their steps, the citizen's own
payment call, the platform's confirm callback, the receiving agency's view, files, exports and the portal hand-off.

Citizens sign on through the portal's sign-on and present the system's session token as a bearer token; officers
present the system's static key (X-Mc-Khoa) or, at the receiving agency, HTTP basic auth. Files come by link: the
system fetches each link when the dossier is submitted and keeps the bytes (it has no checksum field)."""

from __future__ import annotations

from starlette.applications import Starlette

from mocks.demo3 import agencies, dossiers, exports, openapi, payments, signon_routes, steps
from mocks.demo3.model import CALLBACK_PATH, Demo3Settings
from mocks.demo3.shared import share

__all__ = ["CALLBACK_PATH", "Demo3Settings", "create_demo3_app"]


def create_demo3_app(settings: Demo3Settings) -> Starlette:
    shared = share(settings)
    return Starlette(routes=[
        *dossiers.reading_routes(shared),
        *dossiers.submission_routes(shared),
        *payments.routes(shared),  # before steps: /nop-phi is not a step's name
        *steps.routes(shared),
        *agencies.routes(shared),
        *exports.routes(shared),
        *signon_routes.routes(shared),
        *openapi.routes(shared),
    ])
