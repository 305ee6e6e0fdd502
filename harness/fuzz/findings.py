"""The report of a fuzz run: each finding (a shrunk counterexample) and the run's result."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from harness.fuzz.judging import PROBLEMS
from harness.fuzz.kinds import Case
from harness.fuzz.openapi import Operation


@dataclass(frozen=True)
class Finding:
    operation: Operation
    case: Case
    problem: str  # a key of PROBLEMS
    response: httpx.Response  # the shrunk counterexample's answer; `.request` is what was sent
    written: httpx.Response | None = None  # for a read-back problem: the write's answer (the read is `response`)

    def describe(self) -> str:
        answered = f"HTTP {self.response.status_code}"
        if self.written is not None:  # the write's answer, then the read and its answer
            read = self.response.request
            answered = f"HTTP {self.written.status_code}, {read.method} {read.url.path} → {answered}"
        return f"{self.operation} — {self.case.describe()} → {answered}: {PROBLEMS[self.problem]}"


@dataclass
class FuzzResult:
    operations: list[str] = field(default_factory=list)  # fuzzed beyond the authentication layer
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (operation or "operation [where]", why)
    cases: int = 0
    requests: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    setup_requests: int = 0  # sent to bring resources into a state where an operation can act
    past_state: dict[str, list[int]] = field(default_factory=dict)  # operation → [inputs sent, not refused by state]
    # The same for valid inputs alone: a system that checks the body before the state refuses the broken ones
    # before its state check, so only a valid input answered 409 says for sure that the state check stopped it.
    valid_past_state: dict[str, list[int]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)  # operation → status → how many
