"""Driver for the reference API (schemas/reference-api.openapi.json), which a vendor may also implement."""

from __future__ import annotations

import base64
import itertools
from datetime import datetime
from typing import Any

import httpx

from harness.drivers.base import ActionResult, DossierView, DriverError, FileView, InboxItem, Service

OFFICER = "Cán bộ kiểm thử P111"
CITIZEN = "Công dân kiểm thử P111"
_citizen_numbers = itertools.count(1)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _files(data: list[dict[str, Any]]) -> tuple[FileView, ...]:
    return tuple(FileView(f["id"], f["name"], f["sha256"], f["url"]) for f in data)


def _shaped(build: Any, data: Any, what: str) -> Any:
    try:
        return build(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DriverError(f"the SUT's {what} does not have the reference API's shape: {exc!r}") from exc


def _view(data: dict[str, Any]) -> DossierView:
    return _shaped(
        lambda d: DossierView(
            code=d["code"],
            procedure_code=d["procedure_code"],
            agency_code=d["agency_code"],
            current_agency_code=d.get("current_agency_code", d["agency_code"]),
            channel=d["channel"],
            status=str(d["status"]),
            submitted_at=datetime.fromisoformat(d["submitted_at"]),
            received_at=_time(d.get("received_at")),
            due_at=_time(d.get("due_at")),
            statuses=tuple(str(step["status"]) for step in d.get("history", [])),
            files=_files(d.get("files", [])),
        ),
        data,
        "dossier",
    )


def _service(data: dict[str, Any]) -> Service:
    return Service(
        code=str(data["code"]),
        local_code=str(data["local_code"]),
        service_id=str(data["service_id"]),
        name=str(data["name"]),
        agency_code=str(data["agency_code"]),
        level=str(data["level"]),
        fee_bearing=bool(data.get("fee_bearing")),
        second_agency_code=data.get("second_agency_code"),
    )


class ReferenceApiDriver:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DriverError(f"{method} {path}: the SUT did not answer ({type(exc).__name__}: {exc})") from exc

    def _json(self, response: httpx.Response, *expected: int) -> Any:
        if response.status_code not in expected:
            raise DriverError(
                f"{response.request.method} {response.request.url.path}: expected HTTP "
                f"{'/'.join(map(str, expected))}, got {response.status_code}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise DriverError(f"{response.request.url.path}: the SUT's answer is not JSON") from exc

    def services(self) -> list[Service]:
        data = self._json(self._call("GET", "/api/procedures"), 200)
        return _shaped(lambda rows: [_service(row) for row in rows], data, "service list")  # type: ignore[no-any-return]

    def submit(
        self, procedure_code: str, *, channel: str = "online", files: tuple[tuple[str, bytes], ...] = ()
    ) -> DossierView:
        # Test citizens carry obviously fake id numbers (0000 + a counter); evidence redacts them anyway.
        number = f"0000{next(_citizen_numbers):08d}"
        body = {
            "procedure_code": procedure_code,
            "channel": channel,
            "summary": "Hồ sơ kiểm thử P111",
            "applicant": {"name": CITIZEN, "id_number": number},
            "files": [{"name": name, "content_base64": base64.b64encode(content).decode()} for name, content in files],
        }
        return _view(self._json(self._call("POST", "/api/dossiers", json=body), 201))

    def act(self, code: str, action: str, *, to_agency: str | None = None) -> ActionResult:
        actor = CITIZEN if action in ("supplement", "withdraw") else OFFICER
        body: dict[str, Any] = {"actor": actor}
        if to_agency is not None:
            body["to_agency"] = to_agency
        response = self._call("POST", f"/api/dossiers/{code}/actions/{action}", json=body)
        if response.is_success:
            return ActionResult(True, response.status_code, _view(self._json(response, response.status_code)), "")
        if response.status_code in (400, 403, 409, 422):
            try:
                message = str(response.json().get("message", ""))
            except (ValueError, AttributeError):
                message = response.text[:200]
            return ActionResult(False, response.status_code, None, message)
        raise DriverError(f"{action} on {code}: unexpected HTTP {response.status_code}")

    def get(self, code: str) -> DossierView:
        return _view(self._json(self._call("GET", f"/api/dossiers/{code}"), 200))

    def inbox(self, agency_code: str) -> list[InboxItem]:
        data = self._json(self._call("GET", f"/api/agencies/{agency_code}/inbox"), 200)
        return _shaped(  # type: ignore[no-any-return]
            lambda rows: [InboxItem(r["code"], r["from"], r["method"], _files(r["files"])) for r in rows],
            data,
            "inbox",
        )

    def download(self, url: str) -> bytes:
        response = self._call("GET", url)
        if response.status_code != 200:
            raise DriverError(f"GET {url}: expected HTTP 200, got {response.status_code}")
        return response.content

    def export(self, kind: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in itertools.count(1):
            data = self._json(self._call("GET", f"/api/exports/{kind}", params={"page": page, "size": 5000}), 200)
            items = _shaped(lambda d: list(d["items"]), data, f"{kind} export")
            rows.extend(items)
            if not items or len(rows) >= int(data.get("total", 0)):
                return rows
        return rows
