"""The `p111` command as a newcomer uses it, from a directory that is not the checkout."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from harness.core import schemas
from tests.support import P111, plan_requirement_count, read_report, run_p111


def test_run_embedded_writes_a_valid_report_and_junit(tmp_path: Path):
    """The command's own behaviour, on a few checks (the self-test matrix runs the whole suite)."""
    result = run_p111("run", "--report", "out", "--allow-not-tested", "--", "-k", "codes or catalog", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = read_report(tmp_path / "out")
    assert report["allow_not_tested"] is True  # a subset on purpose, and the report says so
    assert schemas.first_error("report", report) is None
    assert (tmp_path / "out" / "junit.xml").is_file()
    assert (tmp_path / "out" / "evidence.ndjson").is_file()
    assert "Kết luận / overall: ĐẠT (PASSED)" in result.stdout
    assert "P111-CODES                ĐẠT (PASSED)" in result.stdout
    assert "P111-PAY-INIT             CHƯA KIỂM TRA (NOT-TESTED)" in result.stdout  # deselected
    assert "HypothesisSideeffectWarning" not in result.stdout  # the harness's own imports warn of nothing


def test_run_refuses_an_unknown_defect(tmp_path: Path):
    result = run_p111("run", "--defect", "no-such-defect", cwd=tmp_path)
    assert result.returncode == 2
    assert "no-such-defect" in result.stderr


def test_requirements_lists_thresholds_of_the_year(tmp_path: Path):
    result = run_p111("requirements", "--year", "2023", cwd=tmp_path)
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("P111-")}
    assert len(lines) == plan_requirement_count()
    assert "70%" in lines["P111-KPI-DIGITISATION"] and "55%" in lines["P111-KPI-DIGITISATION"]
    assert "behaviour" in lines["P111-SYNC-DOSSIER"]


def test_defects_lists_each_with_its_requirements(tmp_path: Path):
    result = run_p111("defects", cwd=tmp_path)
    assert result.returncode == 0
    assert any(
        line.startswith("sync-never-sent") and "P111-SYNC-DOSSIER" in line for line in result.stdout.splitlines()
    )


def test_validate_config_names_every_bad_field(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: Tỉnh thử\n"
        "sut: {embedded: false}\n"
        "sync: {transport: pigeon}\n"
        "counterparts: {portal: {url: 'http://127.0.0.1:8701', serve: true, password: 'literal-canary-secret'}}\n",
        encoding="utf-8",
    )
    result = run_p111("validate-config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    for field in ("sut", "base_url", "sync.transport", "counterparts.portal.password"):
        assert field in result.stderr, result.stderr
    assert "literal-canary-secret" not in result.stderr + result.stdout


def test_validate_config_accepts_the_example(tmp_path: Path):
    example = Path(__file__).resolve().parents[1] / "examples" / "staging.target.yaml"
    env = {
        name: "x"
        for name in ("P111_SUT_API_KEY", "P111_PORTAL_PASSWORD", "P111_PAYMENT_SECRET", "P111_SSO_CLIENT_SECRET")
    }
    result = run_p111("validate-config", str(example), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hợp lệ / valid")


def test_validate_config_without_secrets_checks_everything_but_the_variables(tmp_path: Path):
    example = Path(__file__).resolve().parents[1] / "examples" / "staging.target.yaml"
    unset = {name: "" for name in ("P111_SUT_API_KEY", "P111_PORTAL_PASSWORD")}  # empty counts as not set
    assert run_p111("validate-config", str(example), cwd=tmp_path, env=unset).returncode == 2
    result = run_p111("validate-config", "--without-secrets", str(example), cwd=tmp_path, env=unset)
    assert result.returncode == 0, result.stderr
    assert "were not checked" in result.stdout and "Hợp lệ / valid" in result.stdout
    literal = tmp_path / "literal.yaml"
    literal.write_text("name: x\nsut: {base_url: 'https://sut.example.vn', api_key: plain-text-key}\n",
                       encoding="utf-8")
    refused = run_p111("validate-config", "--without-secrets", str(literal), cwd=tmp_path)
    assert refused.returncode == 2 and "plain-text-key" not in refused.stderr + refused.stdout


def test_validate_message_points_at_the_field(tmp_path: Path):
    dossier = {
        "MaHoSo": "000.00.06.H40-261127-0001",
        "MaTTHC": "1.001193",
        "TenTTHC": "x",
        "ChuHoSo": "y",
        "TrangThaiHoSo": "2",
        "NgayTiepNhan": "27/11/2026 10:00:00",
        "TruongLa": "",
    }
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(dossier), encoding="utf-8")
    result = run_p111("validate-message", "dossier", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "$.NgayTiepNhan" in result.stdout
    assert "$.TruongLa" in result.stdout  # an extra field is a warning, not the error
    dossier["NgayTiepNhan"] = "20261127100000"
    path.write_text(json.dumps(dossier), encoding="utf-8")
    assert run_p111("validate-message", "dossier", str(path), cwd=tmp_path).returncode == 0


def test_validate_message_refuses_a_file_that_is_not_json(tmp_path: Path):
    path = tmp_path / "x.json"
    path.write_text("not json", encoding="utf-8")
    result = run_p111("validate-message", "dossier", str(path), cwd=tmp_path)
    assert result.returncode == 2 and "x.json" in result.stderr


def test_mocks_serve_refuses_a_non_loopback_address(tmp_path: Path):
    result = run_p111("mocks", "serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2 and "loopback" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_writes_a_partial_report(tmp_path: Path, signum: int):
    """Stopped half way, the run still writes every report, marked incomplete, and exits 2; the terminal shows the
    verdict table and one line saying so, and nothing of where in Python the interrupt landed."""
    process = subprocess.Popen(
        [*P111, "run", "--report", "out"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    dots = 0
    while dots < 10:  # ten checks have passed: the run is under way, far from its end
        char = process.stdout.read(1)
        assert char, "the run ended before it could be interrupted"
        dots += char == "."
    process.send_signal(signum)
    output, errors = process.communicate(timeout=120)
    assert process.returncode == 2, errors[-2000:]
    report = read_report(tmp_path / "out")
    assert report["incomplete"] is True
    assert schemas.first_error("report", report) is None
    assert {"report.html", "manifest.json", "junit.xml"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert "Lần chạy bị ngắt; báo cáo chưa đầy đủ / interrupted; partial report in out" in errors
    assert "Kết luận / overall: CHƯA ĐẦY ĐỦ (INCOMPLETE)" in output
    # Not pytest's "…/interrupts.py:28: KeyboardInterrupt" and its --full-trace hint, nor any traceback.
    shown = output + errors
    assert "KeyboardInterrupt" not in shown and "--full-trace" not in shown and "Traceback" not in shown
    assert not re.search(r"(harness|_pytest|pluggy)/\S*\.py:\d+", shown), shown[-3000:]


def test_a_failing_run_prints_why_in_one_line_and_no_traceback_or_live_credential(tmp_path: Path):
    """A failure on the terminal (and so in a CI log) is the verdict table and one line of why per failed check:
    no traceback (it shows the harness's source and the fixtures' values) and no session the SUT handed out."""
    result = run_p111("run", "--defect", "sso-accepts-alg-none", "--report", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "FAILED P111-AUTH-SSO test_hostile_answer_is_refused[alg-none]: the SUT accepted" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr and "harness/" not in result.stdout
    assert "p111_session=" not in result.stdout + result.stderr
