"""Removes secrets and citizens' personal data from anything the harness writes (reports, logs, evidence)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"

# Field names are compared case-insensitively. Portal field names stay as the portal spells them.
SENSITIVE_FIELDS = frozenset(
    name.lower()
    for name in (
        "password",
        "secret",
        "client_secret",
        "api_key",
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "session",
        "MaXacThuc",
        "SoDinhDanh",
        "SoGiayToChuHoSo",
        "SoCMND",
        "Email",
        "SoDienThoai",
        "id_number",
        "applicant_id_number",
        "phone",
        "email",
        "cccd",
        "cmnd",
    )
)
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"})


class Redactor:
    """Replaces sensitive fields, sensitive headers and every known secret value wherever it appears."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        # Longest first, so that a secret containing another is removed whole.
        self._secrets = sorted({*self._secrets, *(s for s in secrets if s)}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        return {k: REDACTED if k.lower() in SENSITIVE_HEADERS else self.text(v) for k, v in headers}

    def data(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: REDACTED if str(k).lower() in SENSITIVE_FIELDS and v not in (None, "") else self.data(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value
