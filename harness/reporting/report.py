"""The one report model every writer reads: report.json (schema-validated), the terminal table, the exit code."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import harness
from harness.core import i18n, schemas, verdicts
from harness.core.errors import P111Error
from harness.core.formats import vietnam_now
from harness.core.results import RunRecord, as_dict
from harness.core.verdicts import Verdict
from harness.reporting import har, summary_md, timing
from harness.reporting import html as html_report
from harness.reporting.manifest import (
    MANIFEST_FILE,
    SIGNATURE_FILE,
    atomic_write_bytes,
    load_private_key,
    write_manifest,
)

REPORT_FILE = "report.json"
EVIDENCE_FILE = "evidence.ndjson"
JUNIT_FILE = "junit.xml"
REDACTION_LOG_FILE = "redactions.json"
REPORT_FORMAT = "p111-report/1"


class ReportInvalid(P111Error):
    """The harness built a report its own schema refuses: a harness bug, never written as if valid."""


def build_report(run: RunRecord) -> dict[str, Any]:
    requirements: list[dict[str, Any]] = []
    timed, run_timing = timing.breakdown(run, run.recorder.exchanges)  # where the time went (additive)
    rolled_up = run.requirement_results()
    for result in rolled_up:
        requirement, records = run.catalog[result.requirement], result.checks
        requirements.append(
            {
                "id": requirement.id,
                "kind": requirement.kind,
                "family": requirement.family,
                "title_vi": requirement.title_vi,
                "title_en": requirement.title_en,
                "quote_vi": requirement.quote_vi,
                "threshold": requirement.thresholds_for_year(run.year) or None,
                "verdict": result.verdict.value,
                "reason": result.reason,
                "checks": [as_dict(r, run.recorder.for_check(r.nodeid)) for r in records],
                "timing": timed[result.requirement],
            }
        )
    finished = run.finished_at or vietnam_now()
    optional: dict[str, Any] = {"metrics": run.metrics} if run.metrics else {}
    if run.score766 is not None:
        optional["score766"] = run.score766
    if run.replayed_from is not None:
        optional["replayed_from"] = run.replayed_from
    optional["timing"] = run_timing
    return {
        "format": REPORT_FORMAT,
        "harness": {"name": "p111", "version": harness.__version__},
        "catalog": {"version": run.catalog.version},
        "target": {"digest": run.target.digest, "document": run.target.public_dict()},
        "operator": run.target.operator,
        "year": run.year,
        "defects": run.defects(),
        "started_at": run.started_at.isoformat(),
        "finished_at": finished.isoformat(),
        "incomplete": run.incomplete,
        "allow_not_tested": run.allow_not_tested,
        "summary": {
            "verdict": run.verdict(rolled_up).value,
            "counts": {v.value: n for v, n in Counter(r.verdict for r in rolled_up).items()},
        },
        "requirements": requirements,
        "evidence_file": EVIDENCE_FILE,
        **optional,
    }


def _atomic_write(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def write_report(
    report: dict[str, Any],
    run: RunRecord,
    directory: Path,
    *,
    sign_key: Path | None = None,
    lang: str = i18n.DEFAULT,
) -> Path:
    """Every output of a run, published as one set: the evidence (NDJSON, HAR), the redaction log, report.json,
    report.html, summary.md, junit.xml (redacted, when pytest wrote it here) and manifest.json are written to a
    temporary folder beside `directory`, then moved into it, the manifest last (an older manifest is removed first):
    a reader never finds a manifest over a set that is not whole."""
    if sign_key is not None:
        load_private_key(sign_key)  # a bad key stops here, before anything is written
    i18n.labels(lang)
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.writing-"))
    try:
        _write_set(report, run, directory, staging, sign_key, lang)
        _publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory / REPORT_FILE


def _publish(staging: Path, directory: Path) -> None:
    """Moves the written set from `staging` into `directory` (the same file system: each move is a rename), the
    signature and the manifest last, after the old manifest is gone."""
    for stale in (MANIFEST_FILE, SIGNATURE_FILE):
        (directory / stale).unlink(missing_ok=True)
    last = [name for name in (SIGNATURE_FILE, MANIFEST_FILE) if (staging / name).exists()]
    for name in sorted(os.listdir(staging)):
        if name not in last:
            os.replace(staging / name, directory / name)
    for name in last:
        os.replace(staging / name, directory / name)


def _write_set(
    report: dict[str, Any], run: RunRecord, published: Path, directory: Path, sign_key: Path | None, lang: str
) -> None:
    """Every file of the set into `directory` (the staging folder); pytest's junit.xml is read from `published`."""
    redactor = run.recorder.redactor
    # Evidence is redacted as it is recorded; everything passes the same redactor once more as a last guard, after
    # the evidence, so that values learnt from sensitive fields are removed from free text everywhere.
    exchanges = run.recorder.final()
    report = redactor.data(report, REPORT_FILE)
    junit = published / JUNIT_FILE
    if junit.is_file():
        _atomic_write(directory / JUNIT_FILE, redactor.text(junit.read_text(encoding="utf-8"), JUNIT_FILE))
    outputs = {
        "report": REPORT_FILE,
        "html": html_report.HTML_FILE,
        "summary": summary_md.SUMMARY_FILE,
        "evidence_ndjson": EVIDENCE_FILE,
        "evidence_har": har.HAR_FILE,
        "redaction_log": REDACTION_LOG_FILE,
        "manifest": MANIFEST_FILE,
    }
    if junit.is_file():
        outputs["junit"] = JUNIT_FILE
    log = redactor.entries()
    report = {**report, "lang": lang, "outputs": outputs, "redactions": sum(e["count"] for e in log)}
    error = schemas.first_error("report", report)
    if error is not None:
        raise ReportInvalid(f"report.json would not match its schema: {schemas.describe(error)}")
    archive = har.build_har(exchanges)
    error = schemas.first_error(har.SCHEMA, archive)
    if error is not None:
        raise ReportInvalid(f"{har.HAR_FILE} would not match the HAR 1.2 schema: {schemas.describe(error)}")
    _atomic_write(directory / EVIDENCE_FILE, run.recorder.ndjson(exchanges))
    _atomic_write(directory / har.HAR_FILE, json.dumps(archive, ensure_ascii=False) + "\n")
    _atomic_write(directory / REDACTION_LOG_FILE, _json({"format": "p111-redactions/1", "entries": log}))
    path = directory / REPORT_FILE
    _atomic_write(path, _json(report))
    _atomic_write(directory / html_report.HTML_FILE, html_report.render_html(report, exchanges, lang))
    _atomic_write(directory / summary_md.SUMMARY_FILE, summary_md.render_summary(report, lang))
    write_manifest(directory, [name for key, name in outputs.items() if key != "manifest"], report, sign_key)


def exit_code(report: dict[str, Any]) -> int:
    """The exit code of a written report's run verdict (harness.core.verdicts.EXIT_CODES)."""
    return verdicts.exit_code(report["summary"]["verdict"])


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def verdict_table(report: dict[str, Any]) -> str:
    rows = [("Mã yêu cầu", "Kết quả", "Yêu cầu")]
    for r in report["requirements"]:
        verdict = Verdict(r["verdict"])
        rows.append((r["id"], f"{verdict.vi} ({verdict.value})", r["title_vi"]))
    widths = [max(_width(row[i]) for row in rows) for i in range(2)]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[i] + " " * (widths[i] - _width(row[i])) for i in range(2)]
        lines.append("  ".join([*cells, row[2]]))
        if number == 0:
            lines.append("  ".join("─" * w for w in [*widths, _width(row[2])]))
    summary = Verdict(report["summary"]["verdict"])
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report["summary"]["counts"].items()))
    lines.append("")
    lines.append(
        f"Kết luận / overall: {summary.vi} ({summary.value}) — năm đánh giá / year {report['year']} — {counts}"
    )
    return "\n".join(lines)
