"""Where a run's time goes: the SUT's answers, waiting (observers.Waiter.poll), the counterparts, the harness itself."""

from __future__ import annotations

from datetime import timedelta

import httpx

from harness.config.target import embedded_target
from harness.core.catalog import load_catalog
from harness.core.formats import vietnam_now
from harness.core.results import CheckRecord, RunRecord
from harness.http.evidence import EvidenceRecorder
from harness.http.redaction import Redactor
from harness.reporting import timing
from harness.sut import observers
from tests.reports_support import reports_json

CHECK = "conformance_tests/test_sync_dossier.py::test_new_dossier_reaches_portal"
OTHER = "conformance_tests/test_codes.py::test_dossier_codes_have_the_national_form"


def _run() -> RunRecord:
    started = vietnam_now()
    return RunRecord(catalog=load_catalog(), target=embedded_target(year=2025),
                     recorder=EvidenceRecorder(Redactor([])), started_at=started,
                     finished_at=started + timedelta(seconds=10))


def _exchange(seq: int, check: str, url: str, ms: float, **extra: object) -> dict[str, object]:
    return {"seq": seq, "check": check, "method": "GET", "url": url, "status": 200, "time_ms": ms, **extra}


def test_a_checks_time_splits_into_sut_waiting_counterparts_and_harness():
    run = _run()
    run.recorder.sut_origin = "http://sut.test"
    record = CheckRecord(CHECK, "P111-SYNC-DOSSIER", "t", duration=4.0, waiting=1.5)
    other = CheckRecord(OTHER, "P111-CODES", "t", duration=1.0)
    run.add(record)
    run.add(other)
    run.recorder.exchanges = [
        _exchange(1, CHECK, "http://sut.test/api/dossiers", 1200),
        _exchange(2, CHECK, "http://portal.test/_p111/dossiers", 300, while_waiting=True),  # inside the wait
        _exchange(3, CHECK, "http://portal.test/_p111/dossiers", 200),
        _exchange(4, CHECK, "http://sut.test/_p111/anything", 100),  # a /_p111/ path is never the SUT's answer
        _exchange(5, OTHER, "HTTP://SUT.TEST/api/codes", 400),
    ]
    requirements, whole = timing.breakdown(run, run.recorder.exchanges)
    assert requirements["P111-SYNC-DOSSIER"] == {"total_seconds": 4.0, "sut_seconds": 1.2, "waiting_seconds": 1.5,
                                                 "counterparts_seconds": 0.3, "harness_seconds": 1.0}
    assert requirements["P111-CODES"]["sut_seconds"] == 0.4 and requirements["P111-CODES"]["harness_seconds"] == 0.6
    assert requirements["P111-LIFECYCLE"]["total_seconds"] == 0  # no check ran: nothing spent
    assert whole["wall_seconds"] == 10.0 and whole["total_seconds"] == 5.0 and whole["outside_checks_seconds"] == 5.0
    assert whole["harness_seconds"] == 1.6 and whole["harness_share"] == 0.66  # in the checks 1.6 s, outside them 5 s
    assert [e["seq"] for e in whole["slowest"]] == [1, 5, 2, 3, 4]
    assert whole["slowest"][2]["while_waiting"] is True


def test_the_buckets_never_exceed_the_checks_time():
    run = _run()
    run.recorder.sut_origin = "http://sut.test"
    run.add(CheckRecord(CHECK, "P111-SYNC-DOSSIER", "t", duration=0.5, waiting=0.4))
    run.recorder.exchanges = [_exchange(1, CHECK, "http://sut.test/a", 900)]  # a clock that disagrees
    figures = timing.breakdown(run, run.recorder.exchanges)[0]["P111-SYNC-DOSSIER"]
    assert figures["waiting_seconds"] == 0.4 and figures["sut_seconds"] == 0.1 and figures["harness_seconds"] == 0


def test_poll_is_timed_and_its_exchanges_are_marked_as_waiting():
    recorder = EvidenceRecorder(Redactor([]))
    client = httpx.Client(base_url="http://portal.test", transport=httpx.MockTransport(lambda r: httpx.Response(200)),
                          event_hooks={"response": [recorder.record]})
    recorder.current_check = CHECK
    calls = []
    waiter = observers.Waiter(clock=recorder.waiting)
    got = waiter.poll(lambda: calls.append(client.get("/_p111/dossiers")) or len(calls), lambda n: n >= 3, 5.0)
    client.get("/_p111/after")
    assert got == 3
    assert recorder.waited[CHECK] >= observers.POLL_FIRST_SECONDS * 3  # two pauses: 0.02 + 0.04
    assert [e.get("while_waiting", False) for e in recorder.exchanges] == [True, True, True, False]


def test_the_reports_carry_the_breakdown(tmp_path):
    from harness.reporting import report as reports
    from tests.reports_support import synthetic_run

    run = synthetic_run()
    for number, exchange in enumerate(run.recorder.exchanges):
        exchange["time_ms"] = 10.0 * (number + 1)  # the mock transport answers in no measurable time
    reports.write_report(reports.build_report(run), run, tmp_path)  # validated against report.schema.json
    report = reports_json(tmp_path)
    assert set(report["timing"]) >= {"wall_seconds", "sut_seconds", "waiting_seconds", "counterparts_seconds",
                                     "harness_seconds", "outside_checks_seconds", "harness_share", "slowest"}
    assert all("timing" in r for r in report["requirements"])
    assert [e["seq"] for e in report["timing"]["slowest"]] == [4, 3, 2, 1]
    assert {e["check"] for e in report["timing"]["slowest"]} == {CHECK, OTHER}
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="timing-table"' in html and "Where the time went" in html and 'id="slowest-table"' in html
