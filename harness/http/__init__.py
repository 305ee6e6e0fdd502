"""Everything that crosses the wire: the one HTTP client factory (origin guard, no redirects), politeness
(pacing, retries, circuit breaker), record/replay, the in-process ASGI transport, evidence and its redaction.
May import `harness.core` and `harness.config`."""
