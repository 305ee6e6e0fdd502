"""The target's capability declaration: what is declared absent is NOT-APPLICABLE, citing the declaration; a
declaration the reference system contradicts is FAILED."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.core.resources import data_file
from mocks.reference.app import load_services
from tests.support import read_report, run_p111

# The checks a declaration touches: payment, transfer, sign-on, the catalog and the contradictions.
CHECKS = "pay or transfer or auth_sso or catalog or capabilities"


def run_declared(tmp_path: Path, capabilities: dict) -> dict[str, dict]:
    document = yaml.safe_load(data_file("embedded.target.yaml").read_text(encoding="utf-8"))
    document["capabilities"] = capabilities
    target = tmp_path / "declared.target.yaml"
    target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    run_p111("run", "--target", str(target), "--report", str(tmp_path / "out"), "--", "-k", CHECKS, cwd=tmp_path)
    return {r["id"]: r for r in read_report(tmp_path / "out")["requirements"]}


def outcomes(requirement: dict) -> dict[str, tuple[str, str]]:
    return {c["nodeid"].rsplit("::", 1)[-1]: (c["outcome"], c.get("message") or "") for c in requirement["checks"]}


def test_absent_capabilities_are_not_applicable_and_false_declarations_fail(tmp_path: Path):
    # Procedures declared with their levels, as published ({code, level}).
    published = [{"code": s["code"], "level": s["level"]} for s in load_services()]
    got = run_declared(tmp_path, {"payment": False, "transfer": False, "sign_on": ["portal"],
                                  "procedures": published})
    # Payment declared absent: its checks are NOT-APPLICABLE, citing the declaration ...
    for requirement in ("P111-PAY-CONFIRM", "P111-PAY-RECONCILE"):
        assert got[requirement]["verdict"] == "NOT-APPLICABLE", got[requirement]
        assert all("capabilities.payment: false" in m for _, m in outcomes(got[requirement]).values())
    # ... but the reference system does take payments: the declaration is false, and that is a failure.
    pay_init = outcomes(got["P111-PAY-INIT"])
    assert got["P111-PAY-INIT"]["verdict"] == "FAILED"
    assert pay_init["test_no_payment_starts_where_none_is_declared"][0] == "FAILED"
    # Transfer likewise: a service of the reference system names a second agency.
    assert got["P111-TRANSFER"]["verdict"] == "FAILED"
    assert outcomes(got["P111-TRANSFER"])["test_no_service_moves_to_a_second_agency_where_none_is_declared"][0] == (
        "FAILED"
    )
    # VNeID declared absent: only its own login check is NOT-APPLICABLE; portal sign-on is judged and passes.
    sso = outcomes(got["P111-AUTH-SSO"])
    assert sso["test_valid_login_binds_the_session_to_the_account[vneid-es256]"][0] == "NOT-APPLICABLE"
    assert got["P111-AUTH-SSO"]["verdict"] == "PASSED"
    # The declared procedure list is the published one, at the declared levels.
    catalog = outcomes(got["P111-CATALOG"])
    assert catalog["test_published_services_are_the_declared_ones"][0] == "PASSED"
    assert catalog["test_published_levels_are_the_declared_ones"][0] == "PASSED"


def test_a_false_procedure_list_level_or_sign_on_declaration_fails(tmp_path: Path):
    services = load_services()
    published = [s["code"] for s in services]
    other_level = "một phần" if services[1]["level"] in ("toàn trình", 4, "4") else "toàn trình"
    declared = [{"code": published[1], "level": other_level}, *published[2:], "1.000001"]
    got = run_declared(tmp_path, {"procedures": declared, "sign_on": []})
    assert got["P111-CATALOG"]["verdict"] == "FAILED"
    catalog = outcomes(got["P111-CATALOG"])
    outcome, message = catalog["test_published_services_are_the_declared_ones"]
    assert outcome == "FAILED" and published[0] in message and "1.000001" in message
    outcome, message = catalog["test_published_levels_are_the_declared_ones"]
    assert outcome == "FAILED" and published[1] in message and other_level in message
    # No sign-on declared: the sign-on checks are NOT-APPLICABLE, but the reference system signs citizens on.
    sso = outcomes(got["P111-AUTH-SSO"])
    assert got["P111-AUTH-SSO"]["verdict"] == "FAILED"
    assert sso.pop("test_nobody_signs_on_where_no_sign_on_is_declared")[0] == "FAILED"
    assert {outcome for outcome, _ in sso.values()} == {"NOT-APPLICABLE"}
