"""The target's capability declaration: what is declared absent is NOT-APPLICABLE, citing the declaration; a
declaration the reference system contradicts is FAILED."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from harness.config.target import embedded_target
from harness.core.resources import data_file
from harness.sut import checking
from harness.sut.drivers import DriverError, NoSignOnOffered, ReferenceApiDriver
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


# The reference system waiving every fee (its synced dossiers carry none) and naming no second agency, under a target
# that leaves payment and transfer offered (the default).
NOTHING_TO_PAY_OR_MOVE = """
import sys
from mocks.reference import shared
published = shared.load_services
def waived(defects=frozenset()):
    services = published(defects)
    for service in services:
        service["fee_bearing"] = False
        service.pop("fees", None)
        service.pop("second_agency_code", None)
    return services
shared.load_services = waived
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


CONTRADICTIONS = {
    "test_no_payment_starts_where_none_is_declared", "test_no_service_moves_to_a_second_agency_where_none_is_declared"
}


def test_offered_capabilities_with_nothing_published_to_test_are_not_tested(tmp_path: Path):
    """Offered (declared or by default) but with no fee-bearing and no inter-agency service published, the payment
    and transfer checks cannot judge: NOT-TESTED naming the declaration, never NOT-APPLICABLE, which only a
    declaration of absence earns; the run is no pass (exit 4)."""
    result = subprocess.run(
        [sys.executable, "-c", NOTHING_TO_PAY_OR_MOVE, "run", "--report", str(tmp_path / "out"), "--", "-k", CHECKS],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 4, result.stdout[-3000:] + result.stderr[-2000:]
    got = {r["id"]: r for r in read_report(tmp_path / "out")["requirements"]}
    for requirement, declared in (("P111-PAY-INIT", "capabilities.payment: true"),
                                  ("P111-PAY-CONFIRM", "capabilities.payment: true"),
                                  ("P111-PAY-RECONCILE", "capabilities.payment: true"),
                                  ("P111-TRANSFER", "capabilities.transfer: true")):
        assert got[requirement]["verdict"] == "NOT-TESTED", got[requirement]
        for name, (outcome, message) in outcomes(got[requirement]).items():
            if name in CONTRADICTIONS:  # they run only under a declaration of absence
                assert outcome == "NOT-APPLICABLE"
            elif name == "test_services_published_without_fees_charge_none":
                assert outcome == "PASSED"  # the fees are waived, not hidden: the synced dossiers carry none
            else:
                assert outcome == "NOT-TESTED" and declared in message, (name, message)


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


# ------------------------------------------------------------------ "no sign-on" judged only from the SUT's own answer


def _judge_no_sign_on(answer: Callable[[httpx.Request], httpx.Response]) -> int:
    """The contradiction check run directly against a SUT whose login path answers `answer`, with a sign-on
    counterpart that would approve anyone; the number of judgements it made."""
    with warnings.catch_warnings():  # the suite's own marks, which only a run of the suite registers
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        from conformance_tests.test_capabilities import test_nobody_signs_on_where_no_sign_on_is_declared as check

    sut = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(answer))
    sign_on = httpx.Client(base_url="http://sso.test", transport=httpx.MockTransport(
        lambda request: httpx.Response(302, headers={"location": "http://sut.test/auth/callback?code=c"})))
    checking.reset_judgements()
    check(ReferenceApiDriver(sut, sign_on), embedded_target())
    return checking.judgements()


def _login_answers(callback: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A SUT whose login path sends the citizen to the sign-on, and whose callback answers `callback`."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            return httpx.Response(302, headers={"location": "http://sso.test/authorize?client_id=sut&state=s"})
        return callback

    return answer


@pytest.mark.parametrize("answer", [
    lambda request: httpx.Response(404, text="not found"),  # no login path at all
    lambda request: httpx.Response(200, text="<form>username, password</form>"),  # a login form of its own
    lambda request: httpx.Response(302, headers={"location": "/dang-nhap"}),  # its own login page, not the sign-on
    _login_answers(httpx.Response(403, text="sign-on disabled")),  # sent there, but refuses whoever comes back
])
def test_a_system_that_signs_nobody_on_keeps_its_declaration(answer):
    assert _judge_no_sign_on(answer) == 1  # judged, and held


def _no_answer(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(("answer", "named"), [
    (lambda request: httpx.Response(500, text="boom"), "HTTP 500"),
    (lambda request: httpx.Response(503, text="down"), "HTTP 503"),
    (_no_answer, "did not answer"),
    (_login_answers(httpx.Response(500, text="callback crashed")), "HTTP 500"),  # sent to the sign-on, then a crash
])
def test_a_login_that_breaks_is_not_taken_for_no_sign_on(answer, named: str):
    """A crash or no answer on the way in says nothing about sign-on: the check ends ERROR naming what happened,
    never PASSED."""
    with pytest.raises(DriverError, match=named) as raised:
        _judge_no_sign_on(answer)
    assert not isinstance(raised.value, NoSignOnOffered)
