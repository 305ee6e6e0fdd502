"""`p111 run -- -n 2` (pytest-xdist) gives the verdicts, failures, metrics and evidence links of a serial run."""

from __future__ import annotations

import json
from pathlib import Path

from harness.core import schemas
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
