"""`p111 fuzz` on demo 3, a system that is not ours, through its own OpenAPI document (mocks/demo3/openapi.py) and
the target that describes it: clean, P111-ROBUST-INPUT passes (its payment callback's HTTP 200 refusals included);
with its planted robustness defects (mocks/demo3/robustness.yaml) each is reported. The side-by-side figures with
Schemathesis come from benchmarks/fuzz_vs_schemathesis.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from mocks.demo3.wiring import serve_example_on_free_ports
from tests.support import read_report, run_p111
from tests.test_demo3 import ENV, EXAMPLE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ROBUSTNESS = [d["name"] for d in yaml.safe_load((ROOT / "mocks/demo3/robustness.yaml").read_text(encoding="utf-8"))]
# How each defect shows in the findings: its operation and what came back.
SHOWS = {
    "demo3-fuzz-agency-list": ("POST /mc/ho-so/{so}/{buoc}", "HTTP 500"),
    "demo3-fuzz-missing-body": ("POST /mc/ho-so/{so}/{buoc} — thiếu thân yêu cầu bắt buộc", "HTTP 200"),
    "demo3-fuzz-undocumented-status": ("GET /mc/ket-xuat/{loai}", "HTTP 400"),
    "demo3-fuzz-surrogate-summary": ("POST /mc/ho-so — chuỗi có ký tự thay thế đơn lẻ", "HTTP 500"),
    "demo3-fuzz-pay-past-state": ("POST /mc/ho-so/{so}/nop-phi", "HTTP 500"),  # only a dossier waiting for payment
}


def fuzz_demo3(tmp_path: Path, defects: frozenset[str]) -> tuple[dict[str, Any], str]:
    served = serve_example_on_free_ports(EXAMPLE, tmp_path, {**os.environ, **ENV}, defects)
    try:
        result = run_p111("fuzz", "--target", str(served.target_file), "--report", "out", cwd=tmp_path, env=ENV)
    finally:
        served.stop()
    report = read_report(tmp_path / "out")
    return next(r for r in report["requirements"] if r["id"] == "P111-ROBUST-INPUT"), result.stdout


def test_demo3_clean_passes_the_fuzzer(tmp_path: Path):
    requirement, out = fuzz_demo3(tmp_path, frozenset())
    assert requirement["verdict"] == "PASSED", out[-4000:]


def test_each_robustness_defect_of_demo3_is_found(tmp_path: Path):
    requirement, out = fuzz_demo3(tmp_path, frozenset(ROBUSTNESS))
    assert requirement["verdict"] == "FAILED", out[-4000:]
    received = "\n".join(str(c["failure"]) for c in requirement["checks"] if c.get("failure"))
    missed = [d for d in ROBUSTNESS if not any(where in line and what in line for line in received.splitlines()
                                               for where, what in [SHOWS[d]])]
    assert missed == [], received[-4000:]
