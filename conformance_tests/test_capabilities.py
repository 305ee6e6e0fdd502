"""The target's capability declaration against what the SUT does: a declaration that contradicts what is observed is
FAILED under the requirement it concerns, never a skip.

Each check runs only when its capability is declared absent (or, for the procedures, declared at all); otherwise it
is NOT-APPLICABLE, and the requirement's own checks judge the capability.
"""

from __future__ import annotations

import pytest

from conformance_tests.scenarios import LIST_ATTACH, LIST_WHY, drive, person_judges
from harness.config.target import Target
from harness.core.formats import service_level
from harness.core.verdicts import not_applicable
from harness.sut.checking import expect
from harness.sut.drivers import Driver, DriverError, NoSignOnOffered, Service
from harness.sut.observers import PaymentObserver


@pytest.mark.requirement("P111-PAY-INIT")
@pytest.mark.declared_absent("payment")
def test_no_payment_starts_where_none_is_declared(
    p111_driver: Driver, p111_payment: PaymentObserver, p111_target: Target, services: list[Service]
):
    """Declared without online payment, the SUT opens no payment transaction when a fee-bearing dossier is asked to
    pay (status 6)."""
    fee_bearing = [s for s in services if s.fee_bearing]
    if not fee_bearing:
        not_applicable("the SUT publishes no fee-bearing service: no payment could start, nothing to contradict")
    code = drive(p111_driver, fee_bearing[0].code, ("receive", "request-payment")).dossier.code
    opened = p111_driver.get(code).payments
    inits = p111_payment.inits(code)
    expect(
        not (opened or inits),
        "the target declares no online payment, but the SUT started one",
        expected=f"no payment transaction for {code} ({p111_target.capabilities.declaration('payment')})",
        received=f"{len(opened)} transaction(s) on the dossier, {len(inits)} INIT(s) at the payment platform",
        evidence="payment /_p111/messages",
    )


@pytest.mark.requirement("P111-TRANSFER")
@pytest.mark.declared_absent("transfer")
def test_no_service_moves_to_a_second_agency_where_none_is_declared(p111_target: Target, services: list[Service]):
    """Declared without inter-agency transfer, no published service names a second agency."""
    linked = [f"{s.code} → {s.second_agency_code}" for s in services if s.second_agency_code]
    expect(
        not linked,
        "the target declares no inter-agency transfer, but services name a second agency",
        expected=f"no service with a second agency ({p111_target.capabilities.declaration('transfer')})",
        received="; ".join(linked),
    )


@pytest.mark.requirement("P111-AUTH-SSO")
@pytest.mark.declared_absent("sign-on")
def test_nobody_signs_on_where_no_sign_on_is_declared(p111_driver: Driver, p111_target: Target):
    """Declared without single sign-on, the SUT does not sign a citizen on through the portal's sign-on."""
    try:
        login = p111_driver.login("citizen-1")
    except NoSignOnOffered:
        login = None  # its login sends nobody to the sign-on: the declaration holds
    # Any other DriverError (no answer, a crash, an answer of the wrong shape) says nothing of sign-on: ERROR naming it.
    if login is not None and login.session is None and login.http_status >= 500:
        raise DriverError(
            f"the SUT answered the sign-on's redirect back with HTTP {login.http_status}: whether it would have signed "
            "the citizen on cannot be told"
        )
    expect(
        login is None or login.session is None,
        "the target declares no single sign-on, but the SUT signed a citizen on through it",
        expected=f"no sign-on ({p111_target.capabilities.declaration('sign-on')})",
        received=lambda: f"a session after the authorization request {login.authorize_url.split('?')[0]}",
    )


@pytest.mark.requirement("P111-CATALOG")
def test_published_services_are_the_declared_ones(p111_target: Target, services: list[Service], p111_driver: Driver):
    """When the target lists the procedures the SUT offers online, the SUT publishes exactly those."""
    declared = p111_target.capabilities.procedures
    if declared is None:
        not_applicable("the target declares no procedure list (capabilities.procedures)")
    published = {s.code for s in services}
    missing, extra = sorted(set(declared) - published), sorted(published - set(declared))
    expect(
        not (missing or extra),
        "the published services differ from the target's declaration",
        expected=f"exactly the procedures of capabilities.procedures: {sorted(declared)}",
        received=f"declared but not published: {missing}; published but not declared: {extra}",
    )
    person_judges(p111_driver, why=LIST_WHY, attach=LIST_ATTACH)


@pytest.mark.requirement("P111-CATALOG")
def test_published_levels_are_the_declared_ones(p111_target: Target, services: list[Service]):
    """Where the target declares a procedure's level ({code, level}), the SUT publishes it at that level (4 and
    toàn trình, 3 and một phần are the same level)."""
    declared = p111_target.capabilities.levels
    if not declared:
        not_applicable("the target declares no procedure level (capabilities.procedures: {code, level})")
    published = {s.code: s.level for s in services}
    differing = [
        f"{code}: declared {level!r}, published {published[code]!r}"
        for code, level in declared
        if code in published and service_level(published[code]) != service_level(level)
    ]
    expect(
        not differing,
        "the published service levels differ from the target's declaration",
        expected="each declared procedure at its declared level (capabilities.procedures)",
        received="; ".join(differing),
    )
