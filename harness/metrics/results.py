"""The metric result model: tallies measured from data, turned into verdicts against the catalog's thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from harness.core.catalog import LEVELS, Catalog, load_catalog
from harness.core.precedence import Verdict, combine
from harness.metrics.definitions import Definition, load_definitions

SAMPLE_SIZE = 10
ALL = "all"


@dataclass
class Tally:
    """How many units count for a definition at one level; `against` keeps the smallest codes counting against it."""

    numerator: int = 0
    denominator: int = 0
    against: list[str] = field(default_factory=list)

    def sample(self) -> tuple[str, ...]:
        return tuple(sorted(self.against)[:SAMPLE_SIZE])


@dataclass(frozen=True)
class AgencyCounts:
    """Per agency (the MaHoSo prefix) counts of the year, for QĐ 766 scoring from dossier data."""

    agency: str
    received: int = 0
    online: int = 0  # KenhThucHien = 2
    finished_dated: int = 0  # status 9/10 with NgayKetThucXuLy and NgayHenTra
    on_time: int = 0
    fee_dossiers: int = 0
    fee_paid_online: int = 0
    fee_procedures: int = 0
    fee_procedures_paid: int = 0
    finished_with_result: int = 0
    digitised_results: int = 0
    digitised_components: int = 0  # HoSoCoThanhPhanSoHoa = 1
    reused: int = 0  # a submitted file marked DuocTaiSuDung
    population_data: int = 0  # DSKetNoiCSDL not empty
    procedures: int = 0
    procedures_population: int = 0

    def plus(self, other: AgencyCounts, agency: str) -> AgencyCounts:
        values = {name: getattr(self, name) + getattr(other, name) for name in _COUNT_FIELDS}
        return AgencyCounts(agency=agency, **values)


_COUNT_FIELDS = tuple(name for name in AgencyCounts.__dataclass_fields__ if name != "agency")


@dataclass
class Measurements:
    """What the engine or the oracle measured for one year; both must produce equal Measurements."""

    year: int
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)  # (definition id, level) -> tally
    unclassified: dict[str, int] = field(default_factory=dict)  # definition id -> units whose agency has no level
    missing: dict[str, str] = field(default_factory=dict)  # definition id -> the data it lacks
    agencies: dict[str, AgencyCounts] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)  # agency code -> level (the registry used)
    rows_read: dict[str, int] = field(default_factory=dict)  # kind -> valid rows read (all years)

    def tally(self, definition_id: str, level: str = ALL) -> Tally:
        return self.tallies.setdefault((definition_id, level), Tally())

    def comparable(self) -> dict[str, Any]:
        """A plain view for equality checks (samples included, order-free)."""
        return {
            "tallies": {f"{d}@{lvl}": (t.numerator, t.denominator, t.sample()) for (d, lvl), t in self.tallies.items()},
            "unclassified": dict(self.unclassified),
            "missing": sorted(self.missing),
            "agencies": {code: counts for code, counts in self.agencies.items()},
        }


@dataclass(frozen=True)
class MetricResult:
    requirement: str
    level: str  # "all" | "province" | "district" | "commune"
    reading: str | None  # None, or "per-procedure" / "per-dossier"
    decides: bool  # False only for a reading reported beside the one that decides
    numerator: int
    denominator: int
    ratio: float | None  # percent, 2 decimals; None when the denominator is 0
    threshold: float | None
    verdict: Verdict
    reason: str
    sample: tuple[str, ...]  # codes counting against the target (≤ 10, smallest first)
    definition: str
    year: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "level": self.level,
            "reading": self.reading,
            "decides": self.decides,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "ratio": self.ratio,
            "threshold": self.threshold,
            "verdict": str(self.verdict),
            "reason": self.reason,
            "sample": list(self.sample),
            "definition": self.definition,
            "year": self.year,
        }


def percent(numerator: int, denominator: int) -> float | None:
    """Percent rounded half-up to 2 decimals (exact arithmetic), None for an empty denominator."""
    if denominator == 0:
        return None
    hundredths = Fraction(numerator * 10000, denominator)
    return float(int(hundredths + Fraction(1, 2))) / 100


def judge(numerator: int, denominator: int, threshold: float | None) -> tuple[Verdict, str]:
    """PASSED at or above the threshold, compared exactly (55.0% of 1000 is 550, and 549 fails)."""
    if threshold is None:
        return Verdict.NOT_APPLICABLE, "Kế hoạch không đặt ngưỡng cho năm/cấp này / no threshold this year, level"
    if denominator == 0:
        return Verdict.NOT_APPLICABLE, "không có đơn vị nào để đo / nothing to measure (denominator 0)"
    if Fraction(numerator * 100, denominator) >= Fraction(threshold):
        return Verdict.PASSED, f"{numerator}/{denominator} ≥ {threshold:g}%"
    return Verdict.FAILED, f"{numerator}/{denominator} < {threshold:g}%"


def build_results(measurements: Measurements, *, catalog: Catalog | None = None) -> list[MetricResult]:
    """One result per definition and level, in the order of the definitions file."""
    catalog = catalog or load_catalog()
    year = measurements.year
    results: list[MetricResult] = []
    for definition in load_definitions().items:
        requirement = catalog[definition.requirement]
        levels: Sequence[str] = LEVELS if definition.by_level else (ALL,)
        decides = definition.reading is None or definition.reading == requirement.decides
        for level in levels:
            threshold = requirement.threshold(year, None if level == ALL else level)
            results.append(_result(measurements, definition, level, threshold, decides))
    return results


def _result(
    measurements: Measurements, definition: Definition, level: str, threshold: float | None, decides: bool
) -> MetricResult:
    tally = measurements.tallies.get((definition.id, level), Tally())
    if definition.id in measurements.missing:
        verdict, reason = Verdict.NOT_TESTED, measurements.missing[definition.id]
    else:
        verdict, reason = judge(tally.numerator, tally.denominator, threshold)
        if not decides:
            reason += " — chỉ báo cáo / reported only, does not decide"
        unclassified = measurements.unclassified.get(definition.id, 0)
        if unclassified and level != ALL:
            reason += f"; {unclassified} đơn vị không rõ cấp (cơ quan ngoài sổ đăng ký) / of unregistered agencies"
    return MetricResult(
        requirement=definition.requirement,
        level=level,
        reading=definition.reading,
        decides=decides,
        numerator=tally.numerator,
        denominator=tally.denominator,
        ratio=percent(tally.numerator, tally.denominator),
        threshold=threshold,
        verdict=verdict,
        reason=reason,
        sample=tally.sample(),
        definition=definition.id,
        year=measurements.year,
    )


def requirement_verdicts(results: Iterable[MetricResult]) -> dict[str, Verdict]:
    """One verdict per requirement from its deciding results: the one precedence
    table (harness.core.verdicts.combine): FAILED beats ERROR beats NOT-TESTED beats PASSED."""
    by_requirement: dict[str, list[Verdict]] = {}
    for result in results:
        if result.decides:
            by_requirement.setdefault(result.requirement, []).append(result.verdict)
    return {requirement: combine(verdicts) for requirement, verdicts in by_requirement.items()}


def level_map(agencies: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(agency["code"]): str(agency["level"]) for agency in agencies}
