"""A step on a dossier: who may take it, what its rules allow from where it stands, what the portal hears."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.core.formats import vietnam_now
from mocks.demo3 import openapi
from mocks.demo3.model import RULES, Step
from mocks.demo3.shared import Shared


def routes(s: Shared) -> list[Route]:
    settings, defects, allowed = s.settings, s.defects, s.allowed
    error, visible, view, tell_portal = s.error, s.visible, s.view, s.tell_portal

    async def step(request: Request) -> JSONResponse:
        found = visible(request)
        if isinstance(found, JSONResponse):
            return found
        person, d = found
        name = request.path_params["buoc"]
        rule = RULES["steps"].get(name)
        if rule is None:
            return error(400, f"Bước không có: {name}")
        if (rule["ai"] == "can-bo") != person.officer:
            return error(403, "Bước này không phải của người dùng này")
        body = _step_body(await request.body(), person.tech_id, defects)
        if body is None:
            return error(400, "Thân yêu cầu không hợp lệ")
        actor = str(body.get("nguoi") or "")
        if not actor:
            return error(400, "Thiếu người thực hiện")
        if name not in allowed.get(d.status, []):
            return error(409, f"Không thể {name} khi hồ sơ {d.status}")
        to_agency = None
        if name == "chuyen":
            code = body.get("den")
            second = d.service.get("lien_thong") or {}
            known = {d.service["don_vi"]["ma"]: d.service["don_vi"], **({second["ma"]: second} if second else {})}
            if code not in known or code == d.agency["ma"]:
                return error(400, "Đơn vị nhận không hợp lệ")
            to_agency = dict(known[code])
        now = vietnam_now()
        target = rule["den"]
        if target == "quay-lai":
            target = d.back_to
        if target == "cho-bo-sung":
            d.back_to = d.status if d.status in ("da-nhan", "dang-giai-quyet", "cho-nop-phi") else "da-nhan"
        if target == "da-nhan" and d.received is None:
            d.received = now
        d.refused = now if target == "khong-nhan" else d.refused
        d.finished = now if target == "da-giai-quyet" else d.finished
        d.returned = now if target == "da-tra" else d.returned
        if to_agency is not None:
            d.moves.append({"tu": d.agency["ma"], "den": to_agency["ma"], "luc": now, "giay_to": list(d.files)})
            d.agency = to_agency
        d.status = target
        anonymous = "demo3-officer-steps-anonymous" in defects and person is settings.officer
        d.steps.append(Step(target, name, now, "" if anonymous else person.tech_id,
                            "" if anonymous else person.assurance, dict(d.agency), actor))
        await tell_portal(d)
        return JSONResponse({"ho_so": view(d)})

    return [Route("/mc/ho-so/{so}/{buoc}", step, methods=["POST"])]


def _step_body(raw: bytes, tech_id: str, defects: frozenset[str]) -> dict[str, Any] | None:
    """A step's JSON body valid against the system's own document, or None."""
    if not raw and "demo3-fuzz-missing-body" in defects:
        raw = json.dumps({"nguoi": tech_id}).encode()  # the defect: no body, acted on anyway
    try:
        body = json.loads(raw)
        # The defect: `den` is not checked before the agency lookup of a transfer.
        checked = {k: v for k, v in body.items() if k != "den"} if "demo3-fuzz-agency-list" in defects else body
    except (ValueError, AttributeError):
        return None
    if openapi.invalid("step", checked) is not None or openapi.unencodable(body):
        return None
    return body

