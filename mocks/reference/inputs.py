"""What the reference system's OpenAPI document promises about its inputs, enforced: a request body that breaks its
schema or holds text that is not Unicode, or a query number that is not one, is refused with a JSON problem (HTTP 422)
before anything is stored."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from harness.core import resources

OPENAPI_FILE = "reference-api.openapi.json"
ACTION_PATH = "/api/dossiers/{code}/actions/{action}"
_INTEGER = re.compile(r"-?[0-9]+")  # as JSON writes an integer: no blanks, no "+", no "_", no other digits
# JSON's \u escapes can carry one half of a surrogate pair, which is no character: nothing could store or send it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidInput(ValueError):
    """The request breaks the document; the message names where and how (never a value: it may be a citizen's)."""


@functools.cache
def _document() -> dict[str, Any]:
    return dict(json.loads((resources.schema_dir() / OPENAPI_FILE).read_text(encoding="utf-8")))


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    document = _document()
    if name == "Action":
        schema = document["paths"][ACTION_PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    else:
        schema = {"$ref": f"#/components/schemas/{name}"}
    # The document's components travel with the schema, so that its "#/components/…" references resolve.
    return Draft202012Validator({**schema, "components": document["components"]})


def check_body(name: str, body: Any, *, tolerate: Collection[tuple[str, str]] = ()) -> None:
    """Raises InvalidInput when `body` breaks the schema `name` (a component, or "Action"). `tolerate` holds
    (property path, keyword) pairs left unchecked: a defect's way of forgetting one rule."""
    for where, text in _strings(body):
        if LONE_SURROGATE.search(text) and (where, "unicode") not in tolerate:
            raise InvalidInput(f"{where or '(body)'}: not valid Unicode (a lone surrogate)")
    errors = [
        e
        for e in _validator(name).iter_errors(body)
        if (".".join(str(p) for p in e.absolute_path), str(e.validator)) not in tolerate
    ]
    error = best_match(errors)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        raise InvalidInput(f"{where}: breaks {error.validator} of the {name} schema")


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a JSON value (keys too), with its property path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}.{index}".lstrip("."))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, where)
            yield from _strings(item, f"{where}.{key}".lstrip("."))


def query_int(query: Any, name: str, default: int, low: int, high: int) -> int:
    """A query parameter of type integer within [low, high], as the document declares it; absent: `default`."""
    text = query.get(name)
    if text is None:
        return default
    if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be an integer from {low} to {high}")
    return int(text)
