"""`p111 run -- -n 2` (pytest-xdist) gives the verdicts, failures, metrics and evidence links of a serial run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from harness.core import schemas
from harness.pytest import barrier
from tests.support import read_report, run_p111

# A defect, so that the comparison covers failures too; the metric checks, so that it covers metric figures.
ARGS = ("--defect", "wrong-date-format", "--", "-k", "sync or codes or kpi")


def checks(report: dict) -> dict[str, tuple]:
    return {
        # Messages name the dossiers each run created, which differ: what is compared is their kind.
        c["nodeid"]: (c["outcome"], bool(c.get("failure")), (c.get("failure") or {}).get("summary", "")[:25],
                      len(c["warnings"]))
        for r in report["requirements"]
        for c in r["checks"]
    }


def test_a_distributed_run_reports_what_a_serial_run_reports(tmp_path: Path):
    serial = run_p111("run", "--report", "serial", *ARGS, cwd=tmp_path)
    spread = run_p111("run", "--report", "spread", *ARGS, "-n", "2", cwd=tmp_path)
    assert serial.returncode == spread.returncode == 1, spread.stdout[-3000:] + spread.stderr[-2000:]
    one, two = read_report(tmp_path / "serial"), read_report(tmp_path / "spread")
    assert schemas.first_error("report", two) is None
    assert checks(two) == checks(one)
    assert {r["id"]: r["verdict"] for r in two["requirements"]} == {r["id"]: r["verdict"] for r in one["requirements"]}
    assert two["metrics"] == one["metrics"]
    # Every check's evidence points at exchanges that are in the merged evidence file.
    exchanges = (tmp_path / "spread" / "evidence.ndjson").read_text(encoding="utf-8").splitlines()
    seqs = {json.loads(line)["seq"] for line in exchanges}
    assert len(seqs) == len(exchanges)
    cited = {seq for r in two["requirements"] for c in r["checks"] for seq in c["evidence"]}
    assert cited and cited <= seqs


def test_the_ratio_targets_are_measured_after_every_workers_transactions(tmp_path: Path):
    """Under xdist the ratio targets (test_kpi.py) read the SUT's export only after every other check on every worker
    ended (issue 14 §2): on a staging system the figures must include this run's own transactions, never be a
    snapshot taken while another worker still makes them."""
    spread = run_p111("run", "--report", "spread", "--", "-k", "sync or codes or transfer or kpi", "-n", "2",
                      cwd=tmp_path)
    assert read_report(tmp_path / "spread")["metrics"], spread.stdout[-3000:] + spread.stderr[-2000:]
    lines = (tmp_path / "spread" / "evidence.ndjson").read_text(encoding="utf-8").splitlines()
    exchanges = [json.loads(line) for line in lines]

    def start(e: dict) -> datetime:
        return datetime.fromisoformat(e["started_at"])

    kpi = [e for e in exchanges if "test_kpi.py" in (e["check"] or "")]
    others = [e for e in exchanges if e["check"] and "test_kpi.py" not in e["check"]]
    assert kpi and others
    last_other = max(start(e) + timedelta(milliseconds=e["time_ms"]) for e in others)
    assert min(start(e) for e in kpi) >= last_other, (min(start(e) for e in kpi), last_other)


def test_the_barrier_names_the_workers_that_never_arrived(tmp_path: Path):
    """A worker that crashed never arrives: the wait ends, naming it (the ratio checks then say why they are
    NOT-TESTED rather than measure a snapshot)."""
    def worker(n: int) -> SimpleNamespace:
        return SimpleNamespace(workerinput={barrier.KEY: str(tmp_path), "workerid": f"gw{n}", "workercount": 3})

    barrier.arrive(worker(2))
    assert barrier.wait(worker(0), seconds=0.2) == ["gw1"]
    barrier.arrive(worker(1))
    assert barrier.wait(worker(1), seconds=0.2) == []
    assert barrier.wait(SimpleNamespace(), seconds=0.2) == []  # a serial run waits for no one
