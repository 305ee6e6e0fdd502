"""Reading a target: its bytes bounded (harness.core.limits), YAML parsed strictly (no aliases, no duplicate keys,
nesting bounded), every problem collected — the schema's and the semantic ones — before anything is built."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.config.building import build_target, with_defaults
from harness.config.errors import FILE, Problem, TargetError
from harness.config.model import Target
from harness.config.problems import semantic_problems
from harness.config.secret import ENV_REFERENCE, secret_fields
from harness.config.wording import KIND, schema_problems, target_schema
from harness.core import limits
from harness.core.formats import vietnam_now
from harness.core.resources import data_file

EMBEDDED_FILE = "embedded.target.yaml"


def load_target(path: str | Path, env: Mapping[str, str] | None = None) -> Target:
    """Read, validate and resolve a target file; a TargetError lists every problem found, not just the first."""
    path = Path(path)
    try:
        raw = limits.read_bytes(path, "target")  # refused by its size before a byte is read
    except limits.BadInput as exc:
        raise TargetError([Problem(FILE, str(exc).replace(f"{path}: ", "", 1))], str(path)) from None
    except FileNotFoundError:
        raise TargetError([Problem(FILE, "file not found")], str(path)) from None
    except OSError as exc:
        raise TargetError([Problem(FILE, f"cannot read the file: {exc.strerror or exc}")], str(path)) from None
    return load(raw, str(path), path, os.environ if env is None else env)


def embedded_target(year: int | None = None, defects: Sequence[str] = ()) -> Target:
    """The harness's own reference system, in-process: the default when no target file is given."""
    path = data_file(EMBEDDED_FILE)
    # No environment: the embedded wiring makes fresh credentials for every run, so nothing is read from outside.
    target = load(path.read_bytes(), f"embedded target ({path.name})", None, {})
    return target.with_changes(year=year, defects=defects)


def load_target_text(raw: bytes, label: str, env: Mapping[str, str]) -> Target:
    """A target from its text, not a file (a recording's copy): validated exactly as a file is; `label` names it in
    errors."""
    return load(raw, label, None, env)


def reload(document: Mapping[str, Any], label: str, source: Path | None) -> Target:
    """A changed copy of a loaded target's document, validated again as if a file said so. It holds no secrets but
    the `${ENV}` references a lawful variation's settings name (an officer's password): the embedded system's
    credentials are fresh for every run, so each gets a fresh value, which the embedded wiring gives the system too."""
    fresh = {
        match["name"]: secrets.token_urlsafe(18)
        for _, value in secret_fields(document)
        if isinstance(value, str) and (match := ENV_REFERENCE.match(value))
    }
    return load(json.dumps(document, ensure_ascii=False).encode(), label, source, fresh)


def load(raw: bytes, label: str, source: Path | None, env: Mapping[str, str]) -> Target:
    document, problems = parse_yaml(raw)
    if document is None:
        raise TargetError(problems, label)
    problems += schema_problems(document)
    problems += semantic_problems(document, env)
    if problems:
        raise TargetError(problems, label)
    document = with_defaults(document, target_schema(), target_schema())
    document.setdefault("evaluation_year", vietnam_now().year)
    # In the schema's order, so that reports show the settings as the documentation lists them.
    document = {name: document[name] for name in target_schema()["properties"] if name in document}
    return build_target(document, env, source, hashlib.sha256(raw).hexdigest())


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that records duplicate keys, which plain YAML silently resolves to the last one; refuses
    aliases (`*name`: a few lines of them expand to billions of values) and nesting deeper than `limits.MAX_DEPTH`,
    so that parsing a target is bounded by its size."""

    duplicates: list[Problem]
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted in a target file; write the value out", mark
            )
        self._depth += 1
        try:
            if self._depth > limits.MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {limits.MAX_DEPTH} levels; a target is a few levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # unhashable keys are the schema's to refuse
            if key in seen:
                mark = key_node.start_mark
                self.duplicates.append(
                    Problem(FILE, f"line {mark.line + 1}, column {mark.column + 1}: duplicate key '{key}'")
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(raw: bytes) -> tuple[Any, list[Problem]]:
    """The document (None when unusable) and the problems found. Messages name a position, never quote a line:
    the offending line may hold a literal secret."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(FILE, f"not UTF-8 text (byte {exc.start})")]
    loader = _StrictLoader(text)
    loader.duplicates = []
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        context = f" ({exc.context})" if exc.context else ""
        return None, [Problem(FILE, f"YAML syntax error at {where}{exc.problem or 'invalid YAML'}{context}")]
    except yaml.YAMLError as exc:
        return None, [Problem(FILE, f"YAML error: {type(exc).__name__}")]
    finally:
        loader.dispose()
    if document is None:
        return None, [Problem(FILE, "the file is empty; expected a mapping of settings")]
    if not isinstance(document, dict):
        found = KIND.get(type(document), type(document).__name__)
        return None, [Problem(FILE, f"expected a mapping of settings at the top level, found {found}")]
    return document, loader.duplicates
