"""summary.md: the run in a few lines of Markdown, for a pull-request comment or an e-mail."""

from __future__ import annotations

from typing import Any

from harness.core.i18n import family_label, labels, verdict_label
from harness.core.inert import code_span

SUMMARY_FILE = "summary.md"
MAX_FAILURES = 20  # a comment stays readable; report.html has the rest


def _cell(text: Any) -> str:
    # A table cell is one line, and a pipe would end it early. Only for the harness's own words (the catalog).
    return " ".join(str(text).split()).replace("|", "\\|")


def _quoted(text: Any, limit: int | None = None) -> str:
    """Text the SUT (or a target file, or a run's report) may control, in a code span: a CI job page or a pull
    request shows it and renders nothing of it (no image, link, HTML or autolink)."""
    flat = " ".join(str(text).split())
    return code_span(flat[:limit] if limit else flat)


def render_summary(report: dict[str, Any], lang: str = "vi") -> str:
    t = labels(lang)
    verdict = report["summary"]["verdict"]
    document = report["target"]["document"]
    lines = [
        f"## {t['title']}",
        "",
        f"**{t['overall']}: {verdict_label(verdict, lang)}** ({verdict})"
        + (f" — ⚠ {t['incomplete']}" if report.get("incomplete") else ""),
        "",
        f"- {t['target']}: {_quoted(document.get('name', ''))}",
        f"- {t['year']}: {report['year']} · {t['harness']}: p111 {report['harness']['version']}"
        f" · {t['catalog']}: {report['catalog']['version']}",
        f"- {t['started']}: {report['started_at']} · {t['finished']}: {report['finished_at']}",
        f"- {t['operator']}: {_quoted(report.get('operator') or '—')}",
    ]
    if report.get("defects"):
        lines.append(f"- {t['defects']}: {_quoted(', '.join(report['defects']))}")
    counts = report["summary"]["counts"]
    lines += ["", " · ".join(f"{verdict_label(v, lang)}: {n}" for v, n in sorted(counts.items())), ""]
    lines += [f"| {t['id']} | {t['requirement']} | {t['verdict']} |", "|---|---|---|"]
    for r in report["requirements"]:
        title = r["title_vi"] if lang == "vi" else r["title_en"]
        lines.append(f"| `{r['id']}` | {_cell(title)} | {verdict_label(r['verdict'], lang)} |")
    failed = [r for r in report["requirements"] if r["verdict"] in ("FAILED", "ERROR")]
    if failed:
        lines += ["", f"### {t['md_failed']}", ""]
        for r in failed[:MAX_FAILURES]:
            family = _cell(family_label(r["family"], lang))
            lines.append(f"- **{r['id']}** ({verdict_label(r['verdict'], lang)}) — {family}")
            first = next((c for c in r["checks"] if c["outcome"] in ("FAILED", "ERROR")), None)
            if first is not None and first.get("failure"):
                f = first["failure"]
                lines.append(f"  - {_quoted(f['summary'])}")
                lines.append(f"  - {t['expected']}: {_quoted(f['expected'])}")
                lines.append(f"  - {t['received']}: {_quoted(f['received'])}")
            elif first is not None and first.get("message"):
                lines.append(f"  - {_quoted(first['message'], 300)}")
        if len(failed) > MAX_FAILURES:
            lines.append(f"- … (+{len(failed) - MAX_FAILURES})")
    lines += _review_lines(report, lang)
    lines += ["", f"_{t['md_files']}_", ""]
    return "\n".join(lines)


def _review_lines(report: dict[str, Any], lang: str) -> list[str]:
    """What a person must attach for each check that ended REVIEW, so that the e-mail alone says what is owed."""
    t = labels(lang)
    waiting = [(r, c) for r in report["requirements"] for c in r["checks"] if c.get("review")]
    if not waiting:
        return []
    lines = ["", f"### {t['md_review']}", ""]
    for r, c in waiting[:MAX_FAILURES]:
        lines.append(f"- **{r['id']}** — {_cell(c['title'])}")
        lines.append(f"  - {t['review_attach']}: {_quoted(c['review']['attach'])}")
    if len(waiting) > MAX_FAILURES:
        lines.append(f"- … (+{len(waiting) - MAX_FAILURES})")
    return lines
