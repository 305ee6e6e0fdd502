"""The reference provincial one-stop system: a documented API for drivers, and a client of the National Portal.

It generates dossier codes per the national format, follows the lifecycle of harness/data/lifecycle.yaml and syncs
every dossier and every status change to the portal it is configured with. Named defects break it on purpose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness import resources
from harness.formats import vietnam_now
from harness.lifecycle import load_lifecycle
from mocks.reference import dossiers as model
from mocks.reference.defects import check_names
from mocks.reference.portal_sync import PortalLink, PortalSync

PROCEDURES_FILE = Path(__file__).with_name("procedures.yaml")
WRONG_DATE_FORMAT = "%d/%m/%Y %H:%M:%S"  # the defect's format: a common .NET default for vi-VN


@dataclass(frozen=True)
class ReferenceSettings:
    portal: PortalLink
    defects: frozenset[str] = frozenset()


def load_procedures() -> list[dict[str, Any]]:
    return list(yaml.safe_load(PROCEDURES_FILE.read_text(encoding="utf-8")))


def create_reference_app(settings: ReferenceSettings) -> Starlette:
    defects = check_names(settings.defects)
    lifecycle = load_lifecycle()
    procedures = {p["code"]: p for p in load_procedures()}
    codes = model.CodeBook(malformed="malformed-dossier-code" in defects)
    store: dict[str, model.Dossier] = {}
    sync = PortalSync(settings.portal)
    date_format = WRONG_DATE_FORMAT if "wrong-date-format" in defects else None
    held_progress: dict[str, list[dict[str, Any]]] = {}

    def problem(http_status: int, error: str, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": error, "message": message, **extra}, status_code=http_status)

    async def tell_portal(dossier: model.Dossier) -> None:
        step = dossier.history[-1]
        progress = [model.portal_progress(dossier, step, lifecycle, date_format)]
        if "progress-out-of-order" in defects:
            # The defect: a stack instead of a queue, flushed only when handling ends.
            queue = held_progress.setdefault(dossier.code, [])
            queue.extend(progress)
            if dossier.status not in lifecycle.end_states:
                progress = []
            else:
                progress, held_progress[dossier.code] = list(reversed(queue)), []
        record: dict[str, Any] | None = model.portal_dossier(dossier, date_format)
        if "sync-never-sent" in defects:
            record = None
        elif "sync-missing-field" in defects and record is not None:
            del record["MaTTHC"]
        await sync.push(record, progress, dossier.procedure["agency_code"])

    async def list_procedures(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {"code": p["code"], "name": p["name"], "agency_code": p["agency_code"], "level": p["level"]}
                for p in procedures.values()
            ]
        )

    async def submit(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
            procedure = procedures[body["procedure_code"]]
            applicant = body["applicant"]
            channel = body.get("channel", "online")
            if channel not in model.CHANNELS:
                raise KeyError("channel")
            if not model.is_id_number(str(applicant.get("id_number", ""))):
                raise ValueError("applicant.id_number must be a 12-digit citizen id or a 9-digit old id")
        except (ValueError, KeyError, TypeError) as exc:
            return problem(422, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        now = vietnam_now()
        due = model.due_date(now, procedure["days"])
        code_day = due.date() if "dossier-code-wrong-date" in defects else now.date()
        dossier = model.Dossier(
            code=codes.next_code(procedure["agency_code"], code_day),
            procedure=procedure,
            channel=channel,
            applicant_name=str(applicant.get("name", "")),
            applicant_id_number=str(applicant.get("id_number", "")),
            summary=str(body.get("summary", "")),
            submitted_at=now,
            due_at=due,
        )
        dossier.history.append(model.Step("1", now, dossier.applicant_name, "submit", "citizen"))
        store[dossier.code] = dossier
        await tell_portal(dossier)
        return JSONResponse(dossier.public(), status_code=201)

    async def show(request: Request) -> JSONResponse:
        dossier = store.get(request.path_params["code"])
        if dossier is None:
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        return JSONResponse(dossier.public())

    async def export(request: Request) -> JSONResponse:
        try:
            page = max(1, int(request.query_params.get("page", "1")))
            size = min(500, max(1, int(request.query_params.get("size", "100"))))
        except ValueError:
            return problem(422, "invalid-request", "page and size must be integers")
        items = list(store.values())[(page - 1) * size : page * size]
        return JSONResponse({"page": page, "size": size, "total": len(store), "items": [d.public() for d in items]})

    async def act(request: Request) -> JSONResponse:
        dossier = store.get(request.path_params["code"])
        action = request.path_params["action"]
        if dossier is None:
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        if action not in lifecycle.actions:
            return problem(422, "unknown-action", f"unknown action {action}; known: {', '.join(lifecycle.actions)}")
        try:
            actor = str(json.loads(await request.body() or b"{}").get("actor") or "")
        except (ValueError, AttributeError):
            return problem(422, "invalid-request", "body must be a JSON object")
        if not actor:
            return problem(422, "invalid-request", "actor is required: every transaction names who acted")
        before = dossier.status
        now: datetime = vietnam_now()
        moved = model.apply(
            dossier, action, lifecycle, actor, now, guarded="illegal-transition-accepted" not in defects
        )
        if not moved:
            return problem(
                409, "illegal-transition", f"{action} is not allowed: {lifecycle.rule(before)}", status=before
            )
        await tell_portal(dossier)
        return JSONResponse(dossier.public())

    async def openapi(request: Request) -> Response:
        return Response(
            (resources.schema_dir() / "reference-api.openapi.json").read_bytes(), media_type="application/json"
        )

    async def sync_failures(request: Request) -> JSONResponse:
        return JSONResponse(sync.failures)

    return Starlette(
        routes=[
            Route("/openapi.json", openapi),
            Route("/api/procedures", list_procedures),
            Route("/api/dossiers", submit, methods=["POST"]),
            Route("/api/dossiers", export, methods=["GET"]),
            Route("/api/dossiers/{code}", show),
            Route("/api/dossiers/{code}/actions/{action}", act, methods=["POST"]),
            Route("/_p111/sync-failures", sync_failures),
        ]
    )
