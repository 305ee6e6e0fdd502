"""From a valid document to the typed `Target`: the schema's defaults filled in, then each field of the model read
from where its `at(...)` says, converted by its annotation (a nested section, a tuple, a float, a `Secret`) or by
the converter it names."""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.config.errors import Problem, TargetError
from harness.config.model import Target
from harness.config.problems import procedure_code
from harness.config.secret import Secret, resolve, secret_fields
from harness.core import schemas


@dataclass(frozen=True)
class Run:
    """What a build knows besides the document: the environment (for secrets), the file, its digest."""

    env: Mapping[str, str]
    source: Path | None
    digest: str
    document: dict[str, Any]

    @property
    def label(self) -> str:
        return str(self.source or "target")


def build_target(document: dict[str, Any], env: Mapping[str, str], source: Path | None, digest: str) -> Target:
    return build(Target, document, Run(env, source, digest, document), "")


def build(cls: type[Any], node: Mapping[str, Any], run: Run, where: str) -> Any:
    """An instance of the model class `cls` from its section `node` of the document (`where` names it)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        if "run" in spec.metadata:
            values[spec.name] = getattr(run, spec.metadata["run"])
            continue
        path = spec.metadata["document"]
        place = f"{where}.{path}" if where else path
        value = lookup(node, path)
        if spec.metadata["convert"]:
            values[spec.name] = CONVERTERS[spec.metadata["convert"]](node, path, run, place)
        elif value is not _ABSENT:
            values[spec.name] = typed(hints[spec.name], value, run, place)
        elif dataclasses.is_dataclass(hints[spec.name]):
            values[spec.name] = build(hints[spec.name], {}, run, place)  # an absent section: all its defaults
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            values[spec.name] = None  # an optional field the schema gives no default
    return cls(**values)


_ABSENT = object()


def lookup(node: Mapping[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def typed(hint: Any, value: Any, run: Run, where: str) -> Any:
    """`value` as the annotation `hint` wants it."""
    if value is None:
        return None
    arguments = typing.get_args(hint)
    if isinstance(hint, types.UnionType):  # X | None: the document held an X
        return typed(next(a for a in arguments if a is not type(None)), value, run, where)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, run, where)
    if typing.get_origin(hint) is tuple:
        return tuple(typed(arguments[0], item, run, f"{where}[{i}]") for i, item in enumerate(value))
    if hint is Secret:
        return resolve(value, run.env)
    if hint is float:
        return float(value)
    return value


# --- converters: where the typed shape is not the document's ----------------------------------------------------


def _operations(node: Mapping[str, Any], path: str, run: Run, where: str) -> tuple[tuple[str, str], ...]:
    return tuple((t["method"], t["path"]) for t in node.get(path, ()))


def _driver_secrets(node: Mapping[str, Any], path: str, run: Run, where: str) -> dict[str, Secret]:
    found = ((name, resolve(value, run.env)) for name, value in secret_fields(node.get(path) or {}))
    return {name: secret for name, secret in found if secret is not None}


def _procedure_codes(node: Mapping[str, Any], path: str, run: Run, where: str) -> tuple[str, ...] | None:
    return tuple(procedure_code(p) for p in node[path]) if path in node else None


def _procedure_levels(node: Mapping[str, Any], path: str, run: Run, where: str) -> tuple[tuple[str, str], ...]:
    return tuple((p["code"], str(p["level"])) for p in node.get(path, ()) if isinstance(p, dict))


def _sorted_pairs(node: Mapping[str, Any], path: str, run: Run, where: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(node.get(path, {}).items()))


def _catalog(node: Mapping[str, Any], path: str, run: Run, where: str) -> tuple[dict[str, Any], ...]:
    """counterparts.portal.catalog and catalog_file: entries in the portal's catalog export shape."""
    inline = _checked_catalog(list(node.get(path, ())), where, run)
    name = node.get("catalog_file")
    if not name:
        return inline
    where = f"{where}_file"
    file = Path(name) if Path(name).is_absolute() or run.source is None else run.source.parent / name
    try:
        entries = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TargetError([Problem(where, f"cannot read {file}: {exc}")], run.label) from None
    return inline + _checked_catalog(entries, where, run, file.name)


def _checked_catalog(entries: Any, where: str, run: Run, what: str = "") -> tuple[dict[str, Any], ...]:
    """Catalog entries, checked against the portal's catalog export shape (schemas/mocks/portal-catalog)."""
    error = schemas.first_error("mocks/portal-catalog", entries)
    if error is not None:
        expected = "a list of {maTTHC, tenTTHC, mucDo, coPhiLePhi, ngayQuyetDinhCongBo, ngayCongKhai}"
        problem = f"{what + ' ' if what else ''}not in the portal's catalog export shape ({expected}): "
        raise TargetError([Problem(where, problem + schemas.describe(error))], run.label)
    return tuple(entries)


CONVERTERS: dict[str, Callable[[Mapping[str, Any], str, Run, str], Any]] = {
    "operations": _operations,
    "driver_secrets": _driver_secrets,
    "procedure_codes": _procedure_codes,
    "procedure_levels": _procedure_levels,
    "sorted_pairs": _sorted_pairs,
    "catalog": _catalog,
}


# --- defaults ------------------------------------------------------------------------------------------------------


def with_defaults(instance: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """A copy of a valid instance with the schema's `default`s filled in, nested objects included."""
    while "$ref" in schema and "properties" not in schema:
        schema = resolve_reference(schema["$ref"], root)
    if isinstance(instance, dict):
        result = dict(instance)
        for name, subschema in schema.get("properties", {}).items():
            subschema = resolve_reference(subschema["$ref"], root) | subschema if "$ref" in subschema else subschema
            if name not in result and "default" in subschema:
                result[name] = copy.deepcopy(subschema["default"])
            if name in result:
                result[name] = with_defaults(result[name], subschema, root)
        return result
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [with_defaults(item, schema["items"], root) for item in instance]
    return copy.deepcopy(instance)


def resolve_reference(reference: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    # Only local references (#/$defs/...) occur in the target schema.
    node: Any = root
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node
