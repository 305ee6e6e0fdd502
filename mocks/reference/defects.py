"""The defect registry: named switches that each break the reference system on purpose."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from harness.core import schemas
from harness.core.resources import read_yaml

DEFECTS_FILE = Path(__file__).with_name("defects.yaml")


@dataclass(frozen=True)
class Defect:
    name: str
    requirements: tuple[str, ...]
    vi: str
    en: str


@functools.cache
def registry() -> dict[str, Defect]:
    document = read_yaml(DEFECTS_FILE)
    error = schemas.first_error("defects", document)
    if error is not None:
        raise ValueError(f"{DEFECTS_FILE.name} is invalid: {schemas.describe(error)}")
    return {name: Defect(name, tuple(d["requirements"]), d["vi"], d["en"]) for name, d in document.items()}


def check_names(names: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    unknown = sorted(set(names) - set(registry()))
    if unknown:
        raise ValueError(f"unknown defect(s): {', '.join(unknown)}; known: {', '.join(registry())}")
    return frozenset(names)
