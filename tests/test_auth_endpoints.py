"""P111-AUTH-TXN probes the endpoints the target declares when the SUT publishes no OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.core.resources import data_file
from tests.support import read_report, run_p111

SUPPLEMENT = {"method": "POST", "path": "/api/dossiers/{code}/supplement"}


def run_auth_txn(tmp_path: Path, sut: dict, defect: str | None = None) -> tuple[dict, str]:
    document = yaml.safe_load(data_file("embedded.target.yaml").read_text(encoding="utf-8"))
    document["sut"].update(sut)
    target = tmp_path / "declared.target.yaml"
    target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    args = ["run", "--target", str(target), "--report", str(tmp_path / "out")]
    result = run_p111(*args, *(["--defect", defect] if defect else []), "--", "-k", "auth_txn", cwd=tmp_path)
    report = read_report(tmp_path / "out")
    txn = next(r for r in report["requirements"] if r["id"] == "P111-AUTH-TXN")
    return txn, result.stdout + result.stderr


def test_declared_endpoints_replace_a_missing_openapi_document(tmp_path: Path):
    txn, output = run_auth_txn(tmp_path, {"openapi_path": None, "transactions": [SUPPLEMENT]},
                               "txn-supplement-anonymous")
    assert txn["verdict"] == "FAILED", output[-3000:]
    failed = [c for c in txn["checks"] if c["outcome"] == "FAILED"]
    assert any("/supplement with no credentials" in c["message"] for c in failed), failed


def test_no_document_and_no_declaration_is_an_error_that_says_what_to_add(tmp_path: Path):
    txn, output = run_auth_txn(tmp_path, {"openapi_path": None})
    assert txn["verdict"] == "ERROR", output[-3000:]
    assert any("sut.transactions" in c["message"] for c in txn["checks"] if c["outcome"] == "ERROR")
