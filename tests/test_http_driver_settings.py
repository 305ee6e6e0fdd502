"""The http driver's settings for what a vendor's system may lawfully do differently (issue 14, section 1): each
against a fake system that needs it (httpx.MockTransport), fast and in-process. The whole suite over a system that
needs them all together is tests/test_demo3.py."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from harness.config.system import Refusals
from harness.config.target import TargetError, load_target
from harness.core import schemas
from harness.sut.drivers import DriverError, HttpDriver, Session
from harness.sut.drivers import sensitive_names as driver_sensitive_names
from tests.test_http_driver import SSO, TOKEN, FakeSut, a_dossier, example_options, sign_on

ROOT = Path(__file__).resolve().parents[1]
KEY, PASSWORD = "khoa-can-bo-9f3e", "mat-khau-lt-71c2"


def driver(sut: FakeSut, options: dict[str, Any], secrets: dict[str, str] | None = None) -> HttpDriver:
    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(sut))
    sso = httpx.Client(base_url=SSO, transport=httpx.MockTransport(sign_on))
    return HttpDriver(options, client, sso, secrets)


def validate(options: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(
        schemas.registry().contents("https://p111.example/schemas/drivers/http.schema.json")
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(options)]


def with_credentials(**roles: Any) -> dict[str, Any]:
    options = example_options()
    options["credentials"] = roles
    return options


# ---- credentials per role -----------------------------------------------------------------------------------------


def test_an_officer_by_a_static_key_header_from_an_env_secret():
    options = with_credentials(officer={"by": "key", "header": "X-Khoa", "value": "Khoa {{ secret }}",
                                        "secret": "${P111_T_OFFICER_KEY}", "account": "officer-1"})
    assert validate(options) == []
    sut = FakeSut()
    sut.answers[("GET", "/v2/ho-so/X")] = httpx.Response(200, json={"ho_so": a_dossier()})
    driver(sut, options, {"credentials.officer.secret": KEY}).get("X")
    assert sut.sent[-1].headers["x-khoa"] == f"Khoa {KEY}"
    assert not [r for r in sut.sent if r.url.path.startswith("/v2/dang-nhap")]  # no sign-on for the officer
    assert driver_sensitive_names_of(options)[0][-1] == "X-Khoa"


def driver_sensitive_names_of(options: dict[str, Any]) -> tuple[list[str], list[str]]:
    target = type("T", (), {"sut": type("S", (), {"driver": "http", "driver_options": options})()})()
    return driver_sensitive_names(target)


def test_the_second_agencys_officer_by_basic_auth_reads_the_inbox():
    options = with_credentials(second_officer={"by": "basic", "username": "canbo-lt", "password": "${P111_T_PW}"})
    assert validate(options) == []
    sut = FakeSut()
    sut.answers[("GET", "/v2/co-quan/A/ho-so-den")] = httpx.Response(200, json={"danh_sach": []})
    driver(sut, options, {"credentials.second_officer.password": PASSWORD}).inbox("A")
    expected = "Basic " + base64.b64encode(f"canbo-lt:{PASSWORD}".encode()).decode()
    assert sut.sent[-1].headers["authorization"] == expected


def test_a_missing_env_secret_is_an_error_naming_the_setting(monkeypatch):
    monkeypatch.delenv("P111_T_MISSING", raising=False)
    options = with_credentials(officer={"by": "key", "header": "X-Khoa", "secret": "${P111_T_MISSING}"})
    with pytest.raises(DriverError, match=r"credentials\.officer\.secret: environment variable P111_T_MISSING"):
        driver(FakeSut(), options).session("officer")


def test_an_officer_by_the_systems_own_login_call():
    options = with_credentials(officer={
        "by": "login", "path": "/v2/can-bo/dang-nhap", "username": "canbo1", "password": "${P111_T_PW}",
        "body": {"ten": "{{ username }}", "mat_khau": "{{ password }}"},
        "credential": {"from": "json", "name": "phien"},
        "present": {"header": "X-Phien-Can-Bo", "value": "{{ token }}"},
    })
    assert validate(options) == []
    sut = FakeSut()
    sut.answers[("POST", "/v2/can-bo/dang-nhap")] = httpx.Response(200, json={"phien": "s-1"})
    session = driver(sut, options, {"credentials.officer.password": PASSWORD}).session("officer")
    assert session.headers == {"X-Phien-Can-Bo": "s-1"}
    assert json.loads(sut.sent[-1].content) == {"ten": "canbo1", "mat_khau": PASSWORD}
    headers, fields = driver_sensitive_names_of(options)
    assert "X-Phien-Can-Bo" in headers and "phien" in fields


def test_a_literal_secret_in_the_credentials_is_refused_and_a_reference_becomes_a_target_secret(tmp_path: Path):
    document = yaml.safe_load((ROOT / "examples" / "demo-http-driver.target.yaml").read_text(encoding="utf-8"))
    document["sut"]["driver_options"]["credentials"] = {"officer": {"by": "key", "header": "X-K", "secret": KEY}}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    env = {"P111_DEMO_PAYMENT_SECRET": "x" * 12, "P111_T_OFFICER_KEY": KEY}
    with pytest.raises(TargetError, match=r"sut\.driver_options\.credentials\.officer\.secret"):
        load_target(path, env=env)
    document["sut"]["driver_options"]["credentials"]["officer"]["secret"] = "${P111_T_OFFICER_KEY}"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    target = load_target(path, env=env)
    assert KEY in target.secret_values()  # hence redacted wherever it shows
    assert target.sut.driver_secrets["credentials.officer.secret"].reveal() == KEY


def test_an_action_carries_its_extra_headers():
    options = example_options()
    options["actions"]["get"]["headers"] = {"X-Don-Vi": "H40", "X-Ho-So": "{{ code }}"}
    sut = FakeSut()
    sut.answers[("GET", "/v2/ho-so/X")] = httpx.Response(200, json={"ho_so": a_dossier()})
    driver(sut, options).get("X")
    assert (sut.sent[-1].headers["x-don-vi"], sut.sent[-1].headers["x-ho-so"]) == ("H40", "X")


# ---- who is signed in ---------------------------------------------------------------------------------------------


def no_whoami(identity: dict[str, Any]) -> dict[str, Any]:
    options = example_options()
    del options["actions"]["whoami"]
    options["identity"] = identity
    return options


def test_who_is_signed_in_from_the_callbacks_answer_with_no_whoami_call():
    options = no_whoami({"from": "callback", "subject": "ket_qua.nguoi_dung.ma", "assurance": "ket_qua.nguoi_dung.muc"})
    assert validate(options) == []
    sut = FakeSut()
    answer = {"ket_qua": {"ma_phien": TOKEN, "nguoi_dung": {"ma": "T-1", "muc": "LoA2"}}}
    sut.callback = httpx.Response(200, json=answer)
    d = driver(sut, options)
    login = d.login("citizen-1")
    assert login.session is not None
    assert d.whoami(login.session) == {"subject": "T-1", "assurance": "LoA2"}
    # A session the system never gave belongs to nobody (a forged one): None, as a refusal would be.
    assert d.whoami(Session("x", {"X-Phien": "forged"})) is None
    assert not [r for r in sut.sent if "tai-khoan" in r.url.path]


def test_who_is_signed_in_from_the_session_tokens_own_claims():
    claims = {"sub": "T-7", "loa": "LoA3"}
    token = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "HS256"}, claims)
    ) + ".c2ln"
    options = no_whoami({"from": "claims", "subject": "sub", "assurance": "loa"})
    sut = FakeSut()
    sut.callback = httpx.Response(200, json={"ket_qua": {"ma_phien": token}})
    d = driver(sut, options)
    assert d.whoami(d.login("citizen-1").session) == {"subject": "T-7", "assurance": "LoA3"}


def test_identity_from_the_callback_needs_a_subject():
    with pytest.raises(DriverError, match=r"identity\.subject: required"):
        driver(FakeSut(), no_whoami({"from": "callback"}))


# ---- a refused session, as sut.refusals says -------------------------------------------------------------------------

WHOAMI = ("GET", "/v2/tai-khoan/hien-tai")
FORGED = Session("x", {"X-Phien": "forged"})
TO_LOGIN_PAGE = httpx.Response(302, headers={"location": "/dang-nhap?next=/v2/tai-khoan/hien-tai"})


def whoami_answering(answer: httpx.Response, refusals: Refusals, refused: list[int] | None = None) -> HttpDriver:
    options = example_options()
    options["actions"]["whoami"].pop("refused", None)
    if refused is not None:
        options["actions"]["whoami"]["refused"] = refused  # the old spelling
    assert validate(options) == []
    sut = FakeSut()
    sut.answers[WHOAMI] = answer
    client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(sut))
    sso = httpx.Client(base_url=SSO, transport=httpx.MockTransport(sign_on))
    return HttpDriver(options, client, sso, refusals=refusals)


@pytest.mark.parametrize(("refusals", "answer"), [
    (Refusals(), httpx.Response(401)),  # the default: 401 or 403
    (Refusals(statuses=(419,)), httpx.Response(419)),
    (Refusals(login_redirect="/dang-nhap"), TO_LOGIN_PAGE),  # a system that sends a stranger to its login page
])
def test_whoami_takes_a_refusal_as_sut_refusals_describes_it(refusals: Refusals, answer: httpx.Response):
    """One setting says how the system refuses a caller without a valid session: the checks' probes and the http
    driver's who-am-I read the same sut.refusals."""
    assert whoami_answering(answer, refusals).whoami(FORGED) is None


@pytest.mark.parametrize("answer", [httpx.Response(419), TO_LOGIN_PAGE, httpx.Response(500)])
def test_whoami_takes_nothing_else_for_a_refusal(answer: httpx.Response):
    with pytest.raises(DriverError, match=r"actions\.whoami"):
        whoami_answering(answer, Refusals()).whoami(FORGED)


def test_the_old_spelling_actions_whoami_refused_still_decides_for_whoami():
    assert whoami_answering(httpx.Response(418), Refusals(), refused=[418]).whoami(FORGED) is None
    with pytest.raises(DriverError, match=r"actions\.whoami"):
        whoami_answering(httpx.Response(401), Refusals(), refused=[418]).whoami(FORGED)


# ---- who opens the payment ----------------------------------------------------------------------------------------


def test_the_citizen_opens_the_payment_with_a_call_of_their_own():
    options = example_options()
    options["actions"]["pay"] = {"method": "POST", "path": "/v2/ho-so/{{ code }}/thanh-toan", "expect": [201],
                                 "refused": [409], "message": "thong_bao"}
    assert validate(options) == []
    sut = FakeSut()
    sut.answers[("POST", "/v2/ho-so/X/thanh-toan")] = httpx.Response(201, json={})
    d = driver(sut, options)
    assert d.pay("X").accepted
    assert sut.sent[-1].headers["x-phien"] == TOKEN  # the citizen's session
    sut.answers[("POST", "/v2/ho-so/X/thanh-toan")] = httpx.Response(409, json={"thong_bao": "chưa yêu cầu"})
    refused = d.pay("X")
    assert (refused.accepted, refused.message) == (False, "chưa yêu cầu")


def test_a_pay_step_without_actions_pay_is_an_error_naming_it():
    with pytest.raises(DriverError, match=r"sut\.driver_options\.actions\.pay is not configured"):
        driver(FakeSut(), example_options()).pay("X")


# ---- files --------------------------------------------------------------------------------------------------------


def test_files_by_link_are_served_by_the_harness_and_checked_by_download_when_no_checksum():
    options = example_options()
    options["files"] = {"send": "link"}
    options["actions"]["submit"]["body"]["tep_dinh_kem"]["$item"] = {"ten_tep": "{{ item.name }}",
                                                                     "duong_dan": "{{ item.url }}"}
    del options["views"]["file"]["sha256"]
    options["actions"]["download"] = {"method": "GET", "path": "{{ url }}"}
    assert validate(options) == []
    fetched: dict[str, bytes] = {}
    sut = FakeSut()

    def submitted(request: httpx.Request) -> httpx.Response:
        for f in json.loads(request.content)["tep_dinh_kem"]:
            fetched[f["ten_tep"]] = httpx.get(f["duong_dan"]).content  # the system fetches the link
        return httpx.Response(201, json={"ho_so": a_dossier()})

    d = driver(sut, options)
    sut.answers[("GET", "/v2/tep/f1")] = httpx.Response(200, content=b"%PDF-1 noi dung")

    def handler(request: httpx.Request) -> httpx.Response:
        return submitted(request) if (request.method, request.url.path) == ("POST", "/v2/ho-so") else sut(request)

    d._client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(handler))
    try:
        dossier = d.submit("1.001193", files=(("don.pdf", b"%PDF-1 noi dung"),))
    finally:
        d.close()
    assert fetched == {"don.pdf": b"%PDF-1 noi dung"}
    assert dossier.files[0].sha256 == hashlib.sha256(b"%PDF-1 noi dung").hexdigest()


def test_files_by_multipart_upload():
    options = example_options()
    options["files"] = {"send": "multipart"}
    options["actions"]["submit"]["multipart"] = {"file_field": "tep"}
    options["actions"]["submit"]["body"] = {"ma_thu_tuc": "{{ procedure_code }}", "kenh": "{{ channel }}"}
    assert validate(options) == []
    sut = FakeSut()
    sut.answers[("POST", "/v2/ho-so")] = httpx.Response(201, json={"ho_so": a_dossier()})
    driver(sut, options).submit("1.001193", files=(("don.pdf", b"%PDF-1"),))
    sent = sut.sent[-1]
    assert sent.headers["content-type"].startswith("multipart/form-data")
    body = sent.read()
    assert b'name="ma_thu_tuc"' in body and b'name="tep"; filename="don.pdf"' in body and b"%PDF-1" in body


# ---- views a path cannot reach ------------------------------------------------------------------------------------


def credited_by_python(payment: dict[str, Any], dossier: dict[str, Any]) -> int:
    return sum(c["so_tien"] for c in dossier["ghi_co"] if c["ma_gd"] == payment["ma_tham_chieu"])


@pytest.mark.parametrize("credited", [
    {"jsonata": "($r := ma_tham_chieu; $sum($root.ghi_co[ma_gd = $r].so_tien))"},
    {"python": "tests.test_http_driver_settings:credited_by_python"},
], ids=["jsonata", "python"])
def test_a_field_summed_from_a_separate_list(credited):
    options = example_options()
    options["views"]["payment"]["credited"] = credited
    options["views"]["dossier"]["status"] = {"jsonata": "trang_thai = 'TIEP_NHAN_XONG' ? 'DA_TIEP_NHAN' : trang_thai"}
    assert validate(options) == []
    dossier = a_dossier(trang_thai="TIEP_NHAN_XONG",
                        ghi_co=[{"ma_gd": "P111AB", "so_tien": 5000}, {"ma_gd": "KHAC", "so_tien": 1},
                                {"ma_gd": "P111AB", "so_tien": 3000}])
    sut = FakeSut()
    sut.answers[("GET", "/v2/ho-so/X")] = httpx.Response(200, json={"ho_so": dossier})
    view = driver(sut, options).get("X")
    assert view.payments[0].credited == 8000 and view.status == "2"


def test_a_bad_jsonata_or_python_field_is_refused_when_the_driver_is_built():
    options = example_options()
    options["views"]["payment"]["credited"] = {"jsonata": "$sum(("}
    with pytest.raises(DriverError, match=r"views\.payment\.credited: not a valid JSONata"):
        driver(FakeSut(), options)
    options["views"]["payment"]["credited"] = {"python": "tests.nowhere:f"}
    with pytest.raises(DriverError, match=r"views\.payment\.credited: cannot load the Python function"):
        driver(FakeSut(), options)


# ---- exports ------------------------------------------------------------------------------------------------------


def test_an_export_the_system_does_not_declare_is_never_asked_and_its_kpi_is_not_applicable():
    from conformance_tests.test_kpi import _not_offered

    options = example_options()
    options["exports"] = ["dossiers", "procedures"]
    assert validate(options) == []
    sut = FakeSut()
    d = driver(sut, options)
    assert d.offered_exports() == ("dossiers", "procedures")
    with pytest.raises(DriverError, match=r"exports: the system declares no transactions export"):
        d.export("transactions")
    assert sut.sent == []
    why = _not_offered("P111-KPI-TRANSFER", d)  # it needs the transactions
    assert why is not None and "sut.driver_options.exports" in why and "transactions" in why
    assert _not_offered("P111-KPI-ONLINE-DOSSIERS", d) is None


def test_a_link_to_another_origin_never_gets_the_session():
    sut = FakeSut()
    d = driver(sut, example_options())
    with pytest.raises(DriverError, match=r"actions\.download: http://evil\.test is not the SUT's origin"):
        d.download("http://evil.test/v2/tep/f1")
    assert not [r for r in sut.sent if r.url.host == "evil.test"]
    sut.answers[("GET", "/v2/tep/f1")] = httpx.Response(200, content=b"ok")
    assert d.download("http://sut.test/v2/tep/f1") == b"ok"  # its own origin, written in full


def merged(base: Any, fragment: Any) -> Any:
    if isinstance(base, dict) and isinstance(fragment, dict):
        return {**base, **{k: merged(base.get(k), v) for k, v in fragment.items()}}
    return fragment


SETTINGS = yaml.safe_load((ROOT / "examples" / "http-driver-settings.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SETTINGS)
def test_each_example_setting_is_valid_and_builds_a_driver(name, monkeypatch):
    for variable in ("VENDOR_OFFICER_KEY", "VENDOR_SECOND_PASSWORD", "VENDOR_OFFICER_PASSWORD"):
        monkeypatch.setenv(variable, "x" * 16)
    options = merged(example_options(), SETTINGS[name])
    assert validate(options) == []
    driver(FakeSut(), options)


def test_an_export_paged_by_cursor():
    options = example_options()
    options["actions"]["export"] = {"path": "/v2/bao-cao/{{ kind }}", "query": {"sau": "{{ cursor or '' }}"},
                                    "result": "du_lieu", "next": "tiep_theo"}
    assert validate(options) == []
    pages = {"": {"du_lieu": [{"n": 1}, {"n": 2}], "tiep_theo": "c2"}, "c2": {"du_lieu": [{"n": 3}], "tiep_theo": None}}
    sut = FakeSut()

    def answer(request: httpx.Request) -> httpx.Response:
        sut.sent.append(request)
        return httpx.Response(200, json=pages[request.url.params.get("sau", "")])

    d = driver(sut, options)
    d._client = httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(answer))
    d._sessions["officer"] = Session("officer-1", {"X-Phien": TOKEN})
    assert [r["n"] for r in d.export("dossiers")] == [1, 2, 3]
    assert [r.url.params.get("sau") for r in sut.sent] == ["", "c2"]
