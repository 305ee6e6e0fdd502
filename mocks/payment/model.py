"""The payment platform's settings, its transactions and state, and the e-receipt GET_BILL answers with."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import httpx

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

