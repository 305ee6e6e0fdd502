"""P111-LIFECYCLE, explored: random sequences of citizen and officer actions, lawful and not, driven by a hypothesis
state machine. Unlawful ones must be refused, accepted ones mirrored on the portal, and the invariants must hold.
A failing sequence is shrunk to the shortest that still fails and shown as the evidence.

«hoàn thành việc đổi mới thực hiện cơ chế một cửa, một cửa liên thông trong giải quyết TTHC …»
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

from harness.core.lifecycle import Lifecycle
from harness.sut.checking import expect
from harness.sut.drivers import DossierView, Driver
from harness.sut.observers import PortalObserver

pytestmark = pytest.mark.requirement("P111-LIFECYCLE")

# Derandomised: an acceptance run explores the same sequences every time, and a failure reproduces. Ten sequences
# of ten steps: eight already fail each lifecycle defect of the reference system this check can see (the self-test
# matrix), and each sequence costs a few dozen requests.
EXPLORATION = settings(
    max_examples=10,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Expected:
    status: str = "1"
    resume: str | None = None
    seen_on_portal: int = 0  # portal items for this dossier already accounted for
    path: list[str] = field(default_factory=lambda: ["1"])


def mirrored(portal: PortalObserver, code: str) -> list[str]:
    """Every status the portal received for the dossier, by dossier sync or progress record, accepted or not: whether
    it was valid is for the sync requirements to judge; here it matters that the move was told."""
    dossiers = [str(r["item"].get("TrangThaiHoSo")) for r in portal.dossiers(code)]
    return dossiers + [str(r["item"].get("TrangThai")) for r in portal.progress(code)]


def check_invariants(view: DossierView, code: str, expected: Expected, lifecycle: Lifecycle) -> None:
    moments = [m for m in (view.submitted_at, view.received_at) if m is not None]
    expect(view.code == code, "a dossier code changed", expected=f"{code} for ever", received=view.code)
    expect(
        view.status == expected.status,
        f"{code} is not in the status its accepted actions lead to",
        expected=lifecycle.name(expected.status),
        received=lifecycle.name(view.status),
    )
    expect(
        moments == sorted(moments),
        f"{code}'s dates are out of order",
        expected="submitted ≤ received",
        received=", ".join(m.isoformat() for m in moments),
    )
    expect(
        lifecycle.is_lawful_path(list(view.statuses)),
        f"{code} went through an unlawful sequence",
        expected="moves allowed by lifecycle.yaml",
        received=" → ".join(view.statuses),
    )


@pytest.mark.needs_automation("hundreds of random action sequences cannot be performed by hand")
def test_random_action_sequences_follow_the_lifecycle(
    p111_driver: Driver, p111_portal: PortalObserver, p111_lifecycle: Lifecycle, procedure_codes: list[str]
) -> None:
    """Random sequences of actions: unlawful ones refused, accepted ones mirrored on the portal, invariants kept."""
    lifecycle = p111_lifecycle
    # A transfer needs a second agency; P111-TRANSFER drives it.
    actions = sorted(a for a in lifecycle.actions if a != "transfer")

    class DossierMachine(RuleBasedStateMachine):
        dossiers = Bundle("dossiers")

        def __init__(self) -> None:
            super().__init__()
            self.expected: dict[str, Expected] = {}

        @rule(target=dossiers)
        def submit(self) -> str:
            code = p111_driver.submit(procedure_codes[0]).code
            self.expected[code] = Expected(seen_on_portal=len(mirrored(p111_portal, code)))
            return code

        @rule(code=dossiers, action=st.sampled_from(actions))
        def act(self, code: str, action: str) -> None:
            expected = self.expected[code]
            new = lifecycle.leads_to(expected.status, action, expected.resume)
            lawful = new is not None
            result = p111_driver.act(code, action)
            # Refusing a lawful move is a failure only where every system must offer it (lifecycle.yaml `core`);
            # accepting an unlawful one always is.
            demanded = lawful and lifecycle.demands(action, expected.status)
            expect(
                (lawful or not result.accepted) and (result.accepted or not demanded),
                f"{action!r} on {code} in {lifecycle.name(expected.status)} was "
                f"{'accepted' if result.accepted else 'refused'}",
                expected=lambda: (f"refused — {lifecycle.rule(expected.status)}" if not lawful
                                  else f"accepted — {lifecycle.core_rule(action)}"),
                received=f"HTTP {result.http_status} {result.message}".strip(),
            )
            if lawful and result.accepted:
                assert new is not None
                if new == "5":
                    expected.resume = expected.status if expected.status in ("2", "4", "6") else "2"
                expected.status = new
                expected.path.append(new)
                told = p111_portal.wait(
                    lambda: mirrored(p111_portal, code)[expected.seen_on_portal :], lambda rows: new in rows
                )
                expect(
                    new in told,
                    f"the accepted {action!r} on {code} never reached the portal",
                    expected=f"a dossier sync or progress record with status {new} within "
                    f"{p111_portal.sync_seconds:g} s (timeouts.sync_seconds)",
                    received=f"statuses received since: {', '.join(told) or 'none'}",
                )
                expected.seen_on_portal += len(told)
            check_invariants(p111_driver.get(code), code, expected, lifecycle)

    run_state_machine_as_test(DossierMachine, settings=EXPLORATION)
