"""Payments: the platform's confirm callback, and (citizen-opens-payment) the applicant's own pay call."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.reference.shared import Shared, forbidden, problem


def routes(s: Shared) -> list[Route]:
    settings, variations, refusal_status = s.settings, s.variations, s.refusal_status
    cashier, public, visible, payment_settled = s.cashier, s.public, s.visible, s.payment_settled

    async def confirm_payment(request: Request) -> JSONResponse:
        """The payment platform's confirm callback: authenticated by its MaXacThuc, answered HTTP 200 with a MaLoi
        (domain.md section 8), whatever the verdict."""
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            return JSONResponse({"MaLoi": "99", "MoTaLoi": "Bản tin không hợp lệ / invalid message"})
        reply, settled = cashier.confirm(body)
        if settled is not None:
            await payment_settled(settled.dossier_code)
        return JSONResponse(reply)

    async def pay(request: Request) -> JSONResponse:
        """citizen-opens-payment: the applicant opens the transaction the officer asked for, by a call of their own."""
        found = await visible(request)
        if isinstance(found, JSONResponse):
            return found
        who, dossier = found
        if who.subject != dossier.owner:
            return forbidden("paying is the applicant's own action")
        if dossier.status != "6" or any(p.state == "pending" for p in dossier.payments):
            return problem(refusal_status, "nothing-to-pay", "Không có khoản cần thanh toán / nothing to pay now")
        await cashier.request(dossier, request.client.host if request.client else "127.0.0.1")
        cashier.start_reconciling(lambda payment: payment_settled(payment.dossier_code))
        return JSONResponse(public(dossier))

    return [
        Route(settings.confirm_path, confirm_payment, methods=["POST"]),
        *([Route("/api/dossiers/{code}/pay", pay, methods=["POST"])] if "citizen-opens-payment" in variations else []),
    ]
