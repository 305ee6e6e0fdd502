"""The platform's answers to the provincial system: INIT, QUERY and GET_BILL, each judged by schema and checksum."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.core import schemas
from harness.sut import payment
from mocks.payment.model import REQUEST_SCHEMAS, BadRequest, Transaction, _text, receipt_pdf
from mocks.payment.shared import Shared

Handler = Callable[[dict[str, Any], bool], Any]


def routes(s: Shared) -> list[Route]:
    settings, record = s.settings, s.record
    handle_init, handle_query, handle_bill = _handlers(s)

    async def read_message(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise BadRequest("the body is not JSON") from exc
        if not isinstance(body, dict):
            raise BadRequest("the body is not a JSON object", body)
        return body

    async def api_payment(request: Request) -> Response:
        try:
            body = await read_message(request)
        except BadRequest as exc:
            record(
                "received", "unknown", exc.body, None, schema=None, checked=None, checksum_ok=None, unchecked=str(exc)
            )
            return JSONResponse({"error": f"Yêu cầu không hợp lệ / bad request: {exc}"}, status_code=400)
        kind = body.get("LoaiBanTin")
        if kind not in REQUEST_SCHEMAS:
            known = ", ".join(REQUEST_SCHEMAS)
            record(
                "received", str(kind), body, None, schema=None, checked=body, checksum_ok=None,
                unchecked=f"LoaiBanTin {kind!r} is none of: {known}",
            )
            return JSONResponse(
                {"error": f"LoaiBanTin không được hỗ trợ / unsupported LoaiBanTin {kind!r}; known: {known}"},
                status_code=400,
            )
        checksum_ok = payment.verify(kind, body, settings.secret, settings.variant)
        schema = REQUEST_SCHEMAS[kind]
        if kind == "INIT":
            answer: dict[str, Any] | Transaction = handle_init(body, checksum_ok)
        elif kind == "QUERY":
            answer = handle_query(body, checksum_ok)
        else:
            answer = handle_bill(body, checksum_ok)
        if isinstance(answer, Transaction):
            pdf = receipt_pdf(answer)
            record(
                "received", kind, body, None, schema=schema, checked=body, checksum_ok=checksum_ok,
                reply_content_type="application/pdf", reply_bytes=len(pdf),
            )
            return Response(pdf, media_type="application/pdf")
        record("received", kind, body, answer, schema=schema, checked=body, checksum_ok=checksum_ok)
        return JSONResponse(answer)

    return [Route("/api/payment", api_payment, methods=["POST"])]


def _handlers(s: Shared) -> tuple[Handler, Handler, Handler]:
    state = s.state
    init_reply, query_reply, malformed = _replies(s)

    def handle_init(body: dict[str, Any], checksum_ok: bool) -> dict[str, Any]:
        reference = _text(body.get("MaThamChieu"))
        if not checksum_ok:
            return init_reply(body, "97")
        if malformed("INIT", body):
            return init_reply(body, "99")
        if reference in state.transactions:
            return init_reply(body, "03")
        receipt = body["ThongTinBienLai"]
        state.transactions[reference] = Transaction(
            reference=reference,
            dossier=receipt["MaHoSo"],
            procedure=receipt["MaTTHC"],
            amount=int(payment.field_text(body["SoTien"])),
            # Unique across resets too: a system that keys "already confirmed" on MaGiaoDich must never see one twice.
            transaction_id=f"{payment.transaction_time()}{secrets.randbelow(10**6):06d}",
            info=body["ThongTinGiaoDich"],
            init=body,
            time=payment.transaction_time(),
            bank=_text(body.get("MaNganHang")),
        )
        return init_reply(body, "00")

    def transaction_asked(kind: str, body: dict[str, Any], checksum_ok: bool) -> dict[str, Any] | Transaction:
        """The transaction a QUERY or GET_BILL names, or the refusal: 97 bad checksum, 99 malformed, 01 unknown."""
        if not checksum_ok:
            return query_reply(body, "97")
        if malformed(kind, body):
            return query_reply(body, "99")
        transaction = state.transactions.get(_text(body.get("MaThamChieu")))
        if transaction is None:
            return query_reply(body, "01")
        return transaction

    def handle_query(body: dict[str, Any], checksum_ok: bool) -> dict[str, Any]:
        transaction = transaction_asked("QUERY", body, checksum_ok)
        if not isinstance(transaction, Transaction):
            return transaction
        transaction.queries += 1
        return query_reply(body, "00", transaction)

    def handle_bill(body: dict[str, Any], checksum_ok: bool) -> dict[str, Any] | Transaction:
        transaction = transaction_asked("GET_BILL", body, checksum_ok)
        if not isinstance(transaction, Transaction):
            return transaction
        if transaction.state != "1":
            return query_reply(body, "99")  # no receipt for an unpaid transaction
        return transaction

    return handle_init, handle_query, handle_bill


def _replies(s: Shared) -> tuple[Callable[..., dict[str, Any]], Callable[..., dict[str, Any]], Callable[..., bool]]:
    settings, public_url, signed, described = s.settings, s.public_url, s.signed, s.described

    def init_reply(body: dict[str, Any], code: str) -> dict[str, Any]:
        reply = {
            "LoaiBanTin": "INIT",
            "PhienBan": payment.PROTOCOL_VERSION,
            **described(code),
            "MaDoiTac": _text(body.get("MaDoiTac")),
            "MaThamChieu": _text(body.get("MaThamChieu")),
            "ThoiGianGD": payment.transaction_time(),
        }
        if code == "00":
            reply["UrlThanhToan"] = f"{public_url}/pay/{quote(reply['MaThamChieu'], safe='')}"
        # The reply's signed order is not published: the confirm-reply order [inferred] (payment.yaml).
        return signed("confirm-reply", reply)

    def query_reply(body: dict[str, Any], code: str, transaction: Transaction | None = None) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "LoaiBanTin": _text(body.get("LoaiBanTin")),
            **described(code),
            "MaDoiTac": _text(body.get("MaDoiTac")),
            "MaThamChieu": _text(body.get("MaThamChieu")),
            "ThoiGianGD": payment.transaction_time(),
        }
        if transaction is not None:
            reply.update(
                MaDoiTac=settings.merchant_code,
                SoTien=str(transaction.amount),
                MaTienTe="VND",
                MaGiaoDich=transaction.transaction_id,
                MaNganHang=transaction.bank,
                ThongTinGiaoDich=transaction.info,
                TrangThaiGD=transaction.state,
                ThoiGianGD=transaction.time,
            )
        return signed("query-reply", reply)

    def malformed(kind: str, body: dict[str, Any]) -> bool:
        """Every message is judged against its schema, as INIT is: a malformed QUERY is never silently answered."""
        invalid = schemas.first_error(REQUEST_SCHEMAS[kind], body) is not None
        return invalid or body["MaDoiTac"] != settings.merchant_code

    return init_reply, query_reply, malformed
