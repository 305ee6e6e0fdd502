"""Sending one input to the SUT through the recorded client (once more on a fresh connection if a crash closed the
kept-alive one)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote

import httpx

from harness.fuzz.generation import Input, wire_text
from harness.fuzz.openapi import Operation

# A server that crashed may close the connection it answered on; the next request on that kept-alive connection then
# fails without ever reaching it. Sent once more, on a fresh connection; failing again, the SUT is out of reach.
STALE_CONNECTION = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def send_input(
    client: httpx.Client, operation: Operation, given_input: Input, headers: Mapping[str, str]
) -> httpx.Response:
    try:
        return _send_once(client, operation, given_input, headers)
    except STALE_CONNECTION:
        return _send_once(client, operation, given_input, headers)


def _send_once(
    client: httpx.Client, operation: Operation, given_input: Input, headers: Mapping[str, str]
) -> httpx.Response:
    path = operation.template
    query: dict[str, str] = {}
    extra: dict[str, str] = {}
    for (location, name), value in given_input.params.items():
        if value is None:
            continue
        text = wire_text(value)
        if location == "path":
            path = path.replace("{" + name + "}", quote(text, safe=""))
        elif location == "query":
            query[name] = text
        else:
            extra[name] = text
    content: bytes | None = None
    if given_input.omit:
        content = None
    elif given_input.raw is not None:
        content = given_input.raw.encode("utf-8", "surrogatepass")
    elif operation.body is not None:
        try:
            content = json.dumps(given_input.body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON's \u escape carries it
            content = json.dumps(given_input.body).encode("utf-8")
    if content is not None:
        extra["content-type"] = "application/json"
    sent = httpx.Headers(extra)
    sent.update(headers)  # by name in any case: a header the session sends goes once, with the session's value
    return client.request(operation.method.upper(), path, params=query, content=content, headers=sent)
