"""What pytest shows of a check — its failure, its skip reason, what it printed — on the terminal and in junit.xml,
made safe: the SUT's text in it may echo a secret, or carry escape sequences for a terminal.

Secrets are removed here, before pytest's junit.xml writer escapes the text (a secret with `&` or `"` in it would be
in the file only as entities; the final pass over the file knows those forms too, as a second guard)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.core import inert, limits
from harness.http.redaction import Redactor
from harness.reporting.report import JUNIT_FILE


class _Shown:
    """A failure's text once made safe, in place of pytest's representation of it: it still tells junit.xml's
    `message` and the terminal's summary line the failure's own first words (`reprcrash.message`), not the first
    line of the traceback."""

    def __init__(self, text: str, message: str | None) -> None:
        self.text = text
        self.reprcrash = _Crash(message) if message is not None else None

    def __str__(self) -> str:
        return self.text

    def toterminal(self, out: Any) -> None:
        out.line(self.text)


class _Crash:
    def __init__(self, message: str) -> None:
        self.message = message


def safe_to_show(report: pytest.TestReport, redactor: Redactor) -> None:
    """`report`'s failure, skip reason and captured output with no secret and nothing that acts on a terminal."""

    def safe(text: str) -> str:
        return inert.terminal(redactor.text(text, JUNIT_FILE))

    report.sections = [(name, safe(content)) for name, content in report.sections]
    longrepr = report.longrepr
    if longrepr is None:
        return
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        path, line, reason = longrepr
        report.longrepr = (path, line, limits.quoted(safe(reason)))  # bounded as the record's message is
        return
    text = str(longrepr)
    shown = safe(text)
    if shown != text:
        crash = getattr(getattr(longrepr, "reprcrash", None), "message", None)
        report.longrepr = _Shown(shown, safe(crash) if isinstance(crash, str) else None)
