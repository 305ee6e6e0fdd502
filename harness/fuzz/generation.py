"""Generating input with hypothesis-jsonschema: a valid input for an operation, and the targeted mutation that breaks
exactly one rule of it (a `Case`)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness.fuzz.kinds import FORMATS, WIRE_SHAPES, WRONG_VALUES, Case, allowed_types
from harness.fuzz.openapi import Operation, Parameter, json_type, merged_schema, normalised_schema, schema_types
from harness.fuzz.seeds import Seeds

ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x2FFFF, categories=("Lo", "So"))  # Nôm, emoji …

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)  # what a header value can carry

SMALL_JSON = st.none() | st.booleans() | st.integers() | st.text(max_size=8)

NOT_A_SEGMENT = ("", ".", "..")  # a path parameter of these (or with "/") names another route


def _leaf(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Scalars from hypothesis-jsonschema; objects and lists are built here, because hypothesis-jsonschema's own
    object strategy does not run with the installed Hypothesis."""
    from hypothesis_jsonschema import from_schema  # only `p111 fuzz` draws values: `p111 run` starts without it

    schema = {k: v for k, v in schema.items() if k not in ("examples", "example", "description", "default")}
    if schema.get("format") not in FORMATS.checkers:
        schema.pop("format", None)  # a format of the SUT's own: any string of the type
    return from_schema(schema)


def _chosen(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema valid input is drawn from: `allOf` merged, and of `oneOf`/`anyOf` the first branch (the first
    that is not only null), with the rest of the schema."""
    if "allOf" in schema:
        schema = normalised_schema(schema)
    for key in ("oneOf", "anyOf"):
        branches = [b for b in schema.get(key) or () if isinstance(b, dict)]
        if key in schema and branches:
            rest = {k: v for k, v in schema.items() if k != key}
            pick = next((b for b in branches if schema_types(b) != {"null"}), branches[0])
            return _chosen(merged_schema([rest, pick]))
    return schema


def values(
    schema: dict[str, Any], examples: Sequence[Any] = (), seeds: Seeds | None = None, name: str = ""
) -> st.SearchStrategy[Any]:
    """Valid values of `schema`, the document's examples first (hypothesis shrinks towards them); a field `name`
    the `seeds` know real values for takes them too (harness.fuzz.seeds)."""
    schema = _chosen(schema)
    generated: st.SearchStrategy[Any]
    if "properties" in schema or "object" in schema_types(schema):
        names = schema.get("properties", {})
        required = set(schema.get("required", []))
        generated = st.fixed_dictionaries(
            {k: values(v, v.get("examples", ()), seeds, k) for k, v in names.items() if k in required},
            optional={k: values(v, v.get("examples", ()), seeds, k) for k, v in names.items() if k not in required},
        )
    elif "array" in schema_types(schema):
        item = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        generated = st.lists(values(item, item.get("examples", ()), seeds, name), max_size=2)
    else:
        generated = _leaf(schema)
        real = seeds.for_field(name, schema) if seeds is not None and name else ()
        generated = st.sampled_from(real) | generated if real else generated
    return st.sampled_from(list(examples)) | generated if examples else generated


def wire_text(value: Any) -> str:
    """A parameter's value as the request carries it."""
    return value if isinstance(value, str) else json.dumps(value)


def fits(location: str) -> Callable[[Any], bool]:
    """What a parameter's value must be to be sent where it goes: a path segment that names this route (never "",
    ".", "..", nor with "/"), a header value of printable ASCII."""
    if location == "path":
        return lambda value: wire_text(value) not in NOT_A_SEGMENT and "/" not in wire_text(value)
    if location == "header":
        return lambda value: all(" " <= c <= "~" for c in wire_text(value))
    return lambda _: True


def _text(location: str, max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any text of these sizes that a parameter at `location` (or the body) can carry."""
    low = max(min_size, 1 if location == "path" else 0)
    if location == "header":
        return st.text(PRINTABLE, min_size=low, max_size=max(low, max_size))
    return st.text(min_size=low, max_size=max(low, max_size))


def _parameter_values(p: Parameter, seeds: Seeds | None = None) -> st.SearchStrategy[Any]:
    """Valid values of a parameter that its location can carry."""
    schema = _chosen(p.schema)
    plain = schema_types(schema) <= {"string", "null"} and "string" in schema_types(schema)
    if p.location == "header" and plain and "enum" not in schema and "format" not in schema:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if "pattern" in schema:
            text = st.from_regex(schema["pattern"], alphabet=PRINTABLE).filter(
                lambda s: low <= len(s) and (high is None or len(s) <= high)
            )
        else:
            text = st.text(PRINTABLE, min_size=low, max_size=high)
        strategy = st.sampled_from(list(p.examples)) | text if p.examples else text
    else:
        strategy = values(p.schema, p.examples, seeds, p.name)
    return strategy.filter(fits(p.location))


@dataclass
class Input:
    params: dict[tuple[str, str], Any]  # (location, name) → value; None: absent
    body: Any = None
    raw: str | None = None  # the body as text, when it is not JSON on purpose
    omit: bool = False  # no body at all


def valid_inputs(
    operation: Operation, known: Mapping[str, str], seeds: Seeds | None = None
) -> st.SearchStrategy[Input]:
    params: dict[tuple[str, str], st.SearchStrategy[Any]] = {}
    for p in operation.parameters:
        strategy = st.just(known[p.name]) if p.name in known else _parameter_values(p, seeds)
        params[(p.location, p.name)] = strategy if p.required else st.none() | strategy
    body = values(operation.body, operation.examples, seeds) if operation.body is not None else st.none()
    return st.builds(Input, st.fixed_dictionaries(params), body)


def _schema_at(operation: Operation, where: tuple[str, ...]) -> dict[str, Any]:
    if where[0] != "body":
        return next(p.schema for p in operation.parameters if (p.location, p.name) == where)
    schema = operation.body or {}
    for step in where[1:]:
        schema = schema.get("items", {}) if step == "[]" else schema.get("properties", {}).get(step, {})
    return schema


def _wrong_type(schema: dict[str, Any], location: str) -> st.SearchStrategy[Any]:
    types = schema_types(schema)
    if location != "body":  # what the wire carries is text: text that is not a value of any of the types
        shapes = [WIRE_SHAPES[t] for t in types if t in WIRE_SHAPES]
        return _text(location, 8).filter(lambda s: not any(shape.fullmatch(s) for shape in shapes))
    allowed = allowed_types(types)
    return st.one_of([s for t, s in WRONG_VALUES.items() if t not in allowed])


def mutated_input(operation: Operation, case: Case, base: Input, draw: Callable[[Any], Any]) -> Input:
    """The base input with the case's one rule broken (or its valid edge taken)."""
    got = Input(copy.deepcopy(base.params), copy.deepcopy(base.body))
    if case.rule == "valid":
        return got
    if case.rule == "body-absent":
        got.omit = True
        return got
    if case.rule == "not-json":
        got.raw = draw(st.text(max_size=12).map(lambda s: "{" + s).filter(_not_json))
        return got
    if case.rule == "not-an-object":
        allowed = allowed_types(schema_types(operation.body or {}))  # a nullable body may lawfully be null
        got.body = draw((SMALL_JSON | st.lists(SMALL_JSON, max_size=2)).filter(lambda v: json_type(v) not in allowed))
        return got
    schema = _schema_at(operation, case.where)
    location = case.where[0]
    container: Any
    if location == "body":
        container, key = _reach(operation, got, case.where[1:], draw)
    else:
        container, key = got.params, case.where
    if case.rule in ("required", "optional-absent"):
        if location == "body":
            container.pop(key, None)
        else:
            container[key] = None
        return got
    if case.rule == "additionalProperties":
        if not isinstance(container[key], dict):
            container[key] = draw(values(schema))
        extra = draw(st.text(min_size=1, max_size=8).filter(lambda n: n not in schema.get("properties", {})))
        container[key][extra] = draw(SMALL_JSON)
        return got
    container[key] = draw(breaking_values(case.rule, schema, container.get(key), location).filter(fits(location)))
    return got


def breaking_values(rule: str, schema: dict[str, Any], current: Any, location: str) -> st.SearchStrategy[Any]:
    if rule == "type":
        return _wrong_type(schema, location)
    if rule == "enum":
        return _text(location, 12).filter(lambda s: s not in schema["enum"])
    if rule == "maxLength":
        limit, start = schema["maxLength"], current if isinstance(current, str) else ""
        return st.integers(1, 8).map(lambda extra: (start + "x" * (limit + extra))[: limit + extra])
    if rule == "pattern":
        pattern = re.compile(schema["pattern"])
        return _text(location, min(schema.get("maxLength", 16), 16)).filter(lambda s: not pattern.search(s))
    if rule == "format":
        return _text(location, 16).filter(lambda s: not FORMATS.conforms(s, schema["format"]))
    low = max(1, schema.get("minLength", 1))
    if rule == "lone-surrogate":
        lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
        return st.tuples(st.text(max_size=3), lone).map("".join).filter(lambda s: len(s) >= low)
    # astral-text: valid text that a 3-byte UTF-8 store (MySQL utf8mb3) cannot hold; never sent in a header
    low = max(1, schema.get("minLength", 1))
    return st.text(alphabet=ASTRAL, min_size=low, max_size=max(low, min(schema.get("maxLength", 8), 8)))


def _reach(operation: Operation, got: Input, path: tuple[str, ...], draw: Callable[[Any], Any]) -> tuple[Any, Any]:
    """The container and key of `path` in the body, creating the objects and list items on the way, so that the
    mutation always lands (a rule broken inside an absent optional object would break nothing)."""
    holder: Any = got.__dict__
    key: Any = "body"
    schema = operation.body or {}
    for step in path:
        node = holder.get(key) if isinstance(holder, dict) else holder[key]
        if step == "[]":
            schema = schema.get("items", {})
            if not isinstance(node, list):
                node = holder[key] = []
            if not node:
                node.append(draw(values(schema)))
            holder, key = node, 0
        else:
            schema = schema.get("properties", {}).get(step, {})
            if not isinstance(node, dict):
                node = holder[key] = {}
            holder, key = node, step
    return holder, key


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False
