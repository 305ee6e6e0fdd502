"""Verdicts and the one precedence table (requirement roll-up, run verdict, exit code): plain values, so that what
only reads verdicts (the metrics, `p111 kpi`) starts without pytest. harness.core.verdicts adds what a check raises."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from harness.core.i18n import verdict_label


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
