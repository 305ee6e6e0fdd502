"""Decision 766/QĐ-TTg scoring (domain.md section 6): the portal's six groups, their indicators and formulas.

Two uses:
- `read_reply(document)` recomputes every row of one of the portal's reporting replies from its counts (both shapes:
  {"data": {"parent", "children"}} and {"data": {"overview", "evaluation": [{…, "metrics": […]}]}}) and sets the
  computed points beside the portal's own (`ReplyRow.computed`, `ReplyRow.portal`).
- `score_dossiers(measurements)` scores each department, each level and the province from dossier data, for the
  indicators dossier data can measure; the others are None (not computable), and the band says it is partial.

Rounding, as the portal computes today (domain.md section 6), held against its real replies group by group:
- a metric that carries `numerator` and `denominator` (the digitisation, transparency and satisfaction groups): the
  points from the exact fraction, rounded half-up to 2 decimals once (2653/3306 at weight 6 → 4.81, where 6 × the
  shown 80.25 % would give 4.82);
- the payment group, which carries counts: each ratio as a percentage rounded to 2 decimals, each component computed
  in binary floating point as the portal does (`weight × (ratio / 100)`) and rounded half-up on that double's exact
  value (6 × 93.25 % is the double 5.59499… → 5.59), a row's points the sum of its components; this reproduces
  every one of the 164 rows of the stored real reply;
- other groups and dossier data: every ratio as a percentage rounded half-up to 2 decimals, every component's points
  rounded half-up to 2 decimals, a row's points the sum of its components.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from harness.core.errors import P111Error
from harness.metrics.results import AgencyCounts, Measurements
from harness.metrics.score766_rules import (
    GROUP_BY_KEY,
    GROUPS,
    INDICATORS,
    Group,
    band,
    half_up,
    points,
    points_as_double,
    points_from_counts,
    ratio_percent,
)


class ReplyError(P111Error):
    """A file that is not one of the portal's 766 reporting replies."""


@dataclass(frozen=True)
class Component:
    code: str
    ratio: Decimal | None
    points: Decimal | None
    portal: Decimal | None = None  # the portal's points for this metric, when the reply gives them


@dataclass(frozen=True)
class ReplyRow:
    department_id: str | None  # the portal's `departmentId`: the only identity of a row in some groups
    department_code: str | None
    department_name: str | None
    level: str | None  # the portal's level (PROVINCE, COMMUNE, …); None for the parent/overview row
    parent: bool
    components: tuple[Component, ...]
    computed: Decimal
    portal: Decimal | None
    maximum: Decimal

    @property
    def delta(self) -> Decimal | None:
        return None if self.portal is None else self.computed - self.portal

    def as_dict(self) -> dict[str, Any]:
        return {
            "departmentId": self.department_id,
            "departmentCode": self.department_code,
            "departmentName": self.department_name,
            "level": self.level,
            "parent": self.parent,
            "computed": float(self.computed),
            "portal": None if self.portal is None else float(self.portal),
            "maxScore": float(self.maximum),
            "delta": None if self.delta is None else float(self.delta),
            "components": [
                {"code": c.code, "ratio": None if c.ratio is None else float(c.ratio),
                 "points": None if c.points is None else float(c.points),
                 "portal": None if c.portal is None else float(c.portal)}
                for c in self.components
            ],
        }


@dataclass(frozen=True)
class Reply:
    group: Group
    shape: str  # "parent-children" | "overview-evaluation"
    rows: tuple[ReplyRow, ...]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def read_reply(document: Any, *, group: str | None = None) -> Reply:
    """Recompute every row of a portal reply; the group is guessed from the fields when not given."""
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise ReplyError("expected a reply of the portal's reporting API: an object with a `data` object")
    if "parent" in data or "children" in data:
        rows = [data.get("parent")] + list(data.get("children") or [])
        shape = "parent-children"
    elif "overview" in data or "evaluation" in data:
        rows = [data.get("overview")] + list(data.get("evaluation") or [])
        shape = "overview-evaluation"
    else:
        raise ReplyError("expected data.parent/data.children or data.overview/data.evaluation in the reply")
    present = [row for row in rows if isinstance(row, dict)]
    if not present:
        raise ReplyError("the reply holds no rows")
    chosen = GROUP_BY_KEY[group] if group else _guess_group(present)
    if chosen is None:
        raise ReplyError("cannot tell which 766 group this reply is; name it (--group)")
    scored = tuple(
        _score_row(chosen, row, parent=index == 0 and rows[0] is row)
        for index, row in enumerate(rows) if isinstance(row, dict)
    )
    return Reply(group=chosen, shape=shape, rows=scored)


def _guess_group(rows: Sequence[Mapping[str, Any]]) -> Group | None:
    keys = set().union(*(row.keys() for row in rows))
    if "totalDossierFinancialObligation" in keys:
        return GROUP_BY_KEY["formality-online-payment-tree"]
    if "totalOnTime" in keys or "totalReceived" in keys:
        return GROUP_BY_KEY["dvc-progress-tree"]
    if "channelTotalSum" in keys or "authorityCount" in keys:
        return GROUP_BY_KEY["provide-online-tree"]
    votes: dict[str, int] = {}
    for row in rows:
        for metric in row.get("metrics") or []:
            known = INDICATORS.get(str(metric.get("code"))) if isinstance(metric, dict) else None
            if known is not None:
                votes[known[0].key] = votes.get(known[0].key, 0) + 1
    if not votes:
        return None
    # The group most of the metrics belong to; ties go to the earlier group, so the guess never depends on order.
    return max(GROUPS, key=lambda group: (votes.get(group.key, 0), -GROUPS.index(group)))


def _score_row(group: Group, row: Mapping[str, Any], *, parent: bool) -> ReplyRow:
    if group.key == "formality-online-payment-tree":
        components = _payment_components(row)
    elif group.key == "dvc-progress-tree":
        ratio = ratio_percent(row.get("totalOnTime"), row.get("totalReceived")) or Decimal(0)
        components = (Component("ON_TIME", ratio, points("linear", 20, ratio)),)
    elif group.key == "provide-online-tree":
        components = _online_components(row)
    else:
        components = tuple(_metric_component(metric) for metric in row.get("metrics") or [] if isinstance(metric, dict))
    computed = sum((c.points for c in components if c.points is not None), Decimal(0))
    portal = _decimal(row.get("totalScore", row.get("score")))
    maximum = _decimal(row.get("totalMaxScore", row.get("maxScore"))) or Decimal(group.max)
    return ReplyRow(
        department_id=_text(row.get("departmentId")),
        department_code=_text(row.get("departmentCode")),
        department_name=_text(row.get("departmentName")),
        level=row.get("level") or row.get("departmentLevel") or row.get("childGroup"),
        parent=parent,
        components=components,
        computed=computed,
        portal=portal,
        maximum=maximum,
    )


def _payment_components(row: Mapping[str, Any]) -> tuple[Component, ...]:
    # A = dossiers paid online / dossiers with a financial obligation; B = fee-bearing procedures with a successful
    # online payment / fee-bearing procedures; C = fee-bearing procedures whose dossiers synced fee data / the same.
    a = ratio_percent(row.get("totalDossierOnlinePaymentSuccess"), row.get("totalDossierFinancialObligation"))
    b = ratio_percent(row.get("totalDossierOnlineFormalityPaymentSuccess"), row.get("totalFeeFormality"))
    c = ratio_percent(row.get("totalFeeDossierFormality"), row.get("totalFeeFormality"))
    return (
        Component("PAID_DOSSIERS", a, points_as_double("linear", 6, a)),
        Component("PAID_PROCEDURES", b, points_as_double("payment-b", 2, b)),
        Component("FEE_DATA_PROCEDURES", c, points_as_double("payment-c", 2, c)),
    )


def _online_components(row: Mapping[str, Any]) -> tuple[Component, ...]:
    # [I] The reply's counts support 2 + 4 + 6 points: procedures offered online / procedures of the authority
    # (full at 80%), online services with dossiers / online services, online dossiers / all dossiers (full at 50%);
    # fitted by public analyses of the portal's replies, not confirmed on a stored reply here.
    provided = None
    if row.get("authorityCount"):
        provided = ratio_percent((row.get("partialCount") or 0) + (row.get("fullCount") or 0), row["authorityCount"])
    used = ratio_percent(row.get("onlineDossierCount"), row.get("onlineServiceTotal"))
    share = ratio_percent(row.get("channelOnlineSum"), row.get("channelTotalSum"))
    return (
        Component("ONLINE_PROVIDED", provided, points("reuse", 2, provided)),  # full marks at 80%, like reuse
        Component("ONLINE_USED", used, points("linear", 4, used)),
        Component("ONLINE_DOSSIERS", share, half_up(min(Decimal(6), 12 * (share or Decimal(0)) / 100))),  # full at 50%
    )


def _metric_component(metric: Mapping[str, Any]) -> Component:
    code = str(metric.get("code"))
    known = INDICATORS.get(code)
    maximum = _decimal(metric.get("maxScore"))
    top = int(maximum) if maximum is not None else (known[1].max if known else 0)
    formula = known[1].formula if known else ("classification" if top == 0 else "capped")
    if top == 0:
        formula = "classification"
    numerator, denominator = metric.get("numerator"), metric.get("denominator")
    portal = _decimal(metric.get("score"))
    if numerator is None and denominator is None and formula != "classification":
        given = _decimal(metric.get("ratio"))
        if given is None:  # neither count: the portal shows ratio 100 and gives full marks
            return Component(code, Decimal(100), Decimal(top), portal)
        return Component(code, given, points(formula, top, given), portal)
    # The exact fraction, rounded once: the shown ratio is rounded and would move a component by 0.01 (domain.md 6).
    return Component(code, ratio_percent(numerator, denominator),
                     points_from_counts(formula, top, numerator, denominator), portal)


@dataclass(frozen=True)
class DossierScore:
    """One department, level or the province, scored from dossier data."""

    scope: str  # "department" | "level" | "province"
    code: str  # agency code, level name, or "province"
    groups: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)  # group key -> indicator -> points

    @property
    def total(self) -> Decimal:
        return sum((p for g in self.groups.values() for p in g.values() if p is not None), Decimal(0))

    @property
    def computable_max(self) -> Decimal:
        return Decimal(sum(
            indicator.max for group in GROUPS for indicator in group.indicators
            if self.groups.get(group.key, {}).get(indicator.code) is not None
        ))

    def band(self) -> tuple[str, str]:
        return band(self.total, self.computable_max)

    def as_dict(self) -> dict[str, Any]:
        vi, en = self.band()
        return {
            "scope": self.scope, "code": self.code, "total": float(self.total),
            "computable_max": float(self.computable_max), "band_vi": vi, "band_en": en,
            "partial": self.computable_max < 100,
            "groups": {k: {c: None if p is None else float(p) for c, p in v.items()} for k, v in self.groups.items()},
        }


def score_counts(scope: str, code: str, counts: AgencyCounts) -> DossierScore:
    """The indicators dossier data can measure (domain.md section 6 ratio definitions); None for the others."""
    received = counts.received
    on_time = ratio_percent(counts.on_time, received)
    online = ratio_percent(counts.online, received)
    a = ratio_percent(counts.fee_paid_online, counts.fee_dossiers)
    b = ratio_percent(counts.fee_procedures_paid, counts.fee_procedures)
    # [I] Every fee-bearing procedure seen in dossier data synced its fee data: C is 100% whenever there is one.
    c = ratio_percent(counts.fee_procedures, counts.fee_procedures)
    groups: dict[str, dict[str, Decimal | None]] = {
        "transparency": {i.code: None for i in GROUP_BY_KEY["transparency"].indicators},
        "dvc-progress-tree": {"ON_TIME": points("linear", 20, on_time)},
        "provide-online-tree": {"ONLINE_DOSSIERS": points("linear", 12, online)},
        "formality-online-payment-tree": {
            "PAID_DOSSIERS": points("linear", 6, a),
            "PAID_PROCEDURES": points("payment-b", 2, b),
            "FEE_DATA_PROCEDURES": points("payment-c", 2, c),
        },
        "dossier-digitized": {
            "ORIGINAL_RESULT_AVAILABLE": points(
                "capped", 6, ratio_percent(counts.digitised_results, counts.finished_with_result)),
            "SO_HOA_GIAY_TO_GIAI_QUYET": points("capped", 4, ratio_percent(counts.digitised_components, received)),
            "ELECTRONIC_CERTIFIED_COPY": None,
            "REUSED_DIGITIZED_DATA": points("reuse", 2, ratio_percent(counts.reused, received)),
            "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": None,
            "CITIZEN_DATA_CONNECTED_DOSSIER": points("capped", 2, ratio_percent(counts.population_data, received)),
            "CITIZEN_DATA_CONNECTED_FORMALITY": points(
                "capped", 2, ratio_percent(counts.procedures_population, counts.procedures)),
        },
        "handling-satisfaction": {i.code: None for i in GROUP_BY_KEY["handling-satisfaction"].indicators},
    }
    return DossierScore(scope=scope, code=code, groups=groups)


def score_dossiers(measurements: Measurements) -> list[DossierScore]:
    """Per department (agency), per level and for the province. Per-procedure counts are summed across agencies, so
    a procedure handled by two agencies counts twice at level and province scope [I]."""
    scores = [score_counts("department", code, counts) for code, counts in sorted(measurements.agencies.items())]
    by_level: dict[str, AgencyCounts] = {}
    total = AgencyCounts(agency="province")
    for code, counts in measurements.agencies.items():
        level = measurements.levels.get(code)
        if level is not None:
            by_level[level] = by_level.get(level, AgencyCounts(agency=level)).plus(counts, level)
        total = total.plus(counts, "province")
    scores += [score_counts("level", level, counts) for level, counts in sorted(by_level.items())]
    scores.append(score_counts("province", "province", total))
    return scores


def combine_replies(replies: Iterable[Reply]) -> dict[str, Decimal]:
    """Total computed points per department over several group replies (all six give a score out of 100), keyed by
    `departmentCode`, or by `departmentId` where a group's reply gives only that."""
    totals: dict[str, Decimal] = {}
    for reply in replies:
        for row in reply.rows:
            key = row.department_code or row.department_id or "(parent)"
            totals[key] = totals.get(key, Decimal(0)) + row.computed
    return totals


def report_block(score: DossierScore) -> dict[str, Any]:
    """A score as report.json carries it: points per group against the group's maximum (None: not computable from
    dossier data), the total over what could be computed, and the rating band of that share."""
    vi, en = score.band()
    groups = []
    for group in GROUPS:
        known = [p for p in score.groups.get(group.key, {}).values() if p is not None]
        groups.append({"key": group.key, "vi": group.vi, "en": group.en, "max": group.max,
                       "points": float(sum(known, Decimal(0))) if known else None})
    return {"scope": score.scope, "code": score.code, "total": float(score.total),
            "computable_max": float(score.computable_max), "band_vi": vi, "band_en": en, "groups": groups}
