"""Dossiers: a citizen submits one (checked as documented, stored, told to the portal), reads it; officers list them."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.core.formats import vietnam_now
from mocks.reference import dossiers as model
from mocks.reference import inputs
from mocks.reference.shared import SUMMARY_COLUMN, Shared, forbidden, problem, unauthenticated
from mocks.reference.signon import loa_rank


def submission_routes(s: Shared) -> list[Route]:
    defects, services, codes, store = s.defects, s.services, s.codes, s.store
    files, principal, public, audit, tell_portal = s.files, s.principal, s.public, s.audit, s.tell_portal
    forgotten_rules, storage_fault, read_files = _storage(defects)

    async def submit(request: Request) -> JSONResponse:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        try:
            body = json.loads(await request.body())
            inputs.check_body("Submission", body, tolerate=forgotten_rules)
            service = services[body["procedure_code"]]
            applicant = body["applicant"]
            channel = body.get("channel", "online")
            if channel not in model.CHANNELS:
                raise KeyError("channel")
            if not model.is_id_number(str(applicant.get("id_number", ""))):
                raise ValueError("applicant.id_number must be a 12-digit citizen id or a 9-digit old id")
            submitted_files = read_files(body)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return problem(422, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        required = service.get("min_loa")
        if required and loa_rank(who.assurance) < loa_rank(required) and "sso-ignores-loa" not in defects:
            return forbidden(f"dịch vụ yêu cầu {required}, đăng nhập có {who.assurance or 'không rõ'} / "
                             f"the service requires {required}, the sign-on gave {who.assurance or 'none'}")
        fault = storage_fault(body)
        if fault is not None:
            return problem(500, "internal-error", f"Lỗi hệ thống / internal error: {fault}")
        now = vietnam_now()
        due = model.due_date(now, service["days"])
        code_day = due.date() if "dossier-code-wrong-date" in defects else now.date()
        agency = model.Agency(service["agency_code"], service["agency_name"])
        dossier = model.Dossier(
            code=codes.next_code(service["agency_code"], code_day),
            service=service,
            channel=channel,
            applicant_name=str(applicant.get("name", "")),
            applicant_id_number=str(applicant.get("id_number", "")),
            summary=str(body.get("summary", "")),
            submitted_at=now,
            due_at=due,
            agency=agency,
            files=submitted_files,
            owner=who.subject,
            owner_vneid=who.vneid_verified,
        )
        subject, assurance = audit(who)
        step = model.Step("1", now, dossier.applicant_name, "submit", "citizen", agency, subject, assurance)
        dossier.history.append(step)
        store[dossier.code] = dossier
        files.update({f.id: f for f in submitted_files})
        await tell_portal(dossier)
        if "fuzz-surrogate-read" in defects:  # the write answers in escaped ASCII; the reads do not
            return Response(json.dumps(public(dossier)), status_code=201, media_type="application/json")
        return JSONResponse(public(dossier), status_code=201)

    return [Route("/api/dossiers", submit, methods=["POST"])]


def reading_routes(s: Shared) -> list[Route]:
    defects, store, principal, visible, public = s.defects, s.store, s.principal, s.visible, s.public

    async def show(request: Request) -> JSONResponse:
        found = await visible(request)
        if isinstance(found, JSONResponse):
            return found
        _, dossier = found
        return JSONResponse(public(dossier))

    async def export(request: Request) -> JSONResponse:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        if not who.officer:
            return forbidden("officers only")
        try:
            page = inputs.query_int(request.query_params, "page", 1, 1, 2**31 - 1)
            size = inputs.query_int(request.query_params, "size", 100, 1, 500)
        except inputs.InvalidInput as exc:
            status = 400 if "fuzz-undocumented-status" in defects else 422
            return problem(status, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        items = list(store.values())[(page - 1) * size : page * size]
        return JSONResponse({"page": page, "size": size, "total": len(store), "items": [public(d) for d in items]})

    return [Route("/api/dossiers", export, methods=["GET"]), Route("/api/dossiers/{code}", show)]


def _storage(
    defects: frozenset[str],
) -> tuple[set[tuple[str, str]], Callable[[dict[str, Any]], str | None], Callable[[dict[str, Any]], tuple]]:
    """The fuzz defects' faults where a dossier is stored, and the submitted files as stored."""
    # The fuzz defects: a rule the validation forgets, then a crash (HTTP 500) where the dossier is stored, as a
    # database column, a utf8mb3 table or a careless loop over an absent list would give.
    forgotten_rules = {("summary", "maxLength")} if "fuzz-long-summary" in defects else set()
    if "fuzz-surrogate-read" in defects:  # stored as it came; only the write's own answer escapes it
        forgotten_rules.add(("summary", "unicode"))
    # fuzz-procedure-component: the component list of a transferred procedure, looked up with a key that is not one
    transferred_components = {"1.004227": {"BHXH01", "BHXH02"}}

    def storage_fault(body: dict[str, Any]) -> str | None:
        if "fuzz-long-summary" in defects and len(body.get("summary", "")) > SUMMARY_COLUMN:
            return "Data too long for column 'TrichYeuHoSo' at row 1"
        if "fuzz-astral-name" in defects and any(ord(c) > 0xFFFF for c in body["applicant"]["name"]):
            return "Incorrect string value for column 'ChuHoSo' (utf8mb3 holds no character beyond U+FFFF)"
        if "fuzz-missing-files" in defects and "files" not in body:
            return "'NoneType' object is not iterable (files)"
        known = transferred_components.get(body["procedure_code"]) if "fuzz-procedure-component" in defects else None
        if known is not None and any(
            f.get("component_code", "") not in known for f in body.get("files", []) if f.get("component_code")
        ):
            return "KeyError: component not in the procedure's list (unhashable lookup in the transfer form)"
        return None

    def read_files(body: dict[str, Any]) -> tuple[model.StoredFile, ...]:
        stored = []
        for entry in body.get("files", []):
            content = base64.b64decode(entry["content_base64"], validate=True)
            stored.append(
                model.StoredFile(
                    secrets.token_hex(8), str(entry["name"]), str(entry.get("component_code", "")), content
                )
            )
        return tuple(stored)

    return forgotten_rules, storage_fault, read_files
