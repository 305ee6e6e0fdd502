"""Small helpers the conformance checks share: the one way a check judges the SUT (`expect`), the one way it says it
could not (`blocked`), schema judgement of what crossed, and evidence references.

Every judgement of the SUT goes through `expect` (or `expect_valid`), which counts it for the check running. The
plugin turns a check that ends without a single judgement, and without NOT-TESTED / NOT-APPLICABLE / REVIEW, into
ERROR "hollow pass": a check that returns early, or whose loop had nothing to look at, cannot pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from harness.core import schemas
from harness.core.verdicts import ConformanceWarning, Failure, NotTested

# Judgements of the SUT made by the check running now (one check at a time per process; the plugin resets it).
_judgements = 0


def reset_judgements() -> None:
    global _judgements
    _judgements = 0


def judgements() -> int:
    return _judgements


def expect(
    holds: object,
    summary: str,
    *,
    expected: str | Callable[[], str],
    received: str | Callable[[], str],
    evidence: str | Callable[[], str | None] | None = None,
) -> None:
    """A judgement of the SUT: counted, and a Failure (FAILED) naming Expected / Received / Evidence when `holds` is
    false. `received`, `expected` and `evidence` may be callables, evaluated only on failure (what they read may
    exist only then)."""
    global _judgements
    _judgements += 1
    if not holds:
        raise Failure(
            summary,
            expected=expected() if callable(expected) else expected,
            received=received() if callable(received) else received,
            evidence=evidence() if callable(evidence) else evidence,
        )


def blocked(what: str, requirement: str) -> None:
    """The check cannot judge because something it needs did not happen: NOT-TESTED, blocked by the requirement (or
    the SUT behaviour) that failed, which its own check judges. Never a PASSED, never a silent return."""
    raise NotTested(f"bị chặn / blocked: {what} — {requirement}")


BLOCKED_PREFIX = "bị chặn / blocked: "


def received_ref(row: dict[str, Any]) -> str:
    """How a failure message points at one item the portal counterpart received."""
    return f"portal /_p111 item #{row['seq']} (request #{row['request_seq']}, {row['operation']}, {row['received_at']})"


def expect_valid(schema_name: str, rows: list[dict[str, Any]], what: str) -> None:
    """Every received item validates against the real schema; extra fields the portal ignores are one warning."""
    extra: dict[str, int] = {}
    for row in rows:
        error = schemas.first_error(schema_name, row["item"])
        expect(
            error is None,
            f"{what} {row['MaHoSo']} does not match {schema_name}",
            expected=f"a message valid against schemas/{schema_name}.schema.json",
            received=lambda error=error: schemas.describe(error),
            evidence=received_ref(row),
        )
        for path in schemas.unknown_fields(schema_name, row["item"]):
            extra[path] = extra.get(path, 0) + 1
    if extra:
        listed = ", ".join(f"{path} ({count}×)" for path, count in sorted(extra.items()))
        warnings.warn(ConformanceWarning(f"{what}: fields the portal ignores: {listed}"), stacklevel=2)
