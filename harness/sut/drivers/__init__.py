"""Drivers make the SUT act (a citizen submits, an officer receives …) and report what it now says."""

import importlib
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
    NoSignOnOffered,
    PaymentView,
    Service,
    Session,
    StepView,
    asks_a_person,
    close,
    offered_exports,
    shows_steps,
)
from harness.sut.drivers.http import HttpDriver
from harness.sut.drivers.operator import OperatorDriver
from harness.sut.drivers.reference_api import ReferenceApiDriver

# The one registry of the built-in drivers, by the name a target gives `sut.driver`; each is built by its class's
# `build(target, system)` and declares what it is on its class (harness.sut.drivers.base.Driver). The target schema's
# list of driver names is checked against it (tests/test_drivers_registry.py).
DRIVERS: dict[str, type] = {
    "reference-api": ReferenceApiDriver,  # the reference API (schemas/reference-api.openapi.json)
    "http": HttpDriver,  # declarative: the vendor's API described in the target, no Python
    "operator": OperatorDriver,  # a person performs each printed step; the counterparts decide
}


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
    """(headers, fields) the driver's own configuration marks secret or personal, for the redactor (Driver.
    sensitive_names); a vendor's Python driver adds none."""
    built_in = DRIVERS.get(target.sut.driver)
    return built_in.sensitive_names(target.sut.driver_options) if built_in is not None else ([], [])  # type: ignore[attr-defined]


def person_driven(name: str) -> bool:
    """Whether the driver a target names asks a person (Driver.asks_a_person), known before it is built."""
    return asks_a_person(DRIVERS.get(name))


def build_driver(target: Any, system: Any) -> Driver:
    """The driver `target.sut.driver` names, for the run's `system` (harness.pytest.system.System): a built-in one
    by its `build(target, system)`, a vendor's Python class as `Class(client, sign_on)`."""
    built_in = DRIVERS.get(target.sut.driver)
    if built_in is not None:
        driver: Driver = built_in.build(target, system)  # type: ignore[attr-defined]
        return driver
    driver = load_driver(target.sut.driver)(system.client, system.sign_on)
    return driver


__all__ = [
    "DRIVERS",
    "asks_a_person",
    "build_driver",
    "close",
    "load_driver",
    "offered_exports",
    "person_driven",
    "sensitive_names",
    "shows_steps",
    "ActionResult",
    "DossierView",
    "Driver",
    "DriverError",
    "Fee",
    "FileView",
    "HttpDriver",
    "InboxItem",
    "Login",
    "NoSignOnOffered",
    "OperatorDriver",
    "PaymentView",
    "ReferenceApiDriver",
    "Service",
    "Session",
    "StepView",
]
