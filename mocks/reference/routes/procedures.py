"""The published procedures and the API's own OpenAPI document (as the variations change it)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.core import resources
from mocks.reference.shared import Shared, local_code


def routes(s: Shared) -> list[Route]:
    settings, services, variations, defects = s.settings, s.services, s.variations, s.defects

    def service_view(s: dict[str, Any]) -> dict[str, Any]:
        view = {
            "code": s["code"],
            "local_code": local_code(s),
            "service_id": s["service_id"],
            "name": s["name"],
            "agency_code": s["agency_code"],
            "level": s["level"],
            "fee_bearing": s["fee_bearing"],
            "fees": s.get("fees", []),
        }
        if "second_agency_code" in s:
            view["second_agency_code"] = s["second_agency_code"]
        if "catalog-hides-fees" in defects:  # the defect: the list hides the fees its dossiers still carry
            view["fee_bearing"], view["fees"] = False, []
        return view

    async def list_services(request: Request) -> JSONResponse:
        return JSONResponse([service_view(s) for s in services.values()])

    async def openapi(request: Request) -> Response:
        document = (resources.schema_dir() / "reference-api.openapi.json").read_bytes()
        if variations & {"public-calls-declared", "citizen-opens-payment"}:
            return JSONResponse(_documented(json.loads(document), variations, settings.confirm_path))
        return Response(document, media_type="application/json")

    async def health(request: Request) -> JSONResponse:
        """public-calls-declared: a public write a monitor calls, with no session (the target lists it)."""
        return JSONResponse({"status": "ok"})

    return [
        Route("/openapi.json", openapi),
        Route("/api/procedures", list_services),
        *([Route("/api/health", health, methods=["POST"])] if "public-calls-declared" in variations else []),
    ]


def _documented(document: dict[str, Any], variations: frozenset[str], confirm_path: str) -> dict[str, Any]:
    """The OpenAPI document as the variations change the API: no p111 extension (a vendor's document carries none),
    the public health call, the citizen's pay call."""
    paths = document.setdefault("paths", {})
    if "public-calls-declared" in variations:
        for item in paths.values():
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("x-p111-authenticated-by", None)
        paths["/api/health"] = {
            "post": {"summary": "Health check (public)", "responses": {"200": {"description": "ok"}}}
        }
    if "citizen-opens-payment" in variations:
        paths["/api/dossiers/{code}/pay"] = {
            "post": {
                "summary": "The applicant opens the payment the officer asked for",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the dossier, with the payment opened"}},
            }
        }
    return document
