"""Scenarios the checks share: dossiers driven through the SUT, each fresh so that checks never depend on order."""

from __future__ import annotations

import pytest

from conformance_tests import scenarios
from conformance_tests.scenarios import Scenario, drive
from harness.config.target import Target
from harness.core.verdicts import NotTested, not_applicable
from harness.pytest import barrier
from harness.pytest.plugin import RUN
from harness.sut.checking import blocked
from harness.sut.drivers import Driver, Service, person_driven


@pytest.fixture(scope="session", autouse=True)
def payment_opener(p111_target: Target) -> None:
    """Who opens a payment on this SUT (payment.opened_by), for the payment scenarios."""
    scenarios.PAYMENT_OPENER["by"] = p111_target.payment_rules.opened_by


@pytest.fixture(scope="session")
def services(p111_driver: Driver) -> list[Service]:
    published = p111_driver.services()
    if not published:
        pytest.fail("the SUT publishes no online service: nothing to submit a dossier to")
    return published


@pytest.fixture(scope="session")
def procedure_codes(services: list[Service]) -> list[str]:
    return [s.code for s in services]


@pytest.fixture(scope="module")
def received_dossier(p111_driver: Driver, procedure_codes: list[str]) -> Scenario:
    """An online dossier, submitted with documents and received by an officer."""
    return drive(p111_driver, procedure_codes[0], ("receive",), files=scenarios.SUBMITTED_FILES)


@pytest.fixture(scope="module")
def handled_dossier(p111_driver: Driver, procedure_codes: list[str]) -> Scenario:
    """An online dossier taken the whole way: received, processed, finished, its result returned."""
    return drive(p111_driver, procedure_codes[0], ("receive", "process", "finish", "return"))


@pytest.fixture(scope="session")
def fee_bearing(services: list[Service], p111_target: Target) -> list[Service]:
    """The services with a financial obligation and the fees they ask. None published, while the target declares
    online payment offered (a check marked `offered("payment")` only gets here then): the payment checks cannot
    judge, NOT-TESTED — never NOT-APPLICABLE, which only a declaration earns. Whether the service list hides fees
    the SUT's own dossiers carry is P111-PAY-INIT's to judge (test_services_published_without_fees_charge_none)."""
    found = [s for s in services if s.fee_bearing]
    if not found:
        declared = p111_target.capabilities
        if not declared.offers("payment"):
            not_applicable(f"{declared.declaration('payment')} ({where_declared(p111_target)})")
        blocked(
            f"{declared.declaration('payment')} ({where_declared(p111_target)}), yet the SUT publishes no service "
            "with fees: nothing to pay online (a system that takes no online payment declares capabilities.payment: "
            "false)",
            "P111-PAY-INIT judges whether the service list hides fees",
        )
    unpriced = [s.code for s in found if s.fee_total <= 0]
    if unpriced:
        pytest.fail(f"fee-bearing services list no fees (their sum is what a payment asks): {', '.join(unpriced)}")
    return found


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`offered(X)`: the check is NOT-APPLICABLE when the target declares X absent, citing the declaration.
    `declared_absent(X)`: the check looks for a contradiction of that declaration, so it runs only then.
    Decided before any fixture runs, so that nothing is driven for a capability the SUT does not offer."""
    target = item.config.stash[RUN].target
    declared = target.capabilities
    for marker in item.iter_markers("offered"):
        for capability in marker.args:
            if not declared.offers(capability):
                not_applicable(f"{declared.declaration(capability)} ({where_declared(target)})")
    for marker in item.iter_markers("declared_absent"):
        for capability in marker.args:
            if declared.offers(capability):
                not_applicable(f"{capability} is offered ({declared.declaration(capability)}): nothing to contradict")
    # `needs_automation(reason)`: what a person in the SUT's user interface cannot provide (hundreds of random
    # sequences, replayed credentials …) is not asked of them at all.
    for marker in item.iter_markers("needs_automation"):
        if person_driven(target.sut.driver):
            raise NotTested(f"chế độ người thao tác (sut.driver: operator) / operator mode: {marker.args[0]}")


def where_declared(target: Target) -> str:
    return f"khai báo trong / declared in {target.source.name}" if target.source else "the embedded target"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ratio targets (test_kpi.py) run last: on a staging system their export must include what this run's own
    transactions did, never be a snapshot taken before them. Under pytest-xdist they also wait until every worker
    has run the other checks (harness.pytest.barrier, in test_kpi.py's `metric_results`)."""
    items.sort(key=lambda item: item.module is not None and item.module.__name__.endswith("test_kpi"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist, in the controller
    barrier.open_for(node)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker that ends has run every check it was given; the controller removes the barrier's folder."""
    barrier.arrive(session.config)
    barrier.close(session.config)
