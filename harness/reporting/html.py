"""report.html: one self-contained page (no network) a province's office can read, Vietnamese first, English on demand.

Everything shown comes from report.json and the redacted exchanges; bodies come from the system under test and may hold
HTML or script, so the template autoescapes everything and a Content-Security-Policy allows only the page's own script.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter, defaultdict
from functools import cache
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from harness.core import inert
from harness.core.i18n import family_label, labels, level_label, verdict_label

HTML_FILE = "report.html"
FOLD_LINES = 30  # bodies longer than this are folded: a reader opens the ones that matter
FOLD_CHARS = 3_000
SHOW_CHARS = 20_000  # the page shows the start of a huge body; evidence.har and evidence.ndjson keep all of it
VERDICT_ORDER = ("PASSED", "FAILED", "ERROR", "REVIEW", "NOT-APPLICABLE", "NOT-TESTED")

# The page's one script: folding and unfolding, and opening the requirement a link points at. Its hash goes into the
# Content-Security-Policy, so no other script (say, one smuggled in a body) could run even if escaping ever failed.
SCRIPT = """
document.addEventListener("DOMContentLoaded", function () {
  function all(open) {
    document.querySelectorAll("details.req, details.check").forEach(function (d) { d.open = open; });
  }
  document.getElementById("expand-all").addEventListener("click", function () { all(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { all(false); });
  function reveal() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
});
"""


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("harness.reporting", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_inert,  # every value the template prints, the SUT's text among them
    )


def _inert(value: Any) -> Any:
    if isinstance(value, Markup):  # already escaped: showing its control characters adds no markup
        return Markup(inert.visible_controls(str(value)))
    return inert.visible_controls(value) if isinstance(value, str) else value


def _pretty(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        try:
            return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
        except ValueError:
            return body
    return json.dumps(body, ensure_ascii=False, indent=2)


def _part(part: dict[str, Any]) -> SimpleNamespace:
    text = _pretty(part.get("body"))
    if len(text) > SHOW_CHARS:
        text = text[:SHOW_CHARS] + f"\n… [+{len(text) - SHOW_CHARS}] → evidence.har"
    lines = text.count("\n") + 1 if text else 0
    return SimpleNamespace(
        headers=part.get("headers") or {},
        body=text,
        lines=lines,
        folded=lines > FOLD_LINES or len(text) > FOLD_CHARS,
    )


# The template reads an exchange's parts as attributes: on a dict each `e.x` first fails as an attribute (an
# exception) and then succeeds as a key, which for a run's thousand exchanges cost most of the page's rendering.
def _exchange(exchange: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(
        seq=exchange["seq"],
        method=exchange["method"],
        url=exchange["url"],
        status=exchange["status"],
        ok=200 <= int(exchange["status"]) < 400,
        error=exchange.get("error"),  # no answer at all: what happened instead
        request=_part(exchange["request"]),
        response=_part(exchange["response"]),
    )


def _threshold(threshold: dict[str, float] | None, lang: str) -> str:
    if not threshold:
        return ""
    return ", ".join(f"{level_label(level, lang)} ≥ {value:g}%" for level, value in threshold.items())


def _families(requirements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in requirements:
        counts[r["family"]][r["verdict"]] += 1
    return [{"family": f, "counts": c, "total": sum(c.values())} for f, c in counts.items()]


# ---- charts: geometry computed here, drawn by the template as inline SVG ----------------------------------------

BAR_H, GAP, LABEL_W, PLOT_W = 18, 6, 230, 420
LEVEL_ORDER = ("all", "province", "district", "commune")


def _metric_charts(metrics: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """One chart per requirement: a bar per (level, year) for the ratio, a tick for the threshold."""
    by_requirement: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in metrics:
        by_requirement[str(m.get("requirement", "?"))].append(m)
    charts = []
    for requirement, items in by_requirement.items():
        bars = []
        def order(m: dict[str, Any]) -> tuple[str, int]:
            level = str(m.get("level", "all"))
            return str(m.get("year", "")), LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)

        for row, m in enumerate(sorted(items, key=order)):
            ratio, threshold = m.get("ratio"), m.get("threshold")
            label = level_label(str(m.get("level", "all")), lang)
            if m.get("year") is not None:
                label = f"{label} · {m['year']}"
            if m.get("reading"):
                label = f"{label} · {m['reading']}"
            # A reading reported beside the one that decides is drawn grey: it never fails the requirement.
            verdict = str(m.get("verdict", "NOT-TESTED")) if m.get("decides", True) else "REPORTED"
            bars.append(
                {
                    "y": row * (BAR_H + GAP),
                    "label": label,
                    "width": 0 if ratio is None else max(0.0, min(100.0, float(ratio))) * PLOT_W / 100,
                    "ratio": "—" if ratio is None else f"{float(ratio):.1f}%",
                    "tick": None if threshold is None else float(threshold) * PLOT_W / 100,
                    "threshold": "" if threshold is None else f"≥ {float(threshold):g}%",
                    "verdict": verdict,
                }
            )
        charts.append({"requirement": requirement, "bars": bars, "height": len(bars) * (BAR_H + GAP) + 20})
    return charts


def _score766_chart(block: Any, lang: str) -> dict[str, Any] | None:
    """Group points against their maxima; accepts {"groups": [...]} or a plain list of groups."""
    groups = block.get("groups") if isinstance(block, dict) else block
    if not isinstance(groups, list) or not groups:
        return None
    bars = []
    for row, g in enumerate(groups):
        maximum = float(g.get("max") or g.get("maximum") or 0)
        points = g.get("points")
        name = g.get(lang) or g.get("vi") or g.get("label") or g.get("key") or g.get("group") or "?"
        bars.append(
            {
                "y": row * (BAR_H + GAP),
                "label": str(name),
                "max_width": PLOT_W if maximum else 0,
                "width": 0 if points is None or not maximum else max(0.0, min(1.0, float(points) / maximum)) * PLOT_W,
                "text": f"{'—' if points is None else f'{float(points):g}'} / {maximum:g}",
            }
        )
    total = block.get("total") if isinstance(block, dict) else None
    return {"bars": bars, "height": len(bars) * (BAR_H + GAP) + 20, "total": total}


def render_html(report: dict[str, Any], exchanges: list[dict[str, Any]], lang: str = "vi") -> str:
    words = labels(lang)
    by_seq = {e["seq"]: e for e in exchanges}
    requirements = []
    for r in report["requirements"]:
        checks = []
        for c in r["checks"]:
            checks.append({**c, "exchanges": [_exchange(by_seq[s]) for s in c["evidence"] if s in by_seq]})
        requirements.append(
            {
                **r,
                "title": r["title_vi"] if lang == "vi" else r["title_en"],
                "other_title": r["title_en"] if lang == "vi" else r["title_vi"],
                "threshold_text": _threshold(r.get("threshold"), lang),
                "checks": checks,
                "open": False,
            }
        )
    document = report["target"]["document"]
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return _environment().get_template("report.html.j2").render(
        t=words,
        lang=lang,
        report=report,
        target_name=document.get("name", ""),
        environment=(document.get("safety") or {}).get("environment", ""),
        requirements=requirements,
        families=_families(report["requirements"]),
        verdict_order=VERDICT_ORDER,
        verdict_label=lambda v: verdict_label(v, lang),
        family_label=lambda f: family_label(f, lang),
        metric_charts=_metric_charts(report.get("metrics") or [], lang),
        score766=_score766_chart(report.get("score766"), lang) if report.get("score766") else None,
        chart={"label_w": LABEL_W, "plot_w": PLOT_W, "bar_h": BAR_H},
        script=SCRIPT,
        script_hash=script_hash,
    )
