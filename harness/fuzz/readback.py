"""Written, then read (for harness.fuzz.fuzzer): what an operation accepted can be read back.

A value the SUT accepted and stored must not break a later read (a lone surrogate accepted with 201 that makes every
read of the dossier a 500), and must come back as it was sent, or as a lawful normalisation of it: Unicode NFC,
whitespace trimmed at the ends, a lone surrogate replaced by U+FFFD. The read is the document's GET of the item:
`POST /x` is read by `GET /x/{id}`, `PUT`/`PATCH /x/{id}` by `GET /x/{id}`; the item's id is the field of the
write's answer named as that path parameter, or the last segment of its Location header. A string sent is compared
where the read answer holds a string at the same place; other places are not judged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

WRITES = ("post", "put", "patch")
LONE = re.compile("[\ud800-\udfff]")


def reader(operations: Sequence[Any], written: Any) -> tuple[Any, str] | None:
    """The GET operation that reads what `written` stored, and its id parameter's name."""
    for candidate in operations:
        if candidate.method != "get":
            continue
        last = candidate.template.rsplit("/", 1)
        if len(last) != 2 or not (last[1].startswith("{") and last[1].endswith("}")):
            continue
        if (written.method == "post" and last[0] == written.template) or (
            written.method in ("put", "patch") and candidate.template == written.template
        ):
            others = [p for p in candidate.parameters if p.required and p.name != last[1][1:-1]]
            if not others:  # a read we can make with the id alone
                return candidate, last[1][1:-1]
    return None


def _same(sent: str, read: str) -> bool:
    def lawful(text: str) -> str:
        return unicodedata.normalize("NFC", LONE.sub("\ufffd", text)).strip()

    return sent == read or lawful(sent) == lawful(read)


def _strings(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, (*where, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, (*where, index))


def _at(document: Any, where: tuple[Any, ...]) -> Any:
    for step in where:
        in_object = isinstance(document, dict) and isinstance(step, str) and step in document
        in_list = isinstance(document, list) and isinstance(step, int) and step < len(document)
        if not (in_object or in_list):
            return None
        document = document[step]
    return document


def read_back(
    client: httpx.Client,
    operations: Sequence[Any],
    written: Any,
    body: Any,
    answer: httpx.Response,
    headers: Mapping[str, str],
) -> tuple[str | None, httpx.Response] | None:
    """(problem or None, the read's answer): a problem when what `written` accepted cannot be read back as sent.
    None when nothing was read (not a write, not accepted, no reader, no id)."""
    if written.method not in WRITES or not 200 <= answer.status_code < 300 or not isinstance(body, dict):
        return None
    found = reader(operations, written)
    if found is None:
        return None
    operation, name = found
    try:
        stored = answer.json()
    except ValueError:
        stored = None
    key = stored.get(name) if isinstance(stored, dict) else None
    if not isinstance(key, str) or not key:
        key = answer.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1]
    if not key:
        return None
    path = operation.template.replace("{" + name + "}", quote(key, safe=""))
    read = client.request("GET", path, headers=dict(headers))
    if read.status_code >= 500:
        return "read-back-error", read
    try:
        view = read.json() if read.status_code == 200 else None
    except ValueError:
        view = None
    for where, sent in _strings(body):
        got = _at(view, where)
        if isinstance(got, str) and not _same(sent, got):
            return "read-back-differs", read
    return None, read
