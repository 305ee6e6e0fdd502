"""The one place that builds HTTP clients: every request the harness sends goes through here and is recorded."""

from __future__ import annotations

import weakref

import httpx

from harness.evidence import EvidenceRecorder
from harness.politeness import PoliteTransport, Shared
from harness.recording import Tap
from harness.target import Politeness, Timeouts
from harness.verdicts import NotTested

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


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
) -> httpx.Client:
    def sending() -> httpx.BaseTransport | None:
        if politeness is None:
            return transport  # None: httpx's own
        # Pacing, retries, the circuit breaker, the body cap and the total time budget wrap whatever really sends.
        return PoliteTransport(
            transport or httpx.HTTPTransport(), politeness, timeouts.request, shared=_shared(politeness)
        )

    # `--record` keeps every exchange as the client sees it; `--replay` answers from the recording, and then nothing
    # that sends is even built (harness.recording).
    return httpx.Client(
        base_url=base_url,
        transport=_NoAnswerEvidence(
            tap.wrap(base_url, lambda: sending() or httpx.HTTPTransport()) if tap is not None
            else sending() or httpx.HTTPTransport(),
            recorder,
        ),
        headers=headers,
        timeout=httpx.Timeout(timeouts.request, connect=timeouts.connect),
        # A redirect is the SUT's answer, to be judged; never followed blindly (it may lead off the target).
        follow_redirects=False,
        event_hooks={"request": [read_only_guard] if read_only else [], "response": [recorder.record]},
    )
