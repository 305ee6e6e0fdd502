"""The pytest plugin (entry point pytest11): options, the requirement marker, fixtures, verdicts and reports.

Inert in a pytest session that collects no check marked with `requirement` and asks for no report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.config.target import Target, TargetError, embedded_target, load_target
from harness.core import inert, interrupts
from harness.core.catalog import load_catalog
from harness.core.formats import vietnam_now
from harness.core.lifecycle import Lifecycle, load_lifecycle
from harness.core.results import CheckRecord, RunRecord
from harness.core.verdicts import ConformanceWarning, Outcome, Verdict, outcome_of
from harness.http.client import make_client
from harness.http.evidence import EvidenceRecorder
from harness.http.recording import Recorder, RecordingError, Replayer, key_from_environment
from harness.http.redaction import Redactor
from harness.pytest import distributed, options
from harness.reporting import report as reports
from harness.sut import checking, observers
from harness.sut.drivers import Driver, build_driver, sensitive_names
from harness.sut.drivers import close as close_driver
from harness.sut.observers import ObserverError, PaymentKeys, PaymentObserver, PortalObserver, SsoObserver

RUN = pytest.StashKey[RunRecord]()
TAP = pytest.StashKey["Recorder | Replayer | None"]()  # --p111-record / --p111-replay (harness.http.recording)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_pytest_options(parser)  # one table for the plugin and `p111 run` (harness.pytest.options)


def _tap(config: pytest.Config) -> Recorder | Replayer | None:
    record, replay = config.getoption("p111_record"), config.getoption("p111_replay")
    if not (record or replay):
        return None
    if record and replay:
        raise pytest.UsageError("--p111-record và --p111-replay loại trừ nhau / are mutually exclusive")
    if distributed.is_controller(config) or distributed.is_worker(config):
        # A recording is one ordered stream of exchanges; workers would each hold a share of it.
        raise pytest.UsageError("--p111-record/--p111-replay chạy tuần tự / run serially: not with pytest-xdist -n")

    def current() -> str | None:
        return config.stash[RUN].recorder.current_check

    try:
        key = key_from_environment()
        return Recorder(key, current) if record else Replayer.open(Path(replay), key, current)
    except RecordingError as exc:
        raise pytest.UsageError(str(exc)) from exc


def _load_target(config: pytest.Config) -> Target:
    path, year, defects = (config.getoption(o) for o in ("p111_target", "p111_year", "p111_defect"))
    tap = config.stash[TAP]
    if isinstance(tap, Replayer):
        return _replayed_target(tap, path, year, defects)
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


def _replayed_target(tap: Replayer, path: str | None, year: int | None, defects: list[str]) -> Target:
    """The recorded run's target; a target file given as well must be the one recorded (same digest)."""
    if year or defects:
        raise pytest.UsageError("phát lại dùng năm và lỗi cố ý đã ghi / a replay uses the recorded year and defects")
    try:
        target = tap.target()
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else target.digest
    except (RecordingError, OSError) as exc:
        raise pytest.UsageError(str(exc)) from exc
    if digest != target.digest:
        raise pytest.UsageError(
            f"{path} không phải cấu hình đã ghi / is not the recorded target (SHA-256 {digest}, recorded "
            f"{target.digest})"
        )
    return target


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
    tap = config.stash[TAP] = _tap(config)
    observers.POLL_TAP = tap  # polls are counted when recorded, and replayed without waiting
    target = _load_target(config)
    secrets = [(s.reference, s.reveal()) for s in target.secrets()]
    if isinstance(tap, Replayer):  # redacted as the recorded run was, with every value it had learnt
        secrets += [(label, value) for value, label in tap.session.secrets]
    elif isinstance(tap, Recorder):
        tap.session.target_document, tap.session.target_digest = target.public_dict(), target.digest
        tap.session.target_secrets = {s.reference: s.reveal() for s in target.secrets()}
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
    tap = config.stash.get(TAP, None)
    if isinstance(tap, Recorder):
        tap.session.selected = [item.nodeid for item in items]
    elif isinstance(tap, Replayer):  # the recorded run's checks, in its order: each answer is found by its check
        order = {nodeid: n for n, nodeid in enumerate(tap.session.selected)}
        dropped = [item for item in items if item.nodeid not in order]
        items[:] = sorted((item for item in items if item.nodeid in order), key=lambda item: order[item.nodeid])
        if dropped:
            config.hook.pytest_deselected(items=dropped)
    _register(config, items, deselected=False)


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


def run_of(item: pytest.Item) -> RunRecord:
    return item.config.stash[RUN]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # A check of a requirement may not pass without judging (harness.sut.checking.expect).
    if report.passed and call.when == "call" and run_of(item).records_of(item.nodeid) and not checking.judgements():
        report.outcome, report.longrepr = "failed", HOLLOW_PASS
    _record_outcome(item, call, report)
    _inert_for_terminal(report)
    return report


def _inert_for_terminal(report: pytest.TestReport) -> None:
    """What pytest prints of a check (its failure, its skip reason) may quote the SUT: no escape sequence or control
    character of it reaches the terminal, nor junit.xml."""
    longrepr = report.longrepr
    if longrepr is None:
        return
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        path, line, reason = longrepr
        report.longrepr = (path, line, inert.terminal(reason))
        return
    text = str(longrepr)
    safe = inert.terminal(text)
    if safe != text:
        report.longrepr = safe


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
        # The first decisive outcome stands: a teardown error does not hide a failure.
        if outcome is not None and record.outcome in (None, Verdict.PASSED):
            record.outcome, record.message, record.failure = outcome.verdict, outcome.message, outcome.failure
            record.review = outcome.review


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
        tap = session.config.stash.get(TAP, None)
        if isinstance(tap, Recorder):
            tap.session.secrets = list(run.recorder.redactor.known().items())
            tap.save(Path(session.config.getoption("p111_record")))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker ended; its records and evidence join the controller's run."""
    distributed.take_over(node.config.stash[RUN], getattr(node, "workeroutput", {}))


def pytest_unconfigure(config: pytest.Config) -> None:
    observers.POLL_TAP = None  # this run's recording or replay must not pace another run in the same process
    observers.WAIT_CLOCK = None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash[RUN]
    if not run.checks:
        return
    terminalreporter.write_sep("=", "P111: kết quả theo yêu cầu / verdict per requirement")
    terminalreporter.write_line(reports.verdict_table(reports.build_report(run)))
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


# ---- fixtures -----------------------------------------------------------------------------------------------------


def _counterpart_client(
    name: str, target: Target, stack: ExitStack, recorder: EvidenceRecorder, tap: Recorder | None = None
) -> httpx.Client | None:
    """A client of a counterpart of a networked SUT: the harness's own, started here when `serve: true`, or the one
    at the configured URL; None when the target names none."""
    config = getattr(target, name)
    if not config.url:
        return None
    url = config.url
    if config.serve:
        # Only here, and lazily, does the harness reach into mocks/: to start its own counterpart on a port.
        from mocks import wiring

        served = getattr(wiring, f"serve_{name}")(target)
        stack.callback(served.stop)
        url = served.url
    return make_client(url, timeouts=target.timeouts, recorder=recorder, politeness=target.politeness, tap=tap)


@dataclass(frozen=True)
class System:
    """The SUT and the counterparts as the checks reach them."""

    client: httpx.Client
    portal: PortalObserver | None
    sign_on_urls: tuple[str, ...]  # where the SUT may lawfully send a citizen to sign on
    sign_on: httpx.Client | None = None  # the sign-on counterpart, which the driver follows logins through
    payment: PaymentObserver | None = None


@pytest.fixture(scope="session")
def p111_run(pytestconfig: pytest.Config) -> RunRecord:
    return pytestconfig.stash[RUN]


@pytest.fixture(scope="session")
def p111_target(p111_run: RunRecord) -> Target:
    return p111_run.target


@pytest.fixture(scope="session")
def p111_lifecycle() -> Lifecycle:
    return load_lifecycle()


@pytest.fixture(scope="session")
def p111_system(p111_run: RunRecord, pytestconfig: pytest.Config) -> Iterator[System]:
    target, recorder = p111_run.target, p111_run.recorder
    timeouts = target.timeouts
    observers.WAIT_CLOCK = recorder.waiting  # every wait of this run is timed (harness.reporting.timing)
    tap = pytestconfig.stash.get(TAP, None)
    if isinstance(tap, Replayer):
        yield _replayed_system(tap, target, recorder)  # nothing is started, nothing sends
        return
    with ExitStack() as stack:
        if target.sut.embedded:
            # The one place the harness reaches into mocks/: the embedded default, loaded lazily.
            from mocks.wiring import start_embedded

            embedded = start_embedded(target)
            stack.callback(embedded.close)
            recorder.redactor.add(*embedded.secrets)
            def in_process(url: str, transport: httpx.BaseTransport) -> httpx.Client:
                return make_client(
                    url, timeouts=timeouts, recorder=recorder, transport=transport, politeness=target.politeness,
                    tap=tap,
                )

            client = in_process(embedded.sut_url, embedded.sut_transport)
            portal_client: httpx.Client | None = in_process(embedded.portal_url, embedded.portal_transport)
            sign_on_urls: tuple[str, ...] = (embedded.sign_on_url,)
            sign_on_client: httpx.Client | None = in_process(embedded.sign_on_url, embedded.sign_on_transport)
            payment_client: httpx.Client | None = in_process(embedded.payment_url, embedded.payment_transport)
            keys: PaymentKeys | None = PaymentKeys(
                embedded.merchant_code, embedded.payment_secret, target.payment_rules.checksum
            )
        else:
            headers = {"X-API-Key": target.sut.api_key.reveal()} if target.sut.api_key else None
            assert target.sut.base_url is not None  # the target schema demands it when not embedded
            client = make_client(
                target.sut.base_url,
                timeouts=timeouts,
                recorder=recorder,
                headers=headers,
                read_only=target.safety_mode == "read-only",
                politeness=target.politeness,
                tap=tap,
                trusted_origins=target.sut.trusted_origins,
            )
            sign_on_urls = tuple(u for u in (target.sso.url, target.portal.url) if u)
            portal_client, sign_on_client, payment_client = (
                _counterpart_client(name, target, stack, recorder, tap) for name in ("portal", "sso", "payment")
            )
            merchant, secret = target.payment.merchant_code, target.payment.secret
            variant = target.payment_rules.checksum
            keys = PaymentKeys(merchant, secret.reveal(), variant) if merchant and secret else None
        for opened in (client, portal_client, sign_on_client, payment_client):
            if opened is not None:
                stack.callback(opened.close)
        if tap is not None:  # what a replay builds its clients from, with the payment key that signs confirms
            clients = {"sut": client, "portal": portal_client, "sign_on": sign_on_client, "payment": payment_client}
            tap.session.system = {
                "clients": {role: str(c.base_url) if c is not None else None for role, c in clients.items()},
                "sign_on_urls": list(sign_on_urls),
                "payment_keys": [keys.merchant_code, keys.secret, keys.variant] if keys is not None else None,
            }
        portal = PortalObserver(portal_client, timeouts.sync) if portal_client is not None else None
        payment = PaymentObserver(payment_client, keys) if payment_client is not None else None
        recorder.sut_origin = str(client.base_url)  # tells the SUT's answers from the counterparts' (timing)
        yield System(client, portal, sign_on_urls, sign_on_client, payment)


def _replayed_system(tap: Replayer, target: Target, recorder: EvidenceRecorder) -> System:
    """The recorded run's clients, each answered from the recording: no embedded system, counterpart or socket."""
    layout = tap.session.system
    if layout is None:
        raise RecordingError("phát lại: lần chạy được ghi không dựng được hệ thống / the recorded run set up no system")
    urls = layout["clients"]

    def client(role: str, **options: Any) -> httpx.Client | None:
        url = urls.get(role)
        return make_client(url, timeouts=target.timeouts, recorder=recorder, tap=tap, **options) if url else None

    networked = not target.sut.embedded
    sut = client(
        "sut",
        headers={"X-API-Key": target.sut.api_key.reveal()} if networked and target.sut.api_key else None,
        read_only=networked and target.safety_mode == "read-only",  # refused before sending, as when recorded
        trusted_origins=target.sut.trusted_origins,
    )
    assert sut is not None
    portal, sign_on, payment = (client(role) for role in ("portal", "sign_on", "payment"))
    keys = PaymentKeys(*layout["payment_keys"]) if layout["payment_keys"] else None
    return System(
        sut,
        PortalObserver(portal, target.timeouts.sync) if portal is not None else None,
        tuple(layout["sign_on_urls"]),
        sign_on,
        PaymentObserver(payment, keys) if payment is not None else None,
    )


@pytest.fixture(scope="session")
def p111_client(p111_system: System) -> httpx.Client:
    """The HTTP client that speaks to the SUT (recorded, redacted, never following redirects)."""
    return p111_system.client


@pytest.fixture(scope="session")
def p111_driver(p111_target: Target, p111_system: System) -> Iterator[Driver]:
    driver = build_driver(p111_target, p111_system)
    yield driver
    close_driver(driver)  # a driver that started something for the run (the http file store)


@pytest.fixture(scope="session")
def p111_portal(p111_system: System) -> PortalObserver:
    """What the portal counterpart received; ERROR for every check that needs it when it cannot be observed."""
    if p111_system.portal is None:
        raise ObserverError(
            "no portal counterpart in the target (counterparts.portal.url): "
            "what the SUT sends to the portal cannot be observed"
        )
    return p111_system.portal


@pytest.fixture(scope="session")
def p111_sso(p111_system: System) -> SsoObserver:
    """The sign-on counterpart (observer and controller); ERROR for every check that needs it when it is absent."""
    if p111_system.sign_on is None:
        raise ObserverError(
            "no sign-on counterpart in the target (counterparts.sso.url): sign-on and hostile tokens cannot be tested"
        )
    return SsoObserver(p111_system.sign_on)


@pytest.fixture(scope="session")
def p111_payment(p111_system: System) -> PaymentObserver:
    """The payment counterpart (observer and controller); ERROR for every check that needs it when it is absent."""
    if p111_system.payment is None:
        raise ObserverError(
            "no payment counterpart in the target (counterparts.payment.url): online payment cannot be tested"
        )
    return p111_system.payment
