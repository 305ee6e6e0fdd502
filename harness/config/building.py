"""From a valid document to the typed `Target`: pydantic builds the model (harness.config.model) from the document
with the schema's defaults filled in, resolving each `${ENV}` secret from the environment given; then what the
document only points at is added: the catalog file's entries and the driver's own secrets."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from harness.config.errors import Problem, TargetError, dotted
from harness.config.model import PortalCounterpart, SutConfig, Target
from harness.config.secret import Secret, resolve, secret_fields
from harness.core import schemas


@cache
def _adapter() -> TypeAdapter[Target]:
    return TypeAdapter(Target)


def build_target(document: dict[str, Any], env: Mapping[str, str], source: Path | None, digest: str) -> Target:
    """The typed target of a document the schema and the semantic checks found valid."""
    label = str(source or "target")
    try:
        target = _adapter().validate_python(document, context={"env": env})
    except ValidationError as exc:
        # The schema is generated from the model, so this is a bug; still worded without the value (a secret?).
        found = {dotted(_in_document(document, e["loc"])): e["type"] for e in exc.errors()}
        raise TargetError([Problem(path, f"not accepted by the typed model ({kind})") for path, kind in found.items()],
                          label) from None
    counterparts = dataclasses.replace(target.counterparts, portal=_with_catalog_file(target.portal, source, label))
    return dataclasses.replace(
        target, sut=_with_driver_secrets(target.sut, env), counterparts=counterparts, source=source, digest=digest,
        document=document,
    )


def _in_document(document: Any, location: tuple[str | int, ...]) -> list[str | int]:
    """The part of a pydantic error location that is a path in the document (the rest names union branches)."""
    path: list[str | int] = []
    for part in location:
        inside = isinstance(document, dict) and part in document
        inside = inside or (isinstance(document, list) and isinstance(part, int) and 0 <= part < len(document))
        if not inside:
            break
        document = document[part]
        path.append(part)
    return path


def _with_driver_secrets(sut: SutConfig, env: Mapping[str, str]) -> SutConfig:
    """The `${ENV}` references inside driver_options, resolved, by dotted path (credentials.officer.secret)."""
    found = ((path, resolve(value, env)) for path, value in secret_fields(sut.driver_options))
    secrets: dict[str, Secret] = {path: secret for path, secret in found if secret is not None}
    return dataclasses.replace(sut, driver_secrets=secrets) if secrets else sut


def _with_catalog_file(portal: PortalCounterpart, source: Path | None, label: str) -> PortalCounterpart:
    """counterparts.portal.catalog and catalog_file: entries in the portal's catalog export shape, the file's
    relative to the target file."""
    inline = _checked_catalog(list(portal.catalog), "counterparts.portal.catalog", label)
    if not portal.catalog_file:
        return portal
    where = "counterparts.portal.catalog_file"
    name = portal.catalog_file
    file = Path(name) if Path(name).is_absolute() or source is None else source.parent / name
    try:
        entries = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TargetError([Problem(where, f"cannot read {file}: {exc}")], label) from None
    return dataclasses.replace(portal, catalog=inline + _checked_catalog(entries, where, label, file.name))


def _checked_catalog(entries: Any, where: str, label: str, what: str = "") -> tuple[dict[str, Any], ...]:
    """Catalog entries, checked against the portal's catalog export shape (schemas/mocks/portal-catalog)."""
    error = schemas.first_error("mocks/portal-catalog", entries)
    if error is not None:
        expected = "a list of {maTTHC, tenTTHC, mucDo, coPhiLePhi, ngayQuyetDinhCongBo, ngayCongKhai}"
        problem = f"{what + ' ' if what else ''}not in the portal's catalog export shape ({expected}): "
        raise TargetError([Problem(where, problem + schemas.describe(error))], label)
    return tuple(entries)


# --- defaults ------------------------------------------------------------------------------------------------------


def with_defaults(instance: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """A copy of a valid instance with the schema's `default`s filled in, nested objects included: the document
    that reports show (the schema's defaults are the model's, generated from it)."""
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
    # Only local references (#/$defs/...) are followed; the generated schema has none left, a hand-edited one may.
    node: Any = root
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node
