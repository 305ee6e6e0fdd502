"""Lawful variations of the reference system (mocks/reference/variations.yaml) and the lifecycle's core and optional
moves (harness/data/lifecycle.yaml): each variation really changes the system, and the target settings it carries
are what let the harness drive it. The self-test matrix proves the whole suite's verdicts under each."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from harness.cli import main
from harness.config.target import Target, TargetError, embedded_target, load_target
from harness.core.lifecycle import load_lifecycle
from harness.http.client import to_own_page
from harness.sut.drivers import DriverError, ReferenceApiDriver, Session
from harness.sut.drivers.http_credentials import credentials, target_secrets
from mocks.reference.variations import registry, target_settings
from mocks.wiring import start_embedded
from tests.support import read_report, run_p111

PLAIN = "1.001022"  # no fee, no second agency
FEE = "1.001193"
JOINT = "1.004227"  # moves to a second agency


@contextmanager
def driven(*variations: str, settings: bool = True) -> Iterator[tuple[Target, ReferenceApiDriver]]:
    """The embedded reference system with `variations`, and a reference-api driver configured by the target
    settings the variations carry (or, with settings=False, without them)."""
    target = embedded_target().with_variations(variations, target_settings(variations) if settings else {})
    system = start_embedded(target)
    try:
        sut = httpx.Client(base_url=system.sut_url, transport=system.sut_transport)
        sso = httpx.Client(base_url=system.sign_on_url, transport=system.sign_on_transport)
        options = target.sut.driver_options or {}
        yield target, ReferenceApiDriver(
            sut, sso, options=options, credentials=credentials(options, target_secrets(target))
        )
    finally:
        system.close()


def test_the_registry_lists_each_variation_with_the_settings_that_express_it(capsys):
    assert main(["variations"]) == 0
    shown = capsys.readouterr().out
    for variation in registry().values():
        assert variation.name in shown and variation.vi in shown and variation.en in shown
    assert '"opened_by": "citizen"' in shown and '"export_pagination": "cursor"' in shown


def test_variations_apply_only_to_the_embedded_system_and_unknown_ones_are_refused():
    with pytest.raises(ValueError, match="unknown variation"):
        target_settings(["no-such-variation"])
    assert main(["run", "--variation", "no-such-variation", "--report", "/dev/null/x"]) == 2


def test_every_core_and_optional_move_is_lawful_and_none_is_both():
    lifecycle = load_lifecycle()
    assert {"receive", "process", "finish", "return", "refuse", "request-supplement", "withdraw"} <= set(lifecycle.core)
    for move in lifecycle.optional:
        for source in move.sources:
            assert lifecycle.leads_to(source, move.action, resume="2") is not None
            assert not lifecycle.demands(move.action, source)
            assert "optional" in lifecycle.why_optional(move.action, source)
    assert lifecycle.demands("receive", "1") and not lifecycle.demands("finish", "2")
    # A group: asked from at least one point of the core path, so no single point is demanded.
    assert not lifecycle.demands("request-supplement", "4")
    assert lifecycle.demands("request-payment", "2") is False
    assert lifecycle.leads_to("1", "supplement") is None  # only a supplement that was asked for resumes


# The core path to each status an optional move starts from.
TO = {"1": (), "2": ("receive",), "4": ("receive", "process"), "6": ("receive", "request-payment")}


@pytest.mark.parametrize("refused", [False, True], ids=["plain", "optional-transitions-refused"])
def test_each_optional_move_is_refused_only_under_the_variation(refused):
    variations = ("optional-transitions-refused",) if refused else ()
    with driven(*variations) as (_, driver):
        for move in load_lifecycle().optional:
            for source in sorted(move.sources):
                code = driver.submit(FEE).code
                for step in TO[source]:
                    assert driver.act(code, step).accepted
                result = driver.act(code, move.action)
                assert result.accepted is not refused, (move.action, source, result)
                if refused:
                    assert result.http_status == 409 and driver.get(code).status == source


@pytest.mark.parametrize(("variation", "status"), [("refusals-422", 422), ("refusals-400", 400)])
def test_refusals_are_answered_with_the_variations_status(variation, status):
    with driven(variation) as (_, driver):
        code = driver.submit(PLAIN).code
        result = driver.act(code, "return")
        assert (result.accepted, result.http_status) == (False, status)


def test_api_dates_need_the_datetime_format_setting():
    with driven("api-dates-ddmmyyyy", settings=False) as (_, driver), pytest.raises(DriverError, match="shape"):
        driver.submit(PLAIN)
    with driven("api-dates-ddmmyyyy") as (target, driver):
        assert target.sut.driver_options == {"datetime_format": "%d/%m/%Y %H:%M:%S"}
        dossier = driver.submit(PLAIN)
        assert dossier.submitted_at.utcoffset() is not None  # read as Vietnam's time


def test_exports_by_cursor_read_every_row():
    with driven() as (_, plain):
        expected = len(plain.export("dossiers"))
    with driven("exports-cursor") as (target, driver):
        assert target.sut.driver_options["export_pagination"] == "cursor"
        assert len(driver.export("dossiers")) == expected > 0


def test_the_citizen_opens_the_payment_with_the_pay_step():
    with driven("citizen-opens-payment") as (target, driver):
        assert target.payment_rules.opened_by == "citizen"
        code = driver.submit(FEE).code
        for step in ("receive", "request-payment"):
            assert driver.act(code, step).accepted
        assert driver.get(code).payments == ()  # the officer's request opened nothing
        assert driver.pay(code).accepted
        assert [p.state for p in driver.get(code).payments] == ["pending"]
        assert not driver.pay(code).accepted  # nothing more to open while one is pending


def test_public_calls_are_declared_by_the_target_not_by_the_vendors_document():
    with driven("public-calls-declared") as (target, driver):
        assert ("POST", "/api/health") in target.sut.public_operations
        client = driver._client  # the SUT's client: no session on it
        assert client.post("/api/health").status_code == 200
        assert "x-p111" not in client.get("/openapi.json").text


def test_officers_by_basic_auth_need_the_credentials_setting():
    """Under officers-basic-auth an officer's portal sign-on makes a citizen: without the setting the officer's
    action is refused; with it (a basic-auth password the target resolves, fresh for the embedded system) the
    officer acts, and the step names the officer's TechID and level as the sign-on account would."""
    with driven("officers-basic-auth", settings=False) as (_, driver):
        code = driver.submit(PLAIN).code
        refused = driver.act(code, "receive")
        assert not refused.accepted and refused.http_status in (403, 404)  # a citizen, not the owner
    with driven("officers-basic-auth") as (target, driver):
        credential = target.sut.driver_options["credentials"]["officer"]
        assert credential["by"] == "basic" and credential["password"] == "${P111_OFFICER_PASSWORD}"
        password = target.sut.driver_secrets["credentials.officer.password"].reveal()
        assert len(password) >= 20
        officer = driver.session("officer")
        assert officer.headers["authorization"].startswith("Basic ")
        assert driver.whoami(officer)["role"] == "officer"
        code = driver.submit(PLAIN).code
        assert driver.act(code, "receive").accepted
        step = driver.get(code).steps[-1]
        assert (step.action, step.subject, step.assurance) == ("receive", "TECH-0000000004", "LoA2")
        wrong = Session("officer-1", {"authorization": "Basic " + base64.b64encode(b"canbo-motcua:wrong").decode()})
        assert driver.whoami(wrong) is None
        assert driver.act(driver.submit(PLAIN).code, "receive", session=wrong).http_status == 401


def test_the_receiving_agencys_inbox_lists_only_what_is_there_now():
    with driven("inbox-now-only") as (_, driver):
        code = driver.submit(JOINT, files=(("a.pdf", b"%PDF-1.4 a"),)).code
        second = next(s for s in driver.services() if s.code == JOINT)
        assert driver.act(code, "receive").accepted
        assert driver.act(code, "transfer", to_agency=second.second_agency_code).accepted
        assert [i.code for i in driver.inbox(second.second_agency_code or "")] == [code]
        assert driver.act(code, "transfer", to_agency=second.agency_code).accepted
        assert code not in [i.code for i in driver.inbox(second.second_agency_code or "")]


def test_a_variation_is_refused_for_a_vendors_system(tmp_path):
    target = embedded_target()
    document = target.public_dict()
    document["sut"] = {"embedded": False, "base_url": "http://127.0.0.1:9", "variations": ["refusals-422"]}
    path = tmp_path / "t.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(TargetError, match="sut.variations"):
        load_target(path)


def _run_under(tmp_path, variation: str, setting: str | None, selection: str):
    """`p111 run -k selection` on the embedded system under `variation`, its target carrying the variation's own
    `sut.<setting>` (None: without it, as a province that did not declare it)."""
    document = embedded_target().public_dict()
    document["sut"]["variations"] = [variation]
    if setting is not None:
        document["sut"][setting] = registry()[variation].target["sut"][setting]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return run_p111("run", "--target", str(path), "--report", str(tmp_path / "out"), "--", "-k", selection,
                    cwd=tmp_path)


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "declared"])
def test_a_public_call_is_judged_by_the_targets_declaration_alone(tmp_path, declared):
    """The same lawful system (a public health call, an OpenAPI document without p111's extension): P111-AUTH-TXN
    fails it while the target does not declare the call public, and passes it once the target does — configuration
    alone makes the difference."""
    result = _run_under(tmp_path, "public-calls-declared", "public_operations" if declared else None, "test_auth_txn")
    requirement = next(r for r in read_report(tmp_path / "out")["requirements"] if r["id"] == "P111-AUTH-TXN")
    if declared:
        assert requirement["verdict"] == "PASSED", result.stdout[-2000:]
    else:
        assert requirement["verdict"] == "FAILED", result.stdout[-2000:]
        failures = [c["failure"]["received"] for c in requirement["checks"] if c["outcome"] == "FAILED"]
        assert any("POST /api/health" in f for f in failures)
        assert not any("/api/payments/confirm" in f for f in failures)  # the confirm path never needs a session


def test_anonymous_callers_are_sent_to_the_systems_own_login_page():
    """Under anonymous-to-login-page a write without a session and the anonymous hand-off answer 302 to the system's
    own login page, a signed-in citizen's hand-off 303 to the service page; the setting names that login page, and
    only a redirect there, at the system's own origin, reads as "sign in first"."""
    with driven("anonymous-to-login-page") as (target, driver):
        login = target.sut.refusals.login_redirect
        assert (login, target.sut.refusals.statuses) == ("/auth/login", (401, 403))
        client = driver._client  # the SUT's client: no session on it
        write = client.post("/api/dossiers", json={"actor": "P111"})
        assert (write.status_code, write.headers["location"]) == (302, login)
        assert to_own_page(write, login) and not to_own_page(write, "/dvc")
        service = driver.services()[0]
        query = {"vnconnect": "1", "MaTTHCDP": service.local_code, "MaCoQuanThucHien": service.agency_code,
                 "MaDVC": service.service_id}
        anonymous = client.get(target.sut.handoff_path, params=query)
        assert anonymous.status_code == 302 and to_own_page(anonymous, login)
        signed_in = client.get(target.sut.handoff_path, params=query, headers=driver.session("citizen").headers)
        assert signed_in.status_code == 303 and to_own_page(signed_in) and not to_own_page(signed_in, login)
        page = client.get(signed_in.headers["location"], headers=driver.session("citizen").headers)
        assert page.status_code == 200 and service.code in page.text
    elsewhere = httpx.Response(302, headers={"location": "http://evil.example/auth/login"},
                               request=httpx.Request("POST", "http://sut.example/api/dossiers"))
    assert not to_own_page(elsewhere, "/auth/login") and not to_own_page(elsewhere)


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "declared"])
def test_a_login_page_redirect_is_a_refusal_only_where_the_target_declares_it(tmp_path, declared):
    """The same lawful system (anonymous callers redirected to its own login page): P111-AUTH-TXN and P111-CATALOG
    fail it while the target does not declare the login page (a redirect after a write may be an acceptance), and
    pass it once the target does (sut.refusals.login_redirect)."""
    selection = "refuses_missing_or_forged or portal_handoff"
    result = _run_under(tmp_path, "anonymous-to-login-page", "refusals" if declared else None, selection)
    names = (
        "test_every_write_refuses_missing_or_forged_credentials",
        "test_portal_handoff_lands_on_the_service_or_sign_on",
        "test_portal_handoff_opens_the_service_for_a_signed_in_citizen",
    )
    checks = {
        c["nodeid"].rsplit("::", 1)[-1]: c
        for r in read_report(tmp_path / "out")["requirements"] for c in r["checks"] if c["nodeid"].endswith(names)
    }
    assert set(checks) == set(names), result.stdout[-2000:]
    for name, check in checks.items():
        assert check["outcome"] == ("PASSED" if declared else "FAILED"), (name, result.stdout[-2000:])
    if not declared:
        received = checks["test_every_write_refuses_missing_or_forged_credentials"]["failure"]["received"]
        assert "POST /api/dossiers with no credentials → HTTP 302 → /auth/login" in received


def test_an_empty_list_of_submitted_documents_is_not_applicable_not_passed(tmp_path):
    """TaiLieuNop is optional in the portal's contract: a system that sends none is not accused, and the check that
    compares the list says it judged nothing (NOT-APPLICABLE) instead of passing; its requirement still passes."""
    result = run_p111(
        "run", "--variation", "documents-unlisted", "--report", str(tmp_path / "out"), "--", "-k",
        "test_sync_dossier", cwd=tmp_path,
    )
    requirements = {r["id"]: r for r in read_report(tmp_path / "out")["requirements"]}
    checks = {c["nodeid"].rsplit("::", 1)[-1]: c for r in requirements.values() for c in r["checks"]}
    assert checks["test_synced_documents_are_the_dossiers"]["outcome"] == "NOT-APPLICABLE", result.stdout[-2000:]
    assert "TaiLieuNop" in checks["test_synced_documents_are_the_dossiers"]["message"]
    others = [
        c["outcome"]
        for r in requirements.values()
        for c in r["checks"]
        if "test_sync_dossier.py" in c["nodeid"] and not c["nodeid"].endswith("test_synced_documents_are_the_dossiers")
    ]
    assert others and set(others) == {"PASSED"}
    assert requirements["P111-SYNC-DOSSIER"]["verdict"] == "PASSED"


def test_progress_records_without_the_extra_unit_field_still_tell_the_portal_of_both_agencies(tmp_path):
    """DonViXuLy is no field of the progress record's contract (domain.md section 3; an extra one the portal accepts,
    section 8): a system that sends exactly the contract's fields is heard through PhongBanXuLy and the synced
    dossier's DonViXuLy, and the transfer check passes."""
    result = run_p111(
        "run", "--variation", "progress-without-unit", "--report", str(tmp_path / "out"), "--", "-k",
        "test_transfer or test_sync_progress", cwd=tmp_path,
    )
    checks = {
        c["nodeid"].rsplit("::", 1)[-1]: c["outcome"]
        for r in read_report(tmp_path / "out")["requirements"]
        for c in r["checks"]
        if "test_transfer.py" in c["nodeid"] or "test_sync_progress.py" in c["nodeid"]
    }
    assert checks["test_portal_hears_of_both_agencies"] == "PASSED", result.stdout[-2000:]
    assert set(checks.values()) == {"PASSED"}, checks
    # The clean system's records carry the extra field, and the schema check warns of it; here none is left.
    assert "fields the portal ignores" not in result.stdout, result.stdout[-2000:]
