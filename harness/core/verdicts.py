"""Verdicts, and the split between "the SUT is wrong" (Failure) and "the harness or its input is wrong" (the rest):
the one precedence table (requirement roll-up, run verdict, exit code) and the exception → verdict mapping."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import pytest

from harness.core.i18n import verdict_label
from harness.core.inert import terminal
from harness.core.limits import quoted


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
        return verdict_label(self.value, "vi")


# The one precedence table: worst first. A requirement's verdict is the first of these among its checks' outcomes,
# the run's verdict the first among its requirements' verdicts, and the exit code follows the run's verdict.
PRECEDENCE = (Verdict.FAILED, Verdict.ERROR, Verdict.REVIEW, Verdict.NOT_TESTED)

# The process's exit code for the run's verdict (PASSED and anything not listed: 0). REVIEW: not a pass until a
# person has judged; INCOMPLETE or NOT-TESTED: a requirement the run was meant to test did not run.
EXIT_CODES = {
    Verdict.FAILED: 1,
    Verdict.ERROR: 2,
    Verdict.REVIEW: 3,
    Verdict.INCOMPLETE: 4,
    Verdict.NOT_TESTED: 4,
}


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


def combine(outcomes: Iterable[Verdict]) -> Verdict:
    """A requirement's verdict from its checks' outcomes: PASSED only if every applicable check ran and passed.
    FAILED > ERROR > REVIEW > NOT-TESTED (PRECEDENCE): a check waiting for a person's judgement is the requirement's
    open point once nothing failed or erred."""
    seen = set(outcomes)
    if not seen:
        return Verdict.NOT_TESTED
    for decisive in PRECEDENCE:
        if decisive in seen:
            return decisive
    if seen == {Verdict.NOT_APPLICABLE}:
        return Verdict.NOT_APPLICABLE
    return Verdict.PASSED


def run_verdict(verdicts: Iterable[Verdict], *, allow_not_tested: bool = False) -> Verdict:
    """The run's verdict from its requirements' verdicts: PASSED only when every applicable requirement PASSED. A
    NOT-TESTED requirement makes the run INCOMPLETE (a system that could not be tested has not passed), unless the run
    chose a subset on purpose (--allow-not-tested)."""
    verdicts = list(verdicts)
    tested = [v for v in verdicts if v not in (Verdict.NOT_TESTED, Verdict.NOT_APPLICABLE)]
    for decisive in PRECEDENCE:
        if decisive is Verdict.NOT_TESTED:
            break
        if decisive in tested:
            return decisive
    if Verdict.NOT_TESTED in verdicts and not allow_not_tested:
        return Verdict.INCOMPLETE
    return Verdict.PASSED if tested else Verdict.NOT_TESTED


def exit_code(verdict: Verdict | str) -> int:
    """0 when every applicable requirement PASSED, 1 when any FAILED, 2 when any ERROR (and none FAILED), 3 when some
    need a person's review (REVIEW) and none FAILED or is ERROR: not a pass until a person has judged; 4 when a
    requirement the run was meant to test is NOT-TESTED (INCOMPLETE), or nothing was tested at all."""
    return EXIT_CODES.get(Verdict(verdict), 0)


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
