"""Demo 3's cashier at the portal's payment platform (domain.md section 4). The officer's request only sets the
dossier waiting for its fee; the citizen opens the transaction with a call of their own (INIT then). The confirm
callback is judged by its checksum, reference, amount and currency and answered HTTP 200 with a MaLoi; a transaction
whose confirm never came is asked about with QUERY, less and less often. What the platform credited is a separate
list of credits (one per accepted confirm or QUERY), not a field of the transaction."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.sut import payment as protocol


@dataclass(frozen=True)
class Merchant:
    platform_url: str
    code: str  # MaDoiTac
    key: str
    variant: str
    transport: httpx.AsyncBaseTransport | None = None
    every: float = 0.5  # seconds between reconciliation passes


@dataclass
class Transaction:
    reference: str
    dossier: str
    amount: int
    page: str | None = None
    state: str = "cho"  # cho (pending) | xong (paid) | hong (failed)


@dataclass
class Cashier:
    merchant: Merchant
    checks_confirm: bool = True  # False: the planted defect demo3-confirm-unchecked
    transactions: dict[str, Transaction] = field(default_factory=dict)
    credits: list[dict[str, Any]] = field(default_factory=list)  # {giao_dich, so_tien, luc}
    _asked: dict[str, tuple[int, float]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.merchant.platform_url, transport=self.merchant.transport, timeout=10.0)

    def _sign(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        return protocol.sign(kind, message, self.merchant.key, self.merchant.variant)

    async def open(self, dossier: str, service: dict[str, Any], ip: str) -> Transaction:
        fees = service.get("phi") or []
        tx = Transaction(f"MC{secrets.token_hex(7).upper()}", dossier, sum(int(f["tien"]) for f in fees))
        message = {
            "LoaiBanTin": "INIT", "PhienBan": protocol.PROTOCOL_VERSION, "MaDoiTac": self.merchant.code,
            "MaThamChieu": tx.reference, "SoTien": tx.amount, "LoaiHinhThanhToan": "PAY", "MaKenhThanhToan": "1",
            "MaThietBi": "1", "NgonNgu": "vi-VN", "MaTienTe": "VND", "MaNganHang": "",
            "ThongTinGiaoDich": f"Nop phi ho so {dossier}", "ThoiGianGD": protocol.transaction_time(), "Ip": ip,
            "ThongTinBienLai": {
                "MaDVC": service["ma_dich_vu"], "MaTTHC": service["ma_quoc_gia"], "TenTTHC": service["ten"],
                "MaDonVi": service["don_vi"]["ma"], "MaHoSo": dossier,
                "PhiLePhi": [{"LoaiPhiLePhi": f["loai"], "MaPhiLePhi": f["ma"], "TenPhiLePhi": f["ten"],
                              "SoTien": int(f["tien"])} for f in fees],
            },
        }
        try:
            async with self._client() as client:
                reply = (await client.post("/api/payment", json=self._sign("INIT", message))).json()
        except (httpx.HTTPError, ValueError):
            reply = {}
        if protocol.error_code(reply) == "00":
            tx.page = reply.get("UrlThanhToan")
        self.transactions[tx.reference] = tx
        return tx

    def credited(self, reference: str) -> int:
        return sum(c["so_tien"] for c in self.credits if c["giao_dich"] == reference)

    def _answer(self, code: str, message: dict[str, Any]) -> dict[str, Any]:
        return self._sign("confirm-reply", {
            "MaLoi": code, "MoTaLoi": protocol.CONFIRM_CODES[code]["vi"], "MaDoiTac": self.merchant.code,
            "MaThamChieu": str(message.get("MaThamChieu", "")), "ThoiGianGD": protocol.transaction_time(),
        })

    def confirm(self, message: dict[str, Any]) -> tuple[dict[str, Any], Transaction | None]:
        if self.checks_confirm and not protocol.verify("confirm", message, self.merchant.key, self.merchant.variant):
            return self._answer("97", message), None
        tx = self.transactions.get(str(message.get("MaThamChieu", "")))
        if tx is None:
            return self._answer("01", message), None
        try:
            amount = float(message.get("SoTien"))  # a string or a number
        except (TypeError, ValueError):
            amount = -1.0
        if amount != tx.amount or message.get("MaTienTe") != "VND":
            return self._answer("04", message), None
        if tx.state == "xong":
            return self._answer("02", message), None
        if protocol.error_code(message) == "00":
            tx.state = "xong"
            self.credits.append({"giao_dich": tx.reference, "so_tien": tx.amount})
        else:
            tx.state = "hong"
        return self._answer("00", message), tx

    async def _query(self, tx: Transaction) -> None:
        message = {"LoaiBanTin": "QUERY", "PhienBan": protocol.PROTOCOL_VERSION, "MaDoiTac": self.merchant.code,
                   "MaThamChieu": tx.reference, "ThoiGianGD": protocol.transaction_time()}
        async with self._client() as client:
            reply = (await client.post("/api/payment", json=self._sign("QUERY", message))).json()
        if protocol.error_code(reply) != "00" or not protocol.verify(
            "query-reply", reply, self.merchant.key, self.merchant.variant
        ):
            return
        if str(reply.get("TrangThaiGD")) == "1" and float(reply.get("SoTien", -1)) == tx.amount and tx.state == "cho":
            tx.state = "xong"
            self.credits.append({"giao_dich": tx.reference, "so_tien": tx.amount})
        elif str(reply.get("TrangThaiGD")) == "4" and tx.state == "cho":
            tx.state = "hong"

    def keep_reconciling(self, settled: Callable[[str], Awaitable[None]]) -> None:
        """Once, from a request: the loop that asks about pending transactions (each twice as rarely as before)."""
        if self._task is not None:
            return

        async def loop() -> None:
            while True:
                await asyncio.sleep(self.merchant.every)
                now = time.monotonic()
                for tx in [t for t in self.transactions.values() if t.state == "cho"]:
                    asked, due = self._asked.get(tx.reference, (0, 0.0))
                    if now < due:
                        continue
                    self._asked[tx.reference] = (asked + 1, now + min(30.0, self.merchant.every * 2**asked))
                    try:
                        await self._query(tx)
                    except (httpx.HTTPError, ValueError):
                        continue
                    if tx.state != "cho":
                        await settled(tx.dossier)

        self._task = asyncio.get_running_loop().create_task(loop())
