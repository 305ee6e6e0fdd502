"""The citizen opens the fee's payment; the platform's confirm callback settles it and the portal hears again."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.demo3.model import CONFIRM_PATH
from mocks.demo3.shared import Shared


def routes(s: Shared) -> list[Route]:
    cashier, dossiers, error, visible, tell_portal = s.cashier, s.dossiers, s.error, s.visible, s.tell_portal
    defects = s.defects

    async def settled(code: str) -> None:
        d = dossiers.get(code)
        if d is not None:
            await tell_portal(d, with_step=False)

    async def pay(request: Request) -> JSONResponse:
        """The citizen opens the payment of the fee the officer asked for."""
        found = visible(request)
        if isinstance(found, JSONResponse):
            return found
        person, d = found
        if person.officer or person.tech_id != d.owner.tech_id:
            return error(403, "Chỉ người nộp hồ sơ mới nộp phí")
        if d.status != "cho-nop-phi" or not d.service.get("phi"):
            return error(409, "Hồ sơ không chờ nộp phí")
        if "demo3-fuzz-pay-past-state" in defects:  # only a dossier that waits for payment gets here
            return JSONResponse({"loi": "KeyError: 'ngan_hang'"}, status_code=500)
        open_now = [cashier.transactions[r] for r in d.payments if cashier.transactions[r].state == "cho"]
        tx = open_now[-1] if open_now else None
        if tx is None:
            tx = await cashier.open(d.code, d.service, request.client.host if request.client else "127.0.0.1")
            d.payments.append(tx.reference)
        cashier.keep_reconciling(settled)
        return JSONResponse({"giao_dich": tx.reference, "trang": tx.page}, status_code=201)

    async def confirm(request: Request) -> JSONResponse:
        try:
            message = json.loads(await request.body())
            if not isinstance(message, dict):
                raise ValueError
        except ValueError:
            return JSONResponse({"MaLoi": "99", "MoTaLoi": "Bản tin không hợp lệ"})
        reply, tx = cashier.confirm(message)
        if tx is not None:
            await settled(tx.dossier)
        return JSONResponse(reply)

    return [Route("/mc/ho-so/{so}/nop-phi", pay, methods=["POST"]), Route(CONFIRM_PATH, confirm, methods=["POST"])]
