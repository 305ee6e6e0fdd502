"""Verdicts, and the split between "the SUT is wrong" (Failure) and "the harness or its input is wrong" (the rest)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import pytest

from harness.core.inert import terminal


class Verdict(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT-APPLICABLE"
    NOT_TESTED = "NOT-TESTED"
    REVIEW = "REVIEW"  # a person must judge what was attached (operator-driven mode)
    # The run's overall verdict only: a requirement it was meant to test ended NOT-TESTED, so it is no pass.
    INCOMPLETE = "INCOMPLETE"

    @property
    def vi(self) -> str:
        return _VIETNAMESE[self]


_VIETNAMESE = {
    Verdict.PASSED: "ĐẠT",
    Verdict.FAILED: "KHÔNG ĐẠT",
    Verdict.ERROR: "LỖI",
    Verdict.NOT_APPLICABLE: "KHÔNG ÁP DỤNG",
    Verdict.NOT_TESTED: "CHƯA KIỂM TRA",
    Verdict.REVIEW: "CẦN XEM XÉT",
    Verdict.INCOMPLETE: "CHƯA ĐẦY ĐỦ",
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

    def __init__(self, message: str) -> None:
        # pytest prints warnings as they are; a field name the SUT chose must not drive the terminal.
        super().__init__(terminal(message))


class NotApplicable(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The check does not apply to this target (a skip that the report shows as NOT-APPLICABLE)."""


class NotTested(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The harness chose not to run the check (a safety mode, a missing capability): NOT-TESTED, with the reason."""


class NeedsReview(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """What the harness observed does not decide the check; a person must judge: REVIEW, naming exactly what the
    person must attach (a screenshot of …) and why. A skip to pytest, so that nothing after it runs."""

    def __init__(self, *, what_to_attach: str, why: str) -> None:
        self.what_to_attach = what_to_attach
        self.why = why
        super().__init__(f"Cần người xem xét / needs review: {why}\nĐính kèm / attach: {what_to_attach}")


def not_applicable(reason: str) -> None:
    raise NotApplicable(reason)


def combine(outcomes: Iterable[Verdict]) -> Verdict:
    """A requirement's verdict from its checks' outcomes: PASSED only if every applicable check ran and passed.
    FAILED > ERROR > REVIEW > NOT-TESTED: a check waiting for a person's judgement is the requirement's open point
    once nothing failed or erred."""
    seen = set(outcomes)
    if not seen:
        return Verdict.NOT_TESTED
    for decisive in (Verdict.FAILED, Verdict.ERROR, Verdict.REVIEW, Verdict.NOT_TESTED):
        if decisive in seen:
            return decisive
    if seen == {Verdict.NOT_APPLICABLE}:
        return Verdict.NOT_APPLICABLE
    return Verdict.PASSED
