"""The http driver's configuration (`sut.driver_options`, schemas/drivers/http.schema.json), compiled once: request
templates (Jinja2, sandboxed), field locations (JMESPath) and vocabulary tables. Every mistake is a DriverError naming
the configuration key, so that a bad configuration is an ERROR, never a crash nor a FAILED."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import jmespath
from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jmespath.exceptions import JMESPathError

from harness.sut.drivers.base import DriverError

Render = Callable[[dict[str, Any]], Any]
OPTIONS = "sut.driver_options"
# A string that is one {{ expression }} and nothing else keeps the value's type (a number, a list, null).
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expression>(?:(?!\}\}).)*)\}\}\s*$", re.DOTALL)
_DEFAULT_EXPECT: dict[str, tuple[int, ...]] = {"submit": (200, 201)}
# whoami has none: a refused session is what sut.refusals says (unless the old actions.whoami.refused is given).
_DEFAULT_REFUSED: dict[str, tuple[int, ...]] = {"act": (400, 401, 403, 404, 409, 422)}


def need(mapping: Any, key: str, where: str = "") -> Any:
    """A configuration value the schema demands, for options that skipped validation (a driver built by hand)."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise DriverError(f"{OPTIONS}.{where + '.' if where else ''}{key}: required field missing")
    return mapping[key]


def shape(data: Any) -> str:
    """What an answer looks like, by its field names only: never its values, which may be personal data."""
    if isinstance(data, dict):
        return f"an object with the fields {', '.join(map(str, data)) or 'none'}"
    if isinstance(data, list):
        return f"a list of {len(data)} item(s)"
    return f"a {type(data).__name__}" if data is not None else "nothing"


# ---- templates ----------------------------------------------------------------------------------------------------

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def template(node: Any, key: str) -> Render:
    """A request's part (path, query, body) as a function of the call's variables, compiled once."""
    if isinstance(node, str):
        return _string_template(node, key)
    if isinstance(node, dict):
        if set(node) == {"$each", "$item"}:
            return _each_template(node, key)
        parts = {name: template(value, f"{key}.{name}") for name, value in node.items()}
        # A key whose value is null is left out: an optional field (to_agency) is simply not sent.
        return lambda context: {n: v for n, part in parts.items() if (v := part(context)) is not None}
    if isinstance(node, list):
        items = [template(value, f"{key}[{i}]") for i, value in enumerate(node)]
        return lambda context: [item(context) for item in items]
    return lambda context: node


def _string_template(text: str, key: str) -> Render:
    single = _ONE_EXPRESSION.match(text)
    try:
        if single:
            expression = _environment.compile_expression(single["expression"], undefined_to_none=False)

            def evaluate(context: dict[str, Any]) -> Any:
                value = _guarded(lambda: expression(**context), key)
                if isinstance(value, Undefined):
                    raise DriverError(
                        f"{OPTIONS}.{key}: {text.strip()} names no variable of this action "
                        f"(it has: {', '.join(sorted(context))})"
                    )
                return value

            return evaluate
        compiled = _environment.from_string(text)
    except TemplateError as exc:
        raise DriverError(f"{OPTIONS}.{key}: not a valid Jinja2 template: {exc}") from exc
    return lambda context: _guarded(lambda: compiled.render(context), key)


def _each_template(node: dict[str, Any], key: str) -> Render:
    source = _string_template("{{ " + str(node["$each"]) + " }}", f"{key}.$each")
    item = template(node["$item"], f"{key}.$item")

    def each(context: dict[str, Any]) -> list[Any]:
        values = source(context)
        if not isinstance(values, list | tuple):
            raise DriverError(f"{OPTIONS}.{key}.$each: {node['$each']!r} is not a list")
        return [item({**context, "item": value}) for value in values]

    return each


def _guarded(render: Callable[[], Any], key: str) -> Any:
    try:
        return render()
    except TemplateError as exc:
        raise DriverError(f"{OPTIONS}.{key}: the template cannot be rendered: {exc}") from exc


# ---- answers: JMESPath and vocabularies ---------------------------------------------------------------------------


class Expression:
    def __init__(self, key: str, text: Any) -> None:
        self.key, self.text = key, str(text)
        try:
            self.compiled = jmespath.compile(self.text)
        except JMESPathError as exc:
            raise DriverError(f"{OPTIONS}.{key}: not a valid JMESPath expression {self.text!r}: {exc}") from exc

    def search(self, data: Any, where: str) -> Any:
        try:
            return self.compiled.search(data)
        except JMESPathError as exc:
            raise DriverError(f"{where}: {OPTIONS}.{self.key} ({self.text!r}) fails on the answer: {exc}") from exc

    def required(self, data: Any, where: str) -> Any:
        found = self.search(data, where)
        if found is None:
            raise DriverError(
                f"{where}: {OPTIONS}.{self.key}: the JMESPath expression {self.text!r} finds nothing in the SUT's "
                f"answer ({shape(data)})"
            )
        return found


class JsonataExpression:
    """A view's field computed where a path cannot reach it (a sum over another list, a status derived from an
    action word): a JSONata expression (jsonata.org) on the object, with `$root` bound to the whole answer read."""

    def __init__(self, key: str, text: Any) -> None:
        import jsonata  # only a target that writes a JSONata view needs it (~50 ms of every other run's start)

        self.key, self.text = key, str(text)
        try:
            self.compiled = jsonata.Jsonata(self.text)
        except Exception as exc:  # jsonata raises its JException (a RuntimeError) for any syntax error
            raise DriverError(f"{OPTIONS}.{key}: not a valid JSONata expression {self.text!r}: {exc}") from exc

    def search(self, data: Any, where: str, root: Any = None) -> Any:
        try:
            return self.compiled.evaluate(data, {"root": data if root is None else root})
        except Exception as exc:
            raise DriverError(f"{where}: {OPTIONS}.{self.key} ({self.text!r}) fails on the answer: {exc}") from exc


class PythonExpression:
    """The escape hatch: `module:function`, called with (the object, the whole answer read); importable from where
    p111 runs."""

    def __init__(self, key: str, name: Any) -> None:
        self.key, self.text = key, str(name)
        module_name, _, function_name = self.text.partition(":")
        try:
            self.function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise DriverError(f"{OPTIONS}.{key}: cannot load the Python function {self.text!r}: {exc}") from exc
        if not callable(self.function):
            raise DriverError(f"{OPTIONS}.{key}: {self.text!r} is not a function")

    def search(self, data: Any, where: str, root: Any = None) -> Any:
        try:
            return self.function(data, data if root is None else root)
        except Exception as exc:
            raise DriverError(
                f"{where}: {OPTIONS}.{self.key} ({self.text}) raised {type(exc).__name__}: {exc}"
            ) from exc


def field_expression(key: str, node: Any) -> Expression | JsonataExpression | PythonExpression:
    """A view's field: a JMESPath string (a path), or {jmespath|jsonata|python: …}."""
    if isinstance(node, dict):
        if len(node) != 1 or next(iter(node)) not in ("jmespath", "jsonata", "python"):
            raise DriverError(f"{OPTIONS}.{key}: expected a JMESPath string or one of jmespath, jsonata, python")
        kind, text = next(iter(node.items()))
        return {"jmespath": Expression, "jsonata": JsonataExpression, "python": PythonExpression}[kind](key, text)
    return Expression(key, node)


class View:
    """Where each field of one kind of object (a dossier, a service …) is: JMESPath paths, JSONata expressions or a
    Python function. `root` is the whole answer the object was read from (a dossier, for its payments)."""

    def __init__(self, name: str, fields: dict[str, Any]) -> None:
        self.name = name
        self.fields = {field: field_expression(f"views.{name}.{field}", text) for field, text in fields.items()}

    def value(self, field: str, data: Any, where: str, *, required: bool = True, root: Any = None) -> Any:
        expression = self.fields.get(field)
        if expression is None:
            if required:
                raise DriverError(f"{where}: {OPTIONS}.views.{self.name}.{field}: required field missing")
            return None
        if isinstance(expression, Expression):  # a path: on the object itself
            return expression.required(data, where) if required else expression.search(data, where)
        found = expression.search(data, where, root)
        if found is None and required:
            raise DriverError(
                f"{where}: {OPTIONS}.views.{self.name}.{field}: {expression.text!r} finds nothing in the SUT's "
                f"answer ({shape(data)})"
            )
        return found

    def text(self, field: str, data: Any, where: str, root: Any = None) -> str:
        return str(self.value(field, data, where, root=root))

    def optional_text(self, field: str, data: Any, where: str, root: Any = None) -> str | None:
        found = self.value(field, data, where, required=False, root=root)
        return None if found is None or found == "" else str(found)

    def number(self, field: str, data: Any, where: str, *, default: int | None = None, root: Any = None) -> int:
        found = self.value(field, data, where, required=default is None, root=root)
        if found is None:
            return int(default or 0)
        try:
            return int(found) if not isinstance(found, str) else int(float(found))
        except (TypeError, ValueError) as exc:
            raise DriverError(
                f"{where}: {OPTIONS}.views.{self.name}.{field}: expected a number, found {type(found).__name__}"
            ) from exc

    def items(self, field: str, data: Any, where: str) -> list[Any]:
        found = self.value(field, data, where, required=False)
        if found is None:
            return []
        if not isinstance(found, list):
            raise DriverError(f"{where}: {OPTIONS}.views.{self.name}.{field}: expected a list, found {shape(found)}")
        return found


class Vocabulary:
    """The system's words for one of the harness's vocabularies. Without a table, words pass unchanged."""

    def __init__(self, name: str, table: dict[str, Any] | None) -> None:
        self.name = name
        self.table = {str(k): str(v) for k, v in (table or {}).items()} if table is not None else None
        self.reverse = {v: k for k, v in (self.table or {}).items()}

    def to_sut(self, word: str, where: str) -> str:
        if self.table is None:
            return word
        if word not in self.table:
            raise DriverError(f"{where}: {OPTIONS}.vocabulary.{self.name} has no entry for {word!r}")
        return self.table[word]

    def from_sut(self, word: Any, where: str) -> str:
        if self.table is None:
            return str(word)
        if str(word) not in self.reverse:
            raise DriverError(
                f"{where}: the SUT said {word!r}, which {OPTIONS}.vocabulary.{self.name} does not list "
                f"(it knows: {', '.join(self.reverse)})"
            )
        return self.reverse[str(word)]


class Action:
    """One configured HTTP call."""

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        key = f"actions.{name}"
        self.name = name
        self.method = str(spec.get("method", "GET")).upper()
        self.path = template(need(spec, "path", key), f"{key}.path")
        self.query = template(spec["query"], f"{key}.query") if "query" in spec else None
        self.body = template(spec["body"], f"{key}.body") if "body" in spec else None
        self.expect = tuple(spec.get("expect") or _DEFAULT_EXPECT.get(name, (200,)))
        self.refused = tuple(spec.get("refused") or _DEFAULT_REFUSED.get(name, ()))
        self.result = Expression(f"{key}.result", spec.get("result", "@"))
        self.message = Expression(f"{key}.message", spec["message"]) if "message" in spec else None
        self.total = Expression(f"{key}.total", spec["total"]) if "total" in spec else None
        self.page_size = int(spec.get("page_size", 1000))
        # Pages by cursor: where the next page's cursor is in an answer ({{ cursor }} in the next request).
        self.next = Expression(f"{key}.next", spec["next"]) if "next" in spec else None
        # Extra headers the action carries (a tenant, a channel …): templates, like the rest of the request.
        self.headers = template(spec["headers"], f"{key}.headers") if "headers" in spec else None
        # multipart: the body's fields go as form fields and the files as parts named `multipart.file_field`.
        self.multipart = dict(spec["multipart"]) if "multipart" in spec else None


def build_views(views: dict[str, Any]) -> dict[str, View]:
    built = {name: View(name, dict(fields or {})) for name, fields in views.items()}
    for name in ("service", "dossier"):
        if name not in built:
            raise DriverError(f"{OPTIONS}.views.{name}: required field missing")
    # A list field is read item by item with its own view: configured together or not at all.
    for view, field, other in (
        ("service", "fees", "fee"),
        ("dossier", "files", "file"),
        ("dossier", "steps", "step"),
        ("dossier", "payments", "payment"),
        ("inbox_item", "files", "file"),
    ):
        if view in built and field in built[view].fields and other not in built:
            raise DriverError(f"{OPTIONS}.views.{other}: required, since views.{view}.{field} is set")
    return built


# ---- what the configuration makes secret or personal --------------------------------------------------------------


def sensitive_names(options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(headers, fields) the configuration itself marks as secret or personal, for the redactor: the header the
    session is presented in, the field or header it comes from, and every body field the test citizen's id number is
    sent in. A vendor need not list them again under `redaction`."""
    headers: list[str] = []
    fields: list[str] = []
    sign_on = options.get("sign_on") or {}
    present, credential = sign_on.get("present") or {}, sign_on.get("credential") or {}
    if present.get("header"):
        headers.append(str(present["header"]))
    if credential.get("from") == "header" and credential.get("name"):
        headers.append(str(credential["name"]))
    elif credential.get("from") == "json" and credential.get("name"):
        fields.append(re.split(r"[.\[\]]", str(credential["name"]).strip("[]"))[-1] or str(credential["name"]))

    def id_fields(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if isinstance(value, str) and "applicant.id_number" in value:
                    fields.append(str(name))
                id_fields(value)
        elif isinstance(node, list):
            for value in node:
                id_fields(value)

    for action in (options.get("actions") or {}).values():
        id_fields((action or {}).get("body"))
    return headers, fields
