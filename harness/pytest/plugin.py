"""The pytest plugin (entry point pytest11): the hooks — options, the requirement marker, each check's verdict, the
report at the end. The fixtures (harness.pytest.fixtures), the system's wiring (harness.pytest.system) and record and
replay (harness.pytest.tap) live beside it; the run's state is on the config's stash (harness.pytest.keys).

Inert in a pytest session that collects no check marked with `requirement` and asks for no report.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.config.target import Target, TargetError, embedded_target, load_target
from harness.core import inert, interrupts, lasting
from harness.core.catalog import load_catalog
from harness.core.formats import vietnam_now
from harness.core.results import CheckRecord, RunRecord
from harness.core.verdicts import ConformanceWarning, Outcome, Verdict, exit_code, outcome_of
from harness.http.evidence import EvidenceRecorder
from harness.http.recording import Recorder, Replayer
from harness.http.redaction import Redactor
from harness.pytest import distributed, options, shown
from harness.pytest import tap as taps
from harness.pytest.fixtures import (  # noqa: F401 - the fixtures the plugin offers: pytest finds them here
    p111_client,
    p111_driver,
    p111_lifecycle,
    p111_payment,
    p111_portal,
    p111_run,
    p111_sso,
    p111_system,
    p111_target,
)
from harness.pytest.keys import RUN, TAP, run_of
from harness.reporting import report as reports
from harness.sut import checking
from harness.sut.drivers import sensitive_names


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_pytest_options(parser)  # one table for the plugin and `p111 run` (harness.pytest.options)


def _load_target(config: pytest.Config) -> Target:
    path, year, defects = (config.getoption(o) for o in ("p111_target", "p111_year", "p111_defect"))
    tap = config.stash[TAP]
    if isinstance(tap, Replayer):
        return taps.replayed_target(tap, path, year, defects)
    variations = config.getoption("p111_variation")
    if variations and isinstance(tap, Replayer):
        raise pytest.UsageError("phát lại dùng các biến thể đã ghi / a replay uses the recorded variations")
    try:
        if path:
            target = load_target(path).with_changes(year=year, defects=defects or None)
        else:
            target = embedded_target(year=year, defects=tuple(defects))
        return with_variations(target, variations)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from exc


def with_variations(target: Target, names: list[str]) -> Target:
    """The target with the reference system's lawful variations on, and the settings that express each."""
    if not names:
        return target
    from mocks.reference.variations import target_settings  # lazily: only the embedded reference has variations

    try:
        settings = target_settings(names)
    except ValueError as exc:
        raise pytest.UsageError(f"{exc} (xem / see `p111 variations`)") from exc
    return target.with_variations(names, settings)


def _redaction(target: Target) -> dict[str, Any]:
    """The target's `redaction` section, with the names a declarative driver's own configuration marks sensitive."""
    settings = dict(target.redaction or {})
    headers, fields = sensitive_names(target)
    settings["headers"] = [*settings.get("headers", ()), *headers]
    settings["fields"] = [*settings.get("fields", ()), *fields]
    return settings


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): the Plan 111 requirement (catalog id) this check serves")
    tap = config.stash[TAP] = taps.open_tap(config)
    target = _load_target(config)
    secrets = [(s.reference, s.reveal()) for s in target.secrets()]
    if isinstance(tap, Replayer):  # redacted as the recorded run was, with every value it had learnt
        secrets += [(label, value) for value, label in tap.session.secrets]
    elif isinstance(tap, Recorder):
        taps.note_target(tap, target)
    config.stash[RUN] = RunRecord(
        catalog=load_catalog(scope=config.getoption("p111_scope")),
        target=target,
        recorder=EvidenceRecorder(Redactor.from_settings(secrets, _redaction(target))),
        started_at=vietnam_now(),
        replayed_from=tap.identity() if isinstance(tap, Replayer) else None,
        allow_not_tested=bool(config.getoption("p111_allow_not_tested")),
    )
    config.pluginmanager.register(
        _WarningCollector(config.stash[RUN], distributed.is_controller(config)), "p111-warnings"
    )
    config.pluginmanager.register(_Disarm(), "p111-disarm")
    config.pluginmanager.register(_InterruptDescription(config), "p111-interrupt")
    directory = config.getoption("p111_report")
    if directory and not config.option.xmlpath:
        config.option.xmlpath = str(Path(directory) / reports.JUNIT_FILE)


def _register(config: pytest.Config, items: list[pytest.Item], *, deselected: bool) -> None:
    run = config.stash[RUN]
    everything = load_catalog(scope=None)
    for item in items:
        for marker in item.iter_markers("requirement"):
            for requirement_id in marker.args:
                if requirement_id not in everything:
                    raise pytest.UsageError(
                        f"{item.nodeid}: unknown requirement id {requirement_id!r}; "
                        f"the catalog has: {', '.join(everything.ids)}"
                    )
                if requirement_id not in run.catalog:
                    continue  # another scope's requirement (`p111 run` vs `p111 fuzz`): neither run nor reported
                doc = (getattr(item, "obj", None).__doc__ or item.name).strip().splitlines()[0]  # type: ignore[union-attr]
                record = CheckRecord(item.nodeid, requirement_id, doc)
                if deselected:
                    record.outcome, record.message = Verdict.NOT_TESTED, "bỏ chọn / deselected"
                run.add(record)
                if ("requirement", requirement_id) not in item.user_properties:
                    item.user_properties.append(("requirement", requirement_id))


def _out_of_scope(config: pytest.Config, item: pytest.Item) -> bool:
    """A check that serves only requirements of another scope than the run's (--p111-scope)."""
    ids = [rid for marker in item.iter_markers("requirement") for rid in marker.args]
    return bool(ids) and not any(rid in config.stash[RUN].catalog for rid in ids)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    elsewhere = [item for item in items if _out_of_scope(config, item)]
    if elsewhere:
        items[:] = [item for item in items if item not in elsewhere]
        config.hook.pytest_deselected(items=elsewhere)
    taps.order_as_recorded(config, config.stash.get(TAP, None), items)
    _register(config, items, deselected=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    lasting.keep_for_good()  # the suite's modules, the checks, the target and the catalog: the run's to its end


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        _register(items[0].config, items, deselected=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    checking.reset_judgements()  # judgements made by fixtures in setup are not this check's
    yield


HOLLOW_PASS = (
    "phép kiểm tra kết thúc mà không đánh giá gì về hệ thống / hollow pass: the check ended without judging anything "
    "of the SUT (no harness.sut.checking.expect) and without saying why it could not (NOT-TESTED / NOT-APPLICABLE)"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    recorder = item.config.stash[RUN].recorder
    recorder.current_check = item.nodeid
    yield
    recorder.current_check = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # A check of a requirement may not pass without judging (harness.sut.checking.expect).
    if report.passed and call.when == "call" and run_of(item).records_of(item.nodeid) and not checking.judgements():
        report.outcome, report.longrepr = "failed", HOLLOW_PASS
    _record_outcome(item, call, report)
    shown.safe_to_show(report, run_of(item).recorder.redactor)
    return report


def _record_outcome(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    records = item.config.stash[RUN].records_of(item.nodeid)
    if not records:
        return
    outcome: Outcome | None = None
    excinfo = call.excinfo
    if report.skipped and excinfo is not None:
        outcome = outcome_of(excinfo.value, when=call.when, skipped=True)
    elif report.failed and call.when == "call" and excinfo is None:  # a hollow pass (above)
        outcome = Outcome(Verdict.ERROR, HOLLOW_PASS)
    elif report.failed and excinfo is not None:
        outcome = outcome_of(excinfo.value, when=call.when, skipped=False)
    elif report.passed and call.when == "call":
        outcome = Outcome(Verdict.PASSED)
    waited = item.config.stash[RUN].recorder.waited.get(item.nodeid, 0.0)
    for record in records:
        record.duration += report.duration
        record.waiting = waited  # the recorder sums the check's waits over its phases
        if outcome is not None:
            record.settle(outcome)  # the first decisive outcome stands


class _WarningCollector:
    """pytest_warning_recorded receives no config; an object registered per session carries the run instead."""

    def __init__(self, run: RunRecord, distributed: bool) -> None:
        self.run = run
        self.distributed = distributed

    def pytest_warning_recorded(self, warning_message: Any, nodeid: str) -> None:
        # In a distributed run the worker that ran the check has recorded its warnings already.
        if issubclass(warning_message.category, ConformanceWarning) and not self.distributed:
            for record in self.run.records_of(nodeid):
                record.warnings.append(str(warning_message.message))


class _Disarm:
    """First at session finish: the checks are over, so an interrupt from now on is only counted (it must not stop
    junit.xml or the report being written)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        interrupts.disarm()


class _InterruptDescription:
    """pytest's terminal reporter describes an interrupt's traceback, and fails (TypeError) when the interrupt lands
    in a frame without a line number, which Python 3.11 produces under load (seen under CI). Such frames are left out
    of the description; should it fail anyway, the reporter is given one it can print (it needs one at session
    finish). The interrupt ends the run as one, report written and marked incomplete, never as a crash.

    With no traceback asked for (`p111 run` passes --tb=no; `-- --tb=long` or --full-trace bring them back), the
    reporter is left a description of one bilingual line in place of where in Python the interrupt landed (a path
    and line of harness or pytest, then a hint about --full-trace): `p111 run` says itself where the partial report
    is."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(wrapper=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Iterator[None]:
        excinfo.traceback = excinfo.traceback.filter(_has_line_number)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        try:
            result = yield
        except Exception:  # noqa: BLE001 - whatever pytest could not describe, the interrupt itself is what counts
            if reporter is not None:
                reporter.pytest_keyboard_interrupt(excinfo=_plain_interrupt())
            result = None
        if reporter is not None and self.config.option.tbstyle == "no" and not self.config.option.fulltrace:
            # The reporter prints the crash's location and the hint only under a message naming KeyboardInterrupt.
            reporter._keyboardinterrupt_memo = _INTERRUPT_LINE
        return result


_INTERRUPT_LINE = SimpleNamespace(reprcrash=SimpleNamespace(message="Bị ngắt / interrupted"))


# trylast: after pytest's junitxml plugin has written junit.xml, so that the manifest covers it (and it is redacted).
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash[RUN]
    if distributed.is_worker(session.config):
        distributed.hand_over(session.config, run)  # the controller writes the one report
        return
    directory = session.config.getoption("p111_report")
    try:
        # An interrupt while the report is written is counted, not raised: it never leaves half a set. One that came
        # at any time makes the report incomplete (written again if it came during the writing).
        with interrupts.counting(raise_first=False):
            lasting.keep_for_good()  # the run's record and evidence, which the reports only read
            while True:
                run.finished_at = vietnam_now()
                seen = interrupts.count()
                stopped = session.shouldstop is not False or exitstatus == pytest.ExitCode.INTERRUPTED
                run.incomplete = stopped or seen > 0
                if directory:
                    sign = session.config.getoption("p111_sign")
                    reports.write_report(
                        reports.build_report(run),
                        run,
                        Path(directory),
                        sign_key=Path(sign) if sign else None,
                        lang=session.config.getoption("p111_lang"),
                    )
                if interrupts.count() == seen or run.incomplete:
                    break
    finally:  # a report that cannot be written must not lose the recording too
        taps.save(session.config, session.config.stash.get(TAP, None))
    # Plain `pytest` over the suite (a vendor's CI) exits 0 only when `p111 run` would: a run whose verdict is not
    # PASSED (INCOMPLETE, REVIEW …) though no check failed exits 1, "not passed" (`p111 run` gives the exact code).
    collected_only = session.config.getoption("collectonly")
    if run.checks and not collected_only and exitstatus == pytest.ExitCode.OK and exit_code(run.verdict()) != 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _has_line_number(entry: Any) -> bool:
    try:
        return entry.lineno >= 0  # the property fails (TypeError) where the frame has no line number
    except TypeError:
        return False


def _plain_interrupt() -> pytest.ExceptionInfo[BaseException]:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        return pytest.ExceptionInfo.from_current()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker ended; its records and evidence join the controller's run."""
    distributed.take_over(node.config.stash[RUN], getattr(node, "workeroutput", {}))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash[RUN]
    if not run.checks:
        return
    terminalreporter.write_sep("=", "P111: kết quả theo yêu cầu / verdict per requirement")
    report = reports.build_report(run)
    terminalreporter.write_line(reports.verdict_table(report))
    for line in _why_not_passed(report):  # in place of tracebacks (`p111 run` passes --tb=no): the reason, one line
        terminalreporter.write_line(inert.terminal(run.recorder.redactor.text(line, "terminal")))
    directory = config.getoption("p111_report")
    if directory:
        terminalreporter.write_line(f"Báo cáo / report: {Path(directory) / reports.REPORT_FILE}")
    tap = config.stash.get(TAP, None)
    if isinstance(tap, Recorder):
        terminalreporter.write_line(f"Bản ghi (mã hóa) / recording (encrypted): {config.getoption('p111_record')}")
    elif isinstance(tap, Replayer):
        terminalreporter.write_line(f"Phát lại từ / replayed from: {tap.path} (SHA-256 {tap.digest})")
        for miss in tap.misses[:5]:  # a request's URL may carry a code or a token
            terminalreporter.write_line(inert.terminal(run.recorder.redactor.text(miss, "replay miss")))


def _why_not_passed(report: dict[str, Any]) -> list[str]:
    """One line per check that FAILED or ended ERROR, at most 30: the requirement, the check, the first line of what
    it said (Expected / Received / Evidence, and why anything was NOT-TESTED, are in the reports)."""
    lines = []
    for requirement in report["requirements"]:
        for check in requirement["checks"]:
            if check["outcome"] in ("FAILED", "ERROR") and check.get("message"):
                said = str(check["message"]).strip().splitlines()[0][:200]
                lines.append(f"  {check['outcome']} {requirement['id']} {check['nodeid'].rsplit('::', 1)[-1]}: {said}")
    if len(lines) > 30:
        lines[30:] = [f"  … {len(lines) - 30} nữa trong báo cáo / more in the report"]
    return ["", "Lý do / why:", *lines] if lines else []


__all__ = ["RUN", "TAP", "run_of"]
