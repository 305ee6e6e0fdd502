"""The one place that builds HTTP clients: every request the harness sends goes through here and is recorded."""

from __future__ import annotations

import httpx

from harness.evidence import EvidenceRecorder
from harness.target import Timeouts


def make_client(
    base_url: str,
    *,
    timeouts: Timeouts,
    recorder: EvidenceRecorder,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        transport=transport,
        headers=headers,
        timeout=httpx.Timeout(timeouts.request, connect=timeouts.connect),
        # A redirect is the SUT's answer, to be judged; never followed blindly (it may lead off the target).
        follow_redirects=False,
        event_hooks={"response": [recorder.record]},
    )
