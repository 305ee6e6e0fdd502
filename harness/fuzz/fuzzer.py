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
from harness.config.target import FuzzBudget as Budget
from harness.fuzz.readback import read_back
from harness.fuzz.seeds import Seeds, placed

__all__ = [
    "RULES",
    "Budget",
    "Case",
    "Finding",
    "FuzzResult",
    "Operation",
    "Parameter",
    "Seeds",
    "fuzz",
    "input_operations",
]

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
    "body-absent": (False, "thiếu thân yêu cầu bắt buộc", "a required request body missing"),
    # Valid JSON text (a \\uD800 escape) that is no Unicode: refusing it is lawful, crashing on it (now or when the
    # value is read back) is not.
    "lone-surrogate": (True, "chuỗi có ký tự thay thế đơn lẻ (surrogate)", "text with a lone surrogate"),
}
PROBLEMS = {
    "server-error": "lỗi máy chủ (5xx) / a server error (5xx)",
    "accepted": "dữ liệu không hợp lệ không bị từ chối bằng 4xx / invalid input not refused with a 4xx",
    "not-json-error": "bị từ chối nhưng lỗi không phải JSON / refused, but the error is not JSON",
    "undocumented-status": "mã trạng thái tài liệu không mô tả cho thao tác / a status the document does not describe "
    "for the operation",
    "read-back-error": "đã chấp nhận nhưng đọc lại bị lỗi máy chủ (5xx) / accepted, then reading it back got a 5xx",
    "read-back-differs": "đã chấp nhận nhưng đọc lại khác giá trị đã gửi / accepted, then read back with another value",
}
# Answered by the authentication and protocol layers before the operation runs: a document rarely lists them, so the
# lenient setting (fuzz.undocumented_status) does not hold them against it.
LAYER_STATUSES = frozenset({401, 403, 405, 406, 408, 411, 413, 414, 415, 429, 431})
STATE_CONFLICT = 409  # how HTTP says "not in this state": an input answered so never reached the input checks
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
    body_required: bool = False  # requestBody.required
    answers_200: bool = False  # declared public or authenticated by a checksum: may refuse with HTTP 200 + its code

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

    def documents(self, status: int) -> bool:
        codes = {code.upper() for code, _ in self.responses}
        return bool({str(status), f"{status // 100}XX", "DEFAULT"} & codes)


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
    written: httpx.Response | None = None  # for a read-back problem: the write's answer (the read is `response`)

    def describe(self) -> str:
        answered = f"HTTP {self.response.status_code}"
        if self.written is not None:  # the write's answer, then the read and its answer
            read = self.response.request
            answered = f"HTTP {self.written.status_code}, {read.method} {read.url.path} → {answered}"
        return f"{self.operation} — {self.case.describe()} → {answered}: {PROBLEMS[self.problem]}"


@dataclass
class FuzzResult:
    operations: list[str] = field(default_factory=list)  # fuzzed beyond the authentication layer
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (operation or "operation [where]", why)
    cases: int = 0
    requests: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    setup_requests: int = 0  # sent to bring resources into a state where an operation can act
    past_state: dict[str, list[int]] = field(default_factory=dict)  # operation → [inputs sent, not refused by state]
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)  # operation → status → how many


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


def input_operations(
    document: dict[str, Any], public: Collection[tuple[str, str]] = ()
) -> tuple[list[Operation], list[tuple[str, str]]]:
    """The operations that take input, and those left out with the reason. `public`: (METHOD, template) the target
    declares called by another party (public, checksum-authenticated), as is any the document marks
    `x-p111-authenticated-by`: such an operation may refuse a bad message with HTTP 200 and its own error code."""
    declared = {(method.upper(), path) for method, path in public}
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
            answers_200 = bool(raw.get("x-p111-authenticated-by")) or (method.upper(), template) in declared
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
            required = bool((raw.get("requestBody") or {}).get("required")) and body is not None
            found.append(
                Operation(method, template, parameters, body, examples, _responses(raw), required, answers_200)
            )
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
        cases += [Case("body-absent", ("body",))] if operation.body_required else []
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


def values(
    schema: dict[str, Any], examples: Sequence[Any] = (), seeds: Seeds | None = None, name: str = ""
) -> st.SearchStrategy[Any]:
    """Valid values of `schema`, the document's examples first (hypothesis shrinks towards them); a field `name`
    the `seeds` know real values for takes them too (harness.fuzz.seeds)."""
    schema = _chosen(schema)
    generated: st.SearchStrategy[Any]
    if "properties" in schema or "object" in _types(schema):
        names = schema.get("properties", {})
        required = set(schema.get("required", []))
        generated = st.fixed_dictionaries(
            {k: values(v, v.get("examples", ()), seeds, k) for k, v in names.items() if k in required},
            optional={k: values(v, v.get("examples", ()), seeds, k) for k, v in names.items() if k not in required},
        )
    elif "array" in _types(schema):
        item = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        generated = st.lists(values(item, item.get("examples", ()), seeds, name), max_size=2)
    else:
        generated = _leaf(schema)
        real = seeds.for_field(name, schema) if seeds is not None and name else ()
        generated = st.sampled_from(real) | generated if real else generated
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


def _parameter_values(p: Parameter, seeds: Seeds | None = None) -> st.SearchStrategy[Any]:
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
        strategy = values(p.schema, p.examples, seeds, p.name)
    return strategy.filter(_fits(p.location))


@dataclass
class _Input:
    params: dict[tuple[str, str], Any]  # (location, name) → value; None: absent
    body: Any = None
    raw: str | None = None  # the body as text, when it is not JSON on purpose
    omit: bool = False  # no body at all


def _base(operation: Operation, known: Mapping[str, str], seeds: Seeds | None = None) -> st.SearchStrategy[_Input]:
    params: dict[tuple[str, str], st.SearchStrategy[Any]] = {}
    for p in operation.parameters:
        strategy = st.just(known[p.name]) if p.name in known else _parameter_values(p, seeds)
        params[(p.location, p.name)] = strategy if p.required else st.none() | strategy
    body = values(operation.body, operation.examples, seeds) if operation.body is not None else st.none()
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
    if case.rule == "body-absent":
        got.omit = True
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
    low = max(1, schema.get("minLength", 1))
    if rule == "lone-surrogate":
        lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
        return st.tuples(st.text(max_size=3), lone).map("".join).filter(lambda s: len(s) >= low)
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


# A server that crashed may close the connection it answered on; the next request on that kept-alive connection then
# fails without ever reaching it. Sent once more, on a fresh connection; failing again, the SUT is out of reach.
STALE_CONNECTION = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def _send(
    client: httpx.Client, operation: Operation, given_input: _Input, headers: Mapping[str, str]
) -> httpx.Response:
    try:
        return _send_once(client, operation, given_input, headers)
    except STALE_CONNECTION:
        return _send_once(client, operation, given_input, headers)


def _send_once(
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
    if given_input.omit:
        content = None
    elif given_input.raw is not None:
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


def judge(operation: Operation, case: Case, response: httpx.Response, undocumented: str = "off") -> str | None:
    """None when the answer is lawful for this kind of input, else the key of the problem. `undocumented`: how a
    status the document omits is judged (strict, lenient, off: target setting fuzz.undocumented_status). An
    operation that `answers_200` may refuse invalid input with a 2xx carrying its own error code (MaLoi)."""
    status = response.status_code
    if status >= 500:
        return "server-error"
    refused = 400 <= status < 500 or (operation.answers_200 and 200 <= status < 300)
    if not case.valid and not refused:
        return "accepted"
    lenient = undocumented == "lenient" and status in LAYER_STATUSES
    if undocumented != "off" and not lenient and not operation.documents(status):
        return "undocumented-status"
    if not case.valid and status >= 400 and operation.promises_json(status) and not _is_json(response):
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


# One exception type per problem: hypothesis tells failures apart by their type, so that one kind of input reports a
# crash and, apart from it, a value that breaks its later read, each shrunk on its own (not the first one only).
_FOUND = {problem: type(f"_Found_{problem.replace('-', '_')}", (_Found,), {}) for problem in PROBLEMS}


def _all_found(error: BaseException) -> list[Finding]:
    """The findings in what hypothesis raised: one, or a group (distinct failures, or a flaky one), one per problem."""
    if isinstance(error, _Found):
        return [error.finding]
    found = [f for inner in getattr(error, "exceptions", ()) for f in _all_found(inner)]
    return list({f.problem: f for f in reversed(found)}.values())[::-1]


def _from_transport(error: BaseException) -> bool:
    """Whether the SUT could not be reached (alone, or among what hypothesis grouped): that stays an error."""
    if isinstance(error, httpx.TransportError):
        return True
    return any(_from_transport(inner) for inner in getattr(error, "exceptions", ()))


def _broke(what: str, error: BaseException) -> str:
    message = str(error).splitlines()[0][:200] if str(error) else ""
    return f"bộ thử không tạo được dữ liệu vào / the fuzzer failed on {what}: {type(error).__name__}: {message}"


@dataclass
class _Run:
    """What every request of one operation shares."""

    client: httpx.Client
    operations: Sequence[Operation]  # the whole document's: a write is read back through its GET
    headers: Mapping[str, str]
    result: FuzzResult
    undocumented: str = "off"
    resources: Any = None  # harness.fuzz.state.DossierPool or alike: prepare(params) → headers, settled(…)
    statuses: list[int] = field(default_factory=list)


def _try(run: _Run, operation: Operation, case: Case, sent: _Input) -> Finding | None:
    """Sends one input (in a resource the operation can act on, when `run.resources` knows one) and judges the
    answer, then reads back what a valid input wrote."""
    headers = (run.resources.prepare(sent.params) if run.resources is not None else None) or run.headers
    response = _send(run.client, operation, sent, headers)
    if run.resources is not None:
        run.resources.settled(sent.params, response)
    run.result.requests += 1
    run.statuses.append(response.status_code)
    counts = run.result.statuses.setdefault(str(operation), {})
    counts[response.status_code] = counts.get(response.status_code, 0) + 1
    state = run.result.past_state.setdefault(str(operation), [0, 0])
    state[0] += 1
    state[1] += response.status_code != STATE_CONFLICT
    problem = judge(operation, case, response, run.undocumented)
    if problem is not None:
        return Finding(operation, case, problem, response)
    if case.valid and not sent.omit and sent.raw is None:
        back = read_back(run.client, run.operations, operation, sent.body, response, headers)
        if back is not None:
            run.result.requests += 1
            if back[0] is not None:
                return Finding(operation, case, back[0], back[1], written=response)
    return None


def _explore(run: _Run, operation: Operation, case: Case, base: st.SearchStrategy[_Input], examples: int) -> None:
    @_settings(examples)
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        found = _try(run, operation, case, _mutated(operation, case, data.draw(base), data.draw))
        if found is not None:
            raise _FOUND[found.problem](found)

    try:
        explore()
    except Unsatisfiable:
        run.result.skipped.append(
            (f"{operation} [{case.at}]", f"không sinh được dữ liệu / no input found for {case.rule}")
        )
    except Exception as error:
        found = _all_found(error)
        if not found:
            raise
        run.result.findings += found


def _seeded(operation: Operation, simplest: _Input, seeds: Seeds, known: Mapping[str, str]) -> list[_Input]:
    """The simplest valid input (the document's example) with each real value the seeds hold put in its place."""
    found = [
        _Input(dict(simplest.params), placed(simplest.body, where, value))
        for where, real in seeds.in_body(operation.body)
        for value in real
    ]
    for p in operation.parameters:
        if p.name not in known and p.location != "header":
            found += [
                _Input({**simplest.params, (p.location, p.name): value}, simplest.body)
                for value in seeds.for_field(p.name, p.schema)
                if _fits(p.location)(value)
            ]
    return found


def _headers_for(
    client: httpx.Client,
    operation: Operation,
    simplest: _Input,
    sessions: Sequence[Mapping[str, str]],
    resources: Any = None,
) -> Mapping[str, str] | None:
    """The first session the operation does not refuse (401, 403) on its simplest valid input: citizens submit,
    officers act and export. None: every session is refused, nothing would get past the authentication layer."""
    for headers in sessions or ({},):
        probe = _Input(dict(simplest.params), copy.deepcopy(simplest.body))
        chosen = (resources.prepare(probe.params) if resources is not None else None) or headers
        response = _send(client, operation, probe, chosen)
        if resources is not None:
            resources.settled(probe.params, response)
        if response.status_code not in REFUSED:
            return headers
    return None


def fuzz(
    client: httpx.Client,
    document: dict[str, Any],
    *,
    sessions: Sequence[Mapping[str, str]] = (),
    known: Mapping[str, str] | None = None,
    budget: Budget | None = None,
    public: Collection[tuple[str, str]] = (),
    seeds: Seeds | None = None,
    resources: Any = None,
) -> FuzzResult:
    """Fuzzes every input operation of `document` through `client`. `sessions`: the headers of each signed-on role,
    tried in order; `known`: real values for path parameters by name (a dossier's `code`); `public`: (METHOD,
    template) the target declares called by another party, which may refuse with HTTP 200 and its own error code;
    `seeds`: real values for fields the document cannot teach (harness.fuzz.seeds); `resources`: gives each request
    a resource in a state where it can act (harness.fuzz.state.DossierPool).

    `result.operations` names the operations fuzzed beyond the authentication layer; the others, and every kind of
    input left out, are in `result.skipped` with the reason. A kind of input the fuzzer fails to build is skipped
    (named with its exception) and the run goes on; the SUT out of reach (an httpx.TransportError) ends it."""
    budget = budget or Budget()
    known = dict(known or {})
    seeds = seeds or Seeds()
    started = time.monotonic()
    operations, skipped = input_operations(document, public)
    if resources is not None and hasattr(resources, "split"):
        operations = resources.split(operations)  # one per lifecycle action where a path names it (fuzz.state)
    result = FuzzResult(skipped=list(skipped))
    for operation in operations:
        untargeted: list[tuple[str, ...]] = []
        try:
            base = _base(operation, known, seeds)
            simplest = find(base, lambda _: True, settings=_settings(1))
            headers = _headers_for(client, operation, simplest, sessions, resources)
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
        run = _Run(client, operations, headers, result, budget.undocumented_status, resources)
        for case in cases:
            result.cases += 1
            examples = budget.generated_examples if case.rule == "valid" else budget.max_examples
            try:
                if case.rule == "valid":  # each real value once, in the document's example: deterministic
                    seeded = (_try(run, operation, case, sent) for sent in _seeded(operation, simplest, seeds, known))
                    first = next((f for f in seeded if f is not None), None)
                    if first is not None:
                        result.findings.append(first)
                        continue
                _explore(run, operation, case, base, examples)
            except Exception as error:
                if _from_transport(error):
                    raise
                what = f"{operation} ({case.rule} {case.at})"
                result.skipped.append((f"{operation} [{case.rule} {case.at}]", _broke(what, error)))
        if run.statuses and all(status in REFUSED for status in run.statuses):
            result.skipped.append((str(operation), SKIPPED["refused"]))
        elif run.statuses and str(operation) not in result.operations:  # once, though fuzzed once per action
            result.operations.append(str(operation))
    result.setup_requests = getattr(resources, "requests", 0)
    result.seconds = time.monotonic() - started
    return result
