"""Unit tests of the harness's parts: verdicts, lifecycle data, redaction, evidence, the in-process bridge,
the driver and the observer against odd answers (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.core import limits
from harness.core.lifecycle import load_lifecycle
from harness.core.verdicts import Failure, NotApplicable, NotTested, Verdict, combine, outcome_of
from harness.http.evidence import EvidenceRecorder
from harness.http.inprocess import BlockingASGITransport
from harness.http.redaction import REDACTED, Redactor
from harness.sut.drivers import DriverError, ReferenceApiDriver, Session
from harness.sut.observers import ObserverError, PortalObserver

V = Verdict


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], V.NOT_TESTED),
        ([V.PASSED, V.PASSED], V.PASSED),
        ([V.PASSED, V.FAILED, V.ERROR], V.FAILED),
        ([V.PASSED, V.ERROR], V.ERROR),
        ([V.PASSED, V.NOT_TESTED], V.NOT_TESTED),
        ([V.NOT_APPLICABLE, V.NOT_APPLICABLE], V.NOT_APPLICABLE),
        ([V.NOT_APPLICABLE, V.PASSED], V.PASSED),
    ],
)
def test_combine(outcomes, expected):
    assert combine(outcomes) is expected


def test_failure_is_an_assertion_with_expected_and_received():
    failure = Failure("code malformed", expected="yyMMdd", received="yyyyMMdd", evidence="item #2")
    assert isinstance(failure, AssertionError)
    assert str(failure) == "code malformed\nExpected: yyMMdd\nReceived: yyyyMMdd\nEvidence: item #2"


def test_whatever_a_check_quotes_of_the_sut_is_bounded_in_every_verdicts_message():
    """A Failure's four parts, a bare assert's text and any other verdict's message are each cut at the limit, the
    cut marked: the SUT's text is copied into every output, so its length must not set theirs."""
    huge = "x" * 3_000_000
    failure = Failure(huge, expected=huge, received=huge, evidence=huge)
    left_out = len(huge) - limits.MAX_QUOTED_CHARS
    cut = f"… [cắt {left_out} ký tự / {left_out} characters cut]"
    kept = huge[: limits.MAX_QUOTED_CHARS] + cut
    assert {failure.summary, failure.expected, failure.received, failure.evidence} == {kept}
    bound = 4 * (limits.MAX_QUOTED_CHARS + len(cut) + len("Expected: "))
    assert len(outcome_of(failure, when="call", skipped=False).message or "") < bound
    for exc, when, skipped in [(AssertionError(huge), "call", False), (DriverError(huge), "setup", False),
                               (NotTested(huge), "call", True), (NotApplicable(huge), "call", True)]:
        message = outcome_of(exc, when=when, skipped=skipped).message or ""
        assert message.endswith(cut) and len(message) < limits.MAX_QUOTED_CHARS + 100, type(exc)
    assert limits.quoted("short") == "short" and limits.quoted("a" * 4000) == "a" * 4000
    # A list the harness built of parts each quoted already (the fuzzer's findings) is kept whole: no finding lost.
    findings = limits.quoted_each((f"finding {n}: {huge}" for n in range(3)), "; ")
    assert Failure("s", expected="e", received=findings).received == findings and "finding 2" in findings
    many = limits.quoted_each((f"finding {n}: {huge}" for n in range(200)), "; ")  # bounded all the same
    assert "finding 49:" in many and "finding 50:" not in many and many.endswith("150 more)")
    assert len(many) < limits.MAX_QUOTED_PARTS * (limits.MAX_QUOTED_CHARS + 100)


class TestLifecycle:
    lifecycle = load_lifecycle()

    @pytest.mark.parametrize(("current", "new"), [("1", "2"), ("2", "9"), ("9", "10"), ("5", "4"), ("6", "4")])
    def test_lawful(self, current, new):
        assert self.lifecycle.allows(current, new)

    @pytest.mark.parametrize(
        ("current", "new"),
        [("10", "4"), ("1", "4"), ("1", "9"), ("4", "10"), ("9", "3"), ("7", "2"), ("3", "2"), ("8", "4")],
    )
    def test_unlawful(self, current, new):
        assert not self.lifecycle.allows(current, new)

    def test_terminal_states_have_no_way_out(self):
        for status in ("3", "7", "8", "10"):
            assert self.lifecycle.transitions[status] == frozenset()
        assert self.lifecycle.transitions["9"] == frozenset({"10"})

    def test_every_action_leads_to_a_known_status(self):
        for action in self.lifecycle.actions.values():
            assert action.to == "resume" or action.to in self.lifecycle.statuses

    def test_rule_is_quotable(self):
        assert (
            self.lifecycle.rule("10")
            == "lifecycle.yaml: from 10 (Đã trả kết quả) the lawful moves are: none (end state)"
        )


class TestRedaction:
    def test_sensitive_fields_headers_and_secret_values(self):
        redactor = Redactor(["s3cr3t-canary"])
        data = {
            "password": "hunter2",
            "SoDinhDanh": "001099000001",
            "nested": [{"Email": "a@b.vn"}],
            "note": "token is s3cr3t-canary here",
            "MaHoSo": "000.00.06.H40-261127-0001",
            "SoDienThoai": "",
        }
        clean = redactor.data(data)
        assert clean["password"] == clean["SoDinhDanh"] == clean["nested"][0]["Email"] == REDACTED
        assert clean["note"] == f"token is {REDACTED} here"
        assert clean["MaHoSo"] == data["MaHoSo"]
        assert clean["SoDienThoai"] == "", "nothing to hide in an empty field"
        headers = redactor.headers([("Authorization", "Bearer abc"), ("X-Trace", "s3cr3t-canary")])
        assert headers == {"Authorization": REDACTED, "X-Trace": REDACTED}

    def test_longest_secret_first(self):
        assert Redactor(["abc", "abcdef"]).text("xabcdefx") == f"x{REDACTED}x"


def _echo_app() -> Starlette:
    async def echo(request):
        return JSONResponse({"got": (await request.json()), "path": request.url.path})

    async def boom(request):
        raise RuntimeError("bug in the SUT")

    return Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/boom", boom)])


def test_inprocess_bridge_serves_a_sync_client_and_turns_crashes_into_500():
    recorder = EvidenceRecorder(Redactor(["canary-secret"]))
    with start_blocking_portal() as loop:
        client = httpx.Client(
            base_url="http://sut.embedded",
            transport=BlockingASGITransport(loop, _echo_app()),
            event_hooks={"response": [recorder.record]},
        )
        recorder.current_check = "check-1"
        answer = client.post("/echo", json={"password": "canary-secret", "MaHoSo": "x"})
        assert answer.json() == {"got": {"password": "canary-secret", "MaHoSo": "x"}, "path": "/echo"}
        assert client.get("/boom").status_code == 500
    first = recorder.exchanges[0]
    assert first["check"] == "check-1" and first["status"] == 200
    assert "canary-secret" not in repr(recorder.exchanges)
    assert recorder.for_check("check-1") == [1, 2]


class TestDriverAgainstOddAnswers:
    def driver(self, router: respx.Router) -> ReferenceApiDriver:
        signed_on = {role: Session(f"{role}-1", {"authorization": "Bearer test"}) for role in ("citizen", "officer")}
        return ReferenceApiDriver(
            httpx.Client(base_url="http://sut.test", transport=httpx.MockTransport(router.handler)),
            sessions=signed_on,
        )

    def test_server_error_on_submit_is_a_driver_error(self):
        router = respx.Router()
        router.post("http://sut.test/api/dossiers").respond(500)
        with pytest.raises(DriverError, match="expected HTTP 201, got 500"):
            self.driver(router).submit("1.001193")

    def test_garbage_body(self):
        router = respx.Router()
        router.get("http://sut.test/api/procedures").respond(200, text="<html>oops</html>")
        with pytest.raises(DriverError, match="not JSON"):
            self.driver(router).services()

    def test_wrong_shape(self):
        router = respx.Router()
        router.get("http://sut.test/api/dossiers/X").respond(200, json={"code": "X"})
        with pytest.raises(DriverError, match="shape"):
            self.driver(router).get("X")

    def test_timeout(self):
        router = respx.Router()
        router.get("http://sut.test/api/procedures").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(DriverError, match="did not answer"):
            self.driver(router).services()

    def test_refusal_is_reported_not_raised(self):
        router = respx.Router()
        router.post("http://sut.test/api/dossiers/X/actions/return").respond(409, json={"message": "not finished"})
        result = self.driver(router).act("X", "return")
        assert not result.accepted and result.http_status == 409 and result.message == "not finished"

    def test_redirect_is_not_followed(self):
        router = respx.Router()
        router.get("http://sut.test/api/procedures").respond(302, headers={"Location": "http://elsewhere.test/"})
        with pytest.raises(DriverError, match="got 302"):
            self.driver(router).services()


def test_observer_refuses_a_portal_it_cannot_observe():
    router = respx.Router()
    router.get("http://portal.test/_p111/dossiers").respond(404)
    observer = PortalObserver(
        httpx.Client(base_url="http://portal.test", transport=httpx.MockTransport(router.handler)), sync_seconds=0.1
    )
    with pytest.raises(ObserverError, match="not observable"):
        observer.dossiers("X")


def test_observer_waits_for_a_late_sync():
    router = respx.Router()
    router.get("http://portal.test/_p111/dossiers").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[]), httpx.Response(200, json=[{"seq": 1}])]
    )
    observer = PortalObserver(
        httpx.Client(base_url="http://portal.test", transport=httpx.MockTransport(router.handler)), sync_seconds=5
    )
    assert observer.wait(lambda: observer.dossiers("X"), bool) == [{"seq": 1}]


def test_the_sign_on_counterpart_shows_a_person_one_link_per_test_account():
    """Operator mode in a browser: without login_hint the authorization endpoint shows a page; following an account's
    link is the same authorization request with that account, which the counterpart then approves."""
    import re
    from html import unescape

    from mocks.sso import SsoClient, SsoSettings, create_sso_app

    app = create_sso_app(SsoSettings("http://sso.test", (SsoClient("sut", "s3cr3t", ("http://sut.test/",)),)))
    query = "client_id=sut&redirect_uri=http%3A%2F%2Fsut.test%2Fcb&response_type=code&scope=openid&state=st"
    with start_blocking_portal() as loop:
        sso = httpx.Client(base_url="http://sso.test", transport=BlockingASGITransport(loop, app))
        page = sso.get(f"/oauth2/authorize?{query}")
        assert page.status_code == 200 and "citizen-1" in page.text
        link = unescape(next(h for h in re.findall(r"href='([^']+)'", page.text) if "login_hint=citizen-1" in h))
        back = sso.get(f"/oauth2/authorize{link}")
    assert back.status_code == 302 and back.headers["location"].startswith("http://sut.test/cb?")
    assert "code=" in back.headers["location"] and "state=st" in back.headers["location"]
