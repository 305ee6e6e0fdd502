"""How the reference system takes fees online through the portal's payment platform (domain.md section 4): an INIT
when a dossier needs payment, the platform's confirm callback, and reconciliation of pending transactions by QUERY.

Named defects break it on purpose; each is read here and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.sut import payment as protocol
from mocks.reference.dossiers import Dossier, Payment

log = logging.getLogger("p111.reference.payments")

# [inferred] Channel and device codes of the INIT: the contract names the fields, not their values.
WEB_CHANNEL, DESKTOP_DEVICE = "1", "1"
CONFIRM_PATH = "/api/payments/confirm"
MAX_QUERY_PAUSE = 60.0  # seconds: a transaction pending for long is still asked about, once a minute


@dataclass(frozen=True)
class PaymentLink:
    """The reference system's registration at the payment platform."""

    base_url: str
    merchant_code: str  # MaDoiTac
    secret: str  # the checksum key
    variant: str  # sha256-pipe | hmac-sha256
    http_transport: httpx.AsyncBaseTransport | None = None  # in-process platform; None = the network
    reconcile_every: float = 0.5  # seconds between two reconciliation passes
    path: str = "/api/payment"


def _amount(value: Any) -> int | None:
    """SoTien as a whole number of VND, whether it came as a string or a number (domain.md section 8)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


class Cashier:
    """Every payment transaction of the system, by MaThamChieu."""

    def __init__(self, link: PaymentLink | None, defects: frozenset[str]) -> None:
        self._link = link
        self._defects = defects
        self._client = (
            httpx.AsyncClient(base_url=link.base_url, transport=link.http_transport, timeout=10.0) if link else None
        )
        self.payments: dict[str, Payment] = {}
        self._asked: dict[str, int] = {}  # QUERYs sent per pending transaction: each waits twice as long as the last
        self._due: dict[str, float] = {}
        self._reconciler: asyncio.Task[None] | None = None

    # ---- INIT ---------------------------------------------------------------------------------------------------

    def _reference(self, dossier: Dossier) -> str:
        if "pay-reuses-reference" in self._defects:
            return dossier.code.replace(".", "").replace("-", "")  # one per dossier: a retry reuses it
        return f"P111{secrets.token_hex(8).upper()}"

    async def request(self, dossier: Dossier, ip: str) -> Payment | None:
        """Sends the INIT for the dossier's fees; the transaction stays pending until a confirm or a QUERY settles
        it (also when the platform refused the INIT: it can be retried). None: the procedure has no fee."""
        fees = dossier.service.get("fees") or []
        if not fees or self._link is None or self._client is None:
            return None
        payment = Payment(self._reference(dossier), dossier.code, sum(int(f["SoTien"]) for f in fees))
        service = dossier.service
        message = {
            "LoaiBanTin": "INIT",
            "PhienBan": protocol.PROTOCOL_VERSION,
            "MaDoiTac": self._link.merchant_code,
            "MaThamChieu": payment.reference,
            "SoTien": payment.amount,
            "LoaiHinhThanhToan": "PAY",
            "MaKenhThanhToan": WEB_CHANNEL,
            "MaThietBi": DESKTOP_DEVICE,
            "NgonNgu": "vi-VN",
            "MaTienTe": "VND",
            "MaNganHang": "",
            "ThongTinGiaoDich": f"Thanh toan phi, le phi ho so {dossier.code}",
            "ThoiGianGD": protocol.transaction_time(),
            "Ip": ip,
            "ThongTinBienLai": {
                "MaDVC": service["service_id"],
                "MaTTHC": service["code"],
                "TenTTHC": service["name"],
                "MaDonVi": service["agency_code"],
                "MaHoSo": dossier.code,
                "PhiLePhi": [
                    {k: f[k] for k in ("LoaiPhiLePhi", "MaPhiLePhi", "TenPhiLePhi", "SoTien")} for f in fees
                ],
            },
        }
        order = None
        if "pay-init-wrong-order" in self._defects:
            fields = list(protocol.signed_fields("INIT"))
            fields[3], fields[4] = fields[4], fields[3]  # SoTien before MaThamChieu
            order = fields
        signed = protocol.sign("INIT", message, self._link.secret, self._link.variant, order=order)
        try:
            reply = (await self._client.post(self._link.path, json=signed)).json()
        except (httpx.HTTPError, ValueError) as exc:
            reply = {"MaLoi": "99", "MoTaLoi": f"{type(exc).__name__}: {exc}"}
        if protocol.error_code(reply) == "00" and reply.get("UrlThanhToan"):
            # The defect: the transaction is opened, but the citizen is never given the page to pay on.
            payment.url = None if "pay-url-withheld" in self._defects else str(reply["UrlThanhToan"])
        else:
            payment.init_error = str(reply.get("MaLoi"))
            log.warning("the payment platform refused the INIT of %s: %s", dossier.code, reply.get("MoTaLoi"))
        self.payments[payment.reference] = payment
        dossier.payments.append(payment)
        return payment

    # ---- confirm callback ---------------------------------------------------------------------------------------

    def _reply(self, code: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._link is not None
        reply = {
            "MaLoi": code,
            "MoTaLoi": protocol.CONFIRM_CODES[code]["vi"],
            "MaDoiTac": self._link.merchant_code,
            "MaThamChieu": str(body.get("MaThamChieu", "")),
            "ThoiGianGD": protocol.transaction_time(),
        }
        return protocol.sign("confirm-reply", reply, self._link.secret, self._link.variant)

    def confirm(self, body: dict[str, Any]) -> tuple[dict[str, Any], Payment | None]:
        """Judges a confirm: the reply (MaLoi per domain.md section 4), and the payment it settled, if any."""
        if self._link is None:
            return {"MaLoi": "99", "MoTaLoi": "no payment platform configured"}, None
        checked = "pay-accepts-bad-checksum" not in self._defects
        if checked and not protocol.verify("confirm", body, self._link.secret, self._link.variant):
            return self._reply("97", body), None
        payment = self.payments.get(str(body.get("MaThamChieu", "")))
        if payment is None:
            return self._reply("01", body), None
        amount_checked = "pay-ignores-amount" not in self._defects
        if amount_checked and (_amount(body.get("SoTien")) != payment.amount or body.get("MaTienTe") != "VND"):
            return self._reply("04", body), None
        if payment.state == "paid" and "pay-double-credit" not in self._defects:
            return self._reply("02", body), None
        success = protocol.error_code(body) == "00" or "pay-paid-on-failure" in self._defects
        if success:
            payment.state = "paid"
            payment.credited += _amount(body.get("SoTien")) or 0
        elif payment.state == "pending":
            payment.state = "failed"
        return self._reply("00", body), payment

    # ---- reconciliation -----------------------------------------------------------------------------------------

    async def _query(self, payment: Payment) -> dict[str, Any]:
        assert self._link is not None and self._client is not None
        message = {
            "LoaiBanTin": "QUERY",
            "PhienBan": protocol.PROTOCOL_VERSION,
            "MaDoiTac": self._link.merchant_code,
            "MaThamChieu": payment.reference,
            "ThoiGianGD": protocol.transaction_time(),
        }
        if "pay-query-missing-version" in self._defects:
            del message["PhienBan"]  # the defect: a required field left out of every QUERY
        signed = protocol.sign("QUERY", message, self._link.secret, self._link.variant)
        return dict((await self._client.post(self._link.path, json=signed)).json())

    async def reconcile(self) -> list[Payment]:
        """Asks the platform about every pending transaction; returns those a reply settled."""
        settled = []
        now = time.monotonic()
        for payment in [p for p in self.payments.values() if p.state == "pending"]:
            if now < self._due.get(payment.reference, 0.0):
                continue
            asked = self._asked[payment.reference] = self._asked.get(payment.reference, 0) + 1
            assert self._link is not None
            self._due[payment.reference] = now + min(MAX_QUERY_PAUSE, self._link.reconcile_every * 2**asked)
            try:
                reply = await self._query(payment)
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("QUERY %s failed: %s", payment.reference, exc)
                continue
            if protocol.error_code(reply) != "00" or not protocol.verify(
                "query-reply", reply, self._link.secret, self._link.variant
            ):
                continue
            state = str(reply.get("TrangThaiGD"))
            if state == "1" and _amount(reply.get("SoTien")) == payment.amount:
                payment.state, payment.credited = "paid", payment.amount
                settled.append(payment)
            elif state == "4":
                payment.state = "failed"
                settled.append(payment)
        return settled

    def start_reconciling(self, on_settled: Callable[[Payment], Awaitable[None]]) -> None:
        """Starts the periodic reconciliation in the running event loop, once (the app has no startup hook in the
        in-process run, so the first request starts it)."""
        if self._reconciler is not None or self._link is None or "pay-never-reconciles" in self._defects:
            return
        every = self._link.reconcile_every

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    for payment in await self.reconcile():
                        await on_settled(payment)
                except Exception:  # a pass that breaks must not end reconciliation for good
                    log.exception("reconciliation pass failed")

        self._reconciler = asyncio.get_running_loop().create_task(loop())
