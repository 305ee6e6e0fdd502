"""P111-PAY-RECONCILE: a transaction whose confirm never arrived is settled by the SUT itself, through QUERY.

A callback can be lost; the platform's QUERY is how a provincial system learns the truth (domain.md section 4). The
harness settles transactions at the platform without sending the confirm and waits, up to the target's
payment.reconcile_seconds, for the SUT to show the outcome.
"""

from __future__ import annotations

import pytest

from conformance_tests.scenarios import PaymentScenario, ask_for_payment, person_judges
from harness.config.target import Target
from harness.sut.checking import blocked, expect
from harness.sut.drivers import Driver, Service
from harness.sut.observers import PaymentObserver

pytestmark = [pytest.mark.requirement("P111-PAY-RECONCILE"), pytest.mark.offered("payment")]

OUTCOMES = ("paid", "failed")  # settled so at the platform; the SUT must then show the same state


def test_a_pending_transaction_is_settled_through_query(
    p111_driver: Driver, p111_payment: PaymentObserver, p111_target: Target, fee_bearing: list[Service]
):
    """One transaction paid and one failed at the platform, both with their confirm lost: within the window the SUT
    shows the first paid online and the second failed, and the platform saw its QUERY for each."""
    scenarios: dict[str, PaymentScenario] = {}
    for outcome in OUTCOMES:
        scenario = ask_for_payment(p111_driver, fee_bearing[0])
        reference = scenario.payment.reference
        if p111_payment.transaction(reference) is None:  # the INIT was refused or never sent
            blocked(f"the payment platform holds no transaction {reference} to reconcile", "P111-PAY-INIT")
        p111_payment.settle(reference, outcome, callback=False)
        scenarios[outcome] = scenario

    def states() -> dict[str, str]:
        shown = {}
        for outcome, scenario in scenarios.items():
            dossier = p111_driver.get(scenario.dossier.code)
            payment = next((p for p in dossier.payments if p.reference == scenario.payment.reference), None)
            shown[outcome] = "paid" if dossier.paid_online else payment.state if payment else "missing"
        return shown

    window = p111_target.payment_rules.reconcile_seconds
    person_judges(
        p111_driver,
        why="the state the SUT shows a reconciled payment in shows only on its screen",
        attach="ảnh chụp màn hình, sau " + f"{window:g} giây, phần thanh toán của các hồ sơ "
        + ", ".join(f"{s.dossier.code} (phải là {o})" for o, s in scenarios.items())
        + f" / screenshots, after {window:g} s, of the payment of "
        + ", ".join(f"{s.dossier.code} (must show {o})" for o, s in scenarios.items()),
    )
    expected = {outcome: outcome for outcome in OUTCOMES}
    shown = p111_payment.waiter.poll(states, lambda got: got == expected, window)  # the run's: timed, replayed

    def what_happened() -> str:
        queried = {
            outcome: (p111_payment.transaction(s.payment.reference) or {}).get("queries", 0)
            for outcome, s in scenarios.items()
        }
        return ", ".join(
            f"{scenarios[o].payment.reference} {o} at the platform: the SUT shows {shown[o]}, "
            f"{queried[o]} QUERY received"
            for o in OUTCOMES
        )

    expect(
        shown == expected,
        "the SUT did not reconcile transactions whose confirm was lost",
        expected=f"within {window:g} s (payment.reconcile_seconds): the paid one paid online, the failed one "
        "failed, each learnt through QUERY",
        received=what_happened,
        evidence="payment /_p111/transactions",
    )
