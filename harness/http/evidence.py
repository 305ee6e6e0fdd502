"""Records every HTTP exchange the harness makes, redacted, attributed to the check that made it."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from harness.core import limits
from harness.core.formats import vietnam_now
from harness.core.inert import json_line
from harness.http.politeness import RETRIED
from harness.http.redaction import Redactor
from harness.http.secret_forms import without_lone_surrogates

MAX_BODY_CHARS = 20_000  # evidence keeps the start of a long body; the rest is summarised by its length
# A JSON body bigger than this (a page of a year's export) is summarised, not kept: walking every value of it to
# redact it would cost more than the checks that read it, and nobody reads a megabyte of rows in a report.
MAX_JSON_BYTES = 256 * 1024


# Where JSON text may carry a lone surrogate: a \u escape of the surrogate range (UTF-8 itself cannot, and it is
# decoded with replacement). Text without any is parsed without the walk below.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unicode(value: Any) -> Any:
    """JSON's \\u escapes may carry a lone surrogate (p111 fuzz sends them), which no UTF-8 report can hold: kept
    visible as the escape's text."""
    if isinstance(value, str):
        return without_lone_surrogates(value)
    if isinstance(value, list):
        return [_unicode(v) for v in value]
    if isinstance(value, dict):
        return {_unicode(k): _unicode(v) for k, v in value.items()}
    return value


def _body(content: bytes, redactor: Redactor, where: str) -> Any:
    text = content.decode("utf-8", errors="replace")
    if len(content) > MAX_JSON_BYTES:
        return _summarised(content, text, redactor, "too large to keep in evidence")
    try:
        document = limits.json_of(text)
    except limits.TooDeep:  # a hostile SUT's answer: walking it to redact it would recurse as deep as it nests
        return _summarised(content, text, redactor, f"JSON nested more than {limits.MAX_DEPTH} levels deep")
    except ValueError:
        text = redactor.text(text, where)
        return limits.quoted(text, MAX_BODY_CHARS)  # the one cut note, which the search for a secret cut short knows
    return redactor.data(_unicode(document) if SURROGATE_ESCAPE.search(text) else document, where)


def _summarised(content: bytes, text: str, redactor: Redactor, why: str) -> str:
    """A body not kept, named by its size and digest; its secrets are still learnt, to be removed wherever else they
    appear."""
    redactor.learn_from_json_text(text)
    return f"[{len(content)} bytes, sha256 {hashlib.sha256(content).hexdigest()}: {why}]"


def _elapsed_ms(response: httpx.Response) -> float:
    try:
        return round(response.elapsed.total_seconds() * 1000, 3)
    except RuntimeError:  # httpx knows the time only once the response is closed
        return 0.0


@dataclass
class EvidenceRecorder:
    redactor: Redactor
    current_check: str | None = None
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    # Where a run's time goes (harness.reporting.timing): seconds each check spent waiting in observers.Waiter.poll,
    # and the SUT's origin, which tells the SUT's answers from the counterparts' in the exchanges.
    waited: dict[str, float] = field(default_factory=dict)
    sut_origin: str | None = None
    _waiting: int = 0
    # seq -> how many secrets the redactor knew before the exchange was redacted: final() need not pass again over an
    # exchange after which nothing new was learnt (the last guard is then a no-op, and it cost most of the report).
    _known_before: dict[int, int] = field(default_factory=dict)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a wait (observers.Waiter.poll): its time is the check's waiting; its exchanges are marked as made
        while waiting, so that they are not counted twice."""
        check, started = self.current_check, time.perf_counter()
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1
            if self._waiting == 0 and check is not None:
                self.waited[check] = self.waited.get(check, 0.0) + time.perf_counter() - started

    def record(self, response: httpx.Response) -> None:
        """An httpx response hook: reads the body and keeps a redacted copy of the exchange."""
        try:
            response.read()
        except httpx.TransportError as exc:  # the body never came whole (a slow drip, over the cap, a reset)
            self.record_failure(response.request, exc)
            raise
        request = response.request
        seq = len(self.exchanges) + 1
        where = f"evidence #{seq}"
        elapsed = _elapsed_ms(response)
        self._known_before[seq] = self.redactor.known_count()
        self.exchanges.append(
            {
                **self._opening(seq, request, where),
                "status": response.status_code,
                "started_at": (vietnam_now() - timedelta(milliseconds=elapsed)).isoformat(),
                "time_ms": elapsed,
                "http_version": response.http_version,
                "request": self._request(request, where),
                "response": {
                    "headers": self.redactor.headers(response.headers.multi_items(), f"{where} response"),
                    "body": _body(response.content, self.redactor, f"{where} response.body")
                    if response.content
                    else None,
                },
                # Attempts the polite transport retried before this answer (a 503 with Retry-After, a reset …).
                **({"retried": response.extensions[RETRIED]} if RETRIED in response.extensions else {}),
                **({"while_waiting": True} if self._waiting else {}),
            }
        )

    def record_failure(self, request: httpx.Request, error: Exception) -> None:
        """An exchange that got no answer (a timeout, a reset, a refused connection, the circuit breaker): the
        request as sent, status 0 (HAR's "no response"), and the error in plain words."""
        seq = len(self.exchanges) + 1
        where = f"evidence #{seq}"
        self._known_before[seq] = self.redactor.known_count()
        self.exchanges.append(
            {
                **self._opening(seq, request, where),
                "status": 0,
                "started_at": vietnam_now().isoformat(),
                "time_ms": 0.0,
                "http_version": None,
                "request": self._request(request, where),
                "response": {"headers": {}, "body": None},
                "error": self.redactor.text(f"{type(error).__name__}: {error}"[:500], f"{where} error"),
                **({"retried": getattr(error, RETRIED)} if hasattr(error, RETRIED) else {}),
            }
        )

    def _opening(self, seq: int, request: httpx.Request, where: str) -> dict[str, Any]:
        """What every exchange record starts with: its number, the check that sent it, the method and redacted URL."""
        url = self.redactor.text(str(request.url), f"{where} url")
        return {"seq": seq, "check": self.current_check, "method": request.method, "url": url}

    def _request(self, request: httpx.Request, where: str) -> dict[str, Any]:
        """The request as sent, redacted: its headers and its body (None when it had none)."""
        return {
            "headers": self.redactor.headers(request.headers.multi_items(), f"{where} request"),
            "body": _body(request.content, self.redactor, f"{where} request.body") if request.content else None,
        }

    def record_refusal(self, request: httpx.Request, error: Exception) -> None:
        """A request the harness refused to send (to an origin it does not trust): kept like one without an answer,
        marked `refused`, so the evidence shows what the SUT tried to have the harness do."""
        self.record_failure(request, error)
        self.exchanges[-1]["refused"] = True

    def for_check(self, check: str) -> list[int]:
        return [e["seq"] for e in self.exchanges if e["check"] == check]

    def final(self) -> list[dict[str, Any]]:
        """The exchanges passed once more through the redactor: a value learnt from a sensitive field late in the run
        is then also removed from exchanges recorded before it was seen. An exchange that holds no value learnt after it
        was redacted is kept as it is (passing it again would change nothing); one from another process (a distributed
        run's worker) is always passed again."""
        known = self.redactor.known_count()
        return [e if self._kept(e, known) else self.redactor.data(e, f"evidence #{e['seq']}") for e in self.exchanges]

    def _kept(self, exchange: dict[str, Any], known: int) -> bool:
        """Whether passing the exchange through the redactor again would change nothing: it is this recorder's own,
        and no secret learnt after it was recorded is in it (looking is much cheaper than redacting again)."""
        before = self._known_before.get(exchange["seq"])
        if before is None or exchange is not self._recorded(exchange["seq"]):
            return False
        return before == known or not self.redactor.holds_secret_learnt_after(exchange, before)

    def _recorded(self, seq: int) -> dict[str, Any] | None:
        """The exchange this recorder recorded as `seq` (exchanges merged from a worker are renumbered copies)."""
        return self.exchanges[seq - 1] if 0 < seq <= len(self.exchanges) else None

    def ndjson(self, exchanges: list[dict[str, Any]] | None = None) -> str:
        rows = self.final() if exchanges is None else exchanges
        return "".join(json_line(e) + "\n" for e in rows)

