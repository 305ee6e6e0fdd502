"""The National Portal's payment platform, as a counterpart: INIT, QUERY and GET_BILL, a payment page, and the
confirm callback to the provincial system (domain.md section 4).

Every message is checked against its schema and its checksum (MaXacThuc, harness.sut.payment) and recorded, refused or
not: the checks judge the records under /_p111/. The harness settles a transaction through the payment page or
/_p111/settle, with or without the confirm callback (a lost callback is how the checks make a system reconcile with
QUERY).
"""

from __future__ import annotations

import html
import itertools
import json
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from harness.core import schemas
from harness.core.formats import vietnam_now
from harness.http.redaction import LEARN_MIN_CHARS, REDACTED
from harness.sut import payment

DEFAULT_BANK = "NCB"  # the bank the simulated payer uses when INIT named none
CALLBACK_TIMEOUT = 10.0  # seconds; the provincial system's confirm endpoint answering slower is recorded as an error
# GET_BILL carries QUERY's fields: one schema for both.
REQUEST_SCHEMAS = {
    "INIT": "payment/INIT.request",
    "QUERY": "payment/QUERY.request",
    "GET_BILL": "payment/QUERY.request",
}
CONFIRM_REPLY_SCHEMA = "payment/confirm.reply"
OUTCOME_CODES = {"paid": "00", "failed": "24"}  # MaLoi of the confirm; 24 [inferred] the payer cancelled or failed


@dataclass(frozen=True)
class PaymentSettings:
    merchant_code: str  # MaDoiTac the platform knows
    secret: str  # checksum key shared with the provincial system
    variant: str  # "sha256-pipe" | "hmac-sha256"
    confirm_url: str  # full URL of the provincial system's confirm callback (registered with the platform)
    public_url: str  # the platform's own base URL, used to build UrlThanhToan
    sut_transport: httpx.AsyncBaseTransport | None = None  # how to reach confirm_url; None = the network


@dataclass
class Transaction:
    reference: str  # MaThamChieu
    dossier: str  # MaHoSo
    procedure: str  # MaTTHC
    amount: int  # SoTien
    transaction_id: str  # MaGiaoDich
    info: str  # ThongTinGiaoDich
    init: dict[str, Any]
    time: str  # ThoiGianGD of the last change
    bank: str = ""  # MaNganHang, known once the payer has paid or failed
    state: str = "3"
    queries: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "MaThamChieu": self.reference,
            "MaHoSo": self.dossier,
            "MaTTHC": self.procedure,
            "SoTien": self.amount,
            "state": self.state,
            "queries": self.queries,
            "MaGiaoDich": self.transaction_id,
            "init": self.init,
        }


@dataclass
class PaymentState:
    """Every exchange in order (refused ones too) and the transactions by reference."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))


class BadRequest(Exception):
    """Not a payment message at all: answered with HTTP 400. `body` is the parsed JSON, if it was JSON."""

    def __init__(self, reason: str, body: Any = None) -> None:
        super().__init__(reason)
        self.body = body


def _ascii(value: object) -> str:
    # The PDF core fonts have no Vietnamese glyphs: fold diacritics (đ has no decomposition) rather than fail.
    text = unicodedata.normalize("NFKD", str(value)).replace("đ", "d").replace("Đ", "D")
    return text.encode("ascii", "ignore").decode("ascii")


def receipt_pdf(transaction: Transaction) -> bytes:
    """The e-receipt GET_BILL answers with, made with fpdf2."""
    from fpdf import FPDF  # here, not at the top: importing fpdf2 costs every run, and few ever ask for a receipt

    pdf = FPDF()
    pdf.set_title("Bien lai dien tu / e-receipt")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(text="BIEN LAI THU PHI, LE PHI / E-RECEIPT", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    rows = [
        ("Ma ho so / MaHoSo", transaction.dossier),
        ("Ma TTHC / MaTTHC", transaction.procedure),
        ("Ma tham chieu / MaThamChieu", transaction.reference),
        ("So tien / SoTien", f"{transaction.amount} VND"),
        ("Ma giao dich / MaGiaoDich", transaction.transaction_id),
        ("Ngan hang / MaNganHang", transaction.bank),
        ("Thoi gian / ThoiGianGD", transaction.time),
        ("Noi dung / ThongTinGiaoDich", transaction.info),
    ]
    for label, value in rows:
        pdf.cell(text=_ascii(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def create_payment_app(settings: PaymentSettings) -> Starlette:
    state = PaymentState()
    public_url = settings.public_url.rstrip("/")

    def scrub(value: Any) -> Any:
        """The shared secret never enters a record or an admin answer, even when a system echoes it. A secret too
        short to be told from ordinary text (a test's) is left alone rather than blotting out every word with it."""
        if len(settings.secret) < LEARN_MIN_CHARS:
            return value
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str):
            return value.replace(settings.secret, REDACTED)
        return value

    def record(
        direction: str,
        kind: str,
        body: Any,
        reply: Any,
        *,
        schema: str | None,
        checked: Any,
        checksum_ok: bool | None,
        unchecked: str | None = None,
        **extra: Any,
    ) -> None:
        """One exchange. `checked` is what the schema judges: the received message, or the system's reply to a
        message the platform sent; with no schema, `unchecked` says why nothing could be judged."""
        if schema is None:
            errors = [unchecked or "nothing to validate"]
        else:
            errors = sorted(schemas.describe(e) for e in schemas.iter_errors(schema, checked))
        state.messages.append(
            {
                "seq": next(state.counter),
                "direction": direction,
                "kind": kind,
                "body": scrub(body),
                "reply": scrub(reply),
                "valid": schema is not None and not errors,
                "errors": errors,
                "unknown_fields": schemas.unknown_fields(schema, checked) if schema and not errors else [],
                "checksum_ok": checksum_ok,
                "at": vietnam_now().isoformat(),
                **scrub(extra),
            }
        )

    def signed(kind: str, message: dict[str, Any]) -> dict[str, Any]:
        return payment.sign(kind, message, settings.secret, settings.variant)

    def described(code: str) -> dict[str, str]:
        return {"MaLoi": code, "MoTaLoi": payment.PLATFORM_CODES[code]["vi"]}

    # --- the platform's answers to the provincial system -------------------------------------------------------

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

    def handle_query(body: dict[str, Any], checksum_ok: bool) -> dict[str, Any]:
        if not checksum_ok:
            return query_reply(body, "97")
        if malformed("QUERY", body):
            return query_reply(body, "99")
        transaction = state.transactions.get(_text(body.get("MaThamChieu")))
        if transaction is None:
            return query_reply(body, "01")
        transaction.queries += 1
        return query_reply(body, "00", transaction)

    def handle_bill(body: dict[str, Any], checksum_ok: bool) -> dict[str, Any] | Transaction:
        if not checksum_ok:
            return query_reply(body, "97")
        if malformed("GET_BILL", body):
            return query_reply(body, "99")
        transaction = state.transactions.get(_text(body.get("MaThamChieu")))
        if transaction is None:
            return query_reply(body, "01")
        if transaction.state != "1":
            return query_reply(body, "99")  # no receipt for an unpaid transaction
        return transaction

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

    # --- settling a transaction and the confirm callback --------------------------------------------------------

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

    # --- admin, for the checks ---------------------------------------------------------------------------------

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse(state.messages)

    async def transactions(request: Request) -> JSONResponse:
        return JSONResponse(scrub([t.summary() for t in state.transactions.values()]))

    async def admin_settle(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("MaThamChieu"), str):
            return JSONResponse({"error": 'body must be {"MaThamChieu", "outcome", "callback"}'}, status_code=400)
        callback = body.get("callback", True)
        if not isinstance(callback, bool):
            return JSONResponse({"error": "callback must be true or false"}, status_code=400)
        return await settle(body["MaThamChieu"], body.get("outcome"), callback=callback)

    async def reset(request: Request) -> JSONResponse:
        state.messages.clear()
        state.transactions.clear()
        state.counter = itertools.count(1)
        return JSONResponse({"reset": True})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    routes = [
        Route("/api/payment", api_payment, methods=["POST"]),
        Route("/pay/{ref:path}", pay_page, methods=["GET"]),
        Route("/pay/{ref:path}", pay, methods=["POST"]),
        Route("/_p111/messages", messages),
        Route("/_p111/transactions", transactions),
        Route("/_p111/settle", admin_settle, methods=["POST"]),
        Route("/_p111/reset", reset, methods=["POST"]),
        Route("/_p111/health", health),
    ]
    return Starlette(routes=routes)
