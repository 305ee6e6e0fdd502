"""The typed target. Each field says where in the document (schemas/target.schema.json) it comes from, once, with
`at(...)`: the builder (`building.build`) reads it from there, and tests/test_target_model.py walks the schema and
these classes together and fails on a field, a type or a default present in one and not the other."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.config.errors import Problem, TargetError
from harness.config.secret import Secret

DEFECTS_NEED_EMBEDDED = "defects apply only to the embedded reference system (sut.embedded: true)"
VARIATIONS_NEED_EMBEDDED = "variations apply only to the embedded reference system (sut.embedded: true)"


def at(where: str, default: Any = MISSING, *, factory: Any = MISSING, convert: str | None = None,
       reads: tuple[str, ...] = ()) -> Any:
    """A field read from `where` (dotted, relative to its section) of the validated document. `convert` names a
    converter of `building.CONVERTERS` where the typed shape is not the document's; `reads` lists other document
    fields that converter consumes."""
    metadata = {"document": where, "convert": convert, "reads": reads}
    return field(default=default, default_factory=factory, metadata=metadata)


def from_run(what: str, default: Any = MISSING) -> Any:
    """A field that is not in the document: the file it came from, its digest, the document itself."""
    return field(default=default, repr=what != "document", compare=what != "document", metadata={"run": what})


@dataclass(frozen=True)
class Agency:
    code: str = at("code")
    name: str = at("name")
    level: str = at("level")


def _operation(name: str) -> tuple[str, ...]:
    """The document fields of a list of operations, which the model holds as (method, path) pairs."""
    return (f"{name}[].method", f"{name}[].path")


@dataclass(frozen=True)
class SutConfig:
    embedded: bool = at("embedded")
    base_url: str | None = at("base_url")
    driver: str = at("driver")
    driver_options: dict[str, Any] = at("driver_options")  # the http or operator driver's settings
    handoff_path: str = at("handoff_path")
    openapi_path: str | None = at("openapi_path")
    # (method, path template) declared by the province
    transactions: tuple[tuple[str, str], ...] = at(
        "transactions", convert="operations", reads=_operation("transactions")
    )
    dossier_parameter: str = at("dossier_parameter")  # the SUT's path parameter that carries a dossier's code
    api_key: Secret | None = at("api_key")
    defects: tuple[str, ...] = at("defects")
    # The driver's own secrets (a key header, a basic-auth password …), each `${ENV}` in driver_options, resolved:
    # by dotted path inside driver_options (credentials.officer.secret).
    driver_secrets: dict[str, Secret] = at("driver_options", factory=dict, convert="driver_secrets")
    # (method, path template): no session demanded there
    public_operations: tuple[tuple[str, str], ...] = at(
        "public_operations", (), convert="operations", reads=_operation("public_operations")
    )
    variations: tuple[str, ...] = at("variations", ())  # lawful variations of the embedded reference system
    # other origins of the system itself (a file store): credentials may go there
    trusted_origins: tuple[str, ...] = at("trusted_origins", ())


@dataclass(frozen=True)
class Capabilities:
    """What the SUT offers, as the target declares it (section `capabilities`)."""

    payment: bool = at("payment", True)
    transfer: bool = at("transfer", True)
    sign_on: tuple[str, ...] = at("sign_on", ("portal", "vneid"))
    procedures: tuple[str, ...] | None = at("procedures", None, convert="procedure_codes")  # None: not declared
    # (procedure code, declared level) where the target gives one
    levels: tuple[tuple[str, str], ...] = at("procedures", (), convert="procedure_levels")

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
    """One counterpart (portal, payment or sso); each has a subset of these fields in the schema."""

    url: str | None = at("url", None)
    serve: bool = at("serve", False)
    username: str | None = at("username", None)
    password: Secret | None = at("password", None)
    merchant_code: str | None = at("merchant_code", None)
    secret: Secret | None = at("secret", None)
    client_id: str | None = at("client_id", None)
    client_secret: Secret | None = at("client_secret", None)
    # sso: the SUT's callback addresses (full URLs or paths from sut.base_url)
    redirect_uris: tuple[str, ...] = at("redirect_uris", ())
    # portal: entries added to the national procedure catalog, written inline or in a file
    catalog: tuple[dict[str, Any], ...] = at("catalog", (), convert="catalog", reads=("catalog_file",))


@dataclass(frozen=True)
class SyncConfig:
    transport: str = at("transport")
    auth_path: str = at("adapter.auth_path")
    integration_path: str = at("adapter.integration_path")
    insert_path: str = at("direct.insert_path")
    update_path: str = at("direct.update_path")
    progress_path: str = at("direct.progress_path")


@dataclass(frozen=True)
class PaymentRules:
    checksum: str = at("checksum")  # sha256-pipe | hmac-sha256
    confirm_path: str = at("confirm_path")  # where the SUT receives the platform's confirm callback
    reconcile_seconds: float = at("reconcile_seconds")  # how long a pending transaction may wait for the SUT's QUERY
    # who opens a payment: the officer's request (officer) or a call of the citizen's
    opened_by: str = at("opened_by", "officer")


@dataclass(frozen=True)
class SignOnRules:
    """How the SUT signs on (target section `sign_on`)."""

    token_endpoint_auth_method: str = at("token_endpoint_auth_method", "client_secret_basic")  # as registered
    # (procedure code, the lowest loAs it requires) where given
    required_loa: tuple[tuple[str, str], ...] = at("required_loa", (), convert="sorted_pairs")


@dataclass(frozen=True)
class Politeness:
    """How gently the harness treats a real system (target section `politeness`)."""

    requests_per_second: float | None = at("requests_per_second", None)  # overall; None: unlimited
    per_host_requests_per_second: float | None = at("per_host_requests_per_second", None)
    max_concurrency: int = at("max_concurrency", 4)
    max_retries: int = at("max_retries", 2)  # idempotent requests only
    retry_after_max_seconds: float = at("retry_after_max_seconds", 30.0)
    circuit_breaker_failures: int = at("circuit_breaker_failures", 5)  # consecutive failures that end the run
    max_body_bytes: int = at("max_body_bytes", 10 * 1024 * 1024)


@dataclass(frozen=True)
class FuzzBudget:
    """How hard `p111 fuzz` looks (target section `fuzz`): hypothesis examples per kind of input and operation."""

    max_examples: int = at("max_examples", 3)
    generated_examples: int = at("generated_examples", 8)
    # strict | lenient | off: how a status the document omits is judged
    undocumented_status: str = at("undocumented_status", "lenient")


@dataclass(frozen=True)
class Timeouts:
    connect: float = at("connect_seconds")
    request: float = at("request_seconds")
    sync: float = at("sync_seconds")


# Sections the typed model keeps as the document has them: the redactor reads `redaction` as a mapping.
KEPT_AS_DOCUMENT = ("redaction",)


@dataclass(frozen=True)
class Target:
    name: str = at("name")
    operator: str | None = at("operator")
    year: int = at("evaluation_year")  # the loader fills in the current year where the file gives none
    province_code: str = at("province.code")
    province_name: str = at("province.name")
    agencies: tuple[Agency, ...] = at("agencies")
    sut: SutConfig = at("sut")
    capabilities: Capabilities = at("capabilities")
    portal: CounterpartConfig = at("counterparts.portal")
    payment: CounterpartConfig = at("counterparts.payment")
    sso: CounterpartConfig = at("counterparts.sso")
    sync: SyncConfig = at("sync")
    payment_rules: PaymentRules = at("payment")
    sign_on_rules: SignOnRules = at("sign_on")
    safety_mode: str = at("safety.mode")
    environment: str = at("safety.environment")
    timeouts: Timeouts = at("timeouts")
    politeness: Politeness = at("politeness")
    fuzz: FuzzBudget = at("fuzz")
    source: Path | None = from_run("source")
    digest: str = from_run("digest")
    # The validated document with defaults, secrets as references: what public_dict() hands out (a copy of).
    _document: dict[str, Any] = from_run("document")

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

    @property
    def _label(self) -> str:
        return str(self.source) if self.source else "embedded target"

    def with_changes(self, *, year: int | None = None, defects: Sequence[str] | None = None) -> Target:
        """The command line's overrides; None leaves a setting as the file has it, defects replace the file's."""
        document = self.public_dict()
        changes: dict[str, Any] = {}
        if year is not None:
            if isinstance(year, bool) or not isinstance(year, int) or not 2021 <= year <= 2100:
                raise TargetError([Problem("evaluation_year", "expected a year from 2021 to 2100")], self._label)
            changes["year"] = document["evaluation_year"] = year
        if defects is not None:
            if defects and not self.sut.embedded:
                raise TargetError([Problem("sut.defects", DEFECTS_NEED_EMBEDDED)], self._label)
            changes["sut"] = replace(self.sut, defects=tuple(defects))
            document["sut"]["defects"] = list(defects)
        return replace(self, **changes, _document=document)

    def with_variations(self, names: Sequence[str], settings: Mapping[str, Any]) -> Target:
        """The embedded system with lawful variations switched on, and the target `settings` that express them
        (merged into the document and validated again, as if the file had said so)."""
        from harness.config.loading import reload  # lazily: loading builds this class

        if names and not self.sut.embedded:
            raise TargetError([Problem("sut.variations", VARIATIONS_NEED_EMBEDDED)], self._label)
        document = _merged(self.public_dict(), settings)
        document["sut"]["variations"] = list(names)
        return replace(reload(document, self._label, self.source), source=self.source)


def _merged(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` merged into `base`: mappings key by key, anything else replaced."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result
