"""Operator-driven mode, played: `p111 run` against the reference system on loopback ports with `sut.driver:
operator`, and tests/operator_player.py performing each printed step as a person would in its pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.config.target import embedded_target
from harness.core.verdicts import EXIT_CODES, Verdict, combine, run_verdict
from harness.reporting import report as reports
from tests.operator_player import Player
from tests.support import read_report, run_p111
from tests.test_e2e_ports import PAYMENT_ENV, PAYMENT_KEYS, served  # noqa: F401 - the served fixture

pytestmark = pytest.mark.slow

STEP_SECONDS = 3  # short: the player acts at once, and the step it leaves undone costs this much
# Checks of each kind, few enough for a short run: decided from counterpart messages, needing a person's judgement,
# not asked of a person at all, and one whose submission the player leaves undone.
SELECTED = " or ".join(
    (
        "test_new_dossier_reaches_portal",
        "test_synced_dossier_matches_sut",
        "test_authorization_request_is_well_formed",
        "portal-rs256",
        "test_no_mutation_of_a_signed_confirm_is_accepted",
        "test_random_action_sequences_follow_the_lifecycle",
        "test_target_is_met",
        "refused-at-counter",
        "test_bad_confirms_are_refused_and_change_nothing",
    )
)
UNDONE = "refused-at-counter"  # the check whose submission the "person" does not perform


def operator_target(directory: Path, urls: dict[str, str]) -> Path:
    path = directory / "operator.target.yaml"
    document = {
        "name": "Hệ thống tham chiếu, thao tác bởi người (loopback)",
        "agencies": embedded_target().public_dict()["agencies"],
        "sut": {
            "embedded": False,
            "base_url": urls["reference"],
            "driver": "operator",
            "driver_options": {
                "step_seconds": STEP_SECONDS,
                "prompt": {"terminal": False, "file": "steps.txt"},
                "files_dir": "files",
                "procedures": [
                    {
                        "code": "1.001193",
                        "agency_code": "000.00.06.H40",
                        "fees": [{"MaPhiLePhi": "LP-HT-01", "SoTien": 8000}],
                    }
                ],
            },
        },
        "counterparts": {
            "portal": {"url": urls["portal"], "serve": False},
            "sso": {"url": urls["sso"], "serve": False},
            "payment": {"url": urls["payment"], "serve": False, **PAYMENT_KEYS},
        },
        "safety": {"mode": "full", "environment": "staging"},
        "timeouts": {"connect_seconds": 2, "request_seconds": 5, "sync_seconds": 3},
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every check of the report by its test name (with parameters)."""
    return {c["nodeid"].rsplit("::", 1)[-1]: c for r in report["requirements"] for c in r["checks"]}


@pytest.fixture(scope="module")
def played(served, tmp_path_factory) -> tuple[Any, dict[str, Any], Player]:  # noqa: F811 - the imported fixture
    directory = tmp_path_factory.mktemp("operator")
    target = operator_target(directory, served)
    player = Player(directory / "steps.txt", served["reference"], served["sso"], skip=lambda s: UNDONE in s["check"])
    player.start()
    try:
        result = run_p111("run", "--target", str(target), "--report", "out", "--", "-k", SELECTED,
                          cwd=directory, env=PAYMENT_ENV, timeout=120)
    finally:
        player.stop()
    return result, read_report(directory / "out"), player


def test_steps_decided_from_counterpart_messages_pass(played):
    result, report, player = played
    got = checks(report)
    for name in ("test_new_dossier_reaches_portal", "test_authorization_request_is_well_formed"):
        assert got[name]["outcome"] == "PASSED", (name, got[name]["message"], result.stdout[-3000:])
    tags = [s["tag"] for s in player.performed]
    assert {"submit", "act", "login"} <= set(tags) and not player.problems, player.problems


def test_judgement_ends_review_with_what_to_attach(played):
    _, report, _ = played
    got = checks(report)
    for name in ("test_synced_dossier_matches_sut", "test_valid_login_binds_the_session_to_the_account[portal-rs256]"):
        assert got[name]["outcome"] == "REVIEW", (name, got[name]["message"])
        assert "ảnh chụp màn hình" in got[name]["review"]["attach"] and "screenshot" in got[name]["review"]["attach"]
        assert "operator" in got[name]["review"]["why"]
    assert "BƯỚC" in got["test_synced_dossier_matches_sut"]["review"]["attach"]


def test_what_crossed_is_judged_before_the_person_is_asked(played):
    # The bad confirms went from the harness to the SUT and their MaLoi were judged (a wrong one would be FAILED);
    # only what the SUT credited is left to the person's screenshot.
    _, report, _ = played
    check = checks(report)["test_bad_confirms_are_refused_and_change_nothing"]
    assert check["outcome"] == "REVIEW", check["message"]
    assert "thanh toán" in check["review"]["attach"] and check["evidence"]


def test_what_a_person_cannot_provide_is_not_tested(played):
    _, report, player = played
    got = checks(report)
    names = ["test_no_mutation_of_a_signed_confirm_is_accepted", "test_random_action_sequences_follow_the_lifecycle"]
    names += [n for n in got if n.startswith("test_target_is_met[")]
    for name in names:
        assert got[name]["outcome"] == "NOT-TESTED", (name, got[name]["message"])
        assert "operator mode" in got[name]["message"], got[name]["message"]
    # Nothing was asked of the person for them.
    assert not [s for s in player.performed + player.skipped if "mutation" in s["check"] or "random" in s["check"]]


def test_a_step_left_undone_is_an_error_naming_step_and_counterpart(played):
    result, report, player = played
    check = checks(report)["test_lawful_path_is_accepted[refused-at-counter]"]
    assert check["outcome"] == "ERROR", check
    skipped = player.skipped[0]
    assert skipped["tag"] == "submit"
    message = check["message"]
    assert f"BƯỚC {skipped['step']} [submit]" in message
    assert "HoSoDongBoDVC" in message and "portal counterpart" in message and f"{STEP_SECONDS:g} s" in message
    # The worst verdict is that ERROR: the run says so by its exit code.
    assert report["summary"]["verdict"] == "ERROR" and result.returncode == 2


def test_review_ranks_below_error_and_has_its_own_exit_code():
    V = Verdict
    assert combine([V.PASSED, V.REVIEW, V.NOT_TESTED]) is V.REVIEW
    assert combine([V.REVIEW, V.ERROR]) is V.ERROR
    assert combine([V.REVIEW, V.FAILED]) is V.FAILED
    assert run_verdict([V.PASSED, V.REVIEW, V.NOT_TESTED]) is V.REVIEW
    assert reports.exit_code({"summary": {"verdict": "REVIEW"}}) == EXIT_CODES[V.REVIEW] == 3
