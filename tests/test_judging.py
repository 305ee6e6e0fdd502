"""Nothing passes without judging, proven over the suite itself: the plugin refuses a check that ends without a
judgement (tests/test_plugin.py shows it), and no check of conformance_tests/ is written to end silently."""

from __future__ import annotations

import ast

from harness.core import resources
from harness.core.lifecycle import load_lifecycle

SUITE = resources.suite_dir()


def _checks() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(SUITE.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [(path.name, node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    return found


def _own_nodes(function: ast.FunctionDef):
    """The statements of a function, not those of functions defined inside it."""
    stack = [node for node in function.body if not isinstance(node, ast.FunctionDef)]
    while stack:
        node = stack.pop()
        yield node
        stack += [c for c in ast.iter_child_nodes(node) if not isinstance(c, (ast.FunctionDef, ast.Lambda))]


def test_no_check_returns_silently():
    """A bare `return` in a check is the hollow pass of old ("judged elsewhere"): say NOT-TESTED, blocked, instead."""
    silent = [
        f"{name}:{node.lineno} {function.name}"
        for name, function in _checks()
        if function.name.startswith("test_")
        for node in _own_nodes(function)
        if isinstance(node, ast.Return)
    ]
    assert silent == []


def test_every_judgement_of_the_suite_is_counted():
    """The checks judge through harness.sut.checking.expect, which the plugin counts; a `raise Failure` would fail
    without being counted, which is harmless, but it invites a check whose only judgement can never pass."""
    direct = [
        f"{name}:{node.lineno}"
        for name, function in _checks()
        for node in _own_nodes(function)
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", "") == "Failure"
    ]
    assert direct == []


def test_a_lawful_path_needs_a_history_and_real_moves():
    lifecycle = load_lifecycle()
    assert not lifecycle.is_lawful_path([])
    assert not lifecycle.is_lawful_path(["1", "1"]), "an action that changed nothing is no lawful move"
    assert lifecycle.is_lawful_path(["1", "2", "4", "4", "9", "10"]), "4 -> 4 (a transfer) is one"
    assert lifecycle.status_after(("receive", "process", "request-supplement", "supplement")) == "4"
    assert lifecycle.status_after(("request-supplement", "supplement")) == "2"
    assert lifecycle.status_after(()) == "1"


def test_a_run_with_a_requirement_not_tested_is_incomplete_not_passed():
    """Exit 0 only when every applicable requirement PASSED: a NOT-TESTED one makes the run INCOMPLETE (exit 4),
    unless a subset was chosen on purpose (--allow-not-tested, recorded in the report)."""
    from harness.core.verdicts import EXIT_CODES, Verdict, run_verdict
    from harness.reporting import report as reports

    p, nt, na = Verdict.PASSED, Verdict.NOT_TESTED, Verdict.NOT_APPLICABLE
    assert run_verdict([p, na]) is Verdict.PASSED
    assert run_verdict([p, nt, na]) is Verdict.INCOMPLETE
    assert run_verdict([p, nt], allow_not_tested=True) is Verdict.PASSED
    assert run_verdict([Verdict.FAILED, nt]) is Verdict.FAILED
    assert run_verdict([Verdict.REVIEW, nt]) is Verdict.REVIEW
    codes = {v: reports.exit_code({"summary": {"verdict": v}}) for v in ("PASSED", "FAILED", "ERROR", "REVIEW")}
    assert codes == {"PASSED": 0, "FAILED": 1, "ERROR": 2, "REVIEW": 3}
    assert reports.exit_code({"summary": {"verdict": "INCOMPLETE"}}) == EXIT_CODES[Verdict.INCOMPLETE] == 4
    assert reports.exit_code({"summary": {"verdict": "NOT-TESTED"}}) == 4  # nothing tested at all is no pass
    assert Verdict.INCOMPLETE.vi == "CHƯA ĐẦY ĐỦ"
