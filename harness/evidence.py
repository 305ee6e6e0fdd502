"""Records every HTTP exchange the harness makes, redacted, attributed to the check that made it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.redaction import Redactor

MAX_BODY_CHARS = 20_000  # evidence keeps the start of a long body; the rest is summarised by its length


def _body(content: bytes, redactor: Redactor) -> Any:
    text = content.decode("utf-8", errors="replace")
    try:
        return redactor.data(json.loads(text))
    except ValueError:
        text = redactor.text(text)
        if len(text) > MAX_BODY_CHARS:
            return text[:MAX_BODY_CHARS] + f"… [{len(text) - MAX_BODY_CHARS} more characters]"
        return text


@dataclass
class EvidenceRecorder:
    redactor: Redactor
    current_check: str | None = None
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        """An httpx response hook: reads the body and keeps a redacted copy of the exchange."""
        response.read()
        request = response.request
        self.exchanges.append(
            {
                "seq": len(self.exchanges) + 1,
                "check": self.current_check,
                "method": request.method,
                "url": self.redactor.text(str(request.url)),
                "status": response.status_code,
                "request": {
                    "headers": self.redactor.headers(request.headers.multi_items()),
                    "body": _body(request.content, self.redactor) if request.content else None,
                },
                "response": {
                    "headers": self.redactor.headers(response.headers.multi_items()),
                    "body": _body(response.content, self.redactor) if response.content else None,
                },
            }
        )

    def for_check(self, check: str) -> list[int]:
        return [e["seq"] for e in self.exchanges if e["check"] == check]

    def write_ndjson(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as out:
            for exchange in self.exchanges:
                out.write(json.dumps(exchange, ensure_ascii=False) + "\n")
