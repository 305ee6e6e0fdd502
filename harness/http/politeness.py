"""An httpx transport that treats a real system gently and a hostile one warily (target section `politeness`).

It wraps the transport that really sends (network or in-process) and adds, per client:
- pacing: a minimum interval between requests, overall and per host, so a staging system is never flooded;
- a cap on requests in flight;
- retries of idempotent requests (GET, HEAD) only, after a connection error, 429 or 503, honouring Retry-After;
- a circuit breaker: after N consecutive connection failures nothing more is sent, every request fails at once;
- a body cap and a total time budget per response, so a huge or slowly dripping answer cannot hold a check forever.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from harness.config.target import Politeness
from harness.core.errors import P111Error

IDEMPOTENT = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 503})
# The attempts retried before the answer kept (a response extension) or before giving up (an attribute of the error):
# what EvidenceRecorder shows.
RETRIED = "p111_retried"
# Failures to reach the server at all: what the circuit breaker counts (a TLS refusal arrives as a ConnectError).
CONNECTION_FAILURES: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
# Failures after which an idempotent request is worth sending again: not reaching the server, or losing the
# connection before an answer. A timeout is not retried: more load does not help a slow server.
RETRYABLE: tuple[type[Exception], ...] = (*CONNECTION_FAILURES, httpx.ReadError, httpx.RemoteProtocolError)
BACKOFF_SECONDS = 0.5  # the first wait when the server gave no Retry-After; doubled on each retry


class CircuitOpen(httpx.TransportError, P111Error):
    """The circuit breaker is open: the request was not sent."""


class ResponseTooLarge(httpx.TransportError, P111Error):
    """The response body is larger than politeness.max_body_bytes."""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _is_tls_failure(exc: BaseException) -> bool:
    """A certificate or handshake refusal: deterministic, so never worth retrying."""
    seen: BaseException | None = exc
    visited: set[int] = set()  # a chain may loop: an exception object raised again becomes its own context
    while seen is not None and id(seen) not in visited:
        if isinstance(seen, ssl.SSLError):
            return True
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return "SSL" in str(exc) or "certificate" in str(exc)


class Pacer:
    """At most `per_second` starts per second: each caller reserves the next free slot, then sleeps until it."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:  # reserve under the lock, sleep outside it: other threads reserve later slots meanwhile
            now = self._clock()
            at = max(now, self._next)
            self._next = at + self._interval
        if at > now:
            self._sleep(at - now)


class _GuardedStream(httpx.SyncByteStream):
    """The response body, read under the body cap and the response's deadline."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        request: httpx.Request,
        limit: int,
        deadline: float | None,
        clock: Callable[[], float],
        release: Callable[[], None],
    ) -> None:
        self._inner, self._request, self._limit, self._deadline = inner, request, limit, deadline
        self._clock, self._release = clock, release

    def __iter__(self) -> Iterator[bytes]:
        read = 0
        for chunk in self._arriving():
            read += len(chunk)
            if read > self._limit:
                message = _too_large(self._limit, f"more than {self._limit} bytes read")
                raise ResponseTooLarge(message, request=self._request)
            if self._deadline is not None and self._clock() > self._deadline:
                raise _budget_exceeded(self._request, read)
            yield chunk

    def _arriving(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx.ReadTimeout as exc:  # httpx says only "timed out"
            raise httpx.ReadTimeout(
                "the body stopped arriving for longer than the request timeout (timeouts.request_seconds)",
                request=self._request,
            ) from exc

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._release()


def _too_large(limit: int, seen: str) -> str:
    return (
        f"response body too large: {seen}, the limit is {limit} bytes "
        "(politeness.max_body_bytes in the target); the rest was not read"
    )


def _budget_exceeded(request: httpx.Request, read: int) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(
        f"the response took longer than the request timeout (timeouts.request_seconds) in total; "
        f"{read} bytes of the body had arrived (a server sending its answer too slowly)",
        request=request,
    )


class Shared:
    """What the clients of one run share: the overall pace, the pace and the circuit breaker of each origin. The SUT
    and a counterpart on the same server then count as one server, and a dead one stops every client at once."""

    def __init__(
        self,
        politeness: Politeness,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._politeness, self._clock, self._sleep = politeness, clock, sleep
        self._overall = Pacer(politeness.requests_per_second, clock, sleep) if politeness.requests_per_second else None
        self._per_origin: dict[str, Pacer] = {}
        self._failures: dict[str, int] = {}  # consecutive connection failures, by origin
        self._causes: dict[str, str] = {}  # the last one, named when the breaker is open
        self._lock = threading.Lock()

    def pace(self, origin: str) -> None:
        if self._overall is not None:
            self._overall.wait()
        rate = self._politeness.per_host_requests_per_second
        if rate:
            with self._lock:
                pacer = self._per_origin.setdefault(origin, Pacer(rate, self._clock, self._sleep))
            pacer.wait()

    def check_circuit(self, origin: str) -> None:
        with self._lock:
            failures = self._failures.get(origin, 0)
            if failures >= self._politeness.circuit_breaker_failures:
                raise CircuitOpen(
                    f"circuit breaker open after {failures} consecutive connection failures: "
                    f"{self._causes[origin]}; nothing more is sent to {origin} "
                    "(politeness.circuit_breaker_failures in the target)"
                )

    def note(self, origin: str, failure: BaseException | None) -> None:
        with self._lock:
            if failure is None:
                self._failures[origin] = 0
            else:
                self._failures[origin] = self._failures.get(origin, 0) + 1
                self._causes[origin] = _describe(failure)


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


class PoliteTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport,
        politeness: Politeness,
        request_timeout: float | None = None,
        *,
        shared: Shared | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._inner, self._politeness, self._budget = inner, politeness, request_timeout
        self._clock, self._sleep, self._now = clock, sleep, now
        self._shared = shared or Shared(politeness, clock, sleep)
        # Per client, not shared: a cap shared by clients that wait on one another (a check holding a response
        # while its driver asks a counterpart) could deadlock.
        self._in_flight = threading.BoundedSemaphore(politeness.max_concurrency)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before retrying a 429/503; None when the server asks for longer than we will wait."""
        limit = self._politeness.retry_after_max_seconds
        value = response.headers.get("retry-after", "").strip()
        if not value:
            return min(BACKOFF_SECONDS * 2**attempt, limit)
        try:
            wait = float(value)
        except ValueError:
            try:
                wait = (parsedate_to_datetime(value) - self._now()).total_seconds()
            except (TypeError, ValueError):
                return min(BACKOFF_SECONDS * 2**attempt, limit)
        # Retrying sooner than the server asked would be impolite: beyond the limit the answer stands as it is.
        return max(wait, 0.0) if wait <= limit else None

    def _send_once(self, request: httpx.Request) -> tuple[httpx.Response, Callable[[], None]]:
        """Sends under the concurrency cap; the returned `release` frees the slot (once) when the body is done."""
        self._in_flight.acquire()
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._in_flight.release()

        origin = _origin(request.url)
        try:
            response = self._inner.handle_request(request)
        except httpx.ReadTimeout as exc:
            release()
            # httpx says only "timed out": the report should say what waited for what, and which setting decides.
            raise httpx.ReadTimeout(
                f"no answer within the request timeout ({self._budget} s, timeouts.request_seconds)", request=request
            ) from exc
        except BaseException as exc:
            release()
            if isinstance(exc, CONNECTION_FAILURES):
                self._shared.note(origin, exc)
            raise
        self._shared.note(origin, None)
        return response, release

    # ---- the transport ----

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retried: list[dict[str, object]] = []  # the attempts not kept: the evidence shows them
        try:
            return self._send_politely(request, retried)
        except httpx.TransportError as exc:
            if retried:
                setattr(exc, RETRIED, retried)
            raise

    def _send_politely(self, request: httpx.Request, retried: list[dict[str, object]]) -> httpx.Response:
        retries = self._politeness.max_retries if request.method in IDEMPOTENT else 0  # never resend a change
        origin = _origin(request.url)
        attempt = 0
        while True:
            self._shared.check_circuit(origin)
            self._shared.pace(origin)
            started = self._clock()
            try:
                response, release = self._send_once(request)
            except RETRYABLE as exc:
                if attempt >= retries or _is_tls_failure(exc):
                    raise
                failed: dict[str, object] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                retried.append(failed)
                self._shared.check_circuit(origin)  # no waiting for a retry the breaker would refuse anyway
                wait = min(BACKOFF_SECONDS * 2**attempt, self._politeness.retry_after_max_seconds)
                failed["waited_seconds"] = wait
                self._sleep(wait)
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < retries:
                wait_for = self._retry_wait(response, attempt)
                if wait_for is not None:
                    retry_after = response.headers.get("retry-after")
                    retried.append(
                        {"status": response.status_code, "retry_after": retry_after, "waited_seconds": wait_for}
                    )
                    response.close()
                    release()
                    self._sleep(wait_for)
                    attempt += 1
                    continue
            kept = self._guarded(request, response, release, started)
            if retried:
                kept.extensions = {**kept.extensions, RETRIED: retried}
            return kept

    def _guarded(
        self, request: httpx.Request, response: httpx.Response, release: Callable[[], None], started: float
    ) -> httpx.Response:
        limit = self._politeness.max_body_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            response.close()
            release()
            raise ResponseTooLarge(_too_large(limit, f"Content-Length {length}"), request=request)
        deadline = started + self._budget if self._budget is not None else None
        if deadline is not None and self._clock() > deadline:
            response.close()
            release()
            raise _budget_exceeded(request, 0)
        assert isinstance(response.stream, httpx.SyncByteStream)  # a sync transport answers with a sync stream
        stream = _GuardedStream(response.stream, request, limit, deadline, self._clock, release)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream, extensions=response.extensions
        )

    def close(self) -> None:
        self._inner.close()
