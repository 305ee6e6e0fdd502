"""Credentials stay home: a hostile SUT on loopback plants a URL of another origin in every place the harness reads a
URL from it, and the "evil" origin, listening on another loopback port, must receive nothing carrying a credential
and no write at all. Every client here is built as the plugin builds the networked SUT's (`make_client` with the
target's API key, politeness and the evidence recorder), and driven by the real driver and the real fuzzer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from harness.config.target import Politeness, embedded_target, load_target_text
from harness.fuzz import fuzzer as fuzz
from harness.http.client import OffOrigin, make_client, origin
from harness.http.evidence import EvidenceRecorder
from harness.http.redaction import Redactor
from harness.sut.drivers.base import DriverError, Session
from harness.sut.drivers.reference_api import ReferenceApiDriver
from mocks.hostile import EvilOrigin, PlantingSut
from mocks.serve import serve_in_thread

API_KEY = "sut-api-key-7f3a9c"
COOKIE = "p111_session=officer-session-51d2"
BEARER = "Bearer citizen-token-99ab"
CREDENTIALS = (API_KEY, "officer-session-51d2", "citizen-token-99ab")
OFFICER = Session("officer-1", {"cookie": COOKIE})
CITIZEN = Session("citizen-1", {"authorization": BEARER})
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Scene:
    evil: EvilOrigin
    evil_url: str
    sut_url: str
    client: httpx.Client
    sign_on: httpx.Client
    recorder: EvidenceRecorder

    def driver(self) -> ReferenceApiDriver:
        return ReferenceApiDriver(self.client, self.sign_on, {"officer": OFFICER, "citizen": CITIZEN})

    def trusted_client(self, *origins: str) -> httpx.Client:
        return _sut_client(self.sut_url, self.recorder, origins)


def _sut_client(url: str, recorder: EvidenceRecorder, trusted: tuple[str, ...] = ()) -> httpx.Client:
    target = embedded_target()
    return make_client(
        url, timeouts=target.timeouts, recorder=recorder, headers={"X-API-Key": API_KEY},
        politeness=Politeness(), trusted_origins=trusted,
    )


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    evil = EvilOrigin()
    evil_served = serve_in_thread("evil", evil, log_level="critical")
    sign_on_served = serve_in_thread("sso-stand-in", EvilOrigin(), log_level="critical")
    sut_served = serve_in_thread("planting-sut", PlantingSut(evil_served.url, sign_on_served.url), log_level="critical")
    recorder = EvidenceRecorder(Redactor())
    target = embedded_target()
    client = _sut_client(sut_served.url, recorder)
    sign_on = make_client(sign_on_served.url, timeouts=target.timeouts, recorder=recorder)
    try:
        yield Scene(evil, evil_served.url, sut_served.url, client, sign_on, recorder)
    finally:
        client.close()
        sign_on.close()
        for served in (sut_served, sign_on_served, evil_served):
            served.stop()


@pytest.fixture(autouse=True)
def evil_receives_nothing(scene: Scene) -> Iterator[None]:
    """After every route: nothing at the evil origin carried a credential, and nothing there was a write."""
    yield
    for received in scene.evil.received:
        carried = " ".join([*received.headers.values(), received.path, received.body.decode("latin-1")])
        assert not [c for c in CREDENTIALS if c in carried], received
        assert received.method not in WRITES, received
    assert scene.evil.received == []  # stronger still: the harness sends it nothing at all


def _refusals(scene: Scene) -> list[dict[str, Any]]:
    return [e for e in scene.recorder.exchanges if e.get("refused")]


def test_openapi_paths_and_servers_lead_nowhere_else(scene):
    document = scene.client.get("/openapi.json").json()
    assert document["servers"][0]["url"] == scene.evil_url  # planted …
    before = len(_refusals(scene))
    result = fuzz.fuzz(
        scene.client, document, sessions=[{"cookie": COOKIE}, {"authorization": BEARER}],
        budget=fuzz.Budget(max_examples=3, generated_examples=2),
    )
    steal = [reason for name, reason in result.skipped if "/api/steal" in name]
    assert steal and all("sut.trusted_origins" in reason for reason in steal), result.skipped
    refused = _refusals(scene)[before:]
    assert {e["method"] for e in refused} >= {"POST", "GET"}
    assert all(e["url"].startswith(scene.evil_url) and e["status"] == 0 for e in refused)
    assert "/api/items" in " ".join(result.operations + [n for n, _ in result.skipped])  # the SUT's own: tried


@pytest.mark.parametrize("route", ["file-link", "inbox-item"])
def test_a_file_link_elsewhere_is_refused_naming_the_setting(scene, route):
    driver = scene.driver()
    if route == "file-link":
        url = driver.get("H00.00-261201-0001").files[0].url
    else:
        url = driver.inbox("H00.00")[0].files[0].url
    assert url.startswith(scene.evil_url)
    with pytest.raises(OffOrigin, match=r"sut\.trusted_origins") as refused:
        driver.download(url)
    assert "officer-session" not in str(refused.value) and API_KEY not in str(refused.value)
    last = scene.recorder.exchanges[-1]
    assert last["refused"] and last["status"] == 0 and "sut.trusted_origins" in last["error"]


def test_a_payment_page_elsewhere_is_never_fetched_with_a_session(scene):
    payment = scene.driver().get("H00.00-261201-0001").payments[0]
    assert payment.url and payment.url.startswith(scene.evil_url)
    for method in ("GET", "POST"):
        with pytest.raises(OffOrigin):
            scene.client.request(method, payment.url, headers=OFFICER.headers)


def test_a_sign_on_redirect_in_disguise_is_not_followed(scene):
    driver = ReferenceApiDriver(scene.client, scene.sign_on)
    with pytest.raises(DriverError, match="expected a redirect to the sign-on"):
        driver.login("citizen-1")
    # and were it followed, the sign-on client too sends only to its own origin
    disguised = f"{scene.sign_on.base_url}".rstrip("/").replace("http://", "http://x@") + "@" + scene.evil_url[7:]
    with pytest.raises(OffOrigin):
        scene.sign_on.get(disguised)


def test_a_location_elsewhere_is_judged_not_followed(scene):
    for method in ("GET", "POST"):
        answer = scene.client.request(method, "/api/anything", headers=OFFICER.headers, json={"a": 1})
        assert answer.is_redirect and answer.headers["location"].startswith(scene.evil_url)


def test_origins_are_compared_parsed_not_as_prefixes(scene):
    sut = httpx.URL(scene.sut_url)
    for lookalike in (f"{scene.sut_url}@127.0.0.1:{httpx.URL(scene.evil_url).port}/x",
                      f"http://{sut.host}.evil.example:{sut.port}/x", f"https://{sut.host}:{sut.port}/x"):
        assert origin(lookalike) != origin(scene.sut_url), lookalike
        with pytest.raises(OffOrigin):
            scene.client.get(lookalike, headers=OFFICER.headers)
    assert origin(f"HTTP://{sut.host}:{sut.port}/a") == origin(scene.sut_url)
    assert origin("http://example.org/") == origin("http://EXAMPLE.org:80/b")


def test_a_declared_origin_gets_the_request(scene):
    """A file store the target declares (`sut.trusted_origins`) is the system's own: the request goes, credentials
    included; one the target does not declare stays refused."""
    trusting = scene.trusted_client(scene.evil_url)
    try:
        assert trusting.get(f"{scene.evil_url}/files/f1").status_code == 200
        assert scene.evil.received[-1].headers["x-api-key"] == API_KEY
    finally:
        trusting.close()
        scene.evil.received.clear()  # declared, so not a leak: the fixture's check is for undeclared origins


def test_trusted_origins_is_a_target_setting():
    public = embedded_target().public_dict()
    document = {"name": "t", "agencies": public["agencies"]}
    document["sut"] = {"embedded": False, "base_url": "https://dvc.example.gov.vn",
                       "trusted_origins": ["https://files.example.gov.vn"]}
    target = load_target_text(json.dumps(document).encode(), "t", {})
    assert target.sut.trusted_origins == ("https://files.example.gov.vn",)
    document["sut"]["trusted_origins"] = ["not a url"]
    with pytest.raises(Exception, match="trusted_origins"):
        load_target_text(json.dumps(document).encode(), "t", {})


def test_where_a_browser_is_sent_is_judged_by_parsed_origin():
    from harness.http.client import lies_under

    assert lies_under("http://sso.example/authorize?x=1", "http://sso.example")
    assert not lies_under("http://sso.example:80@evil.example/authorize", "http://sso.example")
    assert not lies_under("http://sso.example.evil.example/authorize", "http://sso.example")
    assert not lies_under("/authorize", "http://sso.example")
    assert not lies_under("http://sso.example/realmsX", "http://sso.example/realms")


pytest_plugins = ["pytester"]


def test_a_check_that_needs_an_undeclared_origin_ends_error_naming_the_setting(scene, pytester, tmp_path):
    """Through the plugin, as a run reports it: the check that must fetch a link to another origin is ERROR, its
    message names `sut.trusted_origins`, the evidence holds the refusal, and the other origin hears nothing."""
    pytester.makepyfile(test_link=f'''
        import pytest

        pytestmark = pytest.mark.requirement("P111-TRANSFER")

        def test_fetches_a_planted_link(p111_driver):
            p111_driver.download("{scene.evil_url}/files/f1")
    ''')
    out = tmp_path / "out"
    pytester.runpytest_inprocess("--p111-report", str(out), "-p", "no:randomly", "-p", "no:xdist")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    check = next(c for r in report["requirements"] if r["id"] == "P111-TRANSFER" for c in r["checks"])
    assert check["outcome"] == "ERROR" and "sut.trusted_origins" in check["message"], check
    rows = [json.loads(line) for line in (out / "evidence.ndjson").read_text(encoding="utf-8").splitlines()]
    refused = [row for row in rows if row.get("refused")]
    assert refused and refused[-1]["url"].startswith(scene.evil_url) and refused[-1]["status"] == 0
    assert scene.evil.received == []
