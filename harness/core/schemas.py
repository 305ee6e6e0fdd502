"""The one schema registry: every JSON Schema under schemas/, the domain format checker, and readable errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.core.errors import P111Error
from harness.core.formats import is_agency_code, is_dossier_code, is_portal_datetime, is_procedure_code
from harness.core.resources import schema_dir

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


def _format_checker() -> jsonschema.FormatChecker:
    # A copy, so that the draft's shared checker (used by every other jsonschema user) stays untouched.
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
    for name, check in {
        "p111-dossier-code": is_dossier_code,
        "p111-agency-code": is_agency_code,
        "p111-procedure-code": is_procedure_code,
        "p111-datetime": is_portal_datetime,
    }.items():
        checker.checks(name)(_strings_only(check))
    return checker


FORMAT_CHECKER: jsonschema.FormatChecker = _format_checker()


class MessageInvalid(P111Error):
    """A message that does not match its schema; `error` is the one that matters."""

    def __init__(self, name: str, error: ValidationError) -> None:
        super().__init__(f"{name}: {describe(error)}")
        self.name = name
        self.error = error


@cache
def registry() -> Registry:
    """Every `*.schema.json` under the schema folder, keyed by its `$id` (by its path when it has none)."""
    root = schema_dir()
    resources: dict[str, Resource[Any]] = {}
    for path in sorted(root.rglob("*" + SCHEMA_SUFFIX)):
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"schema {path} cannot be read: {exc}") from exc
        by_path = BASE_URI + path.relative_to(root).as_posix()
        uri = contents.get("$id", by_path) if isinstance(contents, dict) else by_path
        if uri in resources:
            raise ValueError(f"two schemas claim the id {uri} (second: {path})")
        resources[uri] = Resource.from_contents(contents, default_specification=DRAFT202012)
    return Registry().with_resources(resources.items()).crawl()


def schema_id(name: str) -> str:
    """`portal/HoSoDongBoDVC` -> `https://p111.example/schemas/portal/HoSoDongBoDVC.schema.json`."""
    if name.startswith(("https://", "http://")):
        return name
    return BASE_URI + name.removesuffix(SCHEMA_SUFFIX) + SCHEMA_SUFFIX


@cache
def validator(name: str) -> Draft202012Validator:
    uri = schema_id(name)
    try:
        schema = registry().contents(uri)
    except LookupError as exc:  # referencing's NoSuchResource is a KeyError
        raise KeyError(f"no schema {name!r} ({uri}) under {schema_dir()}") from exc
    # Against its meta-schema, by jsonschema-rs: jsonschema's own check cost a quarter of a second of every run.
    jsonschema_rs.meta.validate(schema)
    return Draft202012Validator(schema, registry=registry(), format_checker=FORMAT_CHECKER)


@cache
def _fast_registry() -> jsonschema_rs.Registry:
    found = registry()
    return jsonschema_rs.Registry([(uri, found.contents(uri)) for uri in found])


def _format_callback(name: str) -> Callable[[str], bool]:
    if name not in FORMAT_CHECKER.checkers:
        return lambda value: True
    return lambda value: FORMAT_CHECKER.conforms(value, name)


@cache
def _fast_formats() -> dict[str, Callable[[str], bool]]:
    """Exactly our format checks: a format the Python checker does not check (date-time or uri, without their
    optional libraries) is not checked by the fast validator either."""
    text = json.dumps([registry().contents(uri) for uri in registry()])
    return {name: _format_callback(name) for name in set(re.findall(r'"format": "([^"]+)"', text))}


@cache
def _fast_validator(name: str) -> Any:
    """The same schema compiled by jsonschema-rs: about 15 times faster on the driver's export rows."""
    validator(name)  # the schema is checked against its meta-schema once, by the validator that explains errors
    return jsonschema_rs.validator_for(
        registry().contents(schema_id(name)), registry=_fast_registry(), formats=_fast_formats(), validate_formats=True
    )


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
