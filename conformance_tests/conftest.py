"""Scenarios the checks share: dossiers driven through the SUT, each fresh so that checks never depend on order."""

from __future__ import annotations

import pytest

from conformance_tests.scenarios import Scenario, drive
from harness.drivers import Driver


@pytest.fixture(scope="session")
def procedure_codes(p111_driver: Driver) -> list[str]:
    codes = [p["code"] for p in p111_driver.procedures()]
    if not codes:
        pytest.fail("the SUT publishes no procedure: nothing to submit a dossier to")
    return codes


@pytest.fixture(scope="module")
def received_dossier(p111_driver: Driver, procedure_codes: list[str]) -> Scenario:
    """An online dossier, submitted and received by an officer."""
    return drive(p111_driver, procedure_codes[0], ("receive",))


@pytest.fixture(scope="module")
def handled_dossier(p111_driver: Driver, procedure_codes: list[str]) -> Scenario:
    """An online dossier taken the whole way: received, processed, finished, its result returned."""
    return drive(p111_driver, procedure_codes[0], ("receive", "process", "finish", "return"))
