"""Lifecycle actions on a dossier: who may act, what the lifecycle allows, what the portal and the cashier hear."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.core.formats import is_agency_code, vietnam_now
from harness.core.lifecycle import Lifecycle
from mocks.reference import dossiers as model
from mocks.reference import inputs
from mocks.reference.shared import Shared, forbidden, problem, unauthenticated
from mocks.reference.signon import Principal


def routes(s: Shared) -> list[Route]:
    defects, variations, refusal_status = s.defects, s.variations, s.refusal_status
    lifecycle, store, cashier = s.lifecycle, s.store, s.cashier
    public, optional_refused, principal = s.public, s.optional_refused, s.principal
    may_read, audit, tell_portal, payment_settled = s.may_read, s.audit, s.tell_portal, s.payment_settled

    async def act(request: Request) -> JSONResponse:
        dossier = store.get(request.path_params["code"])
        action = request.path_params["action"]
        who = await principal(request)
        anonymous_allowed = action == "supplement" and "txn-supplement-anonymous" in defects
        if who is None and not anonymous_allowed:
            return unauthenticated()
        if dossier is None or (who is not None and not may_read(who, dossier)):
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        if action not in lifecycle.actions:
            return problem(422, "unknown-action", f"unknown action {action}; known: {', '.join(lifecycle.actions)}")
        if who is not None and not anonymous_allowed:
            wrong_role = _wrong_role(lifecycle, defects, who, dossier, action)
            if wrong_role is not None:
                return wrong_role
        read = await _actor_of(request, who, defects)
        if isinstance(read, JSONResponse):
            return read
        body, actor = read
        to_agency = destination(dossier, body.get("to_agency")) if action == "transfer" else None
        if action == "transfer" and (to_agency is None or to_agency.code == dossier.agency.code):
            return problem(422, "invalid-request", "transfer needs to_agency: another agency's code")
        before = dossier.status
        if optional_refused(action, before):
            return problem(
                refusal_status, "not-offered", f"{action} from {before} is not offered by this system", status=before
            )
        if action == "request-supplement" and "supplement-never-offered" in defects:
            # The defect: no officer can ever ask for a supplement, a move every system must offer somewhere.
            return problem(refusal_status, "not-offered", f"{action} is not offered by this system", status=before)
        if action in ("refuse", "withdraw", "return") and "end-actions-change-nothing" in defects:
            return JSONResponse(public(dossier))  # the defect: accepted, and the dossier left as it was
        guarded = "illegal-transition-accepted" not in defects and not (
            "end-state-reopened" in defects and before in lifecycle.end_states
        )
        subject, assurance = audit(who)
        moved = model.apply(dossier, action, lifecycle, actor, vietnam_now(), guarded=guarded, to_agency=to_agency,
                            subject=subject, assurance=assurance)
        if not moved:
            return problem(
                refusal_status, "illegal-transition", f"{action} is not allowed: {lifecycle.rule(before)}",
                status=before,
            )
        await tell_portal(dossier)
        if "pay-init-on-every-step" in defects and action != "request-payment":  # the defect: every step opens one
            await cashier.request(dossier, request.client.host if request.client else "127.0.0.1")
        if action == "request-payment" and "citizen-opens-payment" not in variations:
            await cashier.request(dossier, request.client.host if request.client else "127.0.0.1")
            cashier.start_reconciling(lambda payment: payment_settled(payment.dossier_code))
        return JSONResponse(public(dossier))

    return [Route("/api/dossiers/{code}/actions/{action}", act, methods=["POST"])]


def destination(dossier: model.Dossier, code: Any) -> model.Agency | None:
    if not isinstance(code, str) or not is_agency_code(code):
        return None
    name = dossier.service.get("second_agency_name") if code == dossier.service.get("second_agency_code") else None
    if code == dossier.service["agency_code"]:
        name = dossier.service["agency_name"]
    return model.Agency(code, name or code)


def _wrong_role(
    lifecycle: Lifecycle, defects: frozenset[str], who: Principal, dossier: model.Dossier, action: str
) -> JSONResponse | None:
    """An officer's action asked by a citizen, or the applicant's own by anyone else: refused."""
    role_checked = "txn-officer-action-by-citizen" not in defects
    if role_checked and lifecycle.actions[action].actor == "officer" and not who.officer:
        return forbidden(f"{action} is an officer's action")
    if lifecycle.actions[action].actor == "citizen" and who.subject != dossier.owner:
        return forbidden(f"{action} is the applicant's own action")
    return None


async def _actor_of(
    request: Request, who: Principal | None, defects: frozenset[str]
) -> tuple[dict[str, Any], str] | JSONResponse:
    """The action's body, checked as documented, and who acted (every transaction names one); or the refusal."""
    try:
        raw = await request.body()
        if not raw and "fuzz-missing-body-accepted" in defects and who is not None:
            raw = json.dumps({"actor": who.subject}).encode()  # the defect: no body, a default actor
        body = json.loads(raw or b"{}")
        inputs.check_body("Action", body)
        actor = str(body.get("actor") or "")
    except (ValueError, AttributeError) as exc:
        return problem(422, "invalid-request", f"body must be a JSON object as documented: {exc}")
    if not actor:
        return problem(422, "invalid-request", "actor is required: every transaction names who acted")
    return body, actor
