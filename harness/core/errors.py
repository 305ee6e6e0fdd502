"""The one root of harness's own errors: `P111Error`. Each error class lives beside the code that raises it (its
message and fields belong to that code) and subclasses `P111Error`; this is the list of them
(tests/test_errors.py keeps it whole). Catch `P111Error` to catch "the harness or its input is wrong".

Configuration and input (a usage error: one line, exit 2):
- `harness.config.errors.TargetError` — every problem of one target file, never a secret's value.
- `harness.core.catalog.CatalogError` — the catalog breaks its schema or its own rules.
- `harness.core.limits.BadInput` — an input too large or nested too deep.
- `harness.core.schemas.MessageInvalid` — a message that does not match its schema.
- `harness.http.recording.RecordingError` — a recording that cannot be written or read.
- `harness.reporting.manifest.KeyFileError` — a signing key that cannot be read.
- `harness.cli.serving.NotServable` — `p111 mocks serve` cannot listen where the target says (beyond loopback).
- `harness.metrics.files.DatasetError`, `harness.metrics.definitions.DefinitionsError`,
  `harness.metrics.score766.ReplyError`, `harness.metrics.synth.figures.SynthError` (also a ValueError) — the
  metrics' inputs.

While a check runs (the check ends ERROR: it cannot judge the SUT):
- `harness.sut.drivers.base.DriverError` (and `harness.sut.drivers.operator.StepTimedOut`) — the driver could not
  make the SUT act; `harness.sut.drivers.base.NoSignOnOffered`, one of them, says the SUT sends nobody to the
  sign-on (the one login failure a check may read as "no sign-on").
- `harness.sut.observers.ObserverError` — a counterpart cannot be observed.
- `harness.core.limits.TooDeep` (also a ValueError) — a JSON answer of the SUT's nested too deep: its callers take
  it as an answer that is not the JSON they need, as bad JSON is; the evidence keeps its size and digest.
- `harness.http.client.OffOrigin` — a request to an origin the target does not trust, refused before sending.
- `harness.http.politeness.CircuitOpen`, `harness.http.politeness.ResponseTooLarge`,
  `harness.http.recording.ReplayMiss` — also `httpx.TransportError`s, so that the client's callers treat them as
  the transport failing (no answer), which is what they are.

A bug of the harness:
- `harness.reporting.report.ReportInvalid` — the harness built a report its own schema refuses.

Not errors of the harness, on purpose outside this root (harness.core.verdicts): `Failure` is an `AssertionError`
— the SUT broke a requirement, the check is FAILED; `NotApplicable`, `NotTested` and `NeedsReview` are pytest skips
that end a check NOT-APPLICABLE, NOT-TESTED or REVIEW; `ConformanceWarning` is a warning, never a failure.
"""

from __future__ import annotations


class P111Error(Exception):
    """The harness or its input is wrong (never the SUT: that is harness.core.verdicts.Failure)."""
