"""The fixtures the suite reaches the SUT and the counterparts through (`p111_target`, `p111_client`, `p111_driver`,
`p111_portal`, `p111_sso`, `p111_payment`, `p111_lifecycle`, `p111_system`, `p111_run`); offered by the plugin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from harness.config.target import Target
from harness.core.lifecycle import Lifecycle, load_lifecycle
from harness.http.recording import Replayer
from harness.pytest import tap as taps
from harness.pytest.keys import RUN, TAP, Run
from harness.pytest.system import System, embedded_clients, networked_clients, observed
from harness.sut.drivers import Driver, build_driver
from harness.sut.drivers import close as close_driver
from harness.sut.observers import ObserverError, PaymentObserver, PortalObserver, SsoObserver, Waiter


@pytest.fixture(scope="session")
def p111_run(pytestconfig: pytest.Config) -> Run:
    return pytestconfig.stash[RUN]


@pytest.fixture(scope="session")
def p111_target(p111_run: Run) -> Target:
    return p111_run.target


@pytest.fixture(scope="session")
def p111_lifecycle() -> Lifecycle:
    return load_lifecycle()


@pytest.fixture(scope="session")
def p111_system(p111_run: Run, pytestconfig: pytest.Config) -> Iterator[System]:
    target, recorder = p111_run.target, p111_run.recorder
    tap = pytestconfig.stash.get(TAP, None)
    # Every wait of this run is timed (harness.reporting.timing), counted when recorded, replayed without sleeping.
    waiter = Waiter(tap, recorder.waiting)
    if isinstance(tap, Replayer):
        yield taps.replayed_system(tap, target, recorder, waiter)  # nothing is started, nothing sends
        return
    with ExitStack() as stack:
        wire = embedded_clients if target.sut.embedded else networked_clients
        clients = wire(target, stack, recorder, tap)
        for opened in clients.opened():
            stack.callback(opened.close)
        if tap is not None:
            taps.note_system(tap, clients)
        recorder.sut_origin = str(clients.sut.base_url)  # tells the SUT's answers from the counterparts' (timing)
        yield observed(clients, target, waiter)


@pytest.fixture(scope="session")
def p111_client(p111_system: System) -> httpx.Client:
    """The HTTP client that speaks to the SUT (recorded, redacted, never following redirects)."""
    return p111_system.client


@pytest.fixture(scope="session")
def p111_driver(p111_target: Target, p111_system: System) -> Iterator[Driver]:
    driver = build_driver(p111_target, p111_system)
    yield driver
    close_driver(driver)  # a driver that started something for the run (the http file store)


@pytest.fixture(scope="session")
def p111_portal(p111_system: System) -> PortalObserver:
    """What the portal counterpart received; ERROR for every check that needs it when it cannot be observed."""
    if p111_system.portal is None:
        raise ObserverError(
            "no portal counterpart in the target (counterparts.portal.url): "
            "what the SUT sends to the portal cannot be observed"
        )
    return p111_system.portal


@pytest.fixture(scope="session")
def p111_sso(p111_system: System) -> SsoObserver:
    """The sign-on counterpart (observer and controller); ERROR for every check that needs it when it is absent."""
    if p111_system.sign_on is None:
        raise ObserverError(
            "no sign-on counterpart in the target (counterparts.sso.url): sign-on and hostile tokens cannot be tested"
        )
    return SsoObserver(p111_system.sign_on)


@pytest.fixture(scope="session")
def p111_payment(p111_system: System) -> PaymentObserver:
    """The payment counterpart (observer and controller); ERROR for every check that needs it when it is absent."""
    if p111_system.payment is None:
        raise ObserverError(
            "no payment counterpart in the target (counterparts.payment.url): online payment cannot be tested"
        )
    return p111_system.payment


__all__ = [
    "p111_client",
    "p111_driver",
    "p111_lifecycle",
    "p111_payment",
    "p111_portal",
    "p111_run",
    "p111_sso",
    "p111_system",
    "p111_target",
]
