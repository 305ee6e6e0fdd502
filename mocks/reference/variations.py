"""The lawful-variation registry: named switches that make the reference system differ from itself the way a vendor's
system may lawfully differ, each with the target settings that express it (the mirror of the defect registry)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core import schemas
from harness.core.resources import read_yaml

VARIATIONS_FILE = Path(__file__).with_name("variations.yaml")


@dataclass(frozen=True)
class Variation:
    name: str
    vi: str
    en: str
    target: dict[str, Any] = field(default_factory=dict)  # the target settings that express it


@functools.cache
def registry() -> dict[str, Variation]:
    document = read_yaml(VARIATIONS_FILE)
    error = schemas.first_error("variations", document)
    if error is not None:
        raise ValueError(f"{VARIATIONS_FILE.name} is invalid: {schemas.describe(error)}")
    return {name: Variation(name, v["vi"], v["en"], v.get("target", {})) for name, v in document.items()}


def check_names(names: frozenset[str] | set[str] | tuple[str, ...] | list[str]) -> frozenset[str]:
    unknown = sorted(set(names) - set(registry()))
    if unknown:
        raise ValueError(f"unknown variation(s): {', '.join(unknown)}; known: {', '.join(registry())}")
    return frozenset(names)


def target_settings(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The target settings of the variations together; two variations setting the same key must agree."""
    merged: dict[str, Any] = {}

    def merge(into: dict[str, Any], more: dict[str, Any], where: str) -> None:
        for key, value in more.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value, f"{where}{key}.")
            elif key in into and into[key] != value:
                raise ValueError(f"variations disagree on the target setting {where}{key}")
            else:
                into[key] = value

    for name in check_names(tuple(names)):
        merge(merged, registry()[name].target, "")
    return merged
