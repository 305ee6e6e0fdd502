"""Who made a step of a dossier's history (P111-AUTH-TXN): its action's actor, or, where the SUT names no action
(the http driver's `views.step.action` is optional), the one role whose action makes the step's move
(lifecycle.yaml); no one is assumed to be the officer."""

from __future__ import annotations

import pytest

from harness.core.lifecycle import load_lifecycle
from harness.sut.drivers import StepView

LIFECYCLE = load_lifecycle()
# The suite's own marks (offered, needs_automation) are registered by the p111 plugin, which these tests do not load.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")


@pytest.mark.parametrize(
    ("previous", "new", "roles"),
    [
        ("1", "2", {"officer"}),  # receive
        ("1", "5", {"officer"}),  # request-supplement at the counter
        ("4", "7", {"citizen"}),  # withdraw
        ("9", "10", {"officer"}),  # return
        ("5", "2", {"citizen", "officer"}),  # the supplement resuming at received, or an officer receiving again
        ("5", "6", {"citizen", "officer"}),  # the supplement resuming at payment, or an officer asking for it
        ("3", "4", set()),  # no lawful move
    ],
)
def test_the_roles_that_make_a_move(previous, new, roles):
    assert LIFECYCLE.actors_of(previous, new) == roles


def steps(*moves: tuple[str, str]) -> list[StepView]:
    return [StepView(status, action, "TECH-x", "LoA2") for status, action in moves]


def actors(history: list[StepView]) -> list[str | None]:
    # Imported here, as the other tests that reach into the suite do, so the warning filter above covers it.
    from conformance_tests.test_auth_txn import actor_of_step

    previous = (None, *(s.status for s in history))
    return [actor_of_step(LIFECYCLE, step, before) for step, before in zip(history, previous, strict=False)]


def test_a_history_without_action_words_is_read_from_its_moves():
    """Demo 3's history without `buoc`: submitted (1), a supplement asked (5), supplied and resumed (2). The citizen's
    own steps are never expected to be the officer's; the resumption, which an officer could also make, is not told."""
    assert actors(steps(("1", ""), ("5", ""), ("2", ""))) == ["citizen", "officer", None]
    assert actors(steps(("1", ""), ("2", ""), ("4", ""), ("7", ""))) == ["citizen", "officer", "officer", "citizen"]


def test_action_words_name_the_actor_whatever_the_move():
    history = steps(("1", "submit"), ("5", "request-supplement"), ("2", "supplement"), ("7", "withdraw"))
    assert actors(history) == ["citizen", "officer", "citizen", "citizen"]


def test_a_history_opening_elsewhere_than_newly_registered_is_not_told():
    """A history that does not show the submission: its first step's move is unknown, so no one is assumed."""
    assert actors(steps(("2", ""), ("4", ""))) == [None, "officer"]
