"""P111-LIFECYCLE: the one-stop lifecycle — lawful moves accepted, unlawful ones refused and never synced.

«hoàn thành việc đổi mới thực hiện cơ chế một cửa, một cửa liên thông trong giải quyết TTHC …»
The lawful moves are data: harness/data/lifecycle.yaml, cited in every failure.
"""

from __future__ import annotations

import pytest

from conformance_tests.scenarios import CORE_PATH, act_where_offered, drive, drive_actions
from harness.sut.checking import expect

pytestmark = pytest.mark.requirement("P111-LIFECYCLE")

# A lawful path that takes an optional move (lifecycle.yaml `optional`) is NOT-APPLICABLE where the SUT lawfully
# refuses that move; a refused core move fails.
LAWFUL_PATHS = {
    "straight": ("receive", "process", "finish", "return"),
    "finish-after-receipt": ("receive", "finish", "return"),
    "supplement": ("receive", "process", "request-supplement", "supplement", "finish", "return"),
    "refused-at-counter": ("refuse",),
    "withdrawn": ("receive", "withdraw"),
}

# (path to the starting status, the unlawful action) — the moves domain.md section 8 says no lawful flow makes.
UNLAWFUL_MOVES = {
    "leave-returned": (("receive", "process", "finish", "return"), "process"),
    "process-never-received": ((), "process"),
    "finish-never-received": ((), "finish"),
    "return-never-finished": (("receive", "process"), "return"),
    "refuse-after-result": (("receive", "process", "finish"), "refuse"),
    "leave-withdrawn": (("receive", "withdraw"), "receive"),
    "leave-refused": (("refuse",), "receive"),
}


@pytest.mark.parametrize("name", LAWFUL_PATHS)
def test_lawful_path_is_accepted(name, p111_driver, p111_lifecycle, procedure_codes):
    """A lawful sequence of actions is accepted, the dossier ends in the status its last action leads to, and the
    SUT's history of statuses follows the lifecycle."""
    actions = LAWFUL_PATHS[name]
    scenario = drive(p111_driver, procedure_codes[0], actions)
    statuses, reached = list(scenario.dossier.statuses), p111_lifecycle.status_after(actions)
    expect(
        scenario.dossier.status == reached,
        f"{scenario.dossier.code} is not in the status its accepted actions lead to",
        expected=f"{p111_lifecycle.name(reached)} after {' → '.join(actions)} (harness/data/lifecycle.yaml, actions)",
        received=f"status {p111_lifecycle.name(scenario.dossier.status)}",
    )
    expect(
        p111_lifecycle.is_lawful_path(statuses),
        f"{scenario.dossier.code} went through an unlawful sequence of statuses",
        expected="every move allowed by harness/data/lifecycle.yaml",
        received=" → ".join(statuses) or "no history of statuses",
    )


def test_a_supplement_can_be_asked_before_the_result(p111_driver, p111_lifecycle, procedure_codes):
    """Every system lets an officer ask for a supplement at some point before the result (where is its choice), the
    citizen supplies it, and the dossier goes on to its result."""
    dossier = p111_driver.submit(procedure_codes[0])
    asked_from = act_where_offered(p111_driver, dossier.code, "request-supplement", lifecycle=p111_lifecycle)
    status = drive_actions(p111_driver, dossier.code, ("supplement",), status="5", lifecycle=p111_lifecycle)
    # On along the core path from wherever the dossier resumed.
    remaining = [step for step in CORE_PATH if CORE_PATH.index(step) >= _core_step(status)]
    drive_actions(p111_driver, dossier.code, tuple(remaining), status=status, lifecycle=p111_lifecycle)
    statuses = list(p111_driver.get(dossier.code).statuses)
    expect(
        "5" in statuses and p111_lifecycle.is_lawful_path(statuses),
        f"{dossier.code}'s history does not show the supplement asked from {p111_lifecycle.name(asked_from)}",
        expected="a lawful sequence through 5 (Yêu cầu bổ sung giấy tờ) — harness/data/lifecycle.yaml",
        received=lambda: " → ".join(statuses),
    )


def _core_step(status: str) -> int:
    """The index in CORE_PATH of the next step from `status` (1 → receive, 2 → process, 4 → finish, 9 → return)."""
    return {"1": 0, "2": 1, "4": 2, "9": 3}.get(status, len(CORE_PATH))


@pytest.mark.parametrize("name", UNLAWFUL_MOVES)
def test_unlawful_move_is_refused(name, p111_driver, p111_portal, p111_lifecycle, procedure_codes):
    """An unlawful action is refused, changes nothing, and nothing of it reaches the portal."""
    path, action = UNLAWFUL_MOVES[name]
    scenario = drive(p111_driver, procedure_codes[0], path)
    before = scenario.dossier
    seen_before = len(p111_portal.progress(before.code))
    result = p111_driver.act(before.code, action)
    after = p111_driver.get(before.code)
    rule = p111_lifecycle.rule(before.status)
    expect(
        not result.accepted and after.status == before.status,
        f"{action!r} on {before.code} in status {p111_lifecycle.name(before.status)} was accepted",
        expected=f"refused (HTTP 4xx) and the status unchanged — {rule}",
        received=f"HTTP {result.http_status}, status now {p111_lifecycle.name(after.status)}",
    )
    # A refused move must not be synced either; a short wait catches a SUT that syncs before it checks.
    rows = p111_portal.wait(
        lambda: p111_portal.progress(before.code)[seen_before:], bool, timeout=min(0.2, p111_portal.sync_seconds)
    )
    expect(
        not rows,
        f"the refused {action!r} on {before.code} still reached the portal",
        expected="no progress record for a refused action",
        received=", ".join(f"TrangThai {r['item'].get('TrangThai')}" for r in rows),
    )
