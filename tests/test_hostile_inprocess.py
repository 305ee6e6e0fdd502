"""The hostile behaviours again, in-process with respx: the whole client stack (make_client, politeness, evidence)
and the driver on top, in milliseconds. tests/test_hostile.py runs the same behaviours from a real loopback server
under a real `p111 run`; here each one is pinned to the driver's message and the evidence it leaves."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from harness.config.target import Politeness, Timeouts
from harness.http.client import make_client
from harness.http.evidence import EvidenceRecorder
from harness.http.redaction import Redactor
from harness.sut.drivers import DriverError, ReferenceApiDriver, Session

SUT = "http://sut.test"
LIST = f"{SUT}/api/procedures"
JSON = {"content-type": "application/json"}
CAP = 1024  # politeness.max_body_bytes, small so that a "huge" body stays small here


def answers(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A route that answers each request with the next of `responses` (an exception is raised, as a transport
    would), the last one again once they run out."""
    left = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        current = left.pop(0) if len(left) > 1 else left[0]
        if isinstance(current, Exception):
            raise current
        return current

    return answer


# mode → (what the SUT does, what the driver's message must say)
MODES: dict[str, tuple[Callable[[httpx.Request], httpx.Response], str]] = {
    "timeout": (answers(httpx.ReadTimeout("timed out")), "did not answer (ReadTimeout"),
    "reset": (answers(httpx.ReadError("[Errno 104] Connection reset by peer")), "Connection reset by peer"),
    "malformed-json": (answers(httpx.Response(200, text='{"items": [', headers=JSON)), "not JSON"),
    "wrong-content-type": (answers(httpx.Response(200, text="<html>bảo trì</html>")), "not JSON (Content-Type text"),
    "huge-body": (answers(httpx.Response(200, content=b"[" + b"0," * CAP + b"0]")), "response body too large"),
    "redirect-elsewhere": (answers(httpx.Response(302, headers={"location": "http://elsewhere.test/"})),
                           "a redirect to http://elsewhere.test/, not followed"),
    "redirect-loop": (answers(httpx.Response(302, headers={"location": LIST})), f"a redirect to {LIST}, not followed"),
    "tls-failure": (answers(httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")),
                    "CERTIFICATE_VERIFY_FAILED"),
    "5xx-burst": (answers(*[httpx.Response(503, headers={"retry-after": "0"})] * 3), "got 503"),
    "invalid-utf8": (answers(httpx.Response(200, content=b'{"a": "\xff\xfe"}', headers=JSON)), "not JSON"),
}


def client_and_driver(route: Callable[[httpx.Request], httpx.Response]) -> tuple[EvidenceRecorder, ReferenceApiDriver]:
    router = respx.Router()
    router.get(LIST).mock(side_effect=route)
    recorder = EvidenceRecorder(Redactor())
    client = make_client(
        SUT,
        timeouts=Timeouts(1, 2, 1),
        recorder=recorder,
        transport=httpx.MockTransport(router.handler),
        politeness=Politeness(max_retries=1, retry_after_max_seconds=1, max_body_bytes=CAP),
    )
    signed_on = {role: Session(f"{role}-1", {"authorization": "Bearer test"}) for role in ("citizen", "officer")}
    return recorder, ReferenceApiDriver(client, sessions=signed_on)


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_answer_is_a_driver_error_in_plain_words_with_evidence(mode: str):
    route, says = MODES[mode]
    recorder, driver = client_and_driver(route)
    with pytest.raises(DriverError) as raised:
        driver.services()
    assert says in str(raised.value)
    (exchange,) = recorder.exchanges  # one request, never a second host: redirects are not followed
    assert exchange["url"] == LIST


def test_a_burst_of_503_is_retried_once_then_judged_with_the_retry_in_the_evidence():
    recorder, driver = client_and_driver(MODES["5xx-burst"][0])
    with pytest.raises(DriverError):
        driver.services()
    (exchange,) = recorder.exchanges
    assert exchange["status"] == 503 and [r["status"] for r in exchange["retried"]] == [503]


@pytest.mark.parametrize("mode", ["timeout", "reset", "tls-failure", "huge-body"])
def test_no_usable_answer_is_evidence_with_status_0_and_the_error(mode: str):
    recorder, driver = client_and_driver(MODES[mode][0])
    with pytest.raises(DriverError):
        driver.services()
    (exchange,) = recorder.exchanges
    assert exchange["status"] == 0 and exchange["error"]
