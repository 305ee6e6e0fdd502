"""What the target schema cannot express: environment variables set, agency codes unique, redaction patterns that
compile, procedures declared once, `full` mode only on staging, counterparts' hosts. Each rule is one function;
all run even when the schema found problems (so one run reports everything), hence their defensive type checks."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from harness.config.errors import Problem
from harness.config.secret import ENV_REFERENCE, secret_fields

COUNTERPARTS = ("portal", "payment", "sso")


def semantic_problems(document: Mapping[str, Any], env: Mapping[str, str]) -> list[Problem]:
    rules: tuple[Callable[[Mapping[str, Any], Mapping[str, str]], Iterator[Problem]], ...] = (
        unset_variables,
        duplicate_agencies,
        bad_redaction_patterns,
        procedures_declared_twice,
        full_mode_off_staging,
        counterpart_hosts,
    )
    return [problem for rule in rules for problem in rule(document, env)]


def _section(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A section of a document that may not be valid: empty unless it is a mapping."""
    value = document.get(name)
    return value if isinstance(value, dict) else {}


def unset_variables(document: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[Problem]:
    """Every `${NAME}` a secret field refers to is set and not empty (a literal is the schema's to refuse)."""
    for path, value in secret_fields(document):
        match = ENV_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            continue
        name = match["name"]
        if name not in env:
            yield Problem(path, f"environment variable {name} is not set")
        elif not env[name]:
            yield Problem(path, f"environment variable {name} is empty")


def duplicate_agencies(document: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[Problem]:
    agencies = document.get("agencies")
    first_seen: dict[str, int] = {}
    for index, agency in enumerate(agencies if isinstance(agencies, list) else []):
        code = agency.get("code") if isinstance(agency, dict) else None
        if not isinstance(code, str):
            continue
        if code in first_seen:
            where = f"already at agencies[{first_seen[code]}]"
            yield Problem(f"agencies[{index}].code", f"duplicate agency code {code} ({where})")
        else:
            first_seen[code] = index


def bad_redaction_patterns(document: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[Problem]:
    patterns = _section(document, "redaction").get("patterns")
    for name, pattern in (patterns.items() if isinstance(patterns, dict) else ()):
        try:
            re.compile(pattern) if isinstance(pattern, str) else None
        except re.error as exc:
            yield Problem(f"redaction.patterns.{name}", f"not a valid regular expression: {exc}")


def procedure_code(entry: Any) -> Any:
    """A declared procedure is its code, or {code, level}."""
    return entry.get("code") if isinstance(entry, dict) else entry


def procedures_declared_twice(document: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[Problem]:
    declared = _section(document, "capabilities").get("procedures")
    codes = [procedure_code(p) for p in declared] if isinstance(declared, list) else []
    for code in sorted({c for c in codes if isinstance(c, str) and codes.count(c) > 1}):
        yield Problem("capabilities.procedures", f"procedure {code} is declared more than once")


def full_mode_off_staging(document: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[Problem]:
    """`full` creates dossiers and payments: only on a system declared to be a staging system, which exists to be
    written to; a `test` system may be shared with people's own test data, `production` holds citizens' own."""
    safety = _section(document, "safety")
    environment = safety.get("environment", "staging")
    if safety.get("mode") == "full" and environment != "staging":
        yield Problem(
            "safety.mode",
            f"full creates dossiers and payments; it is allowed only with environment: staging "
            f"(this target says environment: {environment}); use mode: read-only here",
        )


def counterpart_hosts(document: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[Problem]:
    embedded = _section(document, "sut").get("embedded") is True
    counterparts = _section(document, "counterparts")
    for name in COUNTERPARTS:
        counterpart = counterparts.get(name)
        url = counterpart.get("url") if isinstance(counterpart, dict) else None
        if not isinstance(counterpart, dict) or not isinstance(url, str):
            continue
        problem = _counterpart_url_problem(url, serve=counterpart.get("serve") is True, embedded=embedded)
        if problem:
            yield Problem(f"counterparts.{name}.url", problem)


def _counterpart_url_problem(url: str, *, serve: bool, embedded: bool) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None  # malformed: the schema's pattern already says so
    if parts.scheme == "embedded":
        return (
            None
            if embedded
            else "the embedded:// scheme is only for the embedded reference system (sut.embedded: true)"
        )
    if serve and host is not None and not is_loopback(host):
        # The harness's own counterparts are test doubles without hardening: never exposed beyond this machine.
        return (
            f"serve: true starts the harness's own counterpart, which may listen only on a loopback host "
            f"(127.0.0.0/8, localhost, ::1), not '{host}'; use serve: false for an external counterpart"
        )
    return None


def is_loopback(host: str) -> bool:
    """The harness's own counterparts are test doubles: they may listen only on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
