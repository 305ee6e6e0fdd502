"""Drivers make the SUT act (a citizen submits, an officer receives …) and report what it now says."""

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

__all__ = [
    "DRIVERS",
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
