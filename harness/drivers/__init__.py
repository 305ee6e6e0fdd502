"""Drivers make the SUT act (a citizen submits, an officer receives …) and report what it now says."""

import importlib

from harness.drivers.base import (
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
from harness.drivers.reference_api import ReferenceApiDriver

DRIVERS = {"reference-api": ReferenceApiDriver}


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

__all__ = [
    "DRIVERS",
    "load_driver",
    "ActionResult",
    "DossierView",
    "Driver",
    "DriverError",
    "Fee",
    "FileView",
    "InboxItem",
    "Login",
    "PaymentView",
    "ReferenceApiDriver",
    "Service",
    "Session",
    "StepView",
]
