"""What the payment platform's route groups share: its settings and state, and how an exchange is recorded (the
shared secret scrubbed), signed and described."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.core import schemas
from harness.core.formats import vietnam_now
from harness.http.redaction import LEARN_MIN_CHARS, REDACTED
from harness.sut import payment
from mocks.payment.model import PaymentSettings, PaymentState


@dataclass(frozen=True)
class Shared:
    settings: PaymentSettings
    state: PaymentState
    public_url: str
    scrub: Callable[[Any], Any]
    record: Callable[..., None]
    signed: Callable[[str, dict[str, Any]], dict[str, Any]]
    described: Callable[[str], dict[str, str]]


def share(settings: PaymentSettings) -> Shared:
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

    return Shared(settings, state, public_url, scrub, record, signed, described)
