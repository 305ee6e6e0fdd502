"""One options table (harness.pytest.options): `p111 run`/`p111 fuzz`, the plugin's pytest options and the passing
of the one to the other come from it."""

from __future__ import annotations

import argparse

import pytest

from harness.cli.commands import parser
from harness.pytest.options import OPTIONS, pytest_arguments


def test_the_plugin_offers_every_option_of_the_table(pytestconfig: pytest.Config):
    for option in OPTIONS:
        pytestconfig.getoption("p111_" + option.dest)  # raises ValueError for an option the plugin did not add


@pytest.mark.parametrize("command", ["run", "fuzz"])
def test_each_command_option_reaches_the_plugin_with_its_value(command: str):
    given = [
        command, "--target", "t.yaml", "--report", "out", "--year", "2025", "--defect", "a", "--defect", "b",
        "--variation", "v", "--lang", "en", "--allow-not-tested", "--record", "rec",
    ]
    args = parser().parse_args(given)
    on_command = {option.name for option in OPTIONS if option.on_command}
    assert on_command <= {action.dest.replace("_", "-") for action in parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
                          .choices[command]._actions}
    plugin = argparse.ArgumentParser()
    for option in OPTIONS:
        plugin.add_argument(option.pytest_flag, **option.keywords())
    passed = vars(plugin.parse_args(pytest_arguments(args)))
    assert passed == {
        "p111_target": "t.yaml", "p111_report": "out", "p111_year": 2025, "p111_defect": ["a", "b"],
        "p111_variation": ["v"], "p111_sign": None, "p111_lang": "en", "p111_allow_not_tested": True,
        "p111_record": "rec", "p111_replay": None, "p111_scope": "plan",
    }


def test_record_and_replay_exclude_each_other_on_the_command(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["run", "--record", "a", "--replay", "b"])
    assert "not allowed with" in capsys.readouterr().err
