"""Schema-driven fuzzing of the SUT's input operations (P111-ROBUST-INPUT): a library, no pytest in it.

Every operation of the SUT's OpenAPI document that takes parameters or a JSON body is sent, through the recorded SUT
client, input that its document allows (built with hypothesis-jsonschema, seeded with the document's examples) and
input that breaks exactly one named rule (a targeted mutation of a valid input). Valid input must never get a 5xx;
invalid input must be refused with a 4xx, and with a JSON body when the document describes the status that came back
(its own code, else its range `4XX`, else `default`) with a JSON media type: an HTML 405 where only 422 is documented
as JSON promises nothing. Each kind of input is one derandomised hypothesis run with a small budget, so a run is
repeatable and a counterexample is shrunk: the smallest input that still breaks the SUT, which the check turns into
evidence.

What cannot be judged is left out and said so in `FuzzResult.skipped`, never judged falsely: an operation every
session is refused on (401, 403: nothing gets past the authentication layer), the absence of a header the session or
the client always sends, mutations under `oneOf`/`anyOf` (broken for one branch, the input may fit another), and a
kind of input the fuzzer itself failed to build (named with its exception; the other operations go on). A path
parameter is never "", ".", ".." nor holds "/" (that would name another route), and a header value is printable ASCII
(what a header can carry). OpenAPI 3.0's `nullable` allows null; `allOf` is read as one merged schema.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

# How hard to look: the target's section `fuzz` (hypothesis examples per kind of input, and for the free input).
from harness.target import FuzzBudget as Budget

__all__ = ["RULES", "Budget", "Case", "Finding", "FuzzResult", "Operation", "Parameter", "fuzz", "input_operations"]

METHODS = ("get", "put", "post", "patch", "delete")
INTEGER = re.compile(r"-?[0-9]+")  # also in mocks/reference/inputs.py, which may not depend on the harness
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
BOOLEAN = re.compile("true|false")
WIRE_SHAPES = {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}  # how a parameter's text spells each type
ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x2FFFF, categories=("Lo", "So"))  # Nôm, emoji …
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)  # what a header value can carry
SMALL_JSON = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
NOT_A_SEGMENT = ("", ".", "..")  # a path parameter of these (or with "/") names another route
REFUSED = (401, 403)

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
}
PROBLEMS = {
    "server-error": "lỗi máy chủ (5xx) / a server error (5xx)",
    "accepted": "dữ liệu không hợp lệ không bị từ chối bằng 4xx / invalid input not refused with a 4xx",
    "not-json-error": "bị từ chối nhưng lỗi không phải JSON / refused, but the error is not JSON",
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
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]
    examples: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    parameters: tuple[Parameter, ...]
    body: dict[str, Any] | None  # the JSON body's schema, references resolved
    examples: tuple[Any, ...] = ()  # the body's examples from the document
    responses: tuple[tuple[str, bool], ...] = ()  # each documented response ("422", "4XX", "default") and if JSON

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"

    def promises_json(self, status: int) -> bool:
        """Whether the document describes the answer with this status as JSON: its own code first, else its range
        (4XX), else `default`. A status the document does not describe promises nothing."""
        documented = {code.upper(): is_json for code, is_json in self.responses}
        for key in (str(status), f"{status // 100}XX", "DEFAULT"):
            if key in documented:
                return documented[key]
        return False


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


@dataclass(frozen=True)
class Finding:
    operation: Operation
    case: Case
    problem: str  # a key of PROBLEMS
    response: httpx.Response  # the shrunk counterexample's answer; `.request` is what was sent

    def describe(self) -> str:
        return f"{self.operation} — {self.case.describe()} → HTTP {self.response.status_code}: {PROBLEMS[self.problem]}"


@dataclass
class FuzzResult:
    operations: list[str] = field(default_factory=list)  # fuzzed beyond the authentication layer
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (operation or "operation [where]", why)
    cases: int = 0
    requests: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- reading the document


def _resolve(document: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """The node with every local "#/…" reference replaced by what it names (a cycle is refused)."""
    if isinstance(node, list):
        return [_resolve(document, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        ref = node["$ref"]
        if ref in seen:
            raise ValueError(f"recursive reference {ref}")
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _resolve(document, {**target, **rest}, (*seen, ref))
    return {key: _resolve(document, value, seen) for key, value in node.items()}


def _responses(operation: dict[str, Any]) -> tuple[tuple[str, bool], ...]:
    return tuple(
        (str(code), any("json" in media for media in (answer.get("content") or {})))
        for code, answer in (operation.get("responses") or {}).items()
        if isinstance(answer, dict)
    )


def _normal(schema: Any) -> Any:
    """The schema as the fuzzer reads it, every subschema alike: `allOf` merged into one schema, and OpenAPI 3.0's
    `nullable: true` written as JSON Schema's null type."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _normal(sub) for name, sub in value.items()}
        elif key in ("allOf", "oneOf", "anyOf", "prefixItems") and isinstance(value, list):
            out[key] = [_normal(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not", "contains") and isinstance(value, dict):
            out[key] = _normal(value)
        else:
            out[key] = value
    if isinstance(out.get("allOf"), list):
        out = _merge([{k: v for k, v in out.items() if k != "allOf"}, *out["allOf"]])
    if out.pop("nullable", False) is True:
        declared = out.get("type")
        if isinstance(declared, str) and declared != "null":
            out["type"] = [declared, "null"]
        elif isinstance(declared, list) and "null" not in declared:
            out["type"] = [*declared, "null"]
        elif declared is None:
            key = next((k for k in ("anyOf", "oneOf") if isinstance(out.get(k), list)), None)
            if key:
                out[key] = [*out[key], {"type": "null"}]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _merge(parts: Sequence[Any]) -> dict[str, Any]:
    """Subschemas that must all hold, as one: their properties and required names together, the types they share,
    no extra property if any part forbids one (how an OpenAPI document composes an object from parts)."""
    merged: dict[str, Any] = {}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                properties = merged.setdefault("properties", {})
                for name, sub in value.items():
                    properties[name] = _merge([properties[name], sub]) if name in properties else sub
            elif key == "required" and isinstance(value, list):
                known = merged.get("required", [])
                merged["required"] = [*known, *(name for name in value if name not in known)]
            elif key == "type" and "type" in merged:
                merged["type"] = _meet(merged["type"], value)
            elif key == "additionalProperties" and key in merged:
                merged[key] = False if value is False or merged[key] is False else merged[key]
            elif key == "examples" and isinstance(value, list):
                merged[key] = [*merged.get(key, []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _meet(left: Any, right: Any) -> Any:
    """The types two schemas share (an integer is a number); contradictory ones keep the first."""
    a = {left} if isinstance(left, str) else set(left or ())
    b = {right} if isinstance(right, str) else set(right or ())
    both = a & b
    if ("integer" in a and "number" in b) or ("number" in a and "integer" in b):
        both.add("integer")
    if not both:
        return left
    return next(iter(both)) if len(both) == 1 else sorted(both)


def _examples(media: dict[str, Any], schema: dict[str, Any]) -> tuple[Any, ...]:
    found = list(schema.get("examples", []))
    if "example" in media:
        found.append(media["example"])
    found += [e["value"] for e in media.get("examples", {}).values() if isinstance(e, dict) and "value" in e]
    return tuple(found)


def _segment(schema: dict[str, Any]) -> dict[str, Any]:
    """A path parameter's schema: a string one is never empty, since an empty segment names another path (what
    else would, ".", ".." and "/", every value drawn for a path parameter is kept from: `_fits`)."""
    schema = dict(schema)
    if "string" in _types(schema) and "enum" not in schema:
        schema["minLength"] = max(1, schema.get("minLength", 0))
    return schema


def input_operations(document: dict[str, Any]) -> tuple[list[Operation], list[tuple[str, str]]]:
    """The operations that take input, and those left out with the reason."""
    found: list[Operation] = []
    skipped: list[tuple[str, str]] = []
    for template, item in document.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            name = f"{method.upper()} {template}"
            try:
                raw = _resolve(document, item[method])
                shared = _resolve(document, item.get("parameters", []))
            except (KeyError, ValueError, TypeError) as exc:
                skipped.append((name, f"tài liệu không đọc được / unreadable in the document: {exc}"))
                continue
            if raw.get("x-p111-authenticated-by"):
                skipped.append((name, "xác thực bằng mã kiểm tra, không bằng phiên / authenticated by a checksum"))
                continue
            params = {(p["name"], p.get("in")): p for p in [*shared, *raw.get("parameters", [])]}
            parameters = tuple(
                Parameter(
                    p["name"],
                    p.get("in", "query"),
                    bool(p.get("required") or p.get("in") == "path"),
                    _segment(_normal(p.get("schema", {}))) if p.get("in") == "path" else _normal(p.get("schema", {})),
                    tuple(p.get("schema", {}).get("examples", [])) + ((p["example"],) if "example" in p else ()),
                )
                for p in params.values()
                if p.get("in") in ("path", "query", "header")
            )
            content = (raw.get("requestBody") or {}).get("content", {})
            media = next((m for t, m in content.items() if "json" in t), None)
            if content and media is None:
                skipped.append((name, "thân không phải JSON / the body is not JSON"))
                continue
            body = _normal((media or {}).get("schema"))
            if not parameters and body is None:
                continue  # no input to vary
            examples = _examples(media or {}, body or {})
            found.append(Operation(method, template, parameters, body, examples, _responses(raw)))
    return found, skipped


# ---------------------------------------------------------------------------------------------- kinds of input


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "enum" in schema:
        return {_json_type(v) for v in schema["enum"]}
    branches = _branches(schema)
    if branches:  # a value of none of the branches' types breaks every branch
        each = [_types(b) if isinstance(b, dict) else set() for b in branches]
        if all(each):
            return set().union(*each)
    return set()


def _branches(schema: dict[str, Any]) -> list[Any]:
    return [b for key in ("oneOf", "anyOf") if isinstance(schema.get(key), list) for b in schema[key]]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "array" if isinstance(value, list) else "object"


# A value of the wrong type in a JSON body, by the type it is.
_WRONG: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=8),
    "integer": st.integers(),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers(), max_size=2),
    "object": st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
}


def _allowed(types: set[str]) -> set[str]:
    return types | ({"integer"} if "number" in types else set())


def _has_wrong_type(types: set[str], location: str) -> bool:
    if not types:
        return False
    if location != "body":  # text on the wire: only a parameter of these types has text that is not one of them
        return types <= {*WIRE_SHAPES, "null"} and bool(types & set(WIRE_SHAPES))
    return bool(set(_WRONG) - _allowed(types))


def _value_cases(
    schema: dict[str, Any], where: tuple[str, ...], location: str, untargeted: list[tuple[str, ...]]
) -> list[Case]:
    """The kinds of input for one value at `location` (body, path, query, header). A parameter is text on the wire,
    so that only a non-string schema has a wrong type; a header carries no text beyond ASCII."""
    cases: list[Case] = []
    types = _types(schema)
    if _has_wrong_type(types, location):
        cases.append(Case("type", where))
    if _branches(schema):  # broken for one branch, the value may fit another: only its type is targeted
        untargeted.append(where)
        return cases
    if "enum" in schema:
        cases.append(Case("enum", where))
    if "string" in types and "enum" not in schema:
        for rule in ("maxLength", "pattern", "format"):
            if rule in schema and (rule != "format" or schema["format"] in _FORMATS.checkers):
                cases.append(Case(rule, where))
        if "pattern" not in schema and "format" not in schema and location != "header":
            cases.append(Case("astral-text", where))
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
        if _branches(schema["items"]):
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
        cases += (
            [Case("not-json", ("body",)), Case("not-an-object", ("body",))]
            if "object" in _types(operation.body)
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


def _left_out(
    operation: Operation, carried: Collection[str], untargeted: Sequence[tuple[str, ...]]
) -> list[tuple[str, str]]:
    """What `cases_for` left out and why, for `FuzzResult.skipped`."""
    found = [
        (f"{operation} [{p.location}.{p.name}]", SKIPPED["carried"])
        for p in operation.parameters
        if p.location == "header" and p.name.lower() in carried
    ]
    return found + [(f"{operation} [{'.'.join(w)}]", SKIPPED["branches"]) for w in untargeted]


# ---------------------------------------------------------------------------------------------- generating input

_FORMATS = Draft202012Validator.FORMAT_CHECKER


def _leaf(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Scalars from hypothesis-jsonschema; objects and lists are built here, because hypothesis-jsonschema's own
    object strategy does not run with the installed Hypothesis."""
    schema = {k: v for k, v in schema.items() if k not in ("examples", "example", "description", "default")}
    if schema.get("format") not in _FORMATS.checkers:
        schema.pop("format", None)  # a format of the SUT's own: any string of the type
    return from_schema(schema)


def _chosen(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema valid input is drawn from: `allOf` merged, and of `oneOf`/`anyOf` the first branch (the first
    that is not only null), with the rest of the schema."""
    if "allOf" in schema:
        schema = _normal(schema)
    for key in ("oneOf", "anyOf"):
        branches = [b for b in schema.get(key) or () if isinstance(b, dict)]
        if key in schema and branches:
            rest = {k: v for k, v in schema.items() if k != key}
            pick = next((b for b in branches if _types(b) != {"null"}), branches[0])
            return _chosen(_merge([rest, pick]))
    return schema


def values(schema: dict[str, Any], examples: Sequence[Any] = ()) -> st.SearchStrategy[Any]:
    """Valid values of `schema`, the document's examples first (hypothesis shrinks towards them)."""
    schema = _chosen(schema)
    generated: st.SearchStrategy[Any]
    if "properties" in schema or "object" in _types(schema):
        names = schema.get("properties", {})
        required = set(schema.get("required", []))
        generated = st.fixed_dictionaries(
            {k: values(v, v.get("examples", ())) for k, v in names.items() if k in required},
            optional={k: values(v, v.get("examples", ())) for k, v in names.items() if k not in required},
        )
    elif "array" in _types(schema):
        item = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        generated = st.lists(values(item, item.get("examples", ())), max_size=2)
    else:
        generated = _leaf(schema)
    return st.sampled_from(list(examples)) | generated if examples else generated


def _wire(value: Any) -> str:
    """A parameter's value as the request carries it."""
    return value if isinstance(value, str) else json.dumps(value)


def _fits(location: str) -> Callable[[Any], bool]:
    """What a parameter's value must be to be sent where it goes: a path segment that names this route (never "",
    ".", "..", nor with "/"), a header value of printable ASCII."""
    if location == "path":
        return lambda value: _wire(value) not in NOT_A_SEGMENT and "/" not in _wire(value)
    if location == "header":
        return lambda value: all(" " <= c <= "~" for c in _wire(value))
    return lambda _: True


def _text(location: str, max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any text of these sizes that a parameter at `location` (or the body) can carry."""
    low = max(min_size, 1 if location == "path" else 0)
    if location == "header":
        return st.text(PRINTABLE, min_size=low, max_size=max(low, max_size))
    return st.text(min_size=low, max_size=max(low, max_size))


def _parameter_values(p: Parameter) -> st.SearchStrategy[Any]:
    """Valid values of a parameter that its location can carry."""
    schema = _chosen(p.schema)
    plain = _types(schema) <= {"string", "null"} and "string" in _types(schema)
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
        strategy = values(p.schema, p.examples)
    return strategy.filter(_fits(p.location))


@dataclass
class _Input:
    params: dict[tuple[str, str], Any]  # (location, name) → value; None: absent
    body: Any = None
    raw: str | None = None  # the body as text, when it is not JSON on purpose


def _base(operation: Operation, known: Mapping[str, str]) -> st.SearchStrategy[_Input]:
    params: dict[tuple[str, str], st.SearchStrategy[Any]] = {}
    for p in operation.parameters:
        strategy = st.just(known[p.name]) if p.name in known else _parameter_values(p)
        params[(p.location, p.name)] = strategy if p.required else st.none() | strategy
    body = values(operation.body, operation.examples) if operation.body is not None else st.none()
    return st.builds(_Input, st.fixed_dictionaries(params), body)


def _schema_at(operation: Operation, where: tuple[str, ...]) -> dict[str, Any]:
    if where[0] != "body":
        return next(p.schema for p in operation.parameters if (p.location, p.name) == where)
    schema = operation.body or {}
    for step in where[1:]:
        schema = schema.get("items", {}) if step == "[]" else schema.get("properties", {}).get(step, {})
    return schema


def _wrong_type(schema: dict[str, Any], location: str) -> st.SearchStrategy[Any]:
    types = _types(schema)
    if location != "body":  # what the wire carries is text: text that is not a value of any of the types
        shapes = [WIRE_SHAPES[t] for t in types if t in WIRE_SHAPES]
        return _text(location, 8).filter(lambda s: not any(shape.fullmatch(s) for shape in shapes))
    allowed = _allowed(types)
    return st.one_of([s for t, s in _WRONG.items() if t not in allowed])


def _mutated(operation: Operation, case: Case, base: _Input, draw: Callable[[Any], Any]) -> _Input:
    """The base input with the case's one rule broken (or its valid edge taken)."""
    got = _Input(copy.deepcopy(base.params), copy.deepcopy(base.body))
    if case.rule == "valid":
        return got
    if case.rule == "not-json":
        got.raw = draw(st.text(max_size=12).map(lambda s: "{" + s).filter(_not_json))
        return got
    if case.rule == "not-an-object":
        allowed = _allowed(_types(operation.body or {}))  # a nullable body may lawfully be null
        got.body = draw((SMALL_JSON | st.lists(SMALL_JSON, max_size=2)).filter(lambda v: _json_type(v) not in allowed))
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
    container[key] = draw(_breaking(case.rule, schema, container.get(key), location).filter(_fits(location)))
    return got


def _breaking(rule: str, schema: dict[str, Any], current: Any, location: str) -> st.SearchStrategy[Any]:
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
        return _text(location, 16).filter(lambda s: not _FORMATS.conforms(s, schema["format"]))
    # astral-text: valid text that a 3-byte UTF-8 store (MySQL utf8mb3) cannot hold; never sent in a header
    low = max(1, schema.get("minLength", 1))
    return st.text(alphabet=ASTRAL, min_size=low, max_size=max(low, min(schema.get("maxLength", 8), 8)))


def _reach(operation: Operation, got: _Input, path: tuple[str, ...], draw: Callable[[Any], Any]) -> tuple[Any, Any]:
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


# ---------------------------------------------------------------------------------------------- sending and judging


def _send(
    client: httpx.Client, operation: Operation, given_input: _Input, headers: Mapping[str, str]
) -> httpx.Response:
    path = operation.template
    query: dict[str, str] = {}
    extra: dict[str, str] = {}
    for (location, name), value in given_input.params.items():
        if value is None:
            continue
        text = _wire(value)
        if location == "path":
            path = path.replace("{" + name + "}", quote(text, safe=""))
        elif location == "query":
            query[name] = text
        else:
            extra[name] = text
    content: bytes | None = None
    if given_input.raw is not None:
        content = given_input.raw.encode("utf-8", "surrogatepass")
    elif operation.body is not None:
        try:
            content = json.dumps(given_input.body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON's \u escape carries it
            content = json.dumps(given_input.body).encode("utf-8")
    if content is not None:
        extra["content-type"] = "application/json"
    sent = httpx.Headers(extra)
    sent.update(headers)  # by name in any case: a header the session sends goes once, with the session's value
    return client.request(operation.method.upper(), path, params=query, content=content, headers=sent)


def judge(operation: Operation, case: Case, response: httpx.Response) -> str | None:
    """None when the answer is lawful for this kind of input, else the key of the problem."""
    if response.status_code >= 500:
        return "server-error"
    if case.valid:
        return None
    if not 400 <= response.status_code < 500:
        return "accepted"
    if operation.promises_json(response.status_code) and not _is_json(response):
        return "not-json-error"
    return None


def _is_json(response: httpx.Response) -> bool:
    if "json" not in response.headers.get("content-type", ""):
        return False
    try:
        response.json()
    except ValueError:
        return False
    return True


class _Found(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.describe())
        self.finding = finding


def _settings(examples: int) -> settings:
    # Derandomised and without a database: the same run finds the same counterexample, shrunk the same way.
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )


def _first_found(error: BaseException) -> Finding | None:
    if isinstance(error, _Found):
        return error.finding
    for inner in getattr(error, "exceptions", ()):  # a flaky failure: hypothesis groups what it saw
        found = _first_found(inner)
        if found is not None:
            return found
    return None


def _from_transport(error: BaseException) -> bool:
    """Whether the SUT could not be reached (alone, or among what hypothesis grouped): that stays an error."""
    if isinstance(error, httpx.TransportError):
        return True
    return any(_from_transport(inner) for inner in getattr(error, "exceptions", ()))


def _broke(what: str, error: BaseException) -> str:
    message = str(error).splitlines()[0][:200] if str(error) else ""
    return f"bộ thử không tạo được dữ liệu vào / the fuzzer failed on {what}: {type(error).__name__}: {message}"


def _explore(
    client: httpx.Client,
    operation: Operation,
    case: Case,
    base: st.SearchStrategy[_Input],
    headers: Mapping[str, str],
    examples: int,
    result: FuzzResult,
    statuses: list[int],
) -> None:
    @_settings(examples)
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        sent = _mutated(operation, case, data.draw(base), data.draw)
        response = _send(client, operation, sent, headers)
        result.requests += 1
        statuses.append(response.status_code)
        problem = judge(operation, case, response)
        if problem is not None:
            raise _Found(Finding(operation, case, problem, response))

    try:
        explore()
    except Unsatisfiable:
        result.skipped.append((f"{operation} [{case.at}]", f"không sinh được dữ liệu / no input found for {case.rule}"))
    except Exception as error:
        found = _first_found(error)
        if found is None:
            raise
        result.findings.append(found)


def _headers_for(
    client: httpx.Client, operation: Operation, base: st.SearchStrategy[_Input], sessions: Sequence[Mapping[str, str]]
) -> Mapping[str, str] | None:
    """The first session the operation does not refuse (401, 403) on its simplest valid input: citizens submit,
    officers act and export. None: every session is refused, nothing would get past the authentication layer."""
    simplest = find(base, lambda _: True, settings=_settings(1))
    for headers in sessions or ({},):
        if _send(client, operation, simplest, headers).status_code not in REFUSED:
            return headers
    return None


def fuzz(
    client: httpx.Client,
    document: dict[str, Any],
    *,
    sessions: Sequence[Mapping[str, str]] = (),
    known: Mapping[str, str] | None = None,
    budget: Budget | None = None,
) -> FuzzResult:
    """Fuzzes every input operation of `document` through `client`. `sessions`: the headers of each signed-on role,
    tried in order; `known`: real values for path parameters by name (a dossier's `code`).

    `result.operations` names the operations fuzzed beyond the authentication layer; the others, and every kind of
    input left out, are in `result.skipped` with the reason. A kind of input the fuzzer fails to build is skipped
    (named with its exception) and the run goes on; the SUT out of reach (an httpx.TransportError) ends it."""
    budget = budget or Budget()
    known = dict(known or {})
    started = time.monotonic()
    operations, skipped = input_operations(document)
    result = FuzzResult(skipped=list(skipped))
    for operation in operations:
        untargeted: list[tuple[str, ...]] = []
        try:
            base = _base(operation, known)
            headers = _headers_for(client, operation, base, sessions)
            if headers is None:
                result.skipped.append((str(operation), SKIPPED["refused"]))
                continue
            carried = {name.lower() for name in (*headers, *client.headers)}
            cases = cases_for(operation, known, carried, untargeted)
        except Exception as error:
            if _from_transport(error):
                raise
            result.skipped.append((str(operation), _broke(str(operation), error)))
            continue
        result.skipped += _left_out(operation, carried, untargeted)
        statuses: list[int] = []
        for case in cases:
            result.cases += 1
            examples = budget.generated_examples if case.rule == "valid" else budget.max_examples
            try:
                _explore(client, operation, case, base, headers, examples, result, statuses)
            except Exception as error:
                if _from_transport(error):
                    raise
                what = f"{operation} ({case.rule} {case.at})"
                result.skipped.append((f"{operation} [{case.rule} {case.at}]", _broke(what, error)))
        if statuses and all(status in REFUSED for status in statuses):
            result.skipped.append((str(operation), SKIPPED["refused"]))
        elif statuses:
            result.operations.append(str(operation))
    result.seconds = time.monotonic() - started
    return result
