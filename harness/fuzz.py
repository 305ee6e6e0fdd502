"""Schema-driven fuzzing of the SUT's input operations (P111-ROBUST-INPUT): a library, no pytest in it.

Every operation of the SUT's OpenAPI document that takes parameters or a JSON body is sent, through the recorded SUT
client, input that its document allows (built with hypothesis-jsonschema, seeded with the document's examples) and
input that breaks exactly one named rule (a targeted mutation of a valid input). Valid input must never get a 5xx;
invalid input must be refused with a 4xx and, where the document promises JSON errors, a JSON body. Each kind of input
is one derandomised hypothesis run with a small budget, so a run is repeatable and a counterexample is shrunk: the
smallest input that still breaks the SUT, which the check turns into evidence.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
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
INTEGER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x2FFFF, categories=("Lo", "So"))  # Nôm, emoji …
SMALL_JSON = st.none() | st.booleans() | st.integers() | st.text(max_size=8)

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
    json_errors: bool = True  # the document promises a JSON body with its 4xx answers

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"


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
    operations: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (operation, why)
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


def _json_errors(operation: dict[str, Any]) -> bool:
    return any(
        any("json" in media for media in (answer.get("content") or {}))
        for code, answer in operation.get("responses", {}).items()
        if str(code).startswith("4") or code == "default"
    )


def _examples(media: dict[str, Any], schema: dict[str, Any]) -> tuple[Any, ...]:
    found = list(schema.get("examples", []))
    if "example" in media:
        found.append(media["example"])
    found += [e["value"] for e in media.get("examples", {}).values() if isinstance(e, dict) and "value" in e]
    return tuple(found)


def _segment(parameter: dict[str, Any]) -> dict[str, Any]:
    """A path parameter's schema: a string one is never empty, since an empty segment names another path."""
    schema = dict(parameter.get("schema", {}))
    if "string" in _types(schema) and "enum" not in schema:
        schema.setdefault("minLength", 1)
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
                    _segment(p) if p.get("in") == "path" else p.get("schema", {}),
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
            body = (media or {}).get("schema")
            if not parameters and body is None:
                continue  # no input to vary
            examples = _examples(media or {}, body or {})
            found.append(Operation(method, template, parameters, body, examples, _json_errors(raw)))
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
    return set()


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


def _value_cases(schema: dict[str, Any], where: tuple[str, ...], *, on_wire: bool) -> list[Case]:
    """The kinds of input for one value. `on_wire`: a parameter, a string on the wire, so that only a non-string
    schema has a wrong type."""
    cases: list[Case] = []
    types = _types(schema)
    if types and (not on_wire or types & {"integer", "number", "boolean"}):
        cases.append(Case("type", where))
    if "enum" in schema:
        cases.append(Case("enum", where))
    if "string" in types and "enum" not in schema:
        for rule in ("maxLength", "pattern", "format"):
            if rule in schema and (rule != "format" or schema["format"] in _FORMATS.checkers):
                cases.append(Case(rule, where))
        if "pattern" not in schema and "format" not in schema:
            cases.append(Case("astral-text", where))
    if not on_wire:
        cases += _structure_cases(schema, where)
    return cases


def _structure_cases(schema: dict[str, Any], where: tuple[str, ...]) -> list[Case]:
    cases: list[Case] = []
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name, sub in properties.items():
        cases.append(Case("required" if name in required else "optional-absent", (*where, name)))
        cases += _value_cases(sub, (*where, name), on_wire=False)
    if schema.get("additionalProperties") is False and properties:
        cases.append(Case("additionalProperties", where))
    if isinstance(schema.get("items"), dict):
        cases += _structure_cases(schema["items"], (*where, "[]"))
    return cases


def cases_for(operation: Operation, known: Mapping[str, str]) -> list[Case]:
    cases = [Case("valid")]
    for p in operation.parameters:
        if p.name in known:
            continue  # a real value the SUT holds (a dossier's code): varied, it would only ever be "not found"
        where = (p.location, p.name)
        if p.required and p.location != "path":
            cases.append(Case("required", where))
        cases += _value_cases(p.schema, where, on_wire=True)
    if operation.body is not None:
        cases += [Case("not-json", ("body",)), Case("not-an-object", ("body",))] if "object" in _types(
            operation.body
        ) else []
        # The whole body's wrong type is "not-an-object" above; its extra property stays, at "body".
        cases += [
            Case(c.rule, ("body", *c.where))
            for c in _value_cases(operation.body, (), on_wire=False)
            if c.where or c.rule == "additionalProperties"
        ]
    return cases


# ---------------------------------------------------------------------------------------------- generating input

_FORMATS = Draft202012Validator.FORMAT_CHECKER


def _leaf(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Scalars from hypothesis-jsonschema; objects and lists are built here, because hypothesis-jsonschema's own
    object strategy does not run with the installed Hypothesis."""
    schema = {k: v for k, v in schema.items() if k not in ("examples", "example", "description", "default")}
    if schema.get("format") not in _FORMATS.checkers:
        schema.pop("format", None)  # a format of the SUT's own: any string of the type
    return from_schema(schema)


def values(schema: dict[str, Any], examples: Sequence[Any] = ()) -> st.SearchStrategy[Any]:
    """Valid values of `schema`, the document's examples first (hypothesis shrinks towards them)."""
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


@dataclass
class _Input:
    params: dict[tuple[str, str], Any]  # (location, name) → value; None: absent
    body: Any = None
    raw: str | None = None  # the body as text, when it is not JSON on purpose


def _base(operation: Operation, known: Mapping[str, str]) -> st.SearchStrategy[_Input]:
    params: dict[tuple[str, str], st.SearchStrategy[Any]] = {}
    for p in operation.parameters:
        strategy = st.just(known[p.name]) if p.name in known else values(p.schema, p.examples)
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


def _wrong_type(schema: dict[str, Any], on_wire: bool) -> st.SearchStrategy[Any]:
    types = _types(schema)
    if on_wire:  # what the wire carries is text: text that is not a value of the type
        shapes = {"integer": INTEGER, "number": NUMBER, "boolean": re.compile("true|false")}
        shape = next(shapes[t] for t in ("boolean", "integer", "number") if t in types)
        return st.text(max_size=8).filter(lambda s: not shape.fullmatch(s))
    wrong = {
        "string": st.text(max_size=8),
        "integer": st.integers(),
        "boolean": st.booleans(),
        "null": st.none(),
        "array": st.lists(st.integers(), max_size=2),
        "object": st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    }
    allowed = types | ({"integer"} if "number" in types else set())
    return st.one_of([s for t, s in wrong.items() if t not in allowed])


def _mutated(operation: Operation, case: Case, base: _Input, draw: Callable[[Any], Any]) -> _Input:
    """The base input with the case's one rule broken (or its valid edge taken)."""
    got = _Input(copy.deepcopy(base.params), copy.deepcopy(base.body))
    if case.rule == "valid":
        return got
    if case.rule == "not-json":
        got.raw = draw(st.text(max_size=12).map(lambda s: "{" + s).filter(_not_json))
        return got
    if case.rule == "not-an-object":
        got.body = draw(SMALL_JSON | st.lists(SMALL_JSON, max_size=2))
        return got
    schema = _schema_at(operation, case.where)
    container: Any
    if case.where[0] == "body":
        container, key = _reach(operation, got, case.where[1:], draw)
    else:
        container, key = got.params, case.where
    if case.rule in ("required", "optional-absent"):
        if case.where[0] == "body":
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
    container[key] = draw(_breaking(case.rule, schema, container.get(key), on_wire=case.where[0] != "body"))
    return got


def _breaking(rule: str, schema: dict[str, Any], current: Any, *, on_wire: bool) -> st.SearchStrategy[Any]:
    if rule == "type":
        return _wrong_type(schema, on_wire)
    if rule == "enum":
        return st.text(max_size=12).filter(lambda s: s not in schema["enum"])
    if rule == "maxLength":
        limit, start = schema["maxLength"], current if isinstance(current, str) else ""
        return st.integers(1, 8).map(lambda extra: (start + "x" * (limit + extra))[: limit + extra])
    if rule == "pattern":
        pattern = re.compile(schema["pattern"])
        return st.text(max_size=min(schema.get("maxLength", 16), 16)).filter(lambda s: not pattern.search(s))
    if rule == "format":
        return st.text(max_size=16).filter(lambda s: not _FORMATS.conforms(s, schema["format"]))
    # astral-text: valid text that a 3-byte UTF-8 store (MySQL utf8mb3) cannot hold
    size = max(1, min(schema.get("maxLength", 8), 8))
    return st.text(alphabet=ASTRAL, min_size=max(1, schema.get("minLength", 1)), max_size=size)


def _reach(
    operation: Operation, got: _Input, path: tuple[str, ...], draw: Callable[[Any], Any]
) -> tuple[Any, Any]:
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
        text = value if isinstance(value, str) else json.dumps(value)
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
    return client.request(operation.method.upper(), path, params=query, content=content, headers={**headers, **extra})


def judge(operation: Operation, case: Case, response: httpx.Response) -> str | None:
    """None when the answer is lawful for this kind of input, else the key of the problem."""
    if response.status_code >= 500:
        return "server-error"
    if case.valid:
        return None
    if not 400 <= response.status_code < 500:
        return "accepted"
    if operation.json_errors and not _is_json(response):
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


def _explore(
    client: httpx.Client,
    operation: Operation,
    case: Case,
    base: st.SearchStrategy[_Input],
    headers: Mapping[str, str],
    examples: int,
    result: FuzzResult,
) -> None:
    @_settings(examples)
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        sent = _mutated(operation, case, data.draw(base), data.draw)
        response = _send(client, operation, sent, headers)
        result.requests += 1
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
) -> Mapping[str, str]:
    """The first session the operation does not refuse (401, 403) on its simplest valid input: citizens submit,
    officers act and export."""
    if len(sessions) < 2:
        return sessions[0] if sessions else {}
    simplest = find(base, lambda _: True, settings=_settings(1))
    for headers in sessions:
        if _send(client, operation, simplest, headers).status_code not in (401, 403):
            return headers
    return sessions[0]


def fuzz(
    client: httpx.Client,
    document: dict[str, Any],
    *,
    sessions: Sequence[Mapping[str, str]] = (),
    known: Mapping[str, str] | None = None,
    budget: Budget | None = None,
) -> FuzzResult:
    """Fuzzes every input operation of `document` through `client`. `sessions`: the headers of each signed-on role,
    tried in order; `known`: real values for path parameters by name (a dossier's `code`)."""
    budget = budget or Budget()
    known = dict(known or {})
    started = time.monotonic()
    operations, skipped = input_operations(document)
    result = FuzzResult(skipped=list(skipped))
    for operation in operations:
        result.operations.append(str(operation))
        base = _base(operation, known)
        headers = _headers_for(client, operation, base, sessions)
        for case in cases_for(operation, known):
            result.cases += 1
            examples = budget.generated_examples if case.rule == "valid" else budget.max_examples
            _explore(client, operation, case, base, headers, examples, result)
    result.seconds = time.monotonic() - started
    return result
