"""Verdicts, and the split between "the SUT is wrong" (Failure) and "the harness or its input is wrong" (the rest):
what a check raises and the exception → verdict mapping; the verdicts and their precedence table are
harness.core.precedence's (no pytest there), named here too."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.core.inert import terminal
from harness.core.limits import quoted
from harness.core.precedence import EXIT_CODES, PRECEDENCE, Verdict, combine, exit_code, run_verdict

__all__ = [
    "EXIT_CODES", "PRECEDENCE", "ConformanceWarning", "Failure", "NeedsReview", "NotApplicable", "NotTested", "Outcome",
    "Verdict", "combine", "exit_code", "not_applicable", "outcome_of", "run_verdict",
]


class Failure(AssertionError):
    """The SUT broke a requirement. An AssertionError, so pytest reports the check FAILED."""

    def __init__(self, summary: str, *, expected: str, received: str, evidence: str | None = None) -> None:
        # Each part may quote the SUT at any length: bounded here, where every judgement's failure is made.
        self.summary, self.expected, self.received = quoted(summary), quoted(expected), quoted(received)
        self.evidence = quoted(evidence) if evidence is not None else None
        lines = [self.summary, f"Expected: {self.expected}", f"Received: {self.received}"]
        if self.evidence:
            lines.append(f"Evidence: {self.evidence}")
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


@dataclass(frozen=True)
class Outcome:
    """How one phase of a check ended, as the report shows it."""

    verdict: Verdict
    message: str | None = None
    failure: dict[str, str | None] | None = None  # a Failure's summary / expected / received / evidence
    review: dict[str, str] | None = None  # REVIEW: {"why", "attach"}


def outcome_of(exc: BaseException, *, when: str, skipped: bool) -> Outcome:
    """The exception → verdict mapping. A skip: NeedsReview → REVIEW, NotApplicable → NOT-APPLICABLE, any other
    (NotTested, pytest.skip) → NOT-TESTED. Otherwise an AssertionError (Failure among them) in the check's call →
    FAILED: the SUT is wrong; anything else, or any error in setup or teardown → ERROR: the harness or its input is."""
    if skipped and isinstance(exc, NeedsReview):
        return Outcome(Verdict.REVIEW, quoted(str(exc.msg)), review={"why": exc.why, "attach": exc.what_to_attach})
    if skipped:
        verdict = Verdict.NOT_APPLICABLE if isinstance(exc, NotApplicable) else Verdict.NOT_TESTED
        return Outcome(verdict, quoted(str(getattr(exc, "msg", exc))))
    # Notes carry what a tool added, e.g. hypothesis's shrunk sequence of steps: part of the evidence.
    notes = "\n".join(getattr(exc, "__notes__", ()))
    if when == "call" and isinstance(exc, AssertionError):
        # A Failure's parts are bounded already (above); a bare assert's text is bounded here.
        failure, said = None, str(exc) if isinstance(exc, Failure) else quoted(str(exc))
        if isinstance(exc, Failure):
            evidence = "\n".join(filter(None, [exc.evidence, notes])) or None
            failure = {"summary": exc.summary, "expected": exc.expected, "received": exc.received, "evidence": evidence}
        return Outcome(Verdict.FAILED, "\n".join(filter(None, [said, notes])), failure)
    return Outcome(Verdict.ERROR, f"[{when}] {type(exc).__name__}: {quoted(str(exc))}")
