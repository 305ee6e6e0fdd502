"""The target schema (the public contract vendors validate against) and the typed model are one: every field of
the one is a field of the other, of the same kind, with the same default. Walks both; fails on any difference."""

from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any

import pytest

from harness.config import model
from harness.config.secret import Secret
from harness.core.resources import schema_dir

SECRET_REF = "#/$defs/secretRef"
# Fields the loader fills in where the file gives none (the current year), so the schema has neither a default
# nor a `required`.
FILLED_BY_LOADER = {"evaluation_year"}
# The counterparts share one class; each has its subset of its fields in the schema.
COUNTERPARTS = ("counterparts.portal", "counterparts.payment", "counterparts.sso")
PYTHON_KINDS = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", tuple: "array",
                Secret: "secret"}


NO_DEFAULT = "(no default)"


@dataclass
class Field:
    kinds: frozenset[str] | None  # None: a converter decides the typed shape
    optional: bool  # schema: may be absent without a default, or null; model: may be None
    default: Any = NO_DEFAULT
    fallback: bool = False  # model: absent from the document, it still has a value (a default, a section's)


def load_schema() -> dict[str, Any]:
    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}"
        return dict(pairs)

    text = (schema_dir() / "target.schema.json").read_text(encoding="utf-8")
    return json.loads(text, object_pairs_hook=refuse_duplicates)


# --- the schema's side ---------------------------------------------------------------------------------------------


def _resolved(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/") and node["$ref"] != SECRET_REF:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target | {k: v for k, v in node.items() if k != "$ref"}
    return node


def _kinds(node: dict[str, Any], root: dict[str, Any]) -> frozenset[str]:
    if node.get("$ref") == SECRET_REF:
        return frozenset({"secret"})
    node = _resolved(node, root)
    found: set[str] = set()
    if "type" in node:
        found |= {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    for value in node.get("enum", []):
        found.add({str: "string", int: "integer", bool: "boolean"}[type(value)])
    for branch in node.get("oneOf", []) + node.get("anyOf", []):
        found |= _kinds(branch, root)
    return frozenset(found)


def schema_fields(node: dict[str, Any], root: dict[str, Any], prefix: str = "") -> dict[str, Field]:
    """Every field of the schema by dotted path (`agencies[].code` for a list of objects), sections included."""
    found: dict[str, Field] = {}
    node = _resolved(node, root)
    for name, sub in node.get("properties", {}).items():
        path, sub = prefix + name, _resolved(sub, root)
        kinds = _kinds(sub, root)
        optional = (name not in node.get("required", []) and "default" not in sub) or "null" in kinds
        found[path] = Field(kinds, optional, sub.get("default", NO_DEFAULT))
        items = _resolved(sub.get("items", {}), root)
        if "properties" in sub:
            found |= schema_fields(sub, root, path + ".")
        elif "properties" in items:
            found |= schema_fields(items, root, path + "[].")
    return found


# --- the model's side ----------------------------------------------------------------------------------------------


def _unwrapped(hint: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed)."""
    if isinstance(hint, types.UnionType):
        others = [a for a in typing.get_args(hint) if a is not type(None)]
        return others[0], len(others) < len(typing.get_args(hint))
    return hint, False


def model_fields(cls: type[Any], prefix: str = "") -> dict[str, Field]:
    """Every field of the model by the dotted path of the document it is read from, with the paths its converters
    read besides."""
    found: dict[str, Field] = {}
    hints = typing.get_type_hints(cls)
    for spec in dataclasses.fields(cls):
        if "run" in spec.metadata:
            continue
        path = prefix + spec.metadata["document"]
        hint, optional = _unwrapped(hints[spec.name])
        origin = typing.get_origin(hint) or hint
        default = NO_DEFAULT if spec.default is dataclasses.MISSING else spec.default
        fallback = default not in (NO_DEFAULT, None) or dataclasses.is_dataclass(hint)
        if spec.metadata["convert"]:
            found.setdefault(path, Field(None, optional, default, fallback))
            found |= {prefix + extra: Field(None, False, fallback=True) for extra in spec.metadata["reads"]}
            continue
        kinds = frozenset({PYTHON_KINDS[origin]}) if origin in PYTHON_KINDS else None
        found[path] = Field(kinds, optional, default, fallback)
        item = typing.get_args(hint)[0] if origin is tuple else None
        if dataclasses.is_dataclass(hint):
            found[path] = Field(frozenset({"object"}), optional, default, fallback)
            found |= model_fields(hint, path + ".")
        elif dataclasses.is_dataclass(item):
            found |= model_fields(item, path + "[].")
        for parent in _parents(path, prefix):  # `adapter.auth_path` read from inside a section `adapter`
            found.setdefault(parent, Field(frozenset({"object"}), False))
    return found


def _parents(path: str, prefix: str) -> list[str]:
    parts = path.removeprefix(prefix).split(".")
    return [prefix + ".".join(parts[:n]) for n in range(1, len(parts))]


# --- comparing ---------------------------------------------------------------------------------------------------


def differences(schema: dict[str, Any], cls: type[Any] = model.Target) -> list[str]:
    """Every way in which the schema and the model differ, in words."""
    in_schema = {p: f for p, f in schema_fields(schema, schema).items() if not _kept_as_document(p)}
    in_model = model_fields(cls)
    problems = _counterpart_differences(in_schema, in_model)
    in_model = {p: f for p, f in in_model.items() if not p.startswith(COUNTERPARTS) or p in in_schema}
    problems += [f"{p}: in the schema, not in the model" for p in sorted(in_schema.keys() - in_model.keys())]
    problems += [f"{p}: in the model, not in the schema" for p in sorted(in_model.keys() - in_schema.keys())]
    for path in sorted(in_schema.keys() & in_model.keys()):
        problems += [f"{path}: {p}" for p in _field_differences(path, in_schema[path], in_model[path])]
    return problems


def _kept_as_document(path: str) -> bool:
    return any(path == kept or path.startswith(kept + ".") for kept in model.KEPT_AS_DOCUMENT)


def _counterpart_differences(in_schema: dict[str, Field], in_model: dict[str, Field]) -> list[str]:
    """The shared counterpart class has exactly the fields the three counterparts have between them."""
    def names(fields: dict[str, Field]) -> set[str]:
        return {p.rsplit(".", 1)[1] for p in fields if p.startswith(COUNTERPARTS) and p.count(".") == 2}

    return [f"counterparts.*.{n}: in one side only" for n in sorted(names(in_schema) ^ names(in_model))]


def _field_differences(path: str, schema: Field, typed: Field) -> list[str]:
    problems = []
    if typed.kinds is not None and schema.kinds - {"null"} != typed.kinds:
        problems.append(f"the schema says {sorted(schema.kinds)}, the model {sorted(typed.kinds)}")
    if typed.optional and not schema.optional:
        problems.append("may be None in the model, the schema always gives a value")
    if schema.optional and not (typed.optional or typed.fallback) and path not in FILLED_BY_LOADER:
        problems.append("may be missing in the schema, the model has no value for it then")
    if typed.default is not NO_DEFAULT and typed.default not in (None, ()):
        expected = list(typed.default) if isinstance(typed.default, tuple) else typed.default
        if schema.default != expected:
            problems.append(f"default {typed.default!r} in the model, {schema.default!r} in the schema")
    return problems


def test_the_schema_and_the_model_have_the_same_fields_kinds_and_defaults() -> None:
    assert differences(load_schema()) == []


def _drop(schema: dict[str, Any], *path: str) -> None:
    node = schema
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["properties"]["timeouts"]["properties"].update(idle_seconds={"type": "number"}),
         "timeouts.idle_seconds: in the schema, not in the model"),
        (lambda s: _drop(s, "properties", "fuzz", "properties", "max_examples"),
         "fuzz.max_examples: in the model, not in the schema"),
        (lambda s: s["properties"]["politeness"]["properties"]["max_retries"].update(type="number"),
         "politeness.max_retries: the schema says ['number'], the model ['integer']"),
        (lambda s: s["properties"]["politeness"]["properties"]["max_retries"].update(default=3),
         "politeness.max_retries: default 2 in the model, 3 in the schema"),
        (lambda s: s["properties"]["sut"]["properties"]["dossier_parameter"].pop("default"),
         "sut.dossier_parameter: may be missing in the schema, the model has no value for it then"),
        (lambda s: s["properties"]["sut"]["properties"]["openapi_path"].update(oneOf=[{"$ref": "#/$defs/path"}]),
         "sut.openapi_path: may be None in the model, the schema always gives a value"),
        (lambda s: s["properties"]["counterparts"]["properties"]["sso"]["properties"].pop("client_id"),
         "counterparts.*.client_id: in one side only"),
        (lambda s: s["properties"]["sut"]["properties"]["api_key"].update({"$ref": "#/$defs/path"}),
         "sut.api_key: the schema says ['string'], the model ['secret']"),
    ],
)
def test_the_walk_catches_a_field_a_kind_or_a_default_on_one_side_only(change: Any, expected: str) -> None:
    schema = copy.deepcopy(load_schema())
    change(schema)
    assert expected in differences(schema)


def test_the_target_schema_has_no_duplicate_keys() -> None:
    # json.loads keeps the last of two equal keys silently: a field written twice is one field, and one text dead.
    load_schema()
