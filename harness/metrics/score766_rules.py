"""Decision 766/QĐ-TTg's groups, indicators and bands, and its arithmetic: ratios as percentages, points from
ratios and counts rounded as the portal rounds (see harness.metrics.score766)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

CENT = Decimal("0.01")

BANDS: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal(90), "Xuất sắc", "excellent"),
    (Decimal(80), "Tốt", "good"),
    (Decimal(70), "Khá", "fair"),
    (Decimal(50), "Trung bình", "average"),
    (Decimal(0), "Yếu", "weak"),
)


@dataclass(frozen=True)
class Indicator:
    code: str
    vi: str
    max: int
    formula: str  # linear | capped | reuse | satisfaction | complaint | classification


@dataclass(frozen=True)
class Group:
    key: str  # the portal's endpoint name
    vi: str
    en: str
    max: int
    indicators: tuple[Indicator, ...]


GROUPS: tuple[Group, ...] = (
    Group("transparency", "Công khai, minh bạch", "Transparency", 18, (
        Indicator("PUBLISH_ON_TIME", "Công bố đúng hạn", 6, "linear"),
        Indicator("PUBLIC_UPDATE_ON_TIME", "Cập nhật đúng hạn", 4, "linear"),
        Indicator("PUBLIC_CONTENT_FULL", "Công khai đầy đủ nội dung", 2, "linear"),
        Indicator("DOSSIER_SYNC", "Hồ sơ đồng bộ lên Cổng", 6, "linear"),
    )),
    Group("dvc-progress-tree", "Tiến độ, kết quả giải quyết", "Timeliness", 20, (
        Indicator("ON_TIME", "Hồ sơ giải quyết đúng hạn", 20, "linear"),
    )),
    Group("provide-online-tree", "Dịch vụ công trực tuyến", "Online services", 12, (
        Indicator("ONLINE_DOSSIERS", "Hồ sơ trực tuyến", 12, "linear"),
    )),
    Group("formality-online-payment-tree", "Thanh toán trực tuyến", "Online payment", 10, (
        Indicator("PAID_DOSSIERS", "Hồ sơ thanh toán trực tuyến (A)", 6, "linear"),
        Indicator("PAID_PROCEDURES", "TTHC có thanh toán trực tuyến (B)", 2, "payment-b"),
        Indicator("FEE_DATA_PROCEDURES", "TTHC đồng bộ dữ liệu phí (C)", 2, "payment-c"),
    )),
    Group("dossier-digitized", "Số hóa hồ sơ", "Digitisation", 22, (
        Indicator("ORIGINAL_RESULT_AVAILABLE", "Kết quả điện tử", 6, "capped"),
        Indicator("SO_HOA_GIAY_TO_GIAI_QUYET", "Số hóa thành phần hồ sơ", 4, "capped"),
        Indicator("ELECTRONIC_CERTIFIED_COPY", "Chứng thực bản sao điện tử", 2, "capped"),
        Indicator("REUSED_DIGITIZED_DATA", "Tái sử dụng dữ liệu số hóa", 2, "reuse"),
        Indicator("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "Kết nối kho dữ liệu cá nhân trên Cổng", 4, "capped"),
        Indicator("CITIZEN_DATA_CONNECTED_DOSSIER", "Hồ sơ sử dụng dữ liệu dân cư", 2, "capped"),
        Indicator("CITIZEN_DATA_CONNECTED_FORMALITY", "TTHC kết nối dữ liệu dân cư", 2, "capped"),
    )),
    Group("handling-satisfaction", "Mức độ hài lòng", "Satisfaction", 18, (
        Indicator("PETITION_PROCESSING_ON_TIME", "Xử lý phản ánh, kiến nghị đúng hạn", 6, "complaint"),
        Indicator("PETITION_HANDLING_SATISFACTION", "Hài lòng xử lý phản ánh, kiến nghị", 6, "complaint"),
        Indicator("DOSSIER_RECEIVING_SATISFACTION", "Hài lòng giải quyết TTHC", 6, "satisfaction"),
        Indicator("PETITION_CLASSIFICATION_STAFF", "Phân loại phản ánh (cán bộ)", 0, "classification"),
        Indicator("PETITION_CLASSIFICATION_TTHC", "Phân loại phản ánh (TTHC)", 0, "classification"),
    )),
)

GROUP_BY_KEY = {group.key: group for group in GROUPS}

INDICATORS = {indicator.code: (group, indicator) for group in GROUPS for indicator in group.indicators}


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio_percent(numerator: Any, denominator: Any) -> Decimal | None:
    """numerator/denominator as a percentage rounded half-up to 2 decimals; None when the denominator is 0 or absent."""
    if numerator is None or denominator in (None, 0):
        return None
    return half_up(Decimal(numerator) * 100 / Decimal(denominator))


def points(formula: str, maximum: int, ratio: Decimal | None, *, empty: bool = False) -> Decimal | None:
    """One indicator's points from its ratio (a percentage); `empty`: the indicator had nothing to count."""
    return _points(formula, maximum, Fraction(ratio or 0) / 100, empty=empty)


def points_from_counts(formula: str, maximum: int, numerator: Any, denominator: Any) -> Decimal | None:
    """One indicator's points from the exact fraction numerator/denominator, rounded once (no rounded ratio between)."""
    empty = denominator in (None, 0)
    fraction = Fraction(0) if empty or numerator is None else Fraction(Decimal(str(numerator))) / Fraction(
        Decimal(str(denominator)))
    return _points(formula, maximum, fraction, empty=empty)


def points_as_double(formula: str, maximum: int, ratio: Decimal | None) -> Decimal:
    """The payment group's points as the portal computes them: `weight × (ratio / 100)` in binary floating point,
    rounded half-up on the exact value of that double (so 6 × 93.25 % = 5.59499… gives 5.59, not 5.60)."""
    r = float(ratio or 0) / 100
    if formula == "linear":
        value = float(maximum) * r
    elif formula == "payment-b":
        value = min(float(maximum), 2.5 * r)
    elif formula == "payment-c":
        value = 2.5 * r  # not capped at 2 [C: observed]
    else:
        raise ValueError(f"no floating-point rule for 766 formula {formula!r}")
    return half_up(Decimal(value))  # Decimal(float) is the double's exact binary value


def _points(formula: str, maximum: int, r: Fraction, *, empty: bool) -> Decimal | None:
    """`r` is the ratio as an exact fraction of 1; the result is rounded half-up to 2 decimals once."""
    top = Fraction(maximum)
    if formula == "classification":
        return None
    if formula == "complaint" and empty:
        return Decimal(maximum)  # no complaints: full marks
    if formula == "satisfaction" and empty:
        return Decimal(0)
    if formula == "linear":
        value = top * r
    elif formula == "capped":
        value = min(top, top * r)
    elif formula == "reuse":
        value = min(top, top * r / Fraction(8, 10))
    elif formula == "satisfaction":
        value = min(top, top * r / Fraction(9, 10))
    elif formula == "complaint":
        value = top * r
    elif formula == "payment-b":
        value = min(top, Fraction(5, 2) * r)
    elif formula == "payment-c":
        value = Fraction(5, 2) * r  # the portal does not cap this component at 2 [C: observed]
    else:
        raise ValueError(f"unknown 766 formula {formula!r}")
    return _round_half_up(value)


def _round_half_up(value: Fraction) -> Decimal:
    """An exact fraction rounded half-up to 2 decimals (away from zero on a tie, as Decimal's ROUND_HALF_UP)."""
    cents = math.floor(abs(value) * 100 + Fraction(1, 2))
    return (Decimal(cents if value >= 0 else -cents) / 100).quantize(CENT)


def band(total: Decimal, maximum: Decimal = Decimal(100)) -> tuple[str, str]:
    scaled = total * 100 / maximum if maximum else Decimal(0)
    for floor, vi, en in BANDS:
        if scaled >= floor:
            return vi, en
    return BANDS[-1][1], BANDS[-1][2]
