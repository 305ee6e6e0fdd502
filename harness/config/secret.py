"""Secrets in a target: written only as `${ENV}` references, resolved into `Secret` objects that never print."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from harness.config.errors import dotted

SECRET_FIELDS = frozenset({"password", "secret", "client_secret", "api_key"})
_VARIABLE = "[A-Z_][A-Z0-9_]*"
SECRET_REFERENCE = rf"^\$\{{{_VARIABLE}\}}$"  # the schema's pattern (JSON Schema's regexes have no (?P<name>))
ENV_REFERENCE = re.compile(rf"^\$\{{(?P<name>{_VARIABLE})\}}$")


class Secret:
    """A resolved secret. It prints as [REDACTED]; only `reveal()` gives the value, at the moment of use."""

    __slots__ = ("reference", "_value")

    def __init__(self, reference: str, value: str) -> None:
        self.reference = reference
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "[REDACTED]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and (self.reference, self._value) == (other.reference, other._value)

    def __hash__(self) -> int:
        return hash(self.reference)


def resolve(reference: str | None, env: Mapping[str, str]) -> Secret | None:
    """The secret a validated `${NAME}` reference names (the semantic checks made sure the variable is set)."""
    if reference is None:
        return None
    match = ENV_REFERENCE.match(reference)
    assert match is not None  # validated
    return Secret(reference, env[match["name"]])


def secret_fields(document: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every secret field present, wherever the document nests it."""

    def walk(node: Any, parts: list[str | int]) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_FIELDS and not isinstance(value, dict | list):
                    yield dotted([*parts, key]), value
                else:
                    yield from walk(value, [*parts, str(key)])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, [*parts, index])

    return walk(document, [])
