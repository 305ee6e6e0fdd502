"""The one report model every writer reads: report.json (schema-validated), the terminal table, the exit code."""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import harness
from harness import schemas
from harness.formats import vietnam_now
from harness.run import RunRecord, as_dict, check_outcome
from harness.verdicts import Verdict, combine

REPORT_FILE = "report.json"
EVIDENCE_FILE = "evidence.ndjson"
JUNIT_FILE = "junit.xml"
REPORT_FORMAT = "p111-report/1"


class ReportInvalid(Exception):
    """The harness built a report its own schema refuses: a harness bug, never written as if valid."""


def requirement_verdict(records: list[Any]) -> tuple[Verdict, str | None]:
    if not records:
        return Verdict.NOT_TESTED, "Chưa có phép kiểm tra nào / no check exists yet"
    verdict = combine(check_outcome(r) for r in records)
    if verdict is Verdict.NOT_TESTED:
        missing = sum(1 for r in records if check_outcome(r) is Verdict.NOT_TESTED)
        return verdict, f"{missing}/{len(records)} phép kiểm tra không chạy / checks did not run"
    if verdict is Verdict.NOT_APPLICABLE:
        return verdict, "; ".join(sorted({r.message or "" for r in records}))
    return verdict, None


def overall_verdict(verdicts: list[Verdict]) -> Verdict:
    tested = [v for v in verdicts if v not in (Verdict.NOT_TESTED, Verdict.NOT_APPLICABLE)]
    if Verdict.FAILED in tested:
        return Verdict.FAILED
    if Verdict.ERROR in tested:
        return Verdict.ERROR
    return Verdict.PASSED if tested else Verdict.NOT_TESTED


def build_report(run: RunRecord) -> dict[str, Any]:
    requirements: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    for requirement_id, records in run.by_requirement().items():
        requirement = run.catalog[requirement_id]
        verdict, reason = requirement_verdict(records)
        verdicts.append(verdict)
        requirements.append(
            {
                "id": requirement.id,
                "kind": requirement.kind,
                "family": requirement.family,
                "title_vi": requirement.title_vi,
                "title_en": requirement.title_en,
                "quote_vi": requirement.quote_vi,
                "threshold": requirement.thresholds_for_year(run.year) or None,
                "verdict": verdict.value,
                "reason": reason,
                "checks": [as_dict(r, run.recorder.for_check(r.nodeid)) for r in records],
            }
        )
    finished = run.finished_at or vietnam_now()
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
        "summary": {
            "verdict": overall_verdict(verdicts).value,
            "counts": {v.value: n for v, n in Counter(verdicts).items()},
        },
        "requirements": requirements,
        "evidence_file": EVIDENCE_FILE,
    }


def _atomic_write(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def write_report(report: dict[str, Any], run: RunRecord, directory: Path) -> Path:
    error = schemas.first_error("report", report)
    if error is not None:
        raise ReportInvalid(f"report.json would not match its schema: {schemas.describe(error)}")
    directory.mkdir(parents=True, exist_ok=True)
    run.recorder.write_ndjson(directory / EVIDENCE_FILE)
    path = directory / REPORT_FILE
    # Evidence is redacted as it is recorded; the report is passed through the same redactor as a last guard.
    _atomic_write(path, json.dumps(run.recorder.redactor.data(report), ensure_ascii=False, indent=2) + "\n")
    return path


def exit_code(report: dict[str, Any]) -> int:
    """0 when every tested requirement PASSED, 1 when any FAILED, 2 when any ERROR (and none FAILED)."""
    verdict = report["summary"]["verdict"]
    return {"FAILED": 1, "ERROR": 2}.get(verdict, 0)


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
