"""How much of each input the harness reads: a size cap per kind of file, a nesting cap for what it parses, how much
of the SUT's own text a report quotes, and `BadInput`, the refusal the `p111` command turns into one line and exit 2.

A cap can be raised where a real input may lawfully be bigger (a province's year of exports); the error says how."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.core.errors import P111Error

MB = 1024 * 1024
# kind → (default cap in bytes, the environment variable that raises it, what the file is, in words)
CAPS: dict[str, tuple[int, str, str]] = {
    "target": (1 * MB, "P111_MAX_TARGET_MB", "tệp cấu hình / target file"),
    "message": (16 * MB, "P111_MAX_MESSAGE_MB", "thông điệp / message"),
    "report": (256 * MB, "P111_MAX_REPORT_MB", "báo cáo / report"),
    "reply": (64 * MB, "P111_MAX_REPLY_MB", "phản hồi của Cổng / portal reply"),
    "export": (4096 * MB, "P111_MAX_EXPORT_MB", "tệp dữ liệu xuất / export file"),
    "recording": (2048 * MB, "P111_MAX_RECORDING_MB", "bản ghi / recording"),
}
MAX_DEPTH = 100  # nesting of a target (YAML) or any JSON the harness reads: the contract's deepest is under 10
# The SUT's text quoted in one part of a failure (its summary, expected, received, evidence) or in a check's message:
# a refusal's words, a value it sent. Each output copies it (report.json twice, report.html, summary.md, junit.xml),
# so a 3-million-character message would make each of them megabytes. evidence.ndjson keeps each exchange, bounded
# on its own terms: a body that is not JSON to its first 20,000 characters, a JSON body over its cap by size and digest.
MAX_QUOTED_CHARS = 4000
MAX_EXCERPT_CHARS = 200  # the start of a body that is not the JSON expected (an HTML error page), quoted as it is
CUT_NOTE = re.compile(r"… \[cắt \d+ ký tự / \d+ characters cut\]")  # what `quoted` leaves where it cut


MAX_QUOTED_PARTS = 50  # findings listed in one failure; the rest are counted


class QuotedEach(str):
    """Text the harness built of many parts, each `quoted` (a list of findings, each with its own quote of the SUT):
    kept whole by `quoted`, since cutting it would drop findings. Made only by `quoted_each`, which bounds it."""


def quoted_each(parts: Iterable[str], separator: str) -> QuotedEach:
    """At most MAX_QUOTED_PARTS parts, each quoted, the rest counted: bounded, and no part cut out of the middle."""
    parts = list(parts)
    shown = [quoted(part) for part in parts[:MAX_QUOTED_PARTS]]
    if len(parts) > MAX_QUOTED_PARTS:
        more = len(parts) - MAX_QUOTED_PARTS
        shown.append(f"… (+{more}: thêm {more} / {more} more)")
    return QuotedEach(separator.join(shown))


def quoted(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """`text` as a report quotes it: at most `limit` characters, and where it was cut, how much was left out (a
    secret the cut goes through is found by its start before the note: harness.http.secret_forms)."""
    if len(text) <= limit or isinstance(text, QuotedEach):
        return text
    cut = len(text) - limit
    return f"{text[:limit]}… [cắt {cut} ký tự / {cut} characters cut]"


def excerpt(body: str) -> str:
    """The start of a body that is not the JSON expected, as a refusal's words."""
    return quoted(body, MAX_EXCERPT_CHARS)


class BadInput(P111Error):
    """An input the harness refuses to read (too large, nested too deep): one line, exit 2, never a traceback."""


def cap(kind: str) -> int:
    default, variable, _ = CAPS[kind]
    raw = os.environ.get(variable)
    if raw:
        try:
            return max(1, int(float(raw) * MB))
        except ValueError:
            raise BadInput(f"{variable}={raw!r}: expected a number of megabytes") from None
    return default


def too_large(kind: str, where: str, size: int | None) -> str:
    """The refusal's words: the file, its size, the cap and how to raise it."""
    limit = cap(kind)
    _, variable, words = CAPS[kind]
    measured = f"{size} bytes" if size is not None else "more than that"
    return (f"{where}: {words} quá lớn / too large ({measured}; giới hạn / cap {limit // MB or 1} MB = {limit} bytes; "
            f"nâng bằng / raise it with {variable}=<MB>)")


def check_size(path: str | Path, kind: str) -> None:
    """Refuses a file over the cap of its kind before reading any of it (a 200 MB target costs nothing)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return  # reading it will say what is wrong
    if size > cap(kind):
        raise BadInput(too_large(kind, str(path), size))


def read_bytes(path: str | Path, kind: str) -> bytes:
    """The file's bytes, refused over the cap of its kind: by its size first, and by what was read (a pipe or a
    file growing while read has no size to trust)."""
    check_size(path, kind)
    limit = cap(kind)
    with open(path, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise BadInput(too_large(kind, str(path), None))
    return data


def read_text(path: str | Path, kind: str) -> str:
    return read_bytes(path, kind).decode("utf-8")


def depth(value: object, limit: int = MAX_DEPTH) -> int:
    """How deep `value` nests (lists and mappings), counted level by level without recursion; stops counting past
    `limit`. Each level is gathered by C-level list operations: every answer of a run passes here (limits.json_of)."""
    deepest = 0
    level: list[Any] = [value]
    while level:
        containers = [node for node in level if isinstance(node, dict | list)]
        if not containers:
            break
        deepest += 1
        if deepest > limit:
            break
        level = []
        for node in containers:
            level.extend(node.values() if isinstance(node, dict) else node)
    return deepest


def nested_too_deeply(where: str) -> BadInput:
    return BadInput(f"{where}: lồng quá sâu / nested too deeply (more than {MAX_DEPTH} levels)")


class TooDeep(P111Error, ValueError):
    """JSON nested deeper than MAX_DEPTH: a ValueError, as bad JSON is, for callers that need not tell them apart."""

    def __init__(self) -> None:
        super().__init__(f"nested too deeply (more than {MAX_DEPTH} levels)")


def json_of(body: str | bytes) -> Any:
    """A JSON answer from across the wire (the SUT's), bounded by nesting: deeper than MAX_DEPTH is a ValueError
    (TooDeep), as bad JSON is, so that callers treat it as an answer that is not the JSON they need — never a
    RecursionError."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise TooDeep() from None
    if depth(document) > MAX_DEPTH:
        raise TooDeep()
    return document


def load_json(path: str | Path, kind: str) -> Any:
    """A JSON file, bounded: by the cap of its kind, and by nesting (at most MAX_DEPTH levels), never a
    RecursionError. Bad JSON is the caller's ValueError, as from json.loads."""
    text = read_text(path, kind)
    try:
        document = json.loads(text)
    except RecursionError:
        raise nested_too_deeply(str(path)) from None
    if depth(document) > MAX_DEPTH:
        raise nested_too_deeply(str(path))
    return document
