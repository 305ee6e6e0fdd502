"""One error root: every exception class harness defines is a P111Error and is listed in harness.core.errors, apart
from the verdict exceptions that are not errors of the harness (Failure: the SUT is wrong; the skips)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import harness
from harness.core import errors
from harness.core.errors import P111Error

# Not errors of the harness, on purpose outside the root (harness.core.errors says why).
NOT_ERRORS = {"Failure", "NotApplicable", "NotTested", "NeedsReview", "_Found"}  # _Found: the fuzzer's control flow


def _harness_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(harness.__path__, "harness."):
        if module_info.name.endswith("__main__"):
            continue  # running it is the command itself
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not issubclass(value, Warning)
            ):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_error_of_harness_is_a_p111_error_and_is_listed():
    exceptions = _harness_exceptions()
    assert "harness.sut.drivers.base.DriverError" in exceptions  # the walk reaches the subpackages
    outside = sorted(
        path for path, cls in exceptions.items()
        if not issubclass(cls, P111Error) and cls.__name__ not in NOT_ERRORS
    )
    assert outside == [], f"error classes outside P111Error: {outside}"
    unlisted = sorted(
        path for path, cls in exceptions.items()
        if cls.__name__ not in NOT_ERRORS and cls is not P111Error and path not in (errors.__doc__ or "")
    )
    assert unlisted == [], f"error classes harness.core.errors does not list: {unlisted}"


def test_failure_is_an_assertion_error_not_a_harness_error():
    from harness.core.verdicts import Failure

    assert issubclass(Failure, AssertionError) and not issubclass(Failure, P111Error)
