"""A run spread over pytest-xdist workers (`p111 run -- -n 2`) gives the report a serial run gives.

Each worker runs its share of the checks against its own counterparts and, when it ends, hands the controller what it
recorded (xdist's `workeroutput`): the check records, the exchanges, the metric figures and the values its redactor
learnt. The controller merges them and writes the one report; workers write nothing.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import pytest

from harness.core.results import CheckRecord, RunRecord
from harness.core.verdicts import Verdict

KEY = "p111"
_EVIDENCE_REF = re.compile(r"evidence #(\d+)")


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """The process that hands checks to xdist workers and runs none itself."""
    return bool(getattr(config.option, "numprocesses", None)) and not is_worker(config)


def hand_over(config: pytest.Config, run: RunRecord) -> None:
    """In a worker, at its end: everything the controller needs, as plain data (execnet carries no objects)."""
    redactor = run.recorder.redactor
    config.workeroutput[KEY] = {  # type: ignore[attr-defined]
        "records": [
            {**asdict(r), "outcome": r.outcome.value if r.outcome else None}
            for records in run.checks.values()
            for r in records
        ],
        "exchanges": run.recorder.exchanges,
        "sut_origin": run.recorder.sut_origin,
        # The values the worker's redactor knows, so that the controller's last pass removes them everywhere.
        "secrets": list(redactor.known().items()),
        "log": [[where, what, count] for (where, what), count in redactor.log.items()],
        "metrics": run.metrics,
        "score766": run.score766,
    }


def take_over(run: RunRecord, output: dict[str, Any]) -> None:
    """In the controller, as each worker goes down: its records (the ones it ran win over the ones it only
    collected), its exchanges numbered after those already merged, its secrets, metrics and redaction log."""
    handed = output.get(KEY)
    if not handed:
        return
    offset = len(run.recorder.exchanges)

    def renumber(text: str) -> str:
        return _EVIDENCE_REF.sub(lambda m: f"evidence #{int(m.group(1)) + offset}", text)

    for exchange in handed["exchanges"]:
        run.recorder.exchanges.append({**exchange, "seq": exchange["seq"] + offset})
    redactor = run.recorder.redactor
    for value, label in handed["secrets"]:
        redactor.add(value, label=label)
    for where, what, count in handed["log"]:
        redactor.log[(renumber(where), what)] += count
    for data in handed["records"]:
        run.take_over(CheckRecord(**{**data, "outcome": Verdict(data["outcome"]) if data["outcome"] else None}))
    # Two workers that each ran some metric checks measured the same figures: keep one of each.
    run.metrics.extend(m for m in handed["metrics"] if m not in run.metrics)
    run.score766 = run.score766 or handed["score766"]
    run.recorder.sut_origin = run.recorder.sut_origin or handed.get("sut_origin")
