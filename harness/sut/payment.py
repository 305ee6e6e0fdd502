"""Checksums (MaXacThuc) of the National Portal's payment platform, and its codes and states (data/payment.yaml).

Shared by the payment counterpart, the reference provincial system and the checks, so that all three sign and verify
the same bytes (domain.md section 4).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from harness.core import resources
from harness.core.formats import format_portal_datetime, vietnam_now

DATA_FILE = "payment.yaml"
VARIANTS: tuple[str, ...] = ("sha256-pipe", "hmac-sha256")
KINDS = ("INIT", "QUERY", "GET_BILL", "confirm", "query-reply", "confirm-reply")
SEPARATOR = "|"


def _load() -> dict[str, Any]:
    document = resources.read_yaml(resources.data_file(DATA_FILE))
    orders = document.get("signed_fields", {})
    # A missing or garbled order would make every checksum of that kind silently wrong: fail at import instead.
    for kind in KINDS:
        order = orders.get(kind)
        if not order or not all(isinstance(f, str) for f in order) or len(set(order)) != len(order):
            raise ValueError(f"{DATA_FILE}: signed_fields.{kind} must be a list of distinct field names")
    return dict(document)


_DATA = _load()

PROTOCOL_VERSION: str = str(_DATA["version"])  # PhienBan
INFERRED_ORDERS: tuple[str, ...] = tuple(_DATA["inferred"])
CONFIRM_MESSAGE_TYPE: str = str(_DATA["confirm_message_type"])  # [inferred] LoaiBanTin of the callback
CONFIRM_CODES: dict[str, dict[str, str]] = {str(k): dict(v) for k, v in _DATA["confirm_codes"].items()}
PLATFORM_CODES: dict[str, dict[str, str]] = {str(k): dict(v) for k, v in _DATA["platform_codes"].items()}
STATES: dict[str, str] = {str(k): v["name"] for k, v in _DATA["states"].items()}
STATE_LABELS: dict[str, dict[str, str]] = {str(k): {"vi": v["vi"], "en": v["en"]} for k, v in _DATA["states"].items()}
STATE_OF_OUTCOME: dict[str, str] = {name: code for code, name in STATES.items()}  # "paid" -> "1"


def signed_fields(kind: str) -> tuple[str, ...]:
    """The fields of `kind` that enter MaXacThuc, in order."""
    if kind not in KINDS:
        raise ValueError(f"unknown payment message kind {kind!r}; known: {', '.join(KINDS)}")
    return tuple(_DATA["signed_fields"][kind])


def field_text(value: object) -> str:
    """How one field enters the checksum. SoTien may arrive as "50000", 50000 or 50000.0 (domain.md section 8): all
    three sign alike; a missing field signs as the empty string."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _signed_text(kind: str, message: Mapping[str, Any], order: Sequence[str] | None) -> str:
    fields = signed_fields(kind) if order is None else order
    return SEPARATOR.join(field_text(message.get(f)) for f in fields)


def checksum(
    kind: str, message: Mapping[str, Any], secret: str, variant: str, *, order: Sequence[str] | None = None
) -> str:
    """Lowercase hex MaXacThuc of `message`. `order` replaces the kind's signed-field order (a defect signing
    in the wrong order)."""
    text = _signed_text(kind, message, order)
    if variant == "sha256-pipe":
        return hashlib.sha256((text + SEPARATOR + secret).encode("utf-8")).hexdigest()
    if variant == "hmac-sha256":
        return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
    raise ValueError(f"unknown checksum variant {variant!r}; known: {', '.join(VARIANTS)}")


def sign(
    kind: str, message: Mapping[str, Any], secret: str, variant: str, *, order: Sequence[str] | None = None
) -> dict[str, Any]:
    """A copy of `message` with MaXacThuc set."""
    return {**message, "MaXacThuc": checksum(kind, message, secret, variant, order=order)}


def verify(kind: str, message: Mapping[str, Any], secret: str, variant: str) -> bool:
    given = message.get("MaXacThuc")
    if not isinstance(given, str):
        return False
    # Constant-time: a checksum compared byte by byte leaks how much of a forgery was right.
    return hmac.compare_digest(given.encode("utf-8"), checksum(kind, message, secret, variant).encode("ascii"))


def error_code(message: Mapping[str, Any]) -> str:
    """MaLoi as text, whether it came as a string or a number (domain.md section 8): 0 and "00" are both "00"."""
    value = message.get("MaLoi")
    return f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def transaction_time() -> str:
    """ThoiGianGD now: yyyyMMddHHmmss, Vietnam time."""
    return format_portal_datetime(vietnam_now())
