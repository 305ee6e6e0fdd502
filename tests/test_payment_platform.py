"""The payment platform counterpart (mocks/payment/), driven in-process, with a tiny provincial system in the test
standing at the confirm URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from harness.core import schemas
from harness.http.inprocess import BlockingASGITransport
from harness.sut import payment
from mocks.payment import PaymentSettings, create_payment_app
from tests.test_payment_messages import MERCHANT, SECRET, good_init, good_query

PUBLIC_URL = "http://payment.test"
CONFIRM_URL = "http://province.test/payment/confirm"
REF = "REF-0001"


@dataclass
class Province:
    """The provincial system's confirm endpoint: verifies, records, answers signed (or as told)."""

    variant: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: str = "json"  # "json" | "text"

    def app(self) -> Starlette:
        async def confirm(request: Request) -> Response:
            body = await request.json()
            self.received.append(body)
            if self.answer == "text":
                return PlainTextResponse("OK")
            ok = payment.verify("confirm", body, SECRET, self.variant)
            reply = {
                "MaLoi": "00" if ok else "97",
                "MoTaLoi": payment.CONFIRM_CODES["00" if ok else "97"]["vi"],
                "MaDoiTac": body["MaDoiTac"],
                "MaThamChieu": body["MaThamChieu"],
                "ThoiGianGD": payment.transaction_time(),
            }
            return JSONResponse(payment.sign("confirm-reply", reply, SECRET, self.variant))

        return Starlette(routes=[Route("/payment/confirm", confirm, methods=["POST"])])


class Refusing(httpx.AsyncBaseTransport):
    """A confirm URL where nothing listens."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.fixture(scope="module")
def loop() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as portal:
        yield portal


def platform_client(
    loop: BlockingPortal, variant: str = "sha256-pipe", transport: httpx.AsyncBaseTransport | None = None
) -> httpx.Client:
    settings = PaymentSettings(MERCHANT, SECRET, variant, CONFIRM_URL, PUBLIC_URL, transport)
    return httpx.Client(base_url=PUBLIC_URL, transport=BlockingASGITransport(loop, create_payment_app(settings)))


@pytest.fixture(params=payment.VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def province(variant: str) -> Province:
    return Province(variant)


@pytest.fixture
def platform(loop: BlockingPortal, variant: str, province: Province) -> Iterator[httpx.Client]:
    with platform_client(loop, variant, httpx.ASGITransport(app=province.app())) as client:
        yield client


def send(client: httpx.Client, kind: str, message: dict[str, Any], variant: str) -> httpx.Response:
    return client.post("/api/payment", json=payment.sign(kind, message, SECRET, variant))


def init(client: httpx.Client, variant: str, reference: str = REF, **changes: Any) -> dict[str, Any]:
    response = send(client, "INIT", {**good_init(reference), **changes}, variant)
    assert response.status_code == 200
    return dict(response.json())


def query(client: httpx.Client, variant: str, reference: str = REF) -> dict[str, Any]:
    return dict(send(client, "QUERY", good_query(reference=reference), variant).json())


def transaction(client: httpx.Client, reference: str = REF) -> dict[str, Any]:
    return next(t for t in client.get("/_p111/transactions").json() if t["MaThamChieu"] == reference)


# --- INIT -----------------------------------------------------------------------------------------------------


def test_init_is_accepted_with_a_payment_page(platform, variant):
    reply = init(platform, variant)
    assert reply["MaLoi"] == "00"
    assert reply["UrlThanhToan"] == f"{PUBLIC_URL}/pay/{REF}"
    assert reply["MaThamChieu"] == REF and reply["PhienBan"] == "1.0.6"
    assert schemas.validate_message("payment-init-reply", reply) == (None, [])
    assert payment.verify("confirm-reply", reply, SECRET, variant)  # the reply's order is inferred
    assert transaction(platform) == {
        "MaThamChieu": REF,
        "MaHoSo": "000.00.06.H40-261127-0001",
        "MaTTHC": "2.000477",
        "SoTien": 50000,
        "state": "3",
        "queries": 0,
        "MaGiaoDich": transaction(platform)["MaGiaoDich"],
        "init": payment.sign("INIT", good_init(), SECRET, variant),
    }
    [record] = platform.get("/_p111/messages").json()
    assert record["direction"] == "received" and record["kind"] == "INIT"
    assert record["valid"] is True and record["errors"] == [] and record["checksum_ok"] is True
    assert record["reply"] == reply and record["at"]


def test_init_with_a_bad_checksum_is_refused_97(platform, variant):
    message = payment.sign("INIT", good_init(), SECRET + "-not", variant)
    reply = platform.post("/api/payment", json=message).json()
    assert reply["MaLoi"] == "97" and "UrlThanhToan" not in reply
    assert schemas.validate_message("payment-init-reply", reply)[0] is None
    assert platform.get("/_p111/transactions").json() == []
    [record] = platform.get("/_p111/messages").json()
    assert record["checksum_ok"] is False and record["valid"] is True


def test_init_reusing_a_reference_is_refused_03(platform, variant):
    assert init(platform, variant)["MaLoi"] == "00"
    assert init(platform, variant, SoTien="70000")["MaLoi"] == "03"
    assert transaction(platform)["SoTien"] == 50000


def test_an_invalid_or_foreign_init_is_refused_99(platform, variant):
    reply = init(platform, variant, LoaiHinhThanhToan="REFUND")
    assert reply["MaLoi"] == "99"
    reply = init(platform, variant, "REF-0002", MaDoiTac="SOMEONE-ELSE")
    assert reply["MaLoi"] == "99"
    assert platform.get("/_p111/transactions").json() == []
    first = platform.get("/_p111/messages").json()[0]
    assert first["valid"] is False and first["checksum_ok"] is True
    assert first["errors"] == ["$.LoaiHinhThanhToan: 'PAY' was expected"]


def test_not_a_payment_message_is_a_400(platform, variant):
    assert platform.post("/api/payment", content=b"<xml/>").status_code == 400
    response = send(platform, "QUERY", {**good_query(), "LoaiBanTin": "REFUND"}, variant)
    assert response.status_code == 400 and "REFUND" in response.json()["error"]
    records = platform.get("/_p111/messages").json()
    assert [(r["kind"], r["valid"]) for r in records] == [("unknown", False), ("REFUND", False)]
    assert records[1]["errors"] == ["LoaiBanTin 'REFUND' is none of: INIT, QUERY, GET_BILL"]


# --- QUERY, settling without a callback, GET_BILL --------------------------------------------------------------


def test_query_follows_the_state_and_counts(platform, variant, province):
    init(platform, variant)
    reply = query(platform, variant)
    assert (reply["MaLoi"], reply["TrangThaiGD"]) == ("00", "3")
    assert schemas.validate_message("payment-query-reply", reply) == (None, [])
    assert payment.verify("query-reply", reply, SECRET, variant)

    answer = platform.post("/_p111/settle", json={"MaThamChieu": REF, "outcome": "paid", "callback": False}).json()
    assert answer == {
        "MaThamChieu": REF,
        "state": "1",
        "confirm": {"sent": False, "status": None, "reply": None, "error": None},
    }
    assert province.received == []  # a lost callback: the system must reconcile

    reply = query(platform, variant)
    assert (reply["MaLoi"], reply["TrangThaiGD"], reply["SoTien"]) == ("00", "1", "50000")
    assert reply["MaGiaoDich"] == transaction(platform)["MaGiaoDich"] and reply["MaNganHang"]
    assert payment.verify("query-reply", reply, SECRET, variant)
    assert transaction(platform)["queries"] == 2


def test_query_refusals(platform, variant):
    assert query(platform, variant, "REF-UNKNOWN")["MaLoi"] == "01"
    init(platform, variant)
    bad = payment.sign("QUERY", good_query(), "wrong", variant)
    reply = platform.post("/api/payment", json=bad).json()
    assert reply["MaLoi"] == "97" and "TrangThaiGD" not in reply
    assert schemas.validate_message("payment-query-reply", reply)[0] is None
    assert transaction(platform)["queries"] == 0


def test_get_bill_returns_the_receipt_pdf_once_paid(platform, variant):
    init(platform, variant)
    bill = good_query("GET_BILL")
    assert send(platform, "GET_BILL", bill, variant).json()["MaLoi"] == "99"  # not paid yet
    platform.post("/_p111/settle", json={"MaThamChieu": REF, "outcome": "paid", "callback": False})
    response = send(platform, "GET_BILL", bill, variant)
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert send(platform, "GET_BILL", good_query("GET_BILL", "REF-UNKNOWN"), variant).json()["MaLoi"] == "01"
    record = [r for r in platform.get("/_p111/messages").json() if r["kind"] == "GET_BILL"][1]
    assert record["reply"] is None and record["reply_content_type"] == "application/pdf"


# --- the payment page and the confirm callback -----------------------------------------------------------------


def test_paying_sends_a_signed_confirm_and_records_the_reply(platform, variant, province):
    init(platform, variant)
    answer = platform.post(f"/pay/{REF}", json={"outcome": "paid"}).json()
    assert answer["MaThamChieu"] == REF and answer["state"] == "1"
    assert answer["confirm"]["sent"] is True and answer["confirm"]["status"] == 200
    assert answer["confirm"]["error"] is None and answer["confirm"]["reply"]["MaLoi"] == "00"

    [confirm] = province.received
    assert payment.verify("confirm", confirm, SECRET, variant)
    assert schemas.validate_message("payment-confirm", confirm) == (None, [])
    assert (confirm["LoaiBanTin"], confirm["MaLoi"], confirm["SoTien"]) == ("CONFIRM", "00", "50000")
    assert confirm["MaGiaoDich"] == transaction(platform)["MaGiaoDich"]

    sent = platform.get("/_p111/messages").json()[-1]
    assert (sent["direction"], sent["kind"], sent["body"]) == ("sent", "confirm", confirm)
    assert sent["reply"] == answer["confirm"]["reply"]
    assert sent["valid"] is True and sent["checksum_ok"] is True and sent["status"] == 200


def test_a_failed_payment_is_confirmed_with_24(platform, variant, province):
    init(platform, variant)
    answer = platform.post(f"/pay/{REF}", json={"outcome": "failed"}).json()
    assert answer["state"] == "4"
    assert province.received[0]["MaLoi"] == "24"
    assert query(platform, variant)["TrangThaiGD"] == "4"


def test_the_page_and_its_form(platform, variant, province):
    init(platform, variant, ThongTinGiaoDich="<script>alert(1)</script> lệ phí")
    page = platform.get(f"/pay/{REF}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text and "<script>" not in page.text
    assert page.text.index("Thanh toán") < page.text.index("pay")  # Vietnamese first
    assert [page.text.count(f'value="{v}"') for v in ("paid", "failed", "pending")] == [1, 1, 1]
    answer = platform.post(f"/pay/{REF}", data={"outcome": "pending"}).json()
    assert answer["state"] == "3" and answer["confirm"]["sent"] is False
    assert platform.post(f"/pay/{REF}", data={"outcome": "paid"}).json()["state"] == "1"
    assert len(province.received) == 1
    assert platform.get("/pay/REF-UNKNOWN").status_code == 404
    assert platform.post("/pay/REF-UNKNOWN", json={"outcome": "paid"}).status_code == 404
    assert platform.post(f"/pay/{REF}", json={"outcome": "maybe"}).status_code == 400


def test_a_confirm_url_that_refuses_connections_is_recorded_not_raised(loop):
    with platform_client(loop, transport=Refusing()) as client:
        init(client, "sha256-pipe")
        response = client.post(f"/pay/{REF}", json={"outcome": "paid"})
        assert response.status_code == 200
        confirm = response.json()["confirm"]
        assert confirm["sent"] is True and confirm["status"] is None and confirm["reply"] is None
        assert "ConnectError" in confirm["error"]
        sent = client.get("/_p111/messages").json()[-1]
        assert sent["error"] == confirm["error"] and sent["valid"] is False and sent["checksum_ok"] is None
        assert transaction(client)["state"] == "1"  # the payment happened; only the news of it was lost


def test_a_reply_that_is_not_json_is_recorded(loop):
    province = Province("hmac-sha256", answer="text")
    with platform_client(loop, "hmac-sha256", httpx.ASGITransport(app=province.app())) as client:
        init(client, "hmac-sha256")
        confirm = client.post(f"/pay/{REF}", json={"outcome": "paid"}).json()["confirm"]
        assert confirm["status"] == 200 and confirm["reply"] is None and "not JSON" in confirm["error"]
        assert len(province.received) == 1


def test_settle_refuses_what_it_cannot_do(platform, variant):
    init(platform, variant)
    assert platform.post("/_p111/settle", json={"MaThamChieu": "NOPE", "outcome": "paid"}).status_code == 404
    assert platform.post("/_p111/settle", json={"MaThamChieu": REF, "outcome": "refund"}).status_code == 400
    assert platform.post("/_p111/settle", json={"MaThamChieu": REF, "outcome": "paid", "callback": "no"}).status_code \
        == 400
    assert platform.post("/_p111/settle", content=b"x").status_code == 400


# --- end to end, admin, secrets --------------------------------------------------------------------------------


def test_end_to_end(platform, variant, province):
    """INIT, pay with its callback, reconcile, receipt: under each checksum variant."""
    assert init(platform, variant, SoTien=50000)["MaLoi"] == "00"
    answer = platform.post("/_p111/settle", json={"MaThamChieu": REF, "outcome": "paid"}).json()
    assert answer["confirm"]["reply"]["MaLoi"] == "00"  # the province verified the platform's checksum
    assert payment.verify("confirm", province.received[0], SECRET, variant)
    assert query(platform, variant)["TrangThaiGD"] == "1"
    assert send(platform, "GET_BILL", good_query("GET_BILL"), variant).content.startswith(b"%PDF-")
    kinds = [(m["direction"], m["kind"], m["checksum_ok"]) for m in platform.get("/_p111/messages").json()]
    assert kinds == [
        ("received", "INIT", True),
        ("sent", "confirm", True),
        ("received", "QUERY", True),
        ("received", "GET_BILL", True),
    ]


def test_reset_and_health(platform, variant):
    init(platform, variant)
    assert platform.get("/_p111/health").json() == {"ok": True}
    assert platform.post("/_p111/reset").json() == {"reset": True}
    assert platform.get("/_p111/messages").json() == []
    assert platform.get("/_p111/transactions").json() == []
    assert init(platform, variant)["MaLoi"] == "00"  # the reference is free again


def test_the_secret_is_never_shown(platform, variant):
    init(platform, variant, ThongTinGiaoDich=f"lệ phí {SECRET}")
    platform.post(f"/pay/{REF}", json={"outcome": "paid"})
    query(platform, variant)
    shown = [platform.get(path).text for path in ("/_p111/messages", "/_p111/transactions", f"/pay/{REF}")]
    # The system echoed the secret in a field: it is evidence of a leak, but the platform does not repeat it.
    assert not any(SECRET in text for text in shown)
    assert "[REDACTED]" in shown[0] and "[REDACTED]" in shown[1]
    assert all(SECRET not in json.dumps(m, ensure_ascii=False) for m in platform.get("/_p111/messages").json())


def test_a_short_secret_is_not_scrubbed_from_ordinary_text(loop):
    # A two-letter test key would blot out every word containing it: only real-length secrets are scrubbed.
    settings = PaymentSettings(MERCHANT, "lệ", "sha256-pipe", CONFIRM_URL, PUBLIC_URL, Refusing())
    with httpx.Client(base_url=PUBLIC_URL, transport=BlockingASGITransport(loop, create_payment_app(settings))) as c:
        c.post("/api/payment", json=payment.sign("INIT", good_init(), "lệ", "sha256-pipe"))
        assert c.get("/_p111/messages").json()[0]["body"]["ThongTinGiaoDich"] == good_init()["ThongTinGiaoDich"]


def test_a_malformed_query_or_bill_request_is_refused_not_answered(platform, variant):
    """Every message is judged against its schema, QUERY and GET_BILL as INIT: one missing a required field, or from
    another merchant, is refused (99) and counted as no query."""
    init(platform, variant)
    for kind in ("QUERY", "GET_BILL"):
        missing = {k: v for k, v in good_query(kind).items() if k != "PhienBan"}
        assert send(platform, kind, missing, variant).json()["MaLoi"] == "99", kind
        other = {**good_query(kind), "MaDoiTac": "NOT-OUR-MERCHANT"}
        assert send(platform, kind, other, variant).json()["MaLoi"] == "99", kind
    assert transaction(platform)["queries"] == 0
