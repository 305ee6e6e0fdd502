"""Driver for the reference API (schemas/reference-api.openapi.json), which a vendor may also implement."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import httpx

from harness.drivers.base import ActionResult, DossierView, DriverError

OFFICER = "Cán bộ kiểm thử P111"
CITIZEN = "Công dân kiểm thử P111"
_citizen_numbers = itertools.count(1)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _view(data: dict[str, Any]) -> DossierView:
    try:
        return DossierView(
            code=data["code"],
            procedure_code=data["procedure_code"],
            agency_code=data["agency_code"],
            channel=data["channel"],
            status=str(data["status"]),
            submitted_at=datetime.fromisoformat(data["submitted_at"]),
            received_at=_time(data.get("received_at")),
            due_at=_time(data.get("due_at")),
            statuses=tuple(str(step["status"]) for step in data.get("history", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DriverError(f"the SUT's dossier does not have the reference API's shape: {exc!r}") from exc


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

    def procedures(self) -> list[dict[str, str]]:
        return list(self._json(self._call("GET", "/api/procedures"), 200))

    def submit(self, procedure_code: str, *, channel: str = "online") -> DossierView:
        # Test citizens carry obviously fake id numbers (0000 + a counter); evidence redacts them anyway.
        number = f"0000{next(_citizen_numbers):08d}"
        body = {
            "procedure_code": procedure_code,
            "channel": channel,
            "summary": "Hồ sơ kiểm thử P111",
            "applicant": {"name": CITIZEN, "id_number": number},
        }
        return _view(self._json(self._call("POST", "/api/dossiers", json=body), 201))

    def act(self, code: str, action: str) -> ActionResult:
        actor = CITIZEN if action in ("supplement", "withdraw") else OFFICER
        response = self._call("POST", f"/api/dossiers/{code}/actions/{action}", json={"actor": actor})
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
