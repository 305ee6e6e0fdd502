"""The pytest plugin as a user meets it: markers, verdicts per requirement, the table, report.json and junit.xml."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from harness.core import schemas
from tests.support import plan_requirement_count, read_report, verdicts

pytest_plugins = ["pytester"]

CHECKS = """
import warnings
import pytest
from harness.sut.checking import expect
from harness.core.verdicts import ConformanceWarning, Failure, not_applicable

def judged():
    expect(True, "a judgement of the SUT", expected="anything", received="it")

@pytest.fixture
def broken_fixture():
    raise ConnectionError("SUT unreachable")

@pytest.mark.requirement("P111-SYNC-DOSSIER")
def test_sync_ok():
    '''The dossier reaches the portal.'''
    warnings.warn(ConformanceWarning("extra field TruongLa ignored by the portal"))
    judged()

@pytest.mark.requirement("P111-SYNC-DOSSIER")
def test_sync_broken():
    raise Failure("dossier X never reached the portal", expected="a sync within 2 s", received="nothing",
                  evidence="portal item #3")

@pytest.mark.requirement("P111-CODES")
def test_codes_ok():
    judged()

@pytest.mark.requirement("P111-LIFECYCLE")
def test_lifecycle_harness_broke():
    raise RuntimeError("harness bug")

@pytest.mark.requirement("P111-SYNC-PROGRESS")
def test_progress_cannot_reach(broken_fixture):
    pass

@pytest.mark.requirement("P111-CATALOG")
def test_catalog_na():
    not_applicable("the target publishes no catalog")

@pytest.mark.requirement("P111-TRANSFER")
def test_transfer_skipped():
    pytest.skip("not ready")

@pytest.mark.requirement("P111-AUTH-SSO")
def test_sso_one():
    judged()

@pytest.mark.requirement("P111-AUTH-SSO")
def test_sso_two():
    judged()

def test_unmarked():
    pass
"""


@pytest.fixture
def run(pytester, tmp_path):
    pytester.makepyfile(test_checks=CHECKS)
    out = tmp_path / "out"
    result = pytester.runpytest("--p111-report", str(out), "-k", "not test_sso_two")
    return result, read_report(out), out


def test_verdict_per_requirement(run):
    _, report, _ = run
    got = verdicts(report)
    assert got["P111-SYNC-DOSSIER"] == "FAILED"
    assert got["P111-CODES"] == "PASSED"
    assert got["P111-LIFECYCLE"] == "ERROR"
    assert got["P111-SYNC-PROGRESS"] == "ERROR"
    assert got["P111-CATALOG"] == "NOT-APPLICABLE"
    assert got["P111-TRANSFER"] == "NOT-TESTED"
    assert got["P111-AUTH-SSO"] == "NOT-TESTED", "one of its two checks was deselected"
    assert got["P111-PAY-INIT"] == "NOT-TESTED"
    assert report["summary"]["verdict"] == "FAILED"


def test_report_is_schema_valid_and_carries_failures(run):
    _, report, _ = run
    assert schemas.first_error("report", report) is None
    sync = next(r for r in report["requirements"] if r["id"] == "P111-SYNC-DOSSIER")
    assert sync["quote_vi"].startswith("100% dịch vụ công trực tuyến")
    broken = next(c for c in sync["checks"] if c["nodeid"].endswith("test_sync_broken"))
    assert broken["failure"] == {
        "summary": "dossier X never reached the portal",
        "expected": "a sync within 2 s",
        "received": "nothing",
        "evidence": "portal item #3",
    }
    ok = next(c for c in sync["checks"] if c["nodeid"].endswith("test_sync_ok"))
    assert ok["title"] == "The dossier reaches the portal."
    assert ok["warnings"] == ["extra field TruongLa ignored by the portal"]
    progress = next(r for r in report["requirements"] if r["id"] == "P111-SYNC-PROGRESS")
    assert "SUT unreachable" in progress["checks"][0]["message"]
    assert len(report["requirements"]) == plan_requirement_count()


def test_terminal_table_in_vietnamese(run):
    result, _, _ = run
    result.stdout.fnmatch_lines(
        [
            "*P111: kết quả theo yêu cầu*",
            "*P111-SYNC-DOSSIER*KHÔNG ĐẠT (FAILED)*Đồng bộ*",
            "*P111-CODES*ĐẠT (PASSED)*",
            "*Kết luận / overall: KHÔNG ĐẠT (FAILED)*",
        ]
    )


def test_junit_cases_carry_the_requirement(run):
    _, _, out = run
    tree = ET.parse(out / "junit.xml")
    properties = {
        case.get("name"): [p.get("value") for p in case.iter("property") if p.get("name") == "requirement"]
        for case in tree.iter("testcase")
    }
    assert properties["test_codes_ok"] == ["P111-CODES"]
    assert properties["test_unmarked"] == []


def test_unknown_requirement_id_is_refused(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.requirement("P111-NOPE")
        def test_x():
            pass
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown requirement id 'P111-NOPE'*P111-SYNC-DOSSIER*"])


def test_plugin_is_inert_without_requirement_checks(pytester):
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "P111" not in result.stdout.str()


def test_bad_target_is_a_usage_error(pytester, tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("name: x\nsut: {embedded: false}\nsync: {transport: pigeon}\n", encoding="utf-8")
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("--p111-target", str(bad))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*sync.transport*"])


HOLLOW = '''
import pytest
from harness.sut.checking import expect

@pytest.mark.requirement("P111-CODES")
def test_returns_early():
    """Ends without judging anything: the hollow pass the plugin refuses."""
    return

@pytest.mark.requirement("P111-CODES")
@pytest.mark.parametrize("n", [0, 2])
def test_judges_what_it_found(n):
    for _ in range(n):  # nothing found, nothing judged: no pass
        expect(True, "x", expected="x", received="x")

@pytest.fixture
def judging_fixture():
    expect(True, "x", expected="x", received="x")

@pytest.mark.requirement("P111-CATALOG")
def test_judged_in_a_fixture_only(judging_fixture):
    pass
'''


def test_a_check_that_judges_nothing_cannot_pass(pytester, tmp_path):
    """The mechanism that makes a hollow pass impossible: a check of a requirement that ends without one judgement
    of the SUT (harness.sut.checking.expect) in its own body is ERROR, and pytest fails it too."""
    pytester.makepyfile(test_hollow=HOLLOW)
    out = tmp_path / "out"
    result = pytester.runpytest("--p111-report", str(out))
    result.assert_outcomes(passed=1, failed=3)
    report = read_report(out)
    outcomes = {c["nodeid"].split("::")[-1]: c for r in report["requirements"] for c in r["checks"]}
    assert outcomes["test_judges_what_it_found[2]"]["outcome"] == "PASSED"
    for hollow in ("test_returns_early", "test_judges_what_it_found[0]", "test_judged_in_a_fixture_only"):
        assert outcomes[hollow]["outcome"] == "ERROR", outcomes[hollow]
        assert "hollow pass" in outcomes[hollow]["message"]
    assert verdicts(report)["P111-CODES"] == "ERROR"


def test_plain_pytest_does_not_exit_0_on_a_run_that_did_not_pass(pytester, tmp_path):
    """A vendor's CI runs the suite with plain `pytest`: a run whose verdict is INCOMPLETE (requirements NOT-TESTED)
    though no check failed must not exit 0 — 0 means every applicable requirement was tested and passed."""
    pytester.makepyfile(
        """
        import pytest
        from harness.sut.checking import expect

        pytestmark = pytest.mark.requirement("P111-CODES")

        def test_codes_judged():
            expect(True, "codes", expected="codes in the national form", received="codes in the national form")
        """
    )
    result = pytester.runpytest("--p111-report", str(tmp_path / "out"))
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # every other requirement NOT-TESTED: INCOMPLETE
    passed = pytester.runpytest("--p111-report", str(tmp_path / "out2"), "--p111-allow-not-tested")
    assert passed.ret == pytest.ExitCode.OK  # a subset on purpose, said so


# Described as pytest does, and with no traceback asked for (as `p111 run` asks): one line, no location in Python.
QUIETLY = pytest.mark.parametrize(("tb", "shown"), [((), "KeyboardInterrupt"), (("--tb=no",), "Bị ngắt / interrupted")])


@QUIETLY
def test_an_interrupt_in_a_frame_without_a_line_number_still_ends_the_run_as_an_interrupt(pytester, tb, shown):
    """Python 3.11 sometimes gives an interrupted frame no line number, and pytest's terminal reporter then fails to
    describe the interrupt (TypeError), and fails again at session finish (it has nothing to print). Seen under CI:
    the run must still end as an interrupt (exit 2) with its reason printed, never as an internal error (exit 3)."""
    pytester.makeconftest(
        """
        import _pytest._code.code as code

        numbered = code.TracebackEntry.lineno

        def lineno(entry):
            if entry.frame.code.name == "test_stopped":
                raise TypeError("unsupported operand type(s) for -: 'NoneType' and 'int'")
            return numbered.fget(entry)

        code.TracebackEntry.lineno = property(lineno)
        """
    )
    _stopped_run_ends_as_an_interrupt(pytester, tb, shown)


@QUIETLY
def test_an_interrupt_pytest_cannot_describe_at_all_still_ends_the_run_as_an_interrupt(pytester, tb, shown):
    """Should describing the interrupt fail for any other reason, the reporter still gets a description."""
    pytester.makeconftest(
        """
        import _pytest._code.code as code

        described = code.ExceptionInfo.getrepr
        calls = []

        def fail_once(*args, **kwargs):
            calls.append(args)
            if len(calls) == 1:
                raise TypeError("cannot describe")
            return described(*args, **kwargs)

        code.ExceptionInfo.getrepr = fail_once
        """
    )
    _stopped_run_ends_as_an_interrupt(pytester, tb, shown)


def _stopped_run_ends_as_an_interrupt(pytester, tb: tuple[str, ...], shown: str) -> None:
    """A check stopped by Ctrl-C ends the run as an interrupt (exit 2, never INTERNALERROR) that says `shown`; with
    no traceback asked for, no Python location of it either."""
    pytester.makepyfile("def test_stopped():\n    raise KeyboardInterrupt\n")
    result = pytester.runpytest_subprocess(*tb)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert shown in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
    if tb:
        assert "KeyboardInterrupt" not in result.stdout.str() + result.stderr.str()
