"""A small synthetic run for the report tests: real recorder, real writer, no suite (fast), with a hostile SUT body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from harness.config.target import embedded_target
from harness.core.catalog import load_catalog
from harness.core.formats import vietnam_now
from harness.core.results import CheckRecord, RunRecord
from harness.core.verdicts import Verdict
from harness.http.evidence import EvidenceRecorder
from harness.http.redaction import Redactor
from harness.reporting import report as reports

HOSTILE = "<script>alert(1)</script>"
SECRET = "canary-secret-7d1f"
FAILED_CHECK = "conformance_tests/test_sync_dossier.py::test_new_dossier_reaches_portal"
PASSED_CHECK = "conformance_tests/test_codes.py::test_dossier_codes_have_the_national_form"


def _sut(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/page":
        return httpx.Response(200, text=f"<html><body>{HOSTILE}<img src=x onerror=alert(2)></body></html>",
                              headers={"content-type": "text/html", "set-cookie": f"session={SECRET}"})
    long_list = [{"MaHoSo": f"000.00.06.H40-261127-{i:04d}", "note": HOSTILE} for i in range(60)]
    return httpx.Response(
        200,
        json={"TrangThai": HOSTILE, "SoDinhDanh": "001099012345", "Email": "citizen@example.vn", "rows": long_list},
    )


def synthetic_run(*, defect: bool = True) -> RunRecord:
    run = RunRecord(
        catalog=load_catalog(),
        target=embedded_target(year=2025),
        recorder=EvidenceRecorder(Redactor([SECRET])),
        started_at=vietnam_now(),
        allow_not_tested=True,  # a synthetic run of a few checks: a subset on purpose
    )
    client = httpx.Client(
        base_url="http://sut.test",
        transport=httpx.MockTransport(_sut),
        event_hooks={"response": [run.recorder.record]},
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    failed = CheckRecord(FAILED_CHECK, "P111-SYNC-DOSSIER", "A dossier received by an officer is sent to the portal.")
    passed = CheckRecord(PASSED_CHECK, "P111-CODES", "Dossier codes have the national form.")
    for record in (failed, passed):
        run.add(record)
        run.recorder.current_check = record.nodeid
        client.post("/api/dossiers", json={"summary": HOSTILE, "password": SECRET})
        client.get("/page")
    run.recorder.current_check = None
    passed.outcome = Verdict.PASSED
    if defect:
        failed.outcome = Verdict.FAILED
        failed.message = f"never reached the portal\nReceived: {HOSTILE}"
        failed.failure = {"summary": "dossier never reached the portal", "expected": "a DongBoHoSoMC <b>within</b> 1 s",
                          "received": HOSTILE, "evidence": "portal /_p111/dossiers"}
    else:
        failed.outcome = Verdict.PASSED
    run.finished_at = vietnam_now()
    return run


def write_synthetic(directory: Path, *, defect: bool = True, lang: str = "vi", sign_key: Path | None = None,
                    extra: dict[str, Any] | None = None) -> dict[str, Any]:
    run = synthetic_run(defect=defect)
    report = {**reports.build_report(run), **(extra or {})}
    reports.write_report(report, run, directory, lang=lang, sign_key=sign_key)
    return reports_json(directory)


def reports_json(directory: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((directory / reports.REPORT_FILE).read_text(encoding="utf-8")))
