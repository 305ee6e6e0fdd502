"""Drivers make the SUT act (a citizen submits, an officer receives …) and report what it now says."""

import importlib
from collections.abc import Callable
from typing import Any

from harness.sut.drivers.base import (
    ActionResult,
    DossierView,
    Driver,
    DriverError,
    Fee,
    FileView,
    InboxItem,
    Login,
    PaymentView,
    Service,
    Session,
    StepView,
)
from harness.sut.drivers.http import HttpDriver, build_http_driver
from harness.sut.drivers.http import sensitive_names as http_sensitive_names
from harness.sut.drivers.http_credentials import credentials as role_credentials
from harness.sut.drivers.operator import build as build_operator_driver
from harness.sut.drivers.reference_api import ReferenceApiDriver

DRIVERS = {"reference-api": ReferenceApiDriver}
# Drivers built from the target's `sut.driver_options` and the run's system (the SUT's client and the counterparts),
# not just (client, sign_on): registered by name.
BUILDERS: dict[str, Callable[[Any, Any], Driver]] = {
    # The reference API, with the options where a vendor implementing it lawfully differs (dates, paging, how a
    # role authenticates: the same `credentials` settings as the http driver's).
    "reference-api": lambda target, system: ReferenceApiDriver(
        system.client, system.sign_on, options=target.sut.driver_options, credentials=driver_credentials(target)
    ),
    "http": build_http_driver,  # declarative: the vendor's API described in the target, no Python
    "operator": build_operator_driver,  # a person performs each printed step; the counterparts decide
}


def driver_credentials(target: Any) -> dict[str, Any]:
    """Each role's way in from `sut.driver_options.credentials`, its `${ENV}` secrets resolved by the target."""
    secrets = {path: secret.reveal() for path, secret in getattr(target.sut, "driver_secrets", {}).items()}
    return role_credentials(target.sut.driver_options or {}, secrets)


def load_driver(name: str) -> type:
    """A driver by name: a built-in one, or a vendor's Python class written `module:Class` in the target (the
    module importable from where p111 runs)."""
    if name in DRIVERS:
        return DRIVERS[name]
    module_name, _, class_name = name.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise DriverError(f"sut.driver {name!r}: cannot load it ({type(exc).__name__}: {exc})") from exc
    if not isinstance(found, type):
        raise DriverError(f"sut.driver {name!r}: not a class")
    return found

def sensitive_names(target: Any) -> tuple[list[str], list[str]]:
    """(headers, fields) the driver's own configuration marks secret or personal, for the redactor: the declarative
    driver names where its session and the citizen's id number travel; the others use the reference API's names,
    which the redactor knows already."""
    if target.sut.driver == "http":
        return http_sensitive_names(target.sut.driver_options)
    return [], []


def build_driver(target: Any, system: Any) -> Driver:
    """The driver `target.sut.driver` names, for the run's `system` (harness.pytest.plugin.System)."""
    if target.sut.driver in BUILDERS:
        return BUILDERS[target.sut.driver](target, system)
    driver: Driver = load_driver(target.sut.driver)(system.client, system.sign_on)
    return driver


__all__ = [
    "BUILDERS",
    "DRIVERS",
    "build_driver",
    "driver_credentials",
    "sensitive_names",
    "load_driver",
    "ActionResult",
    "DossierView",
    "Driver",
    "DriverError",
    "Fee",
    "FileView",
    "HttpDriver",
    "InboxItem",
    "Login",
    "PaymentView",
    "ReferenceApiDriver",
    "Service",
    "Session",
    "StepView",
]
