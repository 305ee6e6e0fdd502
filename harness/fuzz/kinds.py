"""Kinds of input for an operation: valid ones, and one per rule its schema states that an input can break (a `Case`);
what cannot be judged is named (`SKIPPED`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness.fuzz.openapi import Operation, schema_branches, schema_types

INTEGER = re.compile(r"-?[0-9]+")  # also in mocks/reference/inputs.py, which may not depend on the harness

NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")

BOOLEAN = re.compile("true|false")

WIRE_SHAPES = {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}  # how a parameter's text spells each type

# Each kind of input, with whether it is valid, and how the evidence names it (Vietnamese, English).
RULES: dict[str, tuple[bool, str, str]] = {
    "valid": (True, "dữ liệu hợp lệ theo lược đồ", "input valid against the schema"),
    "optional-absent": (True, "bỏ trống trường tùy chọn", "an optional property left out"),
    "astral-text": (True, "chuỗi có ký tự ngoài mặt phẳng cơ bản Unicode", "text beyond Unicode's basic plane"),
    "required": (False, "thiếu trường bắt buộc", "a required property or parameter missing"),
    "type": (False, "sai kiểu dữ liệu", "a value of the wrong type"),
    "maxLength": (False, "chuỗi dài quá maxLength", "a string over its maxLength"),
    "pattern": (False, "chuỗi không khớp pattern", "a string that breaks its pattern"),
    "format": (False, "chuỗi sai format", "a string that breaks its format"),
    "enum": (False, "giá trị ngoài enum", "a value outside its enum"),
    "additionalProperties": (False, "trường không khai báo", "a property the schema does not allow"),
    "not-an-object": (False, "thân không phải đối tượng JSON", "a body that is not a JSON object"),
    "not-json": (False, "thân không phải JSON", "a body that is not JSON"),
    "body-absent": (False, "thiếu thân yêu cầu bắt buộc", "a required request body missing"),
    # Valid JSON text (a \\uD800 escape) that is no Unicode: refusing it is lawful, crashing on it (now or when the
    # value is read back) is not.
    "lone-surrogate": (True, "chuỗi có ký tự thay thế đơn lẻ (surrogate)", "text with a lone surrogate"),
}

SKIPPED = {
    "refused": "mọi phiên đều bị từ chối (401/403), không thử được sau lớp xác thực / every session was refused "
    "(401/403): nothing was fuzzed beyond the authentication layer",
    "carried": "phiên hoặc ứng dụng khách luôn gửi tiêu đề này với giá trị của nó, không thay đổi / the session or "
    "the client always sends this header, with its own value: never varied",
    "branches": "oneOf/anyOf: dữ liệu phá một nhánh có thể hợp một nhánh khác, chỉ gửi dữ liệu hợp lệ / oneOf/anyOf: "
    "input breaking one branch may fit another, only valid input is sent",
}


@dataclass(frozen=True)
class Case:
    """One kind of input for an operation: a valid one, or one that breaks `rule` at `where`."""

    rule: str
    where: tuple[str, ...] = ()  # ("body", "applicant", "name"), ("query", "page"); "[]" stands for a list's item

    @property
    def valid(self) -> bool:
        return RULES[self.rule][0]

    @property
    def at(self) -> str:
        return ".".join(self.where) or "body"

    def describe(self) -> str:
        _, vi, en = RULES[self.rule]
        return f"{vi} / {en}" + (f" ({self.at})" if self.where else "")


# A value of the wrong type in a JSON body, by the type it is. Lists and objects come first: hypothesis draws the first
# alternatives most under a small budget, and a list or an object where a code is expected is what breaks a lookup
# (unhashable, a 500) far more often than a number does.
WRONG_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "array": st.lists(st.integers(), max_size=2),
    "object": st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    "string": st.text(max_size=8),
    "integer": st.integers(),
    "boolean": st.booleans(),
    "null": st.none(),
}


def allowed_types(types: set[str]) -> set[str]:
    return types | ({"integer"} if "number" in types else set())


def _has_wrong_type(types: set[str], location: str) -> bool:
    if not types:
        return False
    if location != "body":  # text on the wire: only a parameter of these types has text that is not one of them
        return types <= {*WIRE_SHAPES, "null"} and bool(types & set(WIRE_SHAPES))
    return bool(set(WRONG_VALUES) - allowed_types(types))


def _value_cases(
    schema: dict[str, Any], where: tuple[str, ...], location: str, untargeted: list[tuple[str, ...]]
) -> list[Case]:
    """The kinds of input for one value at `location` (body, path, query, header). A parameter is text on the wire,
    so that only a non-string schema has a wrong type; a header carries no text beyond ASCII."""
    cases: list[Case] = []
    types = schema_types(schema)
    if _has_wrong_type(types, location):
        cases.append(Case("type", where))
    if schema_branches(schema):  # broken for one branch, the value may fit another: only its type is targeted
        untargeted.append(where)
        return cases
    if "enum" in schema:
        cases.append(Case("enum", where))
    if "string" in types and "enum" not in schema:
        for rule in ("maxLength", "pattern", "format"):
            if rule in schema and (rule != "format" or schema["format"] in FORMATS.checkers):
                cases.append(Case(rule, where))
        if "pattern" not in schema and "format" not in schema and location != "header":
            cases.append(Case("astral-text", where))
            if location == "body":  # only JSON's \\u escape carries a lone surrogate
                cases.append(Case("lone-surrogate", where))
    if location == "body":
        cases += _structure_cases(schema, where, untargeted)
    return cases


def _structure_cases(schema: dict[str, Any], where: tuple[str, ...], untargeted: list[tuple[str, ...]]) -> list[Case]:
    cases: list[Case] = []
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name, sub in properties.items():
        cases.append(Case("required" if name in required else "optional-absent", (*where, name)))
        cases += _value_cases(sub, (*where, name), "body", untargeted)
    if schema.get("additionalProperties") is False and properties:
        cases.append(Case("additionalProperties", where))
    if isinstance(schema.get("items"), dict):
        if schema_branches(schema["items"]):
            untargeted.append((*where, "[]"))
        else:
            cases += _structure_cases(schema["items"], (*where, "[]"), untargeted)
    return cases


def cases_for(
    operation: Operation,
    known: Mapping[str, str],
    carried: Collection[str] = (),
    untargeted: list[tuple[str, ...]] | None = None,
) -> list[Case]:
    """The kinds of input for `operation`. `known`: path parameters given real values, never varied; `carried`: the
    header names (lower case) the session or the client always sends, whose absence cannot be tried; `untargeted`:
    where mutations are left out (oneOf/anyOf) is appended to it."""
    untargeted = [] if untargeted is None else untargeted
    cases = [Case("valid")]
    for p in operation.parameters:
        if p.name in known:
            continue  # a real value the SUT holds (a dossier's code): varied, it would only ever be "not found"
        if p.location == "header" and p.name.lower() in carried:
            continue  # the session's own credential (X-Phien …): varied, it would only ever be refused
        where = (p.location, p.name)
        if p.required and p.location != "path":
            cases.append(Case("required", where))
        cases += _value_cases(p.schema, where, p.location, untargeted)
    if operation.body is not None:
        cases += [Case("body-absent", ("body",))] if operation.body_required else []
        cases += (
            [Case("not-json", ("body",)), Case("not-an-object", ("body",))]
            if "object" in schema_types(operation.body)
            else []
        )
        # The whole body's wrong type is "not-an-object" above; its extra property stays, at "body".
        in_body: list[tuple[str, ...]] = []
        cases += [
            Case(c.rule, ("body", *c.where))
            for c in _value_cases(operation.body, (), "body", in_body)
            if c.where or c.rule == "additionalProperties"
        ]
        untargeted += [("body", *w) for w in in_body]
    return cases


def left_out(
    operation: Operation, carried: Collection[str], untargeted: Sequence[tuple[str, ...]]
) -> list[tuple[str, str]]:
    """What `cases_for` left out and why, for `FuzzResult.skipped`."""
    found = [
        (f"{operation} [{p.location}.{p.name}]", SKIPPED["carried"])
        for p in operation.parameters
        if p.location == "header" and p.name.lower() in carried
    ]
    return found + [(f"{operation} [{'.'.join(w)}]", SKIPPED["branches"]) for w in untargeted]


FORMATS = Draft202012Validator.FORMAT_CHECKER
