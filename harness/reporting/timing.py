"""Where a run's time goes, per requirement and for the run: the SUT's answers, waiting, counterparts, the harness.

A check's time (its pytest phases) splits into
- `sut_seconds`: the SUT's answers, the exchanges with the SUT's origin (`EvidenceRecorder.sut_origin`);
- `waiting_seconds`: waiting for something to cross (a sync window, a payment settling, a person in operator mode),
  the time inside observers.Waiter.poll, the one place that waits, including the fetches made while waiting;
- `counterparts_seconds`: the other exchanges, with the counterparts (their /_p111/ logs and controls, sign-on);
- `harness_seconds`: the rest, the harness's own work (building, validating, judging, recording).
A requirement's figures sum its checks' (a check serving two requirements counts in both); the run's figures count
each check once, and `outside_checks_seconds` is the run's wall time not spent in any check (collection, the embedded
system's start, pytest between checks), the harness's too: `harness_share` is both over the run's wall time. The run
record spans configure to finish; what comes before it (the process's start, imports) and after it (writing these
reports) cannot be in them, and benchmarks/run_embedded.py measures them from outside. The slowest exchanges name
their check and evidence number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from harness.core.results import CheckRecord, RunRecord

SLOWEST = 10
BUCKETS = ("sut_seconds", "waiting_seconds", "counterparts_seconds", "harness_seconds")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _exchange_seconds(exchanges: Iterable[Mapping[str, Any]], sut_origin: str | None) -> dict[str, dict[str, float]]:
    """Per check: seconds of SUT exchanges and of counterpart exchanges, leaving out those made while waiting."""
    origin = _origin(sut_origin) if sut_origin else None
    seconds: dict[str, dict[str, float]] = {}
    for exchange in exchanges:
        check = exchange.get("check")
        if check is None or exchange.get("while_waiting"):
            continue
        url = str(exchange.get("url", ""))
        to_sut = origin is not None and _origin(url) == origin and "/_p111/" not in url
        bucket = seconds.setdefault(check, {"sut": 0.0, "counterparts": 0.0})
        bucket["sut" if to_sut else "counterparts"] += float(exchange.get("time_ms") or 0) / 1000
    return seconds


def _split(record: CheckRecord, seconds: Mapping[str, float]) -> dict[str, float]:
    total = record.duration
    waiting = min(record.waiting, total)
    sut = min(seconds.get("sut", 0.0), total - waiting)
    counterparts = min(seconds.get("counterparts", 0.0), total - waiting - sut)
    return {"total_seconds": total, "sut_seconds": sut, "waiting_seconds": waiting,
            "counterparts_seconds": counterparts, "harness_seconds": max(0.0, total - waiting - sut - counterparts)}


def _rounded(figures: Mapping[str, float]) -> dict[str, float]:
    return {name: round(value, 3) for name, value in figures.items()}


def _summed(splits: Iterable[Mapping[str, float]]) -> dict[str, float]:
    total = dict.fromkeys(("total_seconds", *BUCKETS), 0.0)
    for split in splits:
        for name in total:
            total[name] += split[name]
    return total


def breakdown(run: RunRecord, exchanges: list[dict[str, Any]]) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """(per requirement id: its figures, the run's figures with the slowest exchanges)."""
    per_check = _exchange_seconds(exchanges, run.recorder.sut_origin or run.target.sut.base_url)
    requirements: dict[str, dict[str, float]] = {}
    once: dict[str, dict[str, float]] = {}
    for requirement_id, records in run.by_requirement().items():
        splits = []
        for record in records:
            split = _split(record, per_check.get(record.nodeid, {}))
            splits.append(split)
            once.setdefault(record.nodeid, split)
        requirements[requirement_id] = _rounded(_summed(splits))
    checks = _summed(once.values())
    wall = ((run.finished_at - run.started_at).total_seconds()
            if run.finished_at is not None else checks["total_seconds"])
    slowest = sorted((e for e in exchanges if e.get("time_ms")), key=lambda e: -float(e["time_ms"]))[:SLOWEST]
    outside = max(0.0, wall - checks["total_seconds"])
    figures = _rounded({"wall_seconds": max(wall, 0.0), **checks, "outside_checks_seconds": outside})
    harness = checks["harness_seconds"] + outside  # everything that is not the SUT, waiting or the counterparts
    harness_share = (harness / wall) if wall > 0 else 0.0
    return requirements, {
        **figures,
        "harness_share": round(harness_share, 4),
        "slowest": [
            {"seq": e["seq"], "check": e.get("check"), "method": e["method"], "url": e["url"], "status": e["status"],
             "time_ms": e["time_ms"], "while_waiting": bool(e.get("while_waiting"))}
            for e in slowest
        ],
    }
