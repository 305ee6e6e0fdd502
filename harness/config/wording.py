"""The target schema's verdict in plain words: each problem names the field's path and what was expected.
jsonschema's own messages quote the instance (which may be a literal secret), so they are never used."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from harness.config.errors import Problem, dotted
from harness.config.fields import CALLBACK, COUNTERPART_URL, DRIVER, HTTP_URL, KEBAB_NAME, PATH, PROVINCE_CODE
from harness.config.model import DEFECTS_NEED_EMBEDDED, VARIATIONS_NEED_EMBEDDED
from harness.config.secret import SECRET_FIELDS
from harness.core.formats import AGENCY_CODE
from harness.core.resources import schema_dir

SCHEMA_FILE = "target.schema.json"

# A suggested variable name per secret field, so the refusal tells the user what to write instead.
_SUGGESTED_VARIABLE = {
    ("sut", "api_key"): "P111_SUT_API_KEY",
    ("portal", "password"): "P111_PORTAL_PASSWORD",
    ("payment", "secret"): "P111_PAYMENT_SECRET",
    ("sso", "client_secret"): "P111_SSO_CLIENT_SECRET",
}
KIND = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer (whole number)",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
# Plain words for the patterns of the schema (the agency code's is the one of harness.core.formats; a test keeps
# them equal, and another that every pattern of the schema has its words here).
PATTERN_WORDS = {
    AGENCY_CODE.pattern: "a valid agency code (mã định danh) such as 000.00.00.H40",
    PROVINCE_CODE: "a province code such as H40",
    HTTP_URL: "an http:// or https:// URL, without credentials",
    COUNTERPART_URL: "an http:// or https:// URL (or embedded://), without credentials",
    PATH: "a path starting with /",
    CALLBACK: "a path starting with / or an http:// or https:// URL",
    KEBAB_NAME: "a defect name: lower-case words joined by '-'",
    DRIVER: "reference-api, http, operator, or a Python driver class written module:Class",
}
# The conditional rules of the schema, explained.
_RULE_WORDS = {
    ("sut.base_url", "not"): "not allowed when sut.embedded is true (the embedded system runs in-process)",
    ("sut.defects", "maxItems"): DEFECTS_NEED_EMBEDDED,
    ("sut.variations", "maxItems"): VARIATIONS_NEED_EMBEDDED,
}


@cache
def target_schema() -> dict[str, Any]:
    return json.loads((schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    # With the one registry: sut.driver_options refers to schemas/drivers/<driver>.schema.json.
    from harness.core.schemas import registry

    return Draft202012Validator(target_schema(), registry=registry())


def schema_problems(document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for error in _validator().iter_errors(document):
        for problem in _describe(error):
            if problem not in problems:  # `required` reports each missing field once per rule that demands it
                problems.append(problem)
    return problems


def _describe(error: ValidationError) -> Iterator[Problem]:
    """Plain-words problems for one schema error: what is missing or unknown, or else what was expected."""
    parts = list(error.absolute_path)
    kind, instance = error.validator, error.instance
    if kind == "required":
        for name in error.validator_value:
            if isinstance(instance, dict) and name not in instance:
                yield Problem(dotted([*parts, name]), f"required field missing: {name}")
    elif kind == "additionalProperties":
        known = error.schema.get("properties", {})
        for name in instance:
            if name not in known:
                yield Problem(dotted([*parts, str(name)]), f"unknown field '{name}'")
    elif parts and parts[-1] in SECRET_FIELDS:
        yield Problem(dotted(parts), _literal_secret_message(parts))
    elif (dotted(parts), kind) in _RULE_WORDS:
        yield Problem(dotted(parts), _RULE_WORDS[dotted(parts), kind])
    elif kind in ("oneOf", "anyOf") and error.context:
        # One of several shapes is allowed: explain the shape of the value's own kind (the mapping form for a
        # mapping), not the kinds it is not.
        wrong_kind = {e.relative_schema_path[0] for e in error.context if e.validator == "type" and not e.relative_path}
        closest = [e for e in error.context if e.relative_schema_path[0] not in wrong_kind] or error.context
        yield from _describe(best_match(closest))
    else:
        yield Problem(dotted(parts), _expected(kind, error.validator_value, instance))


def _expected(kind: str, expected: Any, instance: Any) -> str:
    """What one keyword of the schema demanded, in words."""
    if kind == "type":
        return f"expected {_TYPE_WORDS.get(expected, expected)}, found {KIND.get(type(instance), 'a value')}"
    if kind in ("enum", "const"):
        options = expected if kind == "enum" else [expected]
        return "expected one of: " + ", ".join(json.dumps(o) if not isinstance(o, str) else o for o in options)
    if kind == "pattern":
        return f"expected {PATTERN_WORDS.get(expected, f'text matching {expected}')}"
    simple = {
        "minimum": f"expected at least {expected}",
        "maximum": f"expected at most {expected}",
        "exclusiveMinimum": f"expected a number greater than {expected}",
        "minLength": "must not be empty",
        "uniqueItems": "items must not repeat",
    }
    return simple.get(kind, f"does not satisfy the rule '{kind}' of the target schema")


def _literal_secret_message(parts: Sequence[str | int]) -> str:
    owner = str(parts[-2]) if len(parts) > 1 else ""
    name = _SUGGESTED_VARIABLE.get((owner, str(parts[-1])), "P111_PORTAL_PASSWORD")
    return f"must be an environment-variable reference such as ${{{name}}}, not a literal secret"
