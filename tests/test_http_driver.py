"""The declarative `http` driver: its templates, extraction and error messages (fast, in-process), and the proof that
it carries the whole suite against the demo system (mocks/demo), whose API is unlike the reference API, from the
configuration in examples/demo-http-driver.target.yaml alone."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from harness.config.target import TargetError, load_target
from harness.core import limits, schemas
from harness.core.catalog import load_catalog
from harness.sut.drivers import DRIVERS, DriverError, HttpDriver, Session
from harness.sut.drivers.http_config import sensitive_names, template
from mocks.serve import free_port
from tests.support import read_report, run_p111, verdicts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "demo-http-driver.target.yaml"
SECRET_ENV = {"P111_DEMO_PAYMENT_SECRET": "demo-payment-key-5e2a"}
SSO = "http://sso.test"
TOKEN = "phien-0123456789abcdef"  # a session the fake SUT hands out; it must never show in a message


def example_options() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["sut"]["driver_options"])


def a_dossier(**changes: Any) -> dict[str, Any]:
    """A dossier as the demo system shows it."""
    dossier = {
        "ma_ho_so": "000.00.06.H40-261127-0001",
        "thu_tuc": {"ma": "1.001193"},
        "co_quan": {"tiep_nhan": "000.00.06.H40", "dang_xu_ly": "000.00.06.H40"},
        "kenh": "TRUC_TUYEN",
        "trang_thai": "DA_TIEP_NHAN",
        "moc_thoi_gian": {"nop": "27/11/2026 09:00:00", "tiep_nhan": "27/11/2026 09:05:00", "hen_tra": None},
        "tep_tin": [{"ma_tep": "f1", "ten_tep": "a.pdf", "bam_sha256": "00" * 32, "duong_dan": "/v2/tep/f1"}],
        "qua_trinh": [
            {"trang_thai": "MOI_DANG_KY", "thao_tac": "NOP_HO_SO",
             "nguoi_thuc_hien": {"ma_dinh_danh": "TECH-1", "muc_dam_bao": "LoA2"}},
            {"trang_thai": "DA_TIEP_NHAN", "thao_tac": "TIEP_NHAN",
             "nguoi_thuc_hien": {"ma_dinh_danh": "TECH-9", "muc_dam_bao": "LoA2"}},
        ],
        "thanh_toan": {
            "da_thanh_toan_truc_tuyen": "K",
            "giao_dich": [{"ma_tham_chieu": "P111AB", "so_tien": "8000", "tinh_trang": "CHO_THANH_TOAN",
                           "da_ghi_nhan": 0, "duong_dan_thanh_toan": None}],
        },
    }
    dossier.update(changes)
    return dossier


class FakeSut:
    """The demo's API as a handler for httpx.MockTransport: records what it was sent, answers what it is told."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []
        self.answers: dict[tuple[str, str], httpx.Response] = {}
        self.callback = httpx.Response(200, json={"ket_qua": {"ma_phien": TOKEN}})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.path == "/v2/dang-nhap":
            return httpx.Response(302, headers={"location": f"{SSO}/authorize?state=s"})
        if request.url.path == "/v2/dang-nhap/auth/callback":
            return self.callback
        return self.answers.get((request.method, request.url.path), httpx.Response(404, json={"thong_bao": "?"}))


def sign_on(request: httpx.Request) -> httpx.Response:
    return httpx.Response(302, headers={"location": "http://sut.test/v2/dang-nhap/auth/callback?code=c&state=s"})


def driver(sut: FakeSut, options: dict[str, Any] | None = None) -> HttpDriver:
    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(sut))
    sso = httpx.Client(base_url=SSO, transport=httpx.MockTransport(sign_on))
    return HttpDriver(options or example_options(), client, sso)


# ---- the configuration --------------------------------------------------------------------------------------------


def test_the_example_configuration_is_valid_against_the_driver_schema():
    validator = Draft202012Validator(
        schemas.registry().contents("https://p111.example/schemas/drivers/http.schema.json")
    )
    assert [e.message for e in validator.iter_errors(example_options())] == []


def test_a_bad_driver_options_is_named_field_by_field(tmp_path: Path):
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    del document["sut"]["driver_options"]["actions"]["submit"]["path"]
    document["sut"]["driver_options"]["sign_on"]["credential"]["from"] = "pigeon"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TargetError) as refused:
        load_target(path, env=SECRET_ENV)
    text = str(refused.value)
    assert "sut.driver_options.actions.submit.path: required field missing" in text
    assert "sut.driver_options.sign_on.credential.from: expected one of: cookie, json, header" in text


def test_the_http_driver_is_registered_and_built_from_the_target():
    target = load_target(EXAMPLE, env=SECRET_ENV)
    with httpx.Client() as client:
        system = type("System", (), {"client": client, "sign_on": None})()
        assert isinstance(DRIVERS["http"].build(target, system), HttpDriver)


def test_an_invalid_jmespath_is_refused_when_the_driver_is_built():
    options = example_options()
    options["views"]["dossier"]["status"] = "trang_thai[?"
    with pytest.raises(DriverError, match=r"sut\.driver_options\.views\.dossier\.status: not a valid JMESPath"):
        driver(FakeSut(), options)


def test_an_invalid_template_is_refused_when_the_driver_is_built():
    options = example_options()
    options["actions"]["get"]["path"] = "/v2/ho-so/{{ code"
    with pytest.raises(DriverError, match=r"sut\.driver_options\.actions\.get\.path: not a valid Jinja2 template"):
        driver(FakeSut(), options)


def test_a_lone_expression_keeps_its_type_text_is_text_and_a_null_key_is_left_out():
    render = template({"n": "{{ page }}", "code": "{{ code }}", "t": "x-{{ page }}", "gone": "{{ nothing }}"}, "k")
    assert render({"page": 2, "code": "1.001193", "nothing": None}) == {"n": 2, "code": "1.001193", "t": "x-2"}


# ---- signing on ---------------------------------------------------------------------------------------------------


def test_the_session_comes_from_the_callbacks_json_and_goes_in_the_configured_header():
    sut = FakeSut()
    login = driver(sut).login("citizen-1")
    assert login.session == Session("citizen-1", {"X-Phien": TOKEN})
    assert login.authorize_url.startswith(SSO)


def test_a_credential_not_where_configured_is_described_by_shape_never_by_its_text():
    options = example_options()
    options["sign_on"]["credential"]["name"] = "ket_qua.phien"  # a typo: the session is at ket_qua.ma_phien
    options["sign_on"].pop("message", None)
    login = driver(FakeSut(), options).login("citizen-1")
    assert login.session is None and TOKEN not in login.message
    assert "sign_on.credential" in login.message and "ket_qua" in login.message


@pytest.mark.parametrize(
    ("credential", "callback"),
    [
        ({"from": "cookie", "name": "sid"}, httpx.Response(302, headers={"set-cookie": f"sid={TOKEN}; HttpOnly"})),
        ({"from": "header", "name": "X-Token"}, httpx.Response(204, headers={"x-token": TOKEN})),
    ],
    ids=["cookie", "header"],
)
def test_the_session_can_come_from_a_cookie_or_a_header(credential, callback):
    options = example_options()
    options["sign_on"]["credential"] = credential
    options["sign_on"]["present"] = {"header": "Authorization", "value": "Phien {{ token }}"}
    sut = FakeSut()
    sut.callback = callback
    assert driver(sut, options).login("officer-1").session == Session("officer-1", {"Authorization": f"Phien {TOKEN}"})


def test_a_refused_sign_on_gives_no_session_and_the_systems_reason():
    sut = FakeSut()
    sut.callback = httpx.Response(401, json={"ma_loi": "TU_CHOI", "thong_bao": "chữ ký sai / bad signature"})
    login = driver(sut).login("citizen-1")
    assert (login.session, login.http_status, login.message) == (None, 401, "chữ ký sai / bad signature")


# ---- requests and answers -----------------------------------------------------------------------------------------


def test_submit_renders_the_body_with_types_kept_and_reads_the_dossier_in_harness_words():
    sut = FakeSut()
    sut.answers["POST", "/v2/ho-so"] = httpx.Response(201, json={"ho_so": a_dossier()})
    dossier = driver(sut).submit("1.001193", files=(("a.pdf", b"%PDF"),))
    body = json.loads(sut.sent[-1].content)
    assert body["ma_thu_tuc"] == "1.001193" and body["kenh"] == "TRUC_TUYEN"  # a code stays a string
    assert body["tep_dinh_kem"] == [{"ten_tep": "a.pdf", "noi_dung_base64": "JVBERg=="}]
    assert sut.sent[-1].headers["x-phien"] == TOKEN
    assert (dossier.status, dossier.statuses, dossier.channel) == ("2", ("1", "2"), "online")
    assert [(s.action, s.subject) for s in dossier.steps] == [("submit", "TECH-1"), ("receive", "TECH-9")]
    assert dossier.submitted_at.isoformat() == "2026-11-27T09:00:00+07:00"  # no offset: Vietnam time
    assert dossier.due_at is None and dossier.paid_online is False
    assert dossier.payments[0].amount == 8000 and dossier.payments[0].state == "pending"
    assert dossier.files[0].url == "/v2/tep/f1"


def test_act_sends_the_systems_action_word_and_leaves_a_null_key_out():
    sut = FakeSut()
    sut.answers["POST", "/v2/ho-so/X-1/xu-ly"] = httpx.Response(200, json={"ho_so": a_dossier()})
    result = driver(sut).act("X-1", "receive")
    assert json.loads(sut.sent[-1].content) == {"thao_tac": "TIEP_NHAN", "nguoi_thuc_hien": "Cán bộ kiểm thử P111"}
    assert result.accepted and result.dossier is not None


def test_a_refusal_is_a_refused_action_with_the_systems_message():
    sut = FakeSut()
    sut.answers["POST", "/v2/ho-so/X-1/xu-ly"] = httpx.Response(409, json={"thong_bao": "không hợp lệ"})
    result = driver(sut).act("X-1", "return")
    assert (result.accepted, result.http_status, result.message) == (False, 409, "không hợp lệ")


def test_a_refusal_quotes_at_most_a_bounded_part_of_the_systems_message_and_marks_the_cut():
    """The SUT's words reach every output (report.json, report.html, summary.md, junit.xml): a message of millions of
    characters, or an HTML page in place of JSON, is quoted up to the limit, and the cut says how much is left out."""
    sut = FakeSut()
    huge = "\u0645" * 3_000_000
    sut.answers["POST", "/v2/ho-so/X-1/xu-ly"] = httpx.Response(409, json={"thong_bao": huge})
    message = driver(sut).act("X-1", "return").message
    cut = len(huge) - limits.MAX_QUOTED_CHARS
    assert message == huge[: limits.MAX_QUOTED_CHARS] + f"… [cắt {cut} ký tự / {cut} characters cut]"
    sut.answers["POST", "/v2/ho-so/X-1/xu-ly"] = httpx.Response(409, text="<html>" + "x" * 100_000)
    message = driver(sut).act("X-1", "return").message
    assert message.startswith("<html>x") and message.endswith(f"/ {100_006 - limits.MAX_EXCERPT_CHARS} characters cut]")
    sut.callback = httpx.Response(401, json={"thong_bao": huge})
    assert len(driver(sut).login("citizen-1").message) < limits.MAX_QUOTED_CHARS + 100


def test_export_reads_every_page_with_the_configured_query():
    sut = FakeSut()
    sut.answers["GET", "/v2/bao-cao/thu-tuc"] = httpx.Response(200, json={"tong_so": 2, "du_lieu": [{"a": 1}]})
    options = example_options()
    rows = driver(sut, options).export("procedures")
    pages = [dict(r.url.params) for r in sut.sent if r.url.path == "/v2/bao-cao/thu-tuc"]
    assert rows == [{"a": 1}, {"a": 1}]
    assert pages == [{"trang": "1", "kich_thuoc": "5000"}, {"trang": "2", "kich_thuoc": "5000"}]


def test_an_export_that_ignores_the_page_number_is_an_error_not_an_endless_loop():
    sut = FakeSut()
    sut.answers["GET", "/v2/bao-cao/thu-tuc"] = httpx.Response(200, json={"du_lieu": [{"a": 1}]})
    options = example_options()
    del options["actions"]["export"]["total"]
    with pytest.raises(DriverError, match="page 2 repeats page 1"):
        driver(sut, options).export("procedures")


# ---- errors name the action and the key ---------------------------------------------------------------------------


def messages_of(error: pytest.ExceptionInfo[DriverError]) -> str:
    text = str(error.value)
    assert TOKEN not in text  # a credential never reaches a message (nor the report)
    return text


def test_a_jmespath_that_finds_nothing_is_an_error_naming_the_action_and_the_key():
    """The config's mistake, not the SUT's: a DriverError, which the plugin records as ERROR, never FAILED."""
    options = example_options()
    options["views"]["dossier"]["code"] = "ma_hoso"  # the system says ma_ho_so
    sut = FakeSut()
    sut.answers["GET", "/v2/ho-so/X-1"] = httpx.Response(200, json={"ho_so": a_dossier()})
    with pytest.raises(DriverError) as error:
        driver(sut, options).get("X-1")
    text = messages_of(error)
    assert text.startswith("actions.get (GET /v2/ho-so/X-1): sut.driver_options.views.dossier.code")
    assert "'ma_hoso' finds nothing" in text and "ma_ho_so" in text  # the fields that are there, never values


def test_an_unexpected_status_names_the_expect_key():
    sut = FakeSut()
    sut.answers["POST", "/v2/ho-so"] = httpx.Response(500, text="lỗi")
    with pytest.raises(DriverError) as error:
        driver(sut).submit("1.001193")
    assert "actions.submit (POST /v2/ho-so): expected HTTP 201 (sut.driver_options.actions.submit.expect), got 500" in (
        messages_of(error)
    )


def test_a_word_missing_from_the_vocabulary_is_an_error_naming_the_table():
    sut = FakeSut()
    sut.answers["GET", "/v2/ho-so/X-1"] = httpx.Response(200, json={"ho_so": a_dossier(trang_thai="LA_LAM")})
    with pytest.raises(DriverError) as error:
        driver(sut).get("X-1")
    assert "the SUT said 'LA_LAM', which sut.driver_options.vocabulary.status does not list" in messages_of(error)


def test_a_template_naming_an_unknown_variable_is_an_error_naming_the_key():
    options = example_options()
    options["actions"]["get"]["path"] = "/v2/ho-so/{{ ma }}"
    with pytest.raises(DriverError) as error:
        driver(FakeSut(), options).get("X-1")
    assert "sut.driver_options.actions.get.path" in messages_of(error)


def test_an_action_left_out_is_an_error_when_a_check_needs_it():
    options = example_options()
    del options["actions"]["export"]
    with pytest.raises(DriverError, match=r"sut\.driver_options\.actions\.export is not configured"):
        driver(FakeSut(), options).export("dossiers")


# ---- the proof: the whole suite through the declarative driver ----------------------------------------------------

# Every requirement of the plan: the demo system, a facade over the reference system, passes them all.
REQUIREMENTS = load_catalog().ids



def on_ports(ports: dict[str, int]) -> str:
    """The example target with the counterparts' and the demo's addresses moved to free ports, nothing else."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for name, default in (("demo", 8710), ("portal", 8701), ("payment", 8702), ("sso", 8703)):
        text = text.replace(f"http://127.0.0.1:{default}", f"http://127.0.0.1:{ports[name]}")
    return text


@pytest.mark.slow
def test_the_demo_system_passes_the_whole_suite_through_the_declarative_driver(tmp_path: Path):
    from mocks.demo.wiring import serve_demo

    ports = {name: free_port() for name in ("demo", "portal", "payment", "sso")}
    target_file = tmp_path / "demo.target.yaml"
    target_file.write_text(on_ports(ports), encoding="utf-8")
    served = serve_demo(
        load_target(target_file, env={**os.environ, **SECRET_ENV}), demo_port=ports["demo"],
        portal_port=ports["portal"], sso_port=ports["sso"], payment_port=ports["payment"],
    )
    try:
        result = run_p111("run", "--target", str(target_file), "--report", "out", cwd=tmp_path, env=SECRET_ENV)
    finally:
        for app in served:
            app.stop()
    report = read_report(tmp_path / "out")
    got = verdicts(report)
    assert {r: got[r] for r in REQUIREMENTS} == dict.fromkeys(REQUIREMENTS, "PASSED"), result.stdout[-4000:]
    assert result.returncode == 0
    # Split on newlines only: str.splitlines would also split on the Unicode separators hypothesis puts in strings.
    lines = (tmp_path / "out" / "evidence.ndjson").read_text(encoding="utf-8").split("\n")
    exchanges = [json.loads(line) for line in lines if line]
    demo = f"http://127.0.0.1:{ports['demo']}"
    paths = {re.sub(r"\?.*", "", e["url"][len(demo):]) for e in exchanges if e["url"].startswith(demo)}
    # Only the demo's own API was spoken: nothing of the reference API's paths.
    assert paths and not [p for p in paths if p.startswith(("/api/", "/auth/"))], sorted(paths)
    assert "/v2/ho-so" in paths and "/v2/dang-nhap" in paths
    # The driver's configuration names the session header and field and the id-number field, with no `redaction`
    # section in the target: no session value and no id number reaches the evidence.
    sent = {v for e in exchanges for k, v in e["request"]["headers"].items() if k.lower() == "x-phien"}
    given = [e["response"]["body"]["ket_qua"]["ma_phien"] for e in exchanges
             if "/auth/callback" in e["url"] and e["status"] == 200]
    assert sent == {"[REDACTED]"} and given and set(given) == {"[REDACTED]"}
    submitted = [e["request"]["body"] for e in exchanges if e["method"] == "POST" and e["url"] == f"{demo}/v2/ho-so"]
    ids = {body["nguoi_nop"]["so_dinh_danh"] for body in submitted if "nguoi_nop" in body}  # not AUTH-TXN's probes
    assert ids == {"[REDACTED]"}


def test_the_configuration_names_what_the_redactor_must_remove():
    # The header the session is presented in, the field it comes from, and where the id number is sent: a vendor
    # need not list them again under `redaction` (the example has no such section).
    assert sensitive_names(example_options()) == (["X-Phien"], ["ma_phien", "so_dinh_danh"])
    assert "redaction" not in yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
