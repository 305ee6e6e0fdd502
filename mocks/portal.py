"""The National Public Service Portal's dossier sync, as a counterpart: both transports, validating and recording.

Adapter style (OpenCPS): login for a session, then one integration URL multiplexed by `service`.
Direct style (the .NET client): JSON arrays posted to insert, update and progress URLs.
What it received is listed under /_p111/ for the checks (and for a vendor pointing a staging system at it).
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.config.target import SyncConfig, embedded_target
from harness.core import schemas
from harness.core.formats import is_agency_code, vietnam_now
from harness.core.resources import read_yaml
from harness.http.redaction import Redactor

OK = 0
REFUSED = -1  # [I] the portal's non-zero code; clients only test for 0


@dataclass(frozen=True)
class PortalSettings:
    province_code: str
    username: str
    password: str | None  # None: any login is accepted (a vendor's staging system with no credentials configured)
    # The paths of both transports; by default those of the target schema's defaults.
    sync: SyncConfig = field(default_factory=lambda: embedded_target().sync)
    procedures: tuple[dict[str, Any], ...] = field(default_factory=lambda: load_catalog())


CATALOG_FILE = Path(__file__).parent / "data" / "portal-catalog.yaml"


def load_catalog() -> tuple[dict[str, Any], ...]:
    """The national procedure catalog the counterpart serves (mocks/data/portal-catalog.yaml, schema-checked)."""
    catalog = read_yaml(CATALOG_FILE)
    error = schemas.first_error("mocks/portal-catalog", catalog)
    if error is not None:
        raise ValueError(f"{CATALOG_FILE.name} is invalid: {schemas.describe(error)}")
    return tuple(catalog)


@dataclass
class PortalState:
    """Everything the portal received, in order. Items are kept even when refused: the checks judge them."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    dossiers: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))


@dataclass(frozen=True)
class _Shared:
    """What the portal's route groups share: settings, state, how a request and its items are recorded, syncing."""

    settings: PortalSettings
    state: PortalState
    log_request: Callable[[Request, str, str, Any, JSONResponse], int]
    record_items: Callable[..., None]
    sync_dossiers: Callable[[Any, bool], tuple[int, str]]
    sync_progress: Callable[[Any], tuple[int, str]]


def create_portal_app(settings: PortalSettings) -> Starlette:
    state = PortalState()
    redactor = Redactor([settings.password or ""])
    shared = _Shared(settings, state, *_recorder(state, redactor), *_syncing(state))
    return Starlette(routes=[
        *_adapter_login_routes(shared), *_adapter_routes(shared), *_direct_routes(shared), *_admin_routes(shared)
    ])


def reply(code: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message, **extra})


async def read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def _recorder(state: PortalState, redactor: Redactor) -> tuple[Callable[..., int], Callable[..., None]]:
    """How a request, and each item it carried, is recorded for the checks."""

    def log_request(request: Request, channel: str, service: str, body: Any, answer: JSONResponse) -> int:
        seq = next(state.counter)
        state.requests.append(
            {
                "seq": seq,
                "received_at": vietnam_now().isoformat(),
                "channel": channel,
                "service": service,
                "path": request.url.path,
                "dstcode": request.headers.get("dstcode"),
                "body": redactor.data(body),
                "reply": json.loads(bytes(answer.body)),
            }
        )
        return seq

    def record_items(
        kind: str, items: list[Any], request_seq: int, channel: str, operation: str, reply: tuple[int, str]
    ) -> None:
        """Each item with its own schema verdict and the portal's answer to the request that carried it; refused
        items are kept too: the checks judge them."""
        name = "portal/HoSoDongBoDVC" if kind == "dossier" else "portal/TienDoHoSo"
        log = state.dossiers if kind == "dossier" else state.progress
        for index, item in enumerate(items):
            error = schemas.first_error(name, item)
            log.append(
                {
                    "seq": len(log) + 1,
                    "request_seq": request_seq,
                    "index": index,
                    "channel": channel,
                    "operation": operation,
                    "received_at": vietnam_now().isoformat(),
                    "MaHoSo": item.get("MaHoSo") if isinstance(item, dict) else None,
                    "accepted": reply[0] == OK,
                    "reply": reply[1],
                    "valid": error is None,
                    "error": schemas.describe(error) if error else None,
                    "unknown_fields": schemas.unknown_fields(name, item) if error is None else [],
                    "item": item,
                }
            )

    return log_request, record_items


def _syncing(state: PortalState) -> tuple[Callable[[Any, bool], tuple[int, str]], Callable[[Any], tuple[int, str]]]:
    """Dossiers and progress stored when every item is valid, refused otherwise (the portal's answer)."""
    def sync_dossiers(items: Any, updating: bool) -> tuple[int, str]:
        if not isinstance(items, list) or not items:
            return REFUSED, "Dữ liệu không hợp lệ: cần một danh sách hồ sơ"
        for item in items:
            error = schemas.first_error("portal/HoSoDongBoDVC", item)
            if error is not None:
                return REFUSED, f"Dữ liệu không hợp lệ: {schemas.describe(error)}"
        for item in items:
            code = item["MaHoSo"]
            if not updating and code in state.stored:
                return REFUSED, f"Hồ sơ {code} đã tồn tại"
            if updating and code not in state.stored:
                return REFUSED, f"Hồ sơ {code} không tồn tại"
        for item in items:
            state.stored[item["MaHoSo"]] = item
        return OK, "Đồng bộ thành công"

    def sync_progress(items: Any) -> tuple[int, str]:
        if not isinstance(items, list) or not items:
            return REFUSED, "Dữ liệu không hợp lệ: cần một danh sách tiến độ"
        for item in items:
            error = schemas.first_error("portal/TienDoHoSo", item)
            if error is not None:
                return REFUSED, f"Dữ liệu không hợp lệ: {schemas.describe(error)}"
        return OK, "Cập nhật tiến độ thành công"

    return sync_dossiers, sync_progress


def _adapter_login_routes(s: _Shared) -> list[Route]:
    """Adapter style (OpenCPS): login for a session first."""
    settings, state, log_request = s.settings, s.state, s.log_request

    async def adapter_auth(request: Request) -> JSONResponse:
        body = await read_json(request)
        if schemas.first_error("portal/adapter-auth.request", body) is None and (
            settings.password is None
            or (body["username"] == settings.username and body["password"] == settings.password)
        ):
            session = secrets.token_urlsafe(24)
            state.sessions.add(session)
            answer = reply(OK, "Đăng nhập thành công", session=session)
        else:
            answer = reply(REFUSED, "Sai tên đăng nhập hoặc mật khẩu")
        log_request(request, "adapter", "auth", body, answer)
        return answer

    return [Route(settings.sync.auth_path, adapter_auth, methods=["POST"])]


def _adapter_routes(s: _Shared) -> list[Route]:
    """Adapter style (OpenCPS): one integration URL multiplexed by `service`, for a session the login opened."""
    settings, state, log_request = s.settings, s.state, s.log_request
    record_items, sync_dossiers, sync_progress = s.record_items, s.sync_dossiers, s.sync_progress

    def of_province(code: Any) -> bool:
        # madonvi may be the province's code or the sending agency's (domain.md section 8): any agency of it.
        return isinstance(code, str) and is_agency_code(code) and code.endswith("." + settings.province_code)

    async def adapter_integration(request: Request) -> JSONResponse:
        body = await read_json(request)
        service = body.get("service") if isinstance(body, dict) else None
        error = schemas.first_error("portal/adapter-integration.request", body)
        result: Any = None
        if not isinstance(body, dict) or body.get("session") not in state.sessions:
            code, message = REFUSED, "Phiên làm việc không hợp lệ hoặc đã hết hạn"
        elif not of_province(body.get("madonvi")):
            code, message = REFUSED, f"madonvi không thuộc tỉnh {settings.province_code}"
        elif service == "TraCuuHoSo":
            code, message, result = OK, "Thành công", state.stored.get(str(body.get("MaHoSo")))
        elif service == "LayDanhSachTTHC":
            code, message, result = OK, "Thành công", list(settings.procedures)
        elif service == "LayThuTuc":
            found = [p for p in settings.procedures if p.get("maTTHC") == body.get("maTTHC")]
            code, message, result = OK, "Thành công", (found[0] if found else None)
        elif service == "DongBoHoSoMC":
            code, message = sync_dossiers(body.get("data"), body.get("isUpdating") == "True")
        elif service == "CapNhatTienDoHoSoMC":
            code, message = sync_progress(body.get("data"))
        elif error is not None:
            code, message = REFUSED, f"Dữ liệu không hợp lệ: {schemas.describe(error)}"
        else:
            code, message = REFUSED, f"Dịch vụ không được hỗ trợ: {service}"
        answer = reply(code, message, result=result)
        seq = log_request(request, "adapter", str(service), body, answer)
        if service in ("DongBoHoSoMC", "CapNhatTienDoHoSoMC") and isinstance(body, dict):
            data = body.get("data")
            data = data if isinstance(data, list) else []
            if service == "DongBoHoSoMC":
                operation = "update" if body.get("isUpdating") == "True" else "insert"
                record_items("dossier", data, seq, "adapter", operation, (code, message))
            else:
                record_items("progress", data, seq, "adapter", "progress", (code, message))
        return answer

    return [Route(settings.sync.integration_path, adapter_integration, methods=["POST"])]


def _direct_routes(s: _Shared) -> list[Route]:
    """Direct style (the .NET client): JSON arrays posted to insert, update and progress URLs."""
    settings, log_request = s.settings, s.log_request
    record_items, sync_dossiers, sync_progress = s.record_items, s.sync_dossiers, s.sync_progress

    def direct(service: str):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> JSONResponse:
            body = await read_json(request)
            if service == "progress":
                code, message = sync_progress(body)
            else:
                code, message = sync_dossiers(body, updating=service == "update")
            answer = reply(code, message)
            seq = log_request(request, "direct", service, body, answer)
            items = body if isinstance(body, list) else []
            kind = "progress" if service == "progress" else "dossier"
            record_items(kind, items, seq, "direct", service, (code, message))
            return answer

        return endpoint

    return [
        Route(settings.sync.insert_path, direct("insert"), methods=["POST"]),
        Route(settings.sync.update_path, direct("update"), methods=["POST"]),
        Route(settings.sync.progress_path, direct("progress"), methods=["POST"]),
    ]


def _admin_routes(s: _Shared) -> list[Route]:
    """/_p111/: what the portal received, its catalog, reset and health."""
    settings, state = s.settings, s.state

    def listing(log: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> JSONResponse:
            code = request.query_params.get("MaHoSo")
            after = int(request.query_params.get("after", "0"))
            # Items come back as sent: the harness re-validates them, and redacts whatever it records as evidence.
            wanted = {int(v) for v in request.query_params.getlist("seq") if v.isdigit()}
            rows = [
                r
                for r in log
                if (code is None or r.get("MaHoSo") == code) and r["seq"] > after and (not wanted or r["seq"] in wanted)
            ]
            return JSONResponse(rows)

        return endpoint

    async def catalog(request: Request) -> JSONResponse:
        return JSONResponse(list(settings.procedures))

    async def reset(request: Request) -> JSONResponse:
        for log in (state.requests, state.dossiers, state.progress):
            log.clear()
        state.stored.clear()
        return JSONResponse({"reset": True})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "received": len(state.requests)})

    return [
        Route("/_p111/requests", listing(state.requests)),
        Route("/_p111/dossiers", listing(state.dossiers)),
        Route("/_p111/progress", listing(state.progress)),
        Route("/_p111/catalog", catalog),
        Route("/_p111/reset", reset, methods=["POST"]),
        Route("/_p111/health", health),
    ]
