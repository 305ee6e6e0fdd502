"""The one place that builds HTTP clients: every request the harness sends goes through here and is recorded."""

from __future__ import annotations

import weakref

import httpx

from harness.config.target import Politeness, Refusals, Timeouts
from harness.core.errors import P111Error
from harness.core.verdicts import NotTested
from harness.http.evidence import EvidenceRecorder
from harness.http.politeness import PoliteTransport, Shared
from harness.http.recording import Tap

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_PORTS = {"http": 80, "https": 443}
TRUSTED_SETTING = "sut.trusted_origins"


class OffOrigin(P111Error):
    """A request to an origin that is neither the client's own nor one the target trusts: refused before sending.
    Not a transport error (nothing was tried, nothing is retried); a check meeting it ends ERROR naming the setting."""


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) parsed, the port made explicit: `http://sut:80@evil/` is evil's, whatever its prefix."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    scheme = parsed.scheme.lower()
    return scheme, parsed.host.lower().rstrip("."), parsed.port or DEFAULT_PORTS.get(scheme)


def lies_under(url: str, base: str | httpx.URL) -> bool:
    """`url` is absolute, at `base`'s origin (parsed: `http://sso:80@evil/` is evil's, whatever its prefix) and under
    its path. How the harness judges where the SUT sends a browser (a `Location`), which it never follows."""
    try:
        parsed, home = httpx.URL(url), httpx.URL(str(base))
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    prefix = home.path.rstrip("/") + "/"
    return parsed.is_absolute_url and origin(parsed) == origin(home) and (parsed.path + "/").startswith(prefix)


def to_own_page(answer: httpx.Response, path: str | None = None) -> bool:
    """`answer` redirects (3xx with a Location) to the origin that was asked, under `path` if given: the system
    sending a browser to a page of its own, e.g. its login page. The Location is resolved against the request, never
    followed; one to another origin is never the system's own page."""
    location = answer.headers.get("location")
    if not answer.is_redirect or not location:
        return False
    try:
        target = answer.request.url.join(location)
    except (httpx.InvalidURL, ValueError):
        return False
    asked = answer.request.url
    return lies_under(str(target), asked.copy_with(path=path or "/", query=None, fragment=None))


def refused(answer: httpx.Response, refusals: Refusals) -> bool:
    """The system refusing a caller without a valid session, as the target declares it (sut.refusals): one of its
    statuses, or, where it declares a login page, a redirect to that page at its own origin. Any other redirect may
    be an acceptance (Post/Redirect/Get), so it is never taken for a refusal."""
    return answer.status_code in refusals.statuses or (
        refusals.login_redirect is not None and to_own_page(answer, refusals.login_redirect)
    )


def origin_text(key: tuple[str, str, int | None]) -> str:
    scheme, host, port = key
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != DEFAULT_PORTS.get(scheme) else "")


class _OriginGuard(httpx.BaseTransport):
    """Credentials stay home. The client's headers, cookies and every session the checks present belong to the
    client's own origin (or one the target trusts): a request anywhere else - an absolute URL the SUT put in its
    OpenAPI document, a file link, an inbox item, a payment page, a sign-on redirect - is refused before anything is
    sent (so neither a credential nor a write ever leaves), and the refusal is evidence."""

    def __init__(
        self, inner: httpx.BaseTransport, home: frozenset[tuple[str, str, int | None]], recorder: EvidenceRecorder
    ) -> None:
        self._inner = inner
        self._home = home
        self._recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        there = origin(request.url)
        if there not in self._home:
            error = OffOrigin(
                "không gửi tới nguồn ngoài hệ thống / refused before sending: "
                f"{request.method} to {origin_text(there)}, "
                f"which is not the system's origin ({', '.join(sorted(origin_text(h) for h in self._home))}) nor "
                f"declared in {TRUSTED_SETTING}; nothing was sent (declare it there if it is the system's own, "
                "e.g. its file store)"
            )
            self._recorder.record_refusal(request, error)
            raise error
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def read_only_guard(request: httpx.Request) -> None:
    """In safety mode read-only, a check that would change the SUT is not run (NOT-TESTED), nothing is sent."""
    if request.method not in READ_ONLY_METHODS:
        raise NotTested(
            f"safety.mode read-only: {request.method} {request.url.path} would change the SUT; "
            "set safety.mode: full (staging or test only) to run this check"
        )


# The clients built from one target's politeness settings (one run) share pacing and circuit breakers; keyed by the
# settings object itself, so that runs in one process (the self-test matrix) never share a breaker.
_SHARED: dict[int, Shared] = {}


def _shared(politeness: Politeness) -> Shared:
    key = id(politeness)
    if key not in _SHARED:
        _SHARED[key] = Shared(politeness)
        weakref.finalize(politeness, _SHARED.pop, key, None)  # forgotten with the target, before its id is reused
    return _SHARED[key]


class _NoAnswerEvidence(httpx.BaseTransport):
    """Outermost: a request that got no answer at all is evidence too (the response hook never sees it)."""

    def __init__(self, inner: httpx.BaseTransport, recorder: EvidenceRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except httpx.TransportError as exc:
            self._recorder.record_failure(request, exc)
            raise

    def close(self) -> None:
        self._inner.close()


def make_client(
    base_url: str,
    *,
    timeouts: Timeouts,
    recorder: EvidenceRecorder,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
    read_only: bool = False,
    politeness: Politeness | None = None,
    tap: Tap | None = None,
    trusted_origins: tuple[str, ...] = (),
) -> httpx.Client:
    """A client of `base_url`: it sends only to that origin and to `trusted_origins` (anything else is refused,
    `OffOrigin`), follows no redirect, and records every exchange."""
    home = frozenset({origin(base_url), *(origin(url) for url in trusted_origins)})

    def sending() -> httpx.BaseTransport | None:
        if politeness is None:
            return transport  # None: httpx's own
        # Pacing, retries, the circuit breaker, the body cap and the total time budget wrap whatever really sends.
        return PoliteTransport(
            transport or httpx.HTTPTransport(), politeness, timeouts.request, shared=_shared(politeness)
        )

    # `--record` keeps every exchange as the client sees it; `--replay` answers from the recording, and then nothing
    # that sends is even built (harness.http.recording).
    return httpx.Client(
        base_url=base_url,
        transport=_NoAnswerEvidence(
            _OriginGuard(
                tap.wrap(base_url, lambda: sending() or httpx.HTTPTransport()) if tap is not None
                else sending() or httpx.HTTPTransport(),
                home,
                recorder,
            ),
            recorder,
        ),
        headers=headers,
        timeout=httpx.Timeout(timeouts.request, connect=timeouts.connect),
        # A redirect is the SUT's answer, to be judged; never followed blindly (it may lead off the target).
        follow_redirects=False,
        event_hooks={"request": [read_only_guard] if read_only else [], "response": [recorder.record]},
    )
