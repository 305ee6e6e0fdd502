"""PoliteTransport on its own, over a tiny in-process transport, with an injected clock: no real waiting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from harness.config.target import Politeness, Timeouts
from harness.http.client import make_client
from harness.http.evidence import EvidenceRecorder
from harness.http.politeness import CircuitOpen, PoliteTransport, ResponseTooLarge
from harness.http.redaction import Redactor

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FakeClock:
    """monotonic() and sleep() in one: sleeping only moves the clock on, and is remembered."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class Server(httpx.BaseTransport):
    """Answers from `answer(request, n)`, counts what it was sent, and remembers when (on the fake clock)."""

    def __init__(self, answer: Callable[[httpx.Request, int], httpx.Response], clock: FakeClock) -> None:
        self.answer, self.clock = answer, clock
        self.sent: list[tuple[str, str, float]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, str(request.url), self.clock.now))
        return self.answer(request, len(self.sent))


def client(
    answer: Callable[[httpx.Request, int], httpx.Response], budget: float | None = 10.0, **settings: object
) -> tuple[httpx.Client, Server, FakeClock]:
    clock = FakeClock()
    server = Server(answer, clock)
    transport = PoliteTransport(
        server, Politeness(**settings), budget, clock=clock, sleep=clock.sleep, now=lambda: NOW  # type: ignore[arg-type]
    )
    return httpx.Client(transport=transport, base_url="http://sut.test"), server, clock


def ok(request: httpx.Request, n: int) -> httpx.Response:
    return httpx.Response(200, json={"n": n})


def test_overall_rate_spaces_requests_by_the_interval():
    http, server, _ = client(ok, requests_per_second=4)
    for _ in range(5):
        http.get("/a")
    starts = [at for _, _, at in server.sent]
    assert [round(b - a, 6) for a, b in zip(starts, starts[1:], strict=False)] == [0.25] * 4


def test_per_host_rate_paces_each_host_on_its_own():
    http, server, clock = client(ok, per_host_requests_per_second=2)
    http.get("http://a.test/")
    http.get("http://b.test/")  # another host: no wait
    assert clock.sleeps == []
    http.get("http://a.test/")
    assert clock.sleeps == [0.5]


def test_a_get_answered_503_is_retried_after_retry_after():
    answers = iter([503, 503, 200])

    def burst(request, n):
        status = next(answers)
        return httpx.Response(status, headers={"retry-after": "3"} if status == 503 else {}, json={})

    http, server, clock = client(burst, max_retries=2)
    assert http.get("/api/procedures").status_code == 200
    assert len(server.sent) == 3 and clock.sleeps == [3.0, 3.0]


def test_retry_after_as_an_http_date_and_without_one():
    def dated(request, n):
        if n == 1:
            later = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
            return httpx.Response(429, headers={"retry-after": later})
        return httpx.Response(503) if n == 2 else httpx.Response(200)

    http, server, clock = client(dated, max_retries=2)
    assert http.get("/").status_code == 200
    assert clock.sleeps == [7.0, 1.0]  # the date's 7 s; then the back-off (0.5 s doubled on the second retry)


def test_a_retry_after_beyond_the_limit_is_not_waited_for():
    http, server, clock = client(
        lambda r, n: httpx.Response(503, headers={"retry-after": "120"}), retry_after_max_seconds=30
    )
    assert http.get("/").status_code == 503
    assert len(server.sent) == 1 and clock.sleeps == []


def test_retries_stop_at_max_retries():
    http, server, _ = client(lambda r, n: httpx.Response(503, headers={"retry-after": "0"}), max_retries=2)
    assert http.get("/").status_code == 503
    assert len(server.sent) == 3


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_change_is_never_retried(method):
    http, server, clock = client(lambda r, n: httpx.Response(503, headers={"retry-after": "1"}), max_retries=3)
    assert http.request(method, "/api/dossiers", json={}).status_code == 503
    assert len(server.sent) == 1 and clock.sleeps == []


def refused(request: httpx.Request, n: int) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def test_the_circuit_breaker_opens_names_the_cause_and_stops_sending():
    http, server, _ = client(refused, max_retries=0, circuit_breaker_failures=3)
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            http.get("/")
    for _ in range(5):
        with pytest.raises(CircuitOpen) as raised:
            http.get("/")
    assert len(server.sent) == 3
    message = str(raised.value)
    assert "circuit breaker open after 3 consecutive connection failures" in message
    assert "ConnectError: [Errno 111] Connection refused" in message


def test_retried_connection_failures_count_towards_the_breaker():
    http, server, clock = client(refused, max_retries=2, circuit_breaker_failures=2)
    with pytest.raises(CircuitOpen):
        http.get("/")
    assert len(server.sent) == 2 and clock.sleeps == [0.5]


def test_a_success_resets_the_breaker():
    def flaky(request, n):
        return refused(request, n) if n % 2 else ok(request, n)

    http, server, _ = client(flaky, max_retries=0, circuit_breaker_failures=2)
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            http.get("/")
        assert http.get("/").status_code == 200
    assert len(server.sent) == 6


def test_a_tls_failure_is_not_retried_and_opens_the_breaker():
    def tls(request, n):
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request)

    http, server, _ = client(tls, max_retries=3, circuit_breaker_failures=1)
    with pytest.raises(httpx.ConnectError):
        http.get("/")
    with pytest.raises(CircuitOpen, match="CERTIFICATE_VERIFY_FAILED"):
        http.get("/")
    assert len(server.sent) == 1


class Unread(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        raise AssertionError("the body was read")


def test_a_content_length_above_the_cap_fails_before_reading():
    http, _, _ = client(
        lambda r, n: httpx.Response(200, headers={"content-length": "5000"}, stream=Unread()), max_body_bytes=4096
    )
    with pytest.raises(ResponseTooLarge) as raised:
        http.get("/")
    assert "Content-Length 5000" in str(raised.value) and "4096" in str(raised.value)
    assert "politeness.max_body_bytes" in str(raised.value)


class Chunks(httpx.SyncByteStream):
    """A streamed body without Content-Length; each chunk moves the fake clock on by `step` seconds."""

    def __init__(self, chunks: list[bytes], clock: FakeClock | None = None, step: float = 0.0) -> None:
        self.chunks, self.clock, self.step, self.read = chunks, clock, step, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.clock:
                self.clock.now += self.step
            self.read += 1
            yield chunk


def test_a_streamed_body_is_cut_at_the_cap():
    stream = Chunks([b"x" * 1024] * 10)
    http, _, _ = client(lambda r, n: httpx.Response(200, stream=stream), max_body_bytes=4096)
    with pytest.raises(ResponseTooLarge, match="more than 4096 bytes"):
        http.get("/")
    assert stream.read == 5  # stopped at the first chunk past the cap


def test_a_slow_drip_exceeds_the_total_budget():
    holder: dict[str, Chunks] = {}

    def drip(request, n):
        holder["stream"] = Chunks([b" "] * 100, clock=clock, step=1.0)  # a byte a second: each read is quick
        return httpx.Response(200, stream=holder["stream"])

    http, _, clock = client(drip, budget=5.0)
    with pytest.raises(httpx.ReadTimeout, match="longer than the request timeout"):
        http.get("/")
    assert holder["stream"].read == 6


def test_a_timeout_says_which_setting_it_was():
    def slow(request, n):
        raise httpx.ReadTimeout("timed out", request=request)

    http, server, _ = client(slow, budget=2.0, max_retries=3)
    with pytest.raises(httpx.ReadTimeout, match=r"no answer within the request timeout \(2.0 s, timeouts\."):
        http.get("/")
    assert len(server.sent) == 1  # a slow server is not asked again


class Stalls(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"["
        raise httpx.ReadTimeout("timed out")


def test_a_body_that_stops_arriving_says_so():
    http, _, _ = client(lambda r, n: httpx.Response(200, stream=Stalls()))
    with pytest.raises(httpx.ReadTimeout, match="the body stopped arriving"):
        http.get("/")


def test_the_concurrency_slot_is_given_back_after_each_response():
    def answer(request, n):
        return httpx.Response(200, content=b"x" * 5000) if request.url.path == "/big" else ok(request, n)

    http, server, _ = client(answer, max_concurrency=1, max_body_bytes=4096)
    for _ in range(3):
        assert http.get("/").json() == {"n": len(server.sent)}
    with pytest.raises(ResponseTooLarge):
        http.get("/big")
    assert http.get("/").status_code == 200  # a refused body gave its slot back too (else this would block)


def test_make_client_wraps_the_given_transport_and_records_through_it():
    recorder = EvidenceRecorder(Redactor())
    inner = httpx.MockTransport(lambda request: httpx.Response(302, headers={"location": "http://127.0.0.2:9/"}))
    with make_client(
        "http://sut.test", timeouts=Timeouts(1, 2, 1), recorder=recorder, transport=inner, politeness=Politeness()
    ) as http:
        # inside the no-answer evidence and the origin guard
        assert isinstance(http._transport._inner._inner, PoliteTransport)
        assert http.get("/").status_code == 302  # a redirect is the SUT's answer: not followed
    assert [e["url"] for e in recorder.exchanges] == ["http://sut.test/"]


def test_a_request_that_got_no_answer_is_evidence_with_its_retries():
    recorder = EvidenceRecorder(Redactor(["s3cr3t"]))

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    settings = Politeness(max_retries=1, circuit_breaker_failures=5)
    with make_client(
        "http://sut.test", timeouts=Timeouts(1, 2, 1), recorder=recorder, transport=httpx.MockTransport(down),
        politeness=settings,
    ) as http:
        http._transport._inner._inner._sleep = lambda seconds: None  # no real back-off in a unit test
        with pytest.raises(httpx.ConnectError):
            http.get("/api/procedures", params={"token": "s3cr3t"})
    (exchange,) = recorder.exchanges
    assert exchange["status"] == 0 and exchange["error"] == "ConnectError: [Errno 111] Connection refused"
    assert [r["error"] for r in exchange["retried"]] == ["ConnectError: [Errno 111] Connection refused"]
    assert "s3cr3t" not in repr(recorder.final())


def test_clients_of_one_run_share_the_breaker_of_an_origin():
    recorder = EvidenceRecorder(Redactor())
    politeness, other_run = Politeness(max_retries=0, circuit_breaker_failures=1), Politeness(max_retries=0)
    sent: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    def build(settings: Politeness, url: str) -> httpx.Client:
        return make_client(
            url, timeouts=Timeouts(1, 2, 1), recorder=recorder, transport=httpx.MockTransport(down), politeness=settings
        )

    sut, portal = build(politeness, "http://dead.test:8000"), build(politeness, "http://dead.test:8000")
    elsewhere, next_run = build(politeness, "http://alive.test"), build(other_run, "http://dead.test:8000")
    with pytest.raises(httpx.ConnectError):
        sut.get("/api/procedures")
    with pytest.raises(CircuitOpen, match="nothing more is sent to http://dead.test:8000"):
        portal.get("/_p111/catalog")  # the same server: not even tried
    with pytest.raises(httpx.ConnectError):
        elsewhere.get("/")  # another origin has its own breaker
    with pytest.raises(httpx.ConnectError):
        next_run.get("/")  # and another run (other settings object) starts afresh
    assert len(sent) == 3
