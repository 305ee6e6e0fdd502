"""Settling a transaction: the payment page a payer answers, and the signed confirm callback to the system."""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from harness.sut import payment
from mocks.payment.model import CALLBACK_TIMEOUT, CONFIRM_REPLY_SCHEMA, DEFAULT_BANK, OUTCOME_CODES, Transaction
from mocks.payment.shared import Shared

Settle = Callable[[str, Any, bool], Awaitable[JSONResponse]]


def routes(s: Shared) -> list[Route]:
    state, scrub = s.state, s.scrub
    settle = settler(s)

    async def pay_page(request: Request) -> HTMLResponse:
        transaction = state.transactions.get(request.path_params["ref"])
        if transaction is None:
            return HTMLResponse("<h1>Không tìm thấy giao dịch / transaction not found</h1>", status_code=404)
        e = html.escape
        label = payment.STATE_LABELS[transaction.state]
        buttons = "".join(
            f'<button type="submit" name="outcome" value="{name}">{e(text)}</button> '
            for name, text in (
                ("paid", "Thanh toán / pay"),
                ("failed", "Thanh toán không thành công / fail"),
                ("pending", "Để sau / leave pending"),
            )
        )
        return HTMLResponse(
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            "<title>Thanh toán trực tuyến / online payment</title></head><body>"
            "<h1>Nền tảng thanh toán (mô phỏng) / payment platform (simulated)</h1><dl>"
            f"<dt>Mã tham chiếu / reference</dt><dd>{e(transaction.reference)}</dd>"
            f"<dt>Mã hồ sơ / dossier</dt><dd>{e(transaction.dossier)}</dd>"
            f"<dt>Nội dung / for</dt><dd>{e(scrub(transaction.info))}</dd>"
            f"<dt>Số tiền / amount</dt><dd>{transaction.amount} VND</dd>"
            f"<dt>Trạng thái / state</dt><dd>{e(label['vi'])} / {e(label['en'])}</dd></dl>"
            # No action: the form posts back to the address the page was reached at, whatever proxy is in front.
            f'<form method="post">{buttons}</form></body></html>'
        )

    async def pay(request: Request) -> JSONResponse:
        raw = await request.body()
        outcome: Any = None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            # Parsed here: starlette's form parser needs python-multipart, a dependency for one field.
            values = parse_qs(raw.decode("utf-8", "replace")).get("outcome")
            outcome = values[0] if values else None
        else:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            outcome = body.get("outcome") if isinstance(body, dict) else None
        return await settle(request.path_params["ref"], outcome, callback=True)

    return [Route("/pay/{ref:path}", pay_page, methods=["GET"]), Route("/pay/{ref:path}", pay, methods=["POST"])]


def settler(s: Shared) -> Settle:
    """Settles a transaction by reference, the confirm callback sent or not."""
    settings, state, scrub, record, signed = s.settings, s.state, s.scrub, s.record, s.signed

    async def send_confirm(transaction: Transaction, outcome: str) -> dict[str, Any]:
        confirm = signed(
            "confirm",
            {
                "LoaiBanTin": payment.CONFIRM_MESSAGE_TYPE,
                "MaLoi": OUTCOME_CODES[outcome],
                "MaDoiTac": settings.merchant_code,
                "MaThamChieu": transaction.reference,
                "SoTien": str(transaction.amount),
                "MaTienTe": "VND",
                "MaGiaoDich": transaction.transaction_id,
                "MaNganHang": transaction.bank,
                "ThoiGianGD": transaction.time,
                "ThongTinGiaoDich": transaction.info,
            },
        )
        status: int | None = None
        reply: Any = None
        error: str | None = None
        try:
            async with httpx.AsyncClient(transport=settings.sut_transport, timeout=CALLBACK_TIMEOUT) as client:
                response = await client.post(settings.confirm_url, json=confirm)
            status = response.status_code
            try:
                reply = response.json()
            except ValueError:
                error = f"the reply is not JSON (HTTP {status}, {response.headers.get('content-type', 'no type')})"
        except Exception as exc:  # whatever goes wrong on the system's side is evidence, never the platform's crash
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        checksum_ok = None
        if isinstance(reply, dict):
            checksum_ok = payment.verify("confirm-reply", reply, settings.secret, settings.variant)
        record(
            "sent", "confirm", confirm, reply,
            schema=CONFIRM_REPLY_SCHEMA if error is None else None, checked=reply, checksum_ok=checksum_ok,
            unchecked=f"no JSON reply: {error}", url=settings.confirm_url, status=status, error=error,
        )
        return {"sent": True, "status": status, "reply": scrub(reply), "error": scrub(error)}

    async def settle(reference: str, outcome: Any, callback: bool) -> JSONResponse:
        transaction = state.transactions.get(reference)
        if transaction is None:
            return JSONResponse({"error": f"Không tìm thấy giao dịch / unknown MaThamChieu {reference!r}"}, 404)
        if outcome not in payment.STATE_OF_OUTCOME:
            known = ", ".join(payment.STATE_OF_OUTCOME)
            return JSONResponse({"error": f"outcome must be one of: {known}"}, status_code=400)
        transaction.state = payment.STATE_OF_OUTCOME[outcome]
        if outcome != "pending":
            transaction.time = payment.transaction_time()
            transaction.bank = transaction.bank or DEFAULT_BANK
        confirm: dict[str, Any] = {"sent": False, "status": None, "reply": None, "error": None}
        if callback and outcome in OUTCOME_CODES:
            confirm = await send_confirm(transaction, outcome)
        return JSONResponse({"MaThamChieu": reference, "state": transaction.state, "confirm": confirm})
    return settle
