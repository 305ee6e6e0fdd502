"""The typed result model of one conformance run: each check's record (CheckRecord), each requirement's result
(RequirementResult) and the run's record (RunRecord), rolled up with the one precedence table of
harness.core.verdicts. The report writers (harness.reporting) serialise it.

core imports nothing from the rest of harness: what the run needs of the target and of the evidence recorder is
declared here as protocols (RunTarget, EvidenceLog), which harness.config.target.Target and
harness.http.evidence.EvidenceRecorder satisfy. The plugin fills the record; the record never builds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from harness.core.catalog import Catalog
from harness.core.verdicts import Outcome, Verdict, combine, run_verdict


class RunTarget(Protocol):
    """What the run record and its report need of the target (harness.config.target.Target)."""

    @property
    def year(self) -> int: ...

    @property
    def digest(self) -> str: ...

    @property
    def operator(self) -> str | None: ...

    @property
    def sut(self) -> Any: ...  # .defects, .base_url

    def public_dict(self) -> dict[str, Any]: ...


class EvidenceLog(Protocol):
    """What the run record and its report need of the evidence recorder (harness.http.evidence.EvidenceRecorder)."""

    exchanges: list[dict[str, Any]]
    sut_origin: str | None
    current_check: str | None
    waited: dict[str, float]
    redactor: Any

    def for_check(self, nodeid: str) -> list[int]: ...

    def final(self) -> list[dict[str, Any]]: ...

    def ndjson(self, exchanges: list[dict[str, Any]]) -> str: ...

    def waiting(self) -> AbstractContextManager[None]: ...


@dataclass
class CheckRecord:
    nodeid: str
    requirement: str
    title: str  # the check's docstring, first line
    outcome: Verdict | None = None
    message: str | None = None
    failure: dict[str, str | None] | None = None
    duration: float = 0.0
    warnings: list[str] = field(default_factory=list)
    review: dict[str, str] | None = None  # REVIEW: {"why", "attach"}, what a person must judge and attach
    waiting: float = 0.0  # seconds of `duration` spent waiting in observers.Waiter.poll (harness.reporting.timing)

    def settle(self, outcome: Outcome) -> None:
        """One phase's outcome (setup, call, teardown). The first decisive outcome stands: a teardown error does not
        hide a failure (it does turn a pass into ERROR)."""
        if self.outcome in (None, Verdict.PASSED):
            self.outcome, self.message, self.failure = outcome.verdict, outcome.message, outcome.failure
            self.review = outcome.review


TargetT = TypeVar("TargetT", bound=RunTarget)
LogT = TypeVar("LogT", bound=EvidenceLog)


@dataclass
class RunRecord(Generic[TargetT, LogT]):
    """One run: generic in the target and the evidence log, so that the plugin's record carries the typed
    harness.config Target and harness.http EvidenceRecorder (harness.pytest.keys.Run) without core importing them."""

    catalog: Catalog
    target: TargetT
    recorder: LogT
    started_at: datetime
    finished_at: datetime | None = None
    checks: dict[str, list[CheckRecord]] = field(default_factory=dict)  # nodeid -> one record per requirement
    metrics: list[dict[str, Any]] = field(default_factory=list)  # the metric figures the checks measured
    score766: dict[str, Any] | None = None  # the province's QĐ 766 points computed from the same data
    incomplete: bool = False
    allow_not_tested: bool = False  # --allow-not-tested: a subset on purpose; NOT-TESTED does not make it INCOMPLETE
    replayed_from: dict[str, str] | None = None  # `--replay`: the recording (path, SHA-256) the run was answered from

    @property
    def year(self) -> int:
        return self.target.year

    def add(self, record: CheckRecord) -> None:
        existing = self.checks.setdefault(record.nodeid, [])
        if all(r.requirement != record.requirement for r in existing):
            existing.append(record)

    def take_over(self, record: CheckRecord) -> None:
        """A record a pytest-xdist worker handed over: the one that ran a check wins over one that only collected it
        (no outcome yet, or NOT-TESTED as deselected)."""
        known = {r.requirement: r for r in self.records_of(record.nodeid)}
        if record.requirement not in known:
            self.add(record)
        elif record.outcome is not None and known[record.requirement].outcome in (None, Verdict.NOT_TESTED):
            self.checks[record.nodeid] = [r for r in self.checks[record.nodeid] if r.requirement != record.requirement]
            self.add(record)

    def records_of(self, nodeid: str) -> list[CheckRecord]:
        return self.checks.get(nodeid, [])

    def by_requirement(self) -> dict[str, list[CheckRecord]]:
        grouped: dict[str, list[CheckRecord]] = {rid: [] for rid in self.catalog.ids}
        for records in self.checks.values():
            for record in records:
                grouped[record.requirement].append(record)
        return grouped

    def defects(self) -> list[str]:
        return list(self.target.sut.defects)

    def requirement_results(self) -> list[RequirementResult]:
        """One result per requirement of the catalog, in its order."""
        return [RequirementResult.of(rid, records) for rid, records in self.by_requirement().items()]

    def verdict(self, results: Sequence[RequirementResult] | None = None) -> Verdict:
        """The run's verdict (harness.core.verdicts.run_verdict) from its requirements' results."""
        results = self.requirement_results() if results is None else results
        return run_verdict((r.verdict for r in results), allow_not_tested=self.allow_not_tested)


# The name the issue and the reports use for the record of a whole run.
RunResult = RunRecord


@dataclass(frozen=True)
class RequirementResult:
    """A requirement's verdict, rolled up from its checks (harness.core.verdicts.combine), and why when not decided."""

    requirement: str
    verdict: Verdict
    reason: str | None
    checks: list[CheckRecord]

    @classmethod
    def of(cls, requirement: str, records: list[CheckRecord]) -> RequirementResult:
        verdict, reason = requirement_verdict(records)
        return cls(requirement, verdict, reason, records)


def requirement_verdict(records: Sequence[CheckRecord]) -> tuple[Verdict, str | None]:
    if not records:
        return Verdict.NOT_TESTED, "Chưa có phép kiểm tra nào / no check exists yet"
    verdict = combine(check_outcome(r) for r in records)
    if verdict is Verdict.NOT_TESTED:
        missing = sum(1 for r in records if check_outcome(r) is Verdict.NOT_TESTED)
        return verdict, f"{missing}/{len(records)} phép kiểm tra không chạy / checks did not run"
    if verdict is Verdict.NOT_APPLICABLE:
        return verdict, "; ".join(sorted({r.message or "" for r in records}))
    if verdict is Verdict.REVIEW:
        waiting = sum(1 for r in records if check_outcome(r) is Verdict.REVIEW)
        return verdict, f"{waiting}/{len(records)} phép kiểm tra cần người xem xét / checks need a person's review"
    return verdict, None


def check_outcome(record: CheckRecord) -> Verdict:
    return record.outcome or Verdict.NOT_TESTED


def as_dict(record: CheckRecord, evidence: list[int]) -> dict[str, Any]:
    # "review" only when a person must judge: reports of runs without one keep their shape.
    review = {"review": record.review} if record.review else {}
    return {
        "nodeid": record.nodeid,
        "title": record.title,
        "outcome": check_outcome(record).value,
        "message": record.message,
        "failure": record.failure,
        "duration_seconds": round(record.duration, 3),
        "warnings": record.warnings,
        "evidence": evidence,
        **review,
    }
