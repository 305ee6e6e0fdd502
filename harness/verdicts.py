"""Verdicts, and the split between "the SUT is wrong" (Failure) and "the harness or its input is wrong" (the rest)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import pytest


class Verdict(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT-APPLICABLE"
    NOT_TESTED = "NOT-TESTED"

    @property
    def vi(self) -> str:
        return _VIETNAMESE[self]


_VIETNAMESE = {
    Verdict.PASSED: "ĐẠT",
    Verdict.FAILED: "KHÔNG ĐẠT",
    Verdict.ERROR: "LỖI",
    Verdict.NOT_APPLICABLE: "KHÔNG ÁP DỤNG",
    Verdict.NOT_TESTED: "CHƯA KIỂM TRA",
}


class Failure(AssertionError):
    """The SUT broke a requirement. An AssertionError, so pytest reports the check FAILED."""

    def __init__(self, summary: str, *, expected: str, received: str, evidence: str | None = None) -> None:
        self.summary = summary
        self.expected = expected
        self.received = received
        self.evidence = evidence
        lines = [summary, f"Expected: {expected}", f"Received: {received}"]
        if evidence:
            lines.append(f"Evidence: {evidence}")
        super().__init__("\n".join(lines))


class ConformanceWarning(UserWarning):
    """Something the portal tolerates but a reader should know (an extra field, a lenient reading); never a failure."""


class NotApplicable(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The check does not apply to this target (a skip that the report shows as NOT-APPLICABLE)."""


class NotTested(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The harness chose not to run the check (a safety mode, a missing capability): NOT-TESTED, with the reason."""


def not_applicable(reason: str) -> None:
    raise NotApplicable(reason)


def combine(outcomes: Iterable[Verdict]) -> Verdict:
    """A requirement's verdict from its checks' outcomes: PASSED only if every applicable check ran and passed."""
    seen = set(outcomes)
    if not seen:
        return Verdict.NOT_TESTED
    for decisive in (Verdict.FAILED, Verdict.ERROR, Verdict.NOT_TESTED):
        if decisive in seen:
            return decisive
    if seen == {Verdict.NOT_APPLICABLE}:
        return Verdict.NOT_APPLICABLE
    return Verdict.PASSED
