"""The record of one conformance run: which checks serve which requirement, and how each ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.config.target import Target
from harness.core.catalog import Catalog
from harness.core.verdicts import Verdict
from harness.http.evidence import EvidenceRecorder


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
    waiting: float = 0.0  # seconds of `duration` spent waiting in observers.poll (harness.reporting.timing)


@dataclass
class RunRecord:
    catalog: Catalog
    target: Target
    recorder: EvidenceRecorder
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
