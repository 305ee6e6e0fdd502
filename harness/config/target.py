"""The target configuration (target.yaml): what system is tested, where its counterparts are, and how to run."""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from harness.core import limits, schemas
from harness.core.formats import AGENCY_CODE, vietnam_now
from harness.core.resources import data_file, schema_dir

SCHEMA_FILE = "target.schema.json"
EMBEDDED_FILE = "embedded.target.yaml"
FILE = "(file)"  # the path of problems that concern the file as a whole

SECRET_FIELDS = frozenset({"password", "secret", "client_secret", "api_key"})
ENV_REFERENCE = re.compile(r"^\$\{(?P<name>[A-Z_][A-Z0-9_]*)\}$")
COUNTERPARTS = ("portal", "payment", "sso")
# A suggested variable name per secret field, so the refusal tells the user what to write instead.
_SUGGESTED_VARIABLE = {
    ("sut", "api_key"): "P111_SUT_API_KEY",
    ("portal", "password"): "P111_PORTAL_PASSWORD",
    ("payment", "secret"): "P111_PAYMENT_SECRET",
    ("sso", "client_secret"): "P111_SSO_CLIENT_SECRET",
}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class TargetError(Exception):
    """Every problem found in one target file; never carries a secret's value."""

    def __init__(self, problems: Sequence[Problem], source: str = "target") -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__("\n".join([f"{source}:", *(f"  {p}" for p in self.problems)]))


class Secret:
    """A resolved secret. It prints as [REDACTED]; only `reveal()` gives the value, at the moment of use."""

    __slots__ = ("reference", "_value")

    def __init__(self, reference: str, value: str) -> None:
        self.reference = reference
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "[REDACTED]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and (self.reference, self._value) == (other.reference, other._value)

    def __hash__(self) -> int:
        return hash(self.reference)


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    level: str


@dataclass(frozen=True)
class SutConfig:
    embedded: bool
    base_url: str | None
    driver: str
    driver_options: dict[str, Any]  # the http or operator driver's settings (schemas/drivers/<driver>.schema.json)
    handoff_path: str
    openapi_path: str | None
    transactions: tuple[tuple[str, str], ...]  # (method, path template) declared by the province
    dossier_parameter: str  # the SUT's name for the path parameter that carries a dossier's code
    api_key: Secret | None
    defects: tuple[str, ...]
    # The driver's own secrets (a key header, a basic-auth password …), each `${ENV}` in driver_options, resolved:
    # by dotted path inside driver_options (credentials.officer.secret).
    driver_secrets: dict[str, Secret] = field(default_factory=dict)
    public_operations: tuple[tuple[str, str], ...] = ()  # (method, path template): no session demanded there
    variations: tuple[str, ...] = ()  # lawful variations of the embedded reference system
    trusted_origins: tuple[str, ...] = ()  # other origins of the system itself (a file store): credentials may go there


@dataclass(frozen=True)
class Capabilities:
    """What the SUT offers, as the target declares it (section `capabilities`)."""

    payment: bool = True
    transfer: bool = True
    sign_on: tuple[str, ...] = ("portal", "vneid")
    procedures: tuple[str, ...] | None = None  # None: not declared
    levels: tuple[tuple[str, str], ...] = ()  # (procedure code, declared level) where the target gives one

    def offers(self, capability: str) -> bool:
        """`payment`, `transfer`, `sign-on` (any provider) or `vneid`."""
        if capability == "sign-on":
            return bool(self.sign_on)
        if capability == "vneid":
            return "vneid" in self.sign_on
        return bool(getattr(self, capability))

    def declaration(self, capability: str) -> str:
        """The declaration, as a failure or a NOT-APPLICABLE reason cites it."""
        if capability in ("sign-on", "vneid"):
            return f"capabilities.sign_on: {list(self.sign_on)}"
        return f"capabilities.{capability}: {str(getattr(self, capability)).lower()}"


@dataclass(frozen=True)
class CounterpartConfig:
    url: str | None = None
    serve: bool = False
    username: str | None = None
    password: Secret | None = None
    merchant_code: str | None = None
    secret: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    redirect_uris: tuple[str, ...] = ()  # sso: the SUT's callback addresses (full URLs or paths from sut.base_url)
    catalog: tuple[dict[str, Any], ...] = ()  # portal: entries added to the national procedure catalog


@dataclass(frozen=True)
class SyncConfig:
    transport: str
    auth_path: str
    integration_path: str
    insert_path: str
    update_path: str
    progress_path: str


@dataclass(frozen=True)
class PaymentRules:
    checksum: str  # sha256-pipe | hmac-sha256
    confirm_path: str  # where the SUT receives the platform's confirm callback
    reconcile_seconds: float  # how long a pending transaction may wait for the SUT's QUERY
    opened_by: str = "officer"  # who opens a payment: the officer's request (officer) or a call of the citizen's


@dataclass(frozen=True)
class SignOnRules:
    """How the SUT signs on (target section `sign_on`)."""

    token_endpoint_auth_method: str = "client_secret_basic"  # as registered at the sign-on
    required_loa: tuple[tuple[str, str], ...] = ()  # (procedure code, the lowest loAs it requires) where given


@dataclass(frozen=True)
class Politeness:
    """How gently the harness treats a real system (target section `politeness`)."""

    requests_per_second: float | None = None  # overall; None: unlimited
    per_host_requests_per_second: float | None = None
    max_concurrency: int = 4
    max_retries: int = 2  # idempotent requests only
    retry_after_max_seconds: float = 30.0
    circuit_breaker_failures: int = 5  # consecutive connection failures that end the run
    max_body_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class FuzzBudget:
    """How hard `p111 fuzz` looks (target section `fuzz`): hypothesis examples per kind of input and operation."""

    max_examples: int = 3
    generated_examples: int = 8
    undocumented_status: str = "lenient"  # strict | lenient | off: how a status the document omits is judged


@dataclass(frozen=True)
class Timeouts:
    connect: float
    request: float
    sync: float


@dataclass(frozen=True)
class Target:
    name: str
    operator: str | None
    year: int
    province_code: str
    province_name: str
    agencies: tuple[Agency, ...]
    sut: SutConfig
    capabilities: Capabilities
    portal: CounterpartConfig
    payment: CounterpartConfig
    sso: CounterpartConfig
    sync: SyncConfig
    payment_rules: PaymentRules
    sign_on_rules: SignOnRules
    safety_mode: str
    environment: str
    timeouts: Timeouts
    politeness: Politeness
    fuzz: FuzzBudget
    source: Path | None
    digest: str
    # The validated document with defaults, secrets as references: what public_dict() hands out (a copy of).
    _document: dict[str, Any] = field(repr=False, compare=False)

    def agency_level(self, code: str) -> str | None:
        return next((a.level for a in self.agencies if a.code == code), None)

    def public_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._document)

    def secrets(self) -> tuple[Secret, ...]:
        found = [self.sut.api_key, *self.sut.driver_secrets.values()]
        for counterpart in (self.portal, self.payment, self.sso):
            found += [counterpart.password, counterpart.secret, counterpart.client_secret]
        return tuple(s for s in found if s is not None and s.reveal())

    def secret_values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.reveal() for s in self.secrets()))

    @property
    def redaction(self) -> dict[str, Any]:
        """The target's additions to the default redaction (extra fields, headers, named patterns)."""
        return dict(self._document.get("redaction") or {})

    def with_changes(self, *, year: int | None = None, defects: Sequence[str] | None = None) -> Target:
        """The command line's overrides; None leaves a setting as the file has it, defects replace the file's."""
        label = str(self.source) if self.source else "embedded target"
        document = self.public_dict()
        changes: dict[str, Any] = {}
        if year is not None:
            if isinstance(year, bool) or not isinstance(year, int) or not 2021 <= year <= 2100:
                raise TargetError([Problem("evaluation_year", "expected a year from 2021 to 2100")], label)
            changes["year"] = document["evaluation_year"] = year
        if defects is not None:
            if defects and not self.sut.embedded:
                raise TargetError([Problem("sut.defects", _DEFECTS_NEED_EMBEDDED)], label)
            changes["sut"] = replace(self.sut, defects=tuple(defects))
            document["sut"]["defects"] = list(defects)
        return replace(self, **changes, _document=document)

    def with_variations(self, names: Sequence[str], settings: Mapping[str, Any]) -> Target:
        """The embedded system with lawful variations switched on, and the target `settings` that express them
        (merged into the document and validated again, as if the file had said so)."""
        label = str(self.source) if self.source else "embedded target"
        if names and not self.sut.embedded:
            raise TargetError([Problem("sut.variations", _VARIATIONS_NEED_EMBEDDED)], label)
        document = _merged(self.public_dict(), settings)
        document["sut"]["variations"] = list(names)
        # The embedded system's credentials are fresh for every run: a `${ENV}` a variation's settings name (an
        # officer's password) gets a fresh value, which the embedded wiring gives the system too.
        fresh = {
            match["name"]: secrets.token_urlsafe(18)
            for _, value in _secret_fields(document)
            if isinstance(value, str) and (match := ENV_REFERENCE.match(value))
        }
        changed = _load(json.dumps(document, ensure_ascii=False).encode(), label, self.source, fresh)
        return replace(changed, source=self.source)


def _merged(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` merged into `base`: mappings key by key, anything else replaced."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


_VARIATIONS_NEED_EMBEDDED = "variations apply only to the embedded reference system (sut.embedded: true)"
_DEFECTS_NEED_EMBEDDED = "defects apply only to the embedded reference system (sut.embedded: true)"


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
    return _load(raw, str(path), path, os.environ if env is None else env)


def embedded_target(year: int | None = None, defects: Sequence[str] = ()) -> Target:
    """The harness's own reference system, in-process: the default when no target file is given."""
    path = data_file(EMBEDDED_FILE)
    # No environment: the embedded wiring makes fresh credentials for every run, so nothing is read from outside.
    target = _load(path.read_bytes(), f"embedded target ({path.name})", None, {})
    return target.with_changes(year=year, defects=defects)


def load_target_text(raw: bytes, label: str, env: Mapping[str, str]) -> Target:
    """A target from its text, not a file (a recording's copy): validated exactly as a file is; `label` names it in
    errors."""
    return _load(raw, label, None, env)


def _load(raw: bytes, label: str, source: Path | None, env: Mapping[str, str]) -> Target:
    document, problems = _parse_yaml(raw)
    if document is None:
        raise TargetError(problems, label)
    problems += _schema_problems(document)
    problems += _semantic_problems(document, env)
    if problems:
        raise TargetError(problems, label)
    document = _with_defaults(document, _schema(), _schema())
    document.setdefault("evaluation_year", vietnam_now().year)
    # In the schema's order, so that reports show the settings as the documentation lists them.
    document = {name: document[name] for name in _schema()["properties"] if name in document}
    return _build(document, env, source, hashlib.sha256(raw).hexdigest())


# --- YAML --------------------------------------------------------------------------------------------------------


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


def _parse_yaml(raw: bytes) -> tuple[Any, list[Problem]]:
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
        found = _KIND.get(type(document), type(document).__name__)
        return None, [Problem(FILE, f"expected a mapping of settings at the top level, found {found}")]
    return document, loader.duplicates


# --- schema ------------------------------------------------------------------------------------------------------


@cache
def _schema() -> dict[str, Any]:
    return json.loads((schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    # With the one registry: sut.driver_options refers to schemas/drivers/<driver>.schema.json.
    from harness.core.schemas import registry

    return Draft202012Validator(_schema(), registry=registry())


_KIND = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer (whole number)",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
# Plain words for the patterns of the schema (the agency code's is the one of harness.core.formats; a test keeps them equal).
_PATTERN_WORDS = {
    AGENCY_CODE.pattern: "a valid agency code (mã định danh) such as 000.00.00.H40",
    r"^H[0-9]{2}$": "a province code such as H40",
    r"^https?://[^\s/?#@]+(/\S*)?$": "an http:// or https:// URL, without credentials",
    r"^(https?|embedded)://[^\s/?#@]+(/\S*)?$": "an http:// or https:// URL (or embedded://), without credentials",
    r"^/\S*$": "a path starting with /",
    r"^(https?://\S+|/\S*)$": "a path starting with / or an http:// or https:// URL",
    r"^[a-z0-9]+(-[a-z0-9]+)*$": "a defect name: lower-case words joined by '-'",
    r"^(reference-api|http|operator|[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)$": (
        "reference-api, http, operator, or a Python driver class written module:Class"
    ),
}
# The conditional rules of the schema, explained.
_RULE_WORDS = {
    ("sut.base_url", "not"): "not allowed when sut.embedded is true (the embedded system runs in-process)",
    ("sut.defects", "maxItems"): _DEFECTS_NEED_EMBEDDED,
    ("sut.variations", "maxItems"): "variations apply only to the embedded reference system (sut.embedded: true)",
}


def _procedure_code(entry: Any) -> Any:
    """A declared procedure is its code, or {code, level}."""
    return entry.get("code") if isinstance(entry, dict) else entry


def _dotted(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or FILE


def _schema_problems(document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for error in _validator().iter_errors(document):
        for problem in _describe(error):
            if problem not in problems:  # `required` reports each missing field once per rule that demands it
                problems.append(problem)
    return problems


def _describe(error: ValidationError) -> Iterator[Problem]:
    """Plain-words problems for one schema error. jsonschema's own messages quote the instance (which may be a
    literal secret), so they are never used."""
    parts = list(error.absolute_path)
    path, kind, expected = _dotted(parts), error.validator, error.validator_value
    instance = error.instance
    if kind == "required":
        for name in expected:
            if isinstance(instance, dict) and name not in instance:
                yield Problem(_dotted([*parts, name]), f"required field missing: {name}")
    elif kind == "additionalProperties":
        known = error.schema.get("properties", {})
        for name in instance:
            if name not in known:
                yield Problem(_dotted([*parts, str(name)]), f"unknown field '{name}'")
    elif parts and parts[-1] in SECRET_FIELDS:
        yield Problem(path, _literal_secret_message(parts))
    elif (path, kind) in _RULE_WORDS:
        yield Problem(path, _RULE_WORDS[path, kind])
    elif kind in ("oneOf", "anyOf") and error.context:
        # One of several shapes is allowed: explain the shape of the value's own kind (the mapping form for a
        # mapping), not the kinds it is not.
        wrong_kind = {e.relative_schema_path[0] for e in error.context if e.validator == "type" and not e.relative_path}
        closest = [e for e in error.context if e.relative_schema_path[0] not in wrong_kind] or error.context
        yield from _describe(best_match(closest))
    elif kind == "type":
        found = _KIND.get(type(instance), "a value")
        yield Problem(path, f"expected {_TYPE_WORDS.get(expected, expected)}, found {found}")
    elif kind in ("enum", "const"):
        options = expected if kind == "enum" else [expected]
        yield Problem(
            path, "expected one of: " + ", ".join(json.dumps(o) if not isinstance(o, str) else o for o in options)
        )
    elif kind == "pattern":
        yield Problem(path, f"expected {_PATTERN_WORDS.get(expected, f'text matching {expected}')}")
    elif kind == "minimum":
        yield Problem(path, f"expected at least {expected}")
    elif kind == "maximum":
        yield Problem(path, f"expected at most {expected}")
    elif kind == "exclusiveMinimum":
        yield Problem(path, f"expected a number greater than {expected}")
    elif kind == "minLength":
        yield Problem(path, "must not be empty")
    elif kind == "uniqueItems":
        yield Problem(path, "items must not repeat")
    else:
        yield Problem(path, f"does not satisfy the rule '{kind}' of the target schema")


def _literal_secret_message(parts: Sequence[str | int]) -> str:
    owner = str(parts[-2]) if len(parts) > 1 else ""
    name = _SUGGESTED_VARIABLE.get((owner, str(parts[-1])), "P111_PORTAL_PASSWORD")
    return f"must be an environment-variable reference such as ${{{name}}}, not a literal secret"


# --- checks the schema cannot express -------------------------------------------------------------------------


def _secret_fields(document: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every secret field present, wherever the document nests it."""

    def walk(node: Any, parts: list[str | int]) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_FIELDS and not isinstance(value, dict | list):
                    yield _dotted([*parts, key]), value
                else:
                    yield from walk(value, [*parts, str(key)])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, [*parts, index])

    return walk(document, [])


def _semantic_problems(document: Mapping[str, Any], env: Mapping[str, str]) -> list[Problem]:
    """Environment variables, the agency registry and the counterparts' hosts. Runs even when the schema found
    problems (so one run reports everything), hence the defensive type checks."""
    problems: list[Problem] = []
    for path, value in _secret_fields(document):
        match = ENV_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            continue  # a literal: already refused by the schema
        name = match["name"]
        if name not in env:
            problems.append(Problem(path, f"environment variable {name} is not set"))
        elif not env[name]:
            problems.append(Problem(path, f"environment variable {name} is empty"))

    agencies = document.get("agencies")
    first_seen: dict[str, int] = {}
    for index, agency in enumerate(agencies if isinstance(agencies, list) else []):
        code = agency.get("code") if isinstance(agency, dict) else None
        if not isinstance(code, str):
            continue
        if code in first_seen:
            problems.append(
                Problem(
                    f"agencies[{index}].code", f"duplicate agency code {code} (already at agencies[{first_seen[code]}])"
                )
            )
        else:
            first_seen[code] = index

    redaction = document.get("redaction")
    patterns = redaction.get("patterns") if isinstance(redaction, dict) else None
    for name, pattern in (patterns.items() if isinstance(patterns, dict) else ()):
        try:
            re.compile(pattern) if isinstance(pattern, str) else None
        except re.error as exc:
            problems.append(Problem(f"redaction.patterns.{name}", f"not a valid regular expression: {exc}"))

    sut = document.get("sut")
    embedded = isinstance(sut, dict) and sut.get("embedded") is True
    safety = document.get("safety")
    capabilities = document.get("capabilities")
    declared = capabilities.get("procedures") if isinstance(capabilities, dict) else None
    codes = [_procedure_code(p) for p in declared] if isinstance(declared, list) else []
    for code in sorted({c for c in codes if c is not None and codes.count(c) > 1}):
        problems.append(Problem("capabilities.procedures", f"procedure {code} is declared more than once"))
    environment = safety.get("environment", "staging") if isinstance(safety, dict) else "staging"
    if isinstance(safety, dict) and safety.get("mode") == "full" and environment != "staging":
        # `full` creates dossiers and payments: only on a system declared to be a staging system, which exists to be
        # written to; a `test` system may be shared with people's own test data, `production` holds citizens' own.
        problems.append(
            Problem(
                "safety.mode",
                f"full creates dossiers and payments; it is allowed only with environment: staging "
                f"(this target says environment: {environment}); use mode: read-only here",
            )
        )
    counterparts = document.get("counterparts")
    for name in COUNTERPARTS:
        counterpart = counterparts.get(name) if isinstance(counterparts, dict) else None
        url = counterpart.get("url") if isinstance(counterpart, dict) else None
        if not isinstance(counterpart, dict) or not isinstance(url, str):
            continue
        problem = _counterpart_url_problem(url, serve=counterpart.get("serve") is True, embedded=embedded)
        if problem:
            problems.append(Problem(f"counterparts.{name}.url", problem))
    return problems


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


# --- defaults and the typed result ------------------------------------------------------------------------------


def _with_defaults(instance: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """A copy of a valid instance with the schema's `default`s filled in, nested objects included."""
    while "$ref" in schema and "properties" not in schema:
        schema = _resolve(schema["$ref"], root)
    if isinstance(instance, dict):
        result = dict(instance)
        for name, subschema in schema.get("properties", {}).items():
            subschema = _resolve(subschema["$ref"], root) | subschema if "$ref" in subschema else subschema
            if name not in result and "default" in subschema:
                result[name] = copy.deepcopy(subschema["default"])
            if name in result:
                result[name] = _with_defaults(result[name], subschema, root)
        return result
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [_with_defaults(item, schema["items"], root) for item in instance]
    return copy.deepcopy(instance)


def _resolve(reference: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    # Only local references (#/$defs/...) occur in the target schema.
    node: Any = root
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _secret(value: str | None, env: Mapping[str, str]) -> Secret | None:
    if value is None:
        return None
    match = ENV_REFERENCE.match(value)
    assert match is not None  # validated
    return Secret(value, env[match["name"]])


def _catalog_file(name: str | None, source: Path | None, counterpart: str) -> tuple[dict[str, Any], ...]:
    """counterparts.portal.catalog_file: entries in the portal's catalog export shape, relative to the target file."""
    if not name:
        return ()
    where = f"counterparts.{counterpart}.catalog_file"
    path = Path(name) if Path(name).is_absolute() or source is None else source.parent / name
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TargetError([Problem(where, f"cannot read {path}: {exc}")], str(source or "target")) from None
    return _catalog(entries, where, source, path.name)


def _catalog(entries: Any, where: str, source: Path | None, what: str = "") -> tuple[dict[str, Any], ...]:
    """Catalog entries, checked against the portal's catalog export shape (schemas/mocks/portal-catalog)."""
    error = schemas.first_error("mocks/portal-catalog", list(entries) if isinstance(entries, tuple) else entries)
    if error is not None:
        expected = "a list of {maTTHC, tenTTHC, mucDo, coPhiLePhi, ngayQuyetDinhCongBo, ngayCongKhai}"
        problem = f"{what + ' ' if what else ''}not in the portal's catalog export shape ({expected}): "
        raise TargetError([Problem(where, problem + schemas.describe(error))], str(source or "target"))
    return tuple(entries)


def _build(document: dict[str, Any], env: Mapping[str, str], source: Path | None, digest: str) -> Target:
    sut, sync, timeouts = document["sut"], document["sync"], document["timeouts"]

    def counterpart(name: str) -> CounterpartConfig:
        c = document["counterparts"].get(name, {})
        return CounterpartConfig(
            url=c.get("url"),
            serve=c.get("serve", False),
            username=c.get("username"),
            password=_secret(c.get("password"), env),
            merchant_code=c.get("merchant_code"),
            secret=_secret(c.get("secret"), env),
            client_id=c.get("client_id"),
            client_secret=_secret(c.get("client_secret"), env),
            redirect_uris=tuple(c.get("redirect_uris", ())),
            catalog=_catalog(tuple(c.get("catalog", ())), f"counterparts.{name}.catalog", source)
            + _catalog_file(c.get("catalog_file"), source, name),
        )

    return Target(
        name=document["name"],
        operator=document.get("operator"),
        year=document["evaluation_year"],
        province_code=document["province"]["code"],
        province_name=document["province"]["name"],
        agencies=tuple(Agency(a["code"], a["name"], a["level"]) for a in document["agencies"]),
        sut=SutConfig(
            embedded=sut["embedded"],
            base_url=sut.get("base_url"),
            driver=sut["driver"],
            driver_options=sut["driver_options"],
            handoff_path=sut["handoff_path"],
            openapi_path=sut["openapi_path"],
            transactions=tuple((t["method"], t["path"]) for t in sut["transactions"]),
            dossier_parameter=sut["dossier_parameter"],
            api_key=_secret(sut.get("api_key"), env),
            defects=tuple(sut["defects"]),
            driver_secrets={
                path: secret
                for path, value in _secret_fields(sut["driver_options"] or {})
                if (secret := _secret(value, env)) is not None
            },
            public_operations=tuple((t["method"], t["path"]) for t in sut["public_operations"]),
            variations=tuple(sut["variations"]),
            trusted_origins=tuple(sut.get("trusted_origins", ())),
        ),
        capabilities=Capabilities(
            payment=document["capabilities"]["payment"],
            transfer=document["capabilities"]["transfer"],
            sign_on=tuple(document["capabilities"]["sign_on"]),
            procedures=tuple(_procedure_code(p) for p in document["capabilities"]["procedures"])
            if "procedures" in document["capabilities"]
            else None,
            levels=tuple(
                (p["code"], str(p["level"]))
                for p in document["capabilities"].get("procedures", ())
                if isinstance(p, dict)
            ),
        ),
        portal=counterpart("portal"),
        payment=counterpart("payment"),
        sso=counterpart("sso"),
        sync=SyncConfig(transport=sync["transport"], **sync["adapter"], **sync["direct"]),
        payment_rules=PaymentRules(
            checksum=document["payment"]["checksum"],
            confirm_path=document["payment"]["confirm_path"],
            opened_by=document["payment"]["opened_by"],
            reconcile_seconds=float(document["payment"]["reconcile_seconds"]),
        ),
        sign_on_rules=SignOnRules(
            token_endpoint_auth_method=document["sign_on"]["token_endpoint_auth_method"],
            required_loa=tuple(sorted(document["sign_on"]["required_loa"].items())),
        ),
        safety_mode=document["safety"]["mode"],
        environment=document["safety"]["environment"],
        timeouts=Timeouts(
            connect=float(timeouts["connect_seconds"]),
            request=float(timeouts["request_seconds"]),
            sync=float(timeouts["sync_seconds"]),
        ),
        politeness=Politeness(
            requests_per_second=_float_or_none(document["politeness"].get("requests_per_second")),
            per_host_requests_per_second=_float_or_none(document["politeness"].get("per_host_requests_per_second")),
            max_concurrency=document["politeness"]["max_concurrency"],
            max_retries=document["politeness"]["max_retries"],
            retry_after_max_seconds=float(document["politeness"]["retry_after_max_seconds"]),
            circuit_breaker_failures=document["politeness"]["circuit_breaker_failures"],
            max_body_bytes=document["politeness"]["max_body_bytes"],
        ),
        fuzz=FuzzBudget(**document["fuzz"]),
        source=source,
        digest=digest,
        _document=document,
    )


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)
