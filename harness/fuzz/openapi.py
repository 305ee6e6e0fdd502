"""The one OpenAPI reader: a document's operations that take input, with their parameters, JSON body schema
(references resolved, `allOf` merged, OpenAPI 3.0's `nullable` as a null type), examples and documented responses."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "put", "post", "patch", "delete")


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


def normalised_schema(schema: Any) -> Any:
    """The schema as the fuzzer reads it, every subschema alike: `allOf` merged into one schema, and OpenAPI 3.0's
    `nullable: true` written as JSON Schema's null type."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: normalised_schema(sub) for name, sub in value.items()}
        elif key in ("allOf", "oneOf", "anyOf", "prefixItems") and isinstance(value, list):
            out[key] = [normalised_schema(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not", "contains") and isinstance(value, dict):
            out[key] = normalised_schema(value)
        else:
            out[key] = value
    if isinstance(out.get("allOf"), list):
        out = merged_schema([{k: v for k, v in out.items() if k != "allOf"}, *out["allOf"]])
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


def merged_schema(parts: Sequence[Any]) -> dict[str, Any]:
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
                    properties[name] = merged_schema([properties[name], sub]) if name in properties else sub
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
    else would, ".", ".." and "/", every value drawn for a path parameter is kept from: `fits`)."""
    schema = dict(schema)
    if "string" in schema_types(schema) and "enum" not in schema:
        schema["minLength"] = max(1, schema.get("minLength", 0))
    return schema


@dataclass(frozen=True)
class DocumentOperation:
    """One operation as the document states it, its parameters' references resolved (the rest of it is resolved
    where needed: a recursive body schema need not stop a reader that only wants the parameters)."""

    method: str  # lower case, as in the document
    template: str  # the path, parameters in braces
    operation: dict[str, Any]  # as written
    parameters: tuple[dict[str, Any], ...]  # the path item's and the operation's own (its own win on a clash)

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template}"


def read_operations(
    document: dict[str, Any], methods: Sequence[str] = METHODS
) -> tuple[list[DocumentOperation], list[tuple[str, str]]]:
    """Every operation of the document with one of `methods`, path by path; those whose references cannot be
    resolved (missing, recursive) are left out with the reason."""
    found: list[DocumentOperation] = []
    unreadable: list[tuple[str, str]] = []
    for template, item in document.get("paths", {}).items():
        for method in methods:
            if method not in item:
                continue
            try:
                shared = _resolve(document, item.get("parameters", []))
                own = _resolve(document, item[method].get("parameters", []))
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                unreadable.append((f"{method.upper()} {template}", f"{exc}"))
                continue
            params = {(p["name"], p.get("in")): p for p in [*shared, *own]}
            found.append(DocumentOperation(method, template, item[method], tuple(params.values())))
    return found, unreadable


def input_operations(
    document: dict[str, Any], public: Collection[tuple[str, str]] = ()
) -> tuple[list[Operation], list[tuple[str, str]]]:
    """The operations that take input, and those left out with the reason. `public`: (METHOD, template) the target
    declares called by another party (public, checksum-authenticated), as is any the document marks
    `x-p111-authenticated-by`: such an operation may refuse a bad message with HTTP 200 and its own error code."""
    declared = {(method.upper(), path) for method, path in public}
    found: list[Operation] = []
    read, unreadable = read_operations(document)
    skipped = [(name, f"tài liệu không đọc được / unreadable in the document: {why}") for name, why in unreadable]
    for op in read:
        try:
            raw = _resolve(document, op.operation)
        except (KeyError, ValueError, TypeError) as exc:
            skipped.append((op.name, f"tài liệu không đọc được / unreadable in the document: {exc}"))
            continue
        method, template = op.method, op.template
        answers_200 = bool(raw.get("x-p111-authenticated-by")) or (method.upper(), template) in declared
        parameters = tuple(_parameter(p) for p in op.parameters if p.get("in") in ("path", "query", "header"))
        content = (raw.get("requestBody") or {}).get("content", {})
        media = next((m for t, m in content.items() if "json" in t), None)
        if content and media is None:
            skipped.append((op.name, "thân không phải JSON / the body is not JSON"))
            continue
        body = normalised_schema((media or {}).get("schema"))
        if not parameters and body is None:
            continue  # no input to vary
        examples = _examples(media or {}, body or {})
        required = bool((raw.get("requestBody") or {}).get("required")) and body is not None
        found.append(Operation(method, template, parameters, body, examples, _responses(raw), required, answers_200))
    return found, skipped


def _parameter(p: dict[str, Any]) -> Parameter:
    return Parameter(
        p["name"],
        p.get("in", "query"),
        bool(p.get("required") or p.get("in") == "path"),
        _segment(normalised_schema(p.get("schema", {})))
        if p.get("in") == "path"
        else normalised_schema(p.get("schema", {})),
        tuple(p.get("schema", {}).get("examples", [])) + ((p["example"],) if "example" in p else ()),
    )


def schema_types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "enum" in schema:
        return {json_type(v) for v in schema["enum"]}
    branches = schema_branches(schema)
    if branches:  # a value of none of the branches' types breaks every branch
        each = [schema_types(b) if isinstance(b, dict) else set() for b in branches]
        if all(each):
            return set().union(*each)
    return set()


def schema_branches(schema: dict[str, Any]) -> list[Any]:
    return [b for key in ("oneOf", "anyOf") if isinstance(schema.get(key), list) for b in schema[key]]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "array" if isinstance(value, list) else "object"
