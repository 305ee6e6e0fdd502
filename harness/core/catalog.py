"""The requirements catalog of Plan 111/KH-UBND: ids, verbatim quotes, how each is measured, thresholds by year."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from harness.core import resources
from harness.core.errors import P111Error

__all__ = [
    "ALL_LEVELS",
    "LEVELS",
    "Catalog",
    "CatalogError",
    "FixedThreshold",
    "Note",
    "Requirement",
    "SCOPES",
    "ScheduleThreshold",
    "Source",
    "format_threshold",
    "load_catalog",
]

CATALOG_FILE = "catalog.yaml"
SCHEMA_FILE = "catalog.schema.json"
LEVELS = ("province", "district", "commune")
SCOPES = ("plan", "robustness")  # plan: the plan's targets (`p111 run`); robustness: engineering checks (`p111 fuzz`)
ALL_LEVELS = "all"  # the key of a level-less threshold in Requirement.thresholds_for_year
_LEVEL_VI = {"province": "tỉnh", "district": "huyện", "commune": "xã"}


class CatalogError(P111Error):
    """The catalog file is unreadable or breaks its schema or its own rules; the message says where and what."""


@dataclass(frozen=True)
class Note:
    vi: str
    en: str


@dataclass(frozen=True)
class FixedThreshold:
    """`min_percent` from `from_year` on, for one level, or for every level when `level` is None."""

    from_year: int
    min_percent: float
    level: str | None = None

    def for_year(self, year: int) -> dict[str, float]:
        return {self.level or ALL_LEVELS: self.min_percent} if year >= self.from_year else {}


@dataclass(frozen=True)
class ScheduleThreshold:
    """A minimum per level that starts at `base_percent` in `base_year` and rises by `step_percent` a year to a cap."""

    base_year: int
    base_percent: tuple[tuple[str, float], ...]  # (level, percent) pairs: a tuple keeps the dataclass hashable
    step_percent: float
    cap_percent: float

    def for_year(self, year: int) -> dict[str, float]:
        if year < self.base_year:
            return {}
        rise = self.step_percent * (year - self.base_year)
        return {level: min(self.cap_percent, base + rise) for level, base in self.base_percent}


ThresholdRule = FixedThreshold | ScheduleThreshold


@dataclass(frozen=True)
class Requirement:
    id: str
    kind: str  # "behaviour" | "metric"
    family: str
    title_vi: str
    title_en: str
    quote_vi: str  # "" for a robustness check: it serves no clause of the plan
    measured_vi: str
    measured_en: str
    levels: tuple[str, ...]
    notes: tuple[Note, ...]
    decides: str | None
    rules: tuple[ThresholdRule, ...] = ()  # fixed rules sorted by from_year, so a later rule overrides an earlier one
    also_reported: tuple[str, ...] = ()  # readings computed and reported that do not decide the verdict
    scope: str = "plan"

    def thresholds_for_year(self, year: int) -> dict[str, float]:
        """Minimum percent per scope in force in `year`: {"all": …} or {"province": …, …}; {} when none."""
        result: dict[str, float] = {}
        for rule in self.rules:
            result.update(rule.for_year(year))
        return dict(sorted(result.items(), key=lambda item: _scope_order(item[0])))

    def threshold(self, year: int, level: str | None = None) -> float | None:
        """Minimum percent for `year` (and `level`); None when the plan sets none, e.g. per-level rules and no level."""
        if level is not None and level not in LEVELS:
            raise ValueError(f"unknown administrative level {level!r}; expected one of {', '.join(LEVELS)}")
        values = self.thresholds_for_year(year)
        if level is None:
            return values.get(ALL_LEVELS)
        return values.get(level, values.get(ALL_LEVELS))


@dataclass(frozen=True)
class Source:
    title_vi: str
    title_en: str
    number: str
    date: str
    file: str  # the plan text, a data file shipped with the harness
    text_vi: str
    text_en: str


@dataclass(frozen=True)
class Catalog:
    version: str
    requirements: tuple[Requirement, ...]
    source: Source | None = None

    def __getitem__(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        close = difflib.get_close_matches(str(requirement_id), self.ids, n=1)
        hint = f"; did you mean {close[0]}?" if close else "."
        known = ", ".join(self.ids)
        raise KeyError(f"unknown requirement id {requirement_id!r} in catalog {self.version}{hint} Known ids: {known}")

    def __contains__(self, requirement_id: object) -> bool:
        return any(requirement.id == requirement_id for requirement in self.requirements)

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.requirements)

    def __len__(self) -> int:
        return len(self.requirements)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(requirement.id for requirement in self.requirements)

    def in_scope(self, scope: str | None) -> Catalog:
        """The requirements of one scope (None: every one): a run reports only the scope it ran."""
        if scope is None:
            return self
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
        return Catalog(self.version, tuple(r for r in self.requirements if r.scope == scope), self.source)


def load_catalog(path: Path | None = None, *, scope: str | None = "plan") -> Catalog:
    """Read, validate and build the catalog; the shipped one (no `path`) is read once and cached. By default only the
    plan's requirements: the robustness checks outside the plan are asked for by name (`scope="robustness"`), or
    together with the plan's (`scope=None`)."""
    if path is None:
        return _load_default(scope)
    return _load(Path(path)).in_scope(scope)


def format_threshold(thresholds: dict[str, float]) -> str:
    """A line for the CLI and reports: "≥ 80%", "tỉnh ≥ 90% · huyện ≥ 80% · xã ≥ 75%", or "—" when none."""
    if not thresholds:
        return "—"
    parts = []
    for scope, percent in sorted(thresholds.items(), key=lambda item: _scope_order(item[0])):
        label = "" if scope == ALL_LEVELS else f"{_LEVEL_VI.get(scope, scope)} "
        parts.append(f"{label}≥ {percent:g}%")
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------------------- loading


@functools.cache
def _load_default(scope: str | None) -> Catalog:
    if scope is not None:
        return _load_default(None).in_scope(scope)
    return _load(resources.data_file(CATALOG_FILE))


def _load(path: Path) -> Catalog:
    document = _read_yaml(path)
    if not _holds_to_schema(document):
        # jsonschema explains what jsonschema-rs found (and is imported only then).
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match

        error = best_match(Draft202012Validator(_schema()).iter_errors(document))
        if error is not None:
            where = _where(document, list(error.absolute_path))
            raise CatalogError(f"{path}: {where}: {error.message} (expected by {SCHEMA_FILE})")
    _check_rules(path, document)
    return _build(document)


class _UniqueKeyLoader(resources.SAFE_LOADER):  # type: ignore[misc]
    """A safe loader that refuses a key written twice in one mapping, which PyYAML would silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # merge keys (<<) may override, by design
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc}") from exc
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a safe loader (resources.SAFE_LOADER): no arbitrary objects
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc


@functools.cache
def _schema() -> Any:
    return json.loads((resources.schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))


def _holds_to_schema(document: Any) -> bool:
    try:
        return bool(_fast_validator().is_valid(document))
    except ValueError:  # what Rust cannot hold (an unquoted YAML date, a number as a key): jsonschema explains it
        return False


@functools.cache
def _fast_validator() -> Any:
    return jsonschema_rs.validator_for(_schema(), validate_formats=False)


def _where(document: Any, path: list[Any]) -> str:
    """A JSON path like `$.requirements[3].kind`, with the requirement's id when known, for the humans who fix it."""
    text = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    if len(path) >= 2 and path[0] == "requirements" and isinstance(path[1], int):
        try:
            requirement_id = document["requirements"][path[1]]["id"]
        except (KeyError, IndexError, TypeError):
            return text
        return f"{text} ({requirement_id})"
    return text


def _check_rules(path: Path, document: dict[str, Any]) -> None:
    """What the schema cannot say; the first breach becomes the error."""
    plan_text = _plan_text(path, document["source"]["file"])
    for parts, message in _rule_breaches(document, plan_text):
        raise CatalogError(f"{path}: {_where(document, parts)}: {message}")


def _rule_breaches(document: dict[str, Any], plan_text: str) -> Iterator[tuple[list[Any], str]]:
    """Unique ids, verbatim quotes, thresholds that use only declared levels, one deciding reading."""
    first_seen: dict[str, int] = {}
    for index, requirement in enumerate(document["requirements"]):
        here = ["requirements", index]
        requirement_id = requirement["id"]
        if requirement_id in first_seen:
            first = _where(document, ["requirements", first_seen[requirement_id]])
            yield [*here, "id"], f"expected a unique id; {requirement_id!r} is already at {first}"
        first_seen.setdefault(requirement_id, index)

        quote = requirement.get("quote_vi", "")  # absent only outside the plan's scope (the schema says so)
        if quote and quote not in plan_text:
            # Say how far the quote is right: a wrong diacritic is otherwise hard to spot.
            matched = next((n for n in range(len(quote), 0, -1) if quote[:n] in plan_text), 0)
            yield (
                [*here, "quote_vi"],
                (
                    f"expected a verbatim substring of {document['source']['file']}; "
                    f"the first {matched} characters match, then it reads {quote[matched : matched + 30]!r}"
                ),
            )

        levels = requirement.get("levels", [])
        fixed_scopes: set[tuple[int, str | None]] = set()
        for rule_index, rule in enumerate(requirement.get("thresholds", [])):
            at = [*here, "thresholds", rule_index]
            if "schedule" in rule:
                if sorted(rule["schedule"]["base_percent"], key=_scope_order) != sorted(levels, key=_scope_order):
                    yield at, f"expected a base percent for each of the requirement's levels {levels}, and no other"
                continue
            if "level" in rule and rule["level"] not in levels:
                yield at, f"expected a level among the requirement's levels {levels}, got {rule['level']!r}"
            scope = (rule["from_year"], rule.get("level"))
            if scope in fixed_scopes:
                yield at, f"expected one rule per from_year and level; {scope} repeats"
            fixed_scopes.add(scope)

        if requirement.get("decides") in requirement.get("also_reported", []):
            yield [*here, "also_reported"], "expected only readings other than the deciding one"


def _plan_text(path: Path, name: str) -> str:
    # The quotes are checked against the text shipped with the harness, so a catalog is never cited from elsewhere.
    plan_file = resources.data_file(name)
    try:
        return plan_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: $.source.file: expected a readable data file of the harness: {exc}") from exc


def _build(document: dict[str, Any]) -> Catalog:
    return Catalog(
        version=document["version"],
        requirements=tuple(_requirement(entry) for entry in document["requirements"]),
        source=Source(**document["source"]),
    )


def _requirement(entry: dict[str, Any]) -> Requirement:
    rules = tuple(sorted((_rule(rule) for rule in entry.get("thresholds", [])), key=_rule_start))
    return Requirement(
        id=entry["id"],
        kind=entry["kind"],
        family=entry["family"],
        title_vi=entry["title_vi"],
        title_en=entry["title_en"],
        quote_vi=entry.get("quote_vi", ""),
        measured_vi=entry["measured_vi"],
        measured_en=entry["measured_en"],
        levels=tuple(entry.get("levels", ())),
        notes=tuple(Note(vi=note["vi"], en=note["en"]) for note in entry.get("notes", ())),
        decides=entry.get("decides"),
        rules=rules,
        also_reported=tuple(entry.get("also_reported", ())),
        scope=entry.get("scope", "plan"),
    )


def _rule(rule: dict[str, Any]) -> ThresholdRule:
    if "schedule" in rule:
        schedule = rule["schedule"]
        return ScheduleThreshold(
            base_year=schedule["base_year"],
            base_percent=tuple(
                (level, float(schedule["base_percent"][level]))
                for level in sorted(schedule["base_percent"], key=_scope_order)
            ),
            step_percent=float(schedule["step_percent"]),
            cap_percent=float(schedule["cap_percent"]),
        )
    return FixedThreshold(from_year=rule["from_year"], min_percent=float(rule["min_percent"]), level=rule.get("level"))


def _rule_start(rule: ThresholdRule) -> int:
    return rule.from_year if isinstance(rule, FixedThreshold) else rule.base_year


def _scope_order(scope: str) -> int:
    order = (ALL_LEVELS, *LEVELS)
    return order.index(scope) if scope in order else len(order)
