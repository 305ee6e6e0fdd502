"""The Plan 111 metric definitions as data (data/metrics.yaml): each written once, citing its requirement's quote."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from harness.core import resources, schemas
from harness.core.catalog import Catalog, load_catalog
from harness.core.errors import P111Error

DEFINITIONS_FILE = "metrics.yaml"
SCHEMA = "metrics/definitions"


class DefinitionsError(P111Error):
    """metrics.yaml breaks its schema or names a requirement the catalog does not have."""


@dataclass(frozen=True)
class Words:
    vi: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Definition:
    id: str
    requirement: str
    reading: str | None
    needs: tuple[str, ...]
    unit: str
    by_level: bool
    numerator: Words
    denominator: Words
    against: Words  # what the sample codes are: the units that count against the target

    def quote_vi(self, catalog: Catalog | None = None) -> str:
        """The plan's sentence this definition implements, read from the catalog (never copied here)."""
        return (catalog or load_catalog())[self.requirement].quote_vi


@dataclass(frozen=True)
class Definitions:
    version: str
    year_of_dossier: Words
    level_of_dossier: Words
    items: tuple[Definition, ...]

    def __getitem__(self, definition_id: str) -> Definition:
        for item in self.items:
            if item.id == definition_id:
                return item
        raise KeyError(f"unknown metric definition {definition_id!r}; known: {', '.join(d.id for d in self.items)}")

    def for_requirement(self, requirement_id: str) -> tuple[Definition, ...]:
        return tuple(item for item in self.items if item.requirement == requirement_id)

    @property
    def requirements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.requirement for item in self.items))


def _words(entry: dict[str, Any]) -> Words:
    return Words(vi=" ".join(entry["vi"].split()), en=" ".join(entry["en"].split()))


@functools.cache
def load_definitions() -> Definitions:
    path = resources.data_file(DEFINITIONS_FILE)
    document = resources.read_yaml(path)
    error = schemas.first_error(SCHEMA, document)
    if error is not None:
        raise DefinitionsError(f"{path}: {schemas.describe(error)}")
    catalog = load_catalog()
    items = []
    for entry in document["definitions"]:
        if entry["requirement"] not in catalog:
            raise DefinitionsError(
                f"{path}: definition {entry['id']} names an unknown requirement {entry['requirement']}"
            )
        items.append(
            Definition(
                id=entry["id"],
                requirement=entry["requirement"],
                reading=entry.get("reading"),
                needs=tuple(entry["needs"]),
                unit=entry["unit"],
                by_level=bool(entry.get("by_level", False)),
                numerator=_words(entry["numerator"]),
                denominator=_words(entry["denominator"]),
                against=_words(entry["against"]),
            )
        )
    return Definitions(
        version=document["version"],
        year_of_dossier=_words(document["year_of_dossier"]),
        level_of_dossier=_words(document["level_of_dossier"]),
        items=tuple(items),
    )
