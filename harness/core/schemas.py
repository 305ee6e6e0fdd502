"""The one schema registry: every JSON Schema under schemas/, the domain format checker, and readable errors.

jsonschema (with referencing) is imported when an instance is invalid or a caller asks for its objects: a valid
instance is decided by jsonschema-rs alone, so that `p111 kpi` starts without it (a quarter of its start-up time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from harness.core.errors import P111Error
from harness.core.formats import is_agency_code, is_dossier_code, is_portal_datetime, is_procedure_code
from harness.core.resources import schema_dir

if TYPE_CHECKING:
    import jsonschema
    from jsonschema import Draft202012Validator, ValidationError
    from referencing import Registry

BASE_URI = "https://p111.example/schemas/"
SCHEMA_SUFFIX = ".schema.json"
# Instance values in error messages may be citizens' data: longer reprs are cut to this many characters.
MAX_ECHO = 80

MESSAGE_KINDS: dict[str, str] = {
    "dossier": "portal/HoSoDongBoDVC",
    "progress": "portal/TienDoHoSo",
    "sync-request": "portal/adapter-integration.request",
    "direct-dossiers": "portal/direct-dossiers.request",
    "direct-progress": "portal/direct-progress.request",
    "adapter-auth": "portal/adapter-auth.request",
    "id-token": "sso/id-token.claims",
    "userinfo": "sso/userinfo",
    "payment-init": "payment/INIT.request",
    "payment-init-reply": "payment/INIT.reply",
    "payment-query": "payment/QUERY.request",
    "payment-query-reply": "payment/QUERY.reply",
    "payment-confirm": "payment/confirm.request",
    "payment-confirm-reply": "payment/confirm.reply",
}


def _strings_only(check: Callable[[str], bool]) -> Callable[[object], bool]:
    # JSON Schema: a format constrains strings only; other types are the `type` keyword's business.
    return lambda value: not isinstance(value, str) or check(value)


DOMAIN_FORMATS: dict[str, Callable[[str], bool]] = {
    "p111-dossier-code": is_dossier_code,
    "p111-agency-code": is_agency_code,
    "p111-procedure-code": is_procedure_code,
    "p111-datetime": is_portal_datetime,
}


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_draft_date(value: str) -> bool:
    """The draft's `date` as jsonschema checks it (jsonschema._format.is_date), for the fast path without jsonschema:
    jsonschema-rs's own takes the year 0000, which Python's dates (and so jsonschema) refuse."""
    try:
        return bool(_ISO_DATE.fullmatch(value) and date.fromisoformat(value))
    except ValueError:
        return False


# What the fast path checks itself; every other draft format is jsonschema-rs's, never more lenient than jsonschema's.
_FAST_FORMATS: dict[str, Callable[[str], bool]] = {**DOMAIN_FORMATS, "date": _is_draft_date}


@cache
def format_checker() -> jsonschema.FormatChecker:
    """The draft's format checks and the domain's."""
    import jsonschema

    # A copy, so that the draft's shared checker (used by every other jsonschema user) stays untouched.
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers.update(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)
    for name, check in DOMAIN_FORMATS.items():
        checker.checks(name)(_strings_only(check))
    return checker


class MessageInvalid(P111Error):
    """A message that does not match its schema; `error` is the one that matters."""

    def __init__(self, name: str, error: ValidationError) -> None:
        super().__init__(f"{name}: {describe(error)}")
        self.name = name
        self.error = error


@cache
def _documents() -> dict[str, Any]:
    """Every `*.schema.json` under the schema folder, keyed by its `$id` (by its path when it has none)."""
    root = schema_dir()
    documents: dict[str, Any] = {}
    for path in sorted(root.rglob("*" + SCHEMA_SUFFIX)):
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"schema {path} cannot be read: {exc}") from exc
        by_path = BASE_URI + path.relative_to(root).as_posix()
        uri = contents.get("$id", by_path) if isinstance(contents, dict) else by_path
        if uri in documents:
            raise ValueError(f"two schemas claim the id {uri} (second: {path})")
        documents[uri] = contents
    return documents


@cache
def registry() -> Registry:
    """The schemas as jsonschema's registry."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [(uri, Resource.from_contents(contents, default_specification=DRAFT202012))
                 for uri, contents in _documents().items()]
    return Registry().with_resources(resources).crawl()


def schema_id(name: str) -> str:
    """`portal/HoSoDongBoDVC` -> `https://p111.example/schemas/portal/HoSoDongBoDVC.schema.json`."""
    if name.startswith(("https://", "http://")):
        return name
    return BASE_URI + name.removesuffix(SCHEMA_SUFFIX) + SCHEMA_SUFFIX


@cache
def _schema(name: str) -> Any:
    """The schema `name`, checked against its meta-schema (by jsonschema-rs: jsonschema's own check cost a quarter of
    a second of every run)."""
    uri = schema_id(name)
    try:
        schema = _documents()[uri]
    except KeyError as exc:
        raise KeyError(f"no schema {name!r} ({uri}) under {schema_dir()}") from exc
    jsonschema_rs.meta.validate(schema)
    return schema


@cache
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(name), registry=registry(), format_checker=format_checker())


@cache
def _fast_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry(list(_documents().items()))


@cache
def _fast_validator(name: str) -> Any:
    """The same schema compiled by jsonschema-rs: about 15 times faster on the driver's export rows. Whatever it
    refuses, jsonschema judges again, so it must never be more lenient than jsonschema: its formats are
    `_FAST_FORMATS` and, for date-time and uri, its own (tests/test_schemas.py holds them to that)."""
    return fast_validator_for(_schema(name))


def fast_validator_for(schema: Any) -> Any:
    return jsonschema_rs.validator_for(schema, registry=_fast_registry(), formats=_FAST_FORMATS, validate_formats=True)


def iter_errors(name: str, instance: Any) -> list[ValidationError]:
    return list(validator(name).iter_errors(instance))


def first_error(name: str, instance: Any) -> ValidationError | None:
    # The fast validator only says "valid"; the reference implementation (jsonschema) decides anything else and
    # explains it, so the two can never disagree about an invalid instance in the one's favour.
    try:
        if _fast_validator(name).is_valid(instance):
            return None
    except ValueError:  # what Rust cannot hold (a lone surrogate, a non-string key): jsonschema judges it alone
        pass
    from jsonschema.exceptions import best_match

    return best_match(validator(name).iter_errors(instance))


def require_valid(name: str, instance: Any) -> None:
    """Raise MessageInvalid unless `instance` matches the schema `name`."""
    error = first_error(name, instance)
    if error is not None:
        raise MessageInvalid(name, error)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _path(parts: Iterable[str | int]) -> str:
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return text


def json_path(error: ValidationError) -> str:
    """Where the error is in the instance: `$`, `$.data[0].NgayTiepNhan`."""
    return _path(error.absolute_path)


def describe(error: ValidationError) -> str:
    """`<json path>: <message>` on one line, with a long echoed instance cut short (it may be citizens' data)."""
    message = error.message
    echoed = repr(error.instance)
    if len(echoed) > MAX_ECHO:
        message = message.replace(echoed, echoed[: MAX_ECHO - 1] + "…")
    return f"{json_path(error)}: {' '.join(message.split())}"


# unknown_fields walks the schema beside the instance, following $ref, allOf, and only the anyOf/oneOf branches
# and if/then/else outcomes that hold for this instance (a progress record is not a dossier just because `data`
# holds dossiers for another service).


def _holds(v: Draft202012Validator, schema: Any, resolver: Any, instance: Any) -> bool:
    return next(v.descend(instance, schema, resolver=resolver), None) is None


def _applicable(v: Draft202012Validator, schema: Any, resolver: Any, instance: Any) -> list[tuple[dict, Any]]:
    if not isinstance(schema, dict):
        return []
    if "$id" in schema:
        from referencing import Resource
        from referencing.jsonschema import DRAFT202012

        resolver = resolver.in_subresource(Resource.from_contents(schema, default_specification=DRAFT202012))
    found: list[tuple[dict, Any]] = [(schema, resolver)]
    if isinstance(schema.get("$ref"), str):
        resolved = resolver.lookup(schema["$ref"])
        found += _applicable(v, resolved.contents, resolved.resolver, instance)
    for sub in schema.get("allOf", []):
        found += _applicable(v, sub, resolver, instance)
    for keyword in ("anyOf", "oneOf"):
        for sub in schema.get(keyword, []):
            if _holds(v, sub, resolver, instance):
                found += _applicable(v, sub, resolver, instance)
    if "if" in schema:
        branch = "then" if _holds(v, schema["if"], resolver, instance) else "else"
        found += _applicable(v, schema.get(branch), resolver, instance)
    return found


def _walk(
    v: Draft202012Validator, schema: Any, resolver: Any, instance: Any, at: list[str | int], unknown: list[str]
) -> None:
    parts = _applicable(v, schema, resolver, instance)
    if isinstance(instance, dict):
        # Only a schema that names fields can call one unknown; an open object names none.
        names_fields = any("properties" in s or "patternProperties" in s for s, _ in parts)
        for key, value in instance.items():
            children: list[tuple[Any, Any]] = []
            for s, r in parts:
                patterns = [sub for p, sub in s.get("patternProperties", {}).items() if re.search(p, key)]
                if key in s.get("properties", {}):
                    children.append((s["properties"][key], r))
                elif patterns:
                    children += [(sub, r) for sub in patterns]
                elif isinstance(s.get("additionalProperties"), dict):
                    # An additionalProperties schema makes the object a map: its keys are data, not fields.
                    children.append((s["additionalProperties"], r))
            if names_fields and not children:
                unknown.append(_path([*at, key]))
            for sub, r in children:
                _walk(v, sub, r, value, [*at, key], unknown)
    elif isinstance(instance, list):
        for index, item in enumerate(instance):
            for s, r in parts:
                prefix = s.get("prefixItems", [])
                sub = prefix[index] if index < len(prefix) else s.get("items")
                if sub is not None:
                    _walk(v, sub, r, item, [*at, index], unknown)


def unknown_fields(name: str, instance: Any) -> list[str]:
    """JSON paths of the object fields the schema does not declare (fields the portal ignores: warnings)."""
    v = validator(name)
    unknown: list[str] = []
    _walk(v, v.schema, registry().resolver(base_uri=schema_id(name)), instance, [], unknown)
    return list(dict.fromkeys(unknown))  # the same field reached through two subschemas is one warning


def validate_message(kind: str, instance: Any) -> tuple[ValidationError | None, list[str]]:
    """The error that matters (or None) and the unknown-field paths of a message of a CLI `kind`."""
    name = MESSAGE_KINDS[kind]
    return first_error(name, instance), unknown_fields(name, instance)
