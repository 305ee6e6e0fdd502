"""What a synthetic history is made of and made to show: its agencies and procedures, the target figures by metric
key, the summary of the true figures, and exact selection (a share met exactly, never approximately)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

from harness.core.catalog import LEVELS
from harness.core.errors import P111Error

AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("000.00.00.H40", "UBND tỉnh Nam Định", "province"),
    ("000.00.06.H40", "Sở Tư pháp", "province"),
    ("000.00.15.H40", "Sở Kế hoạch và Đầu tư", "province"),
    ("000.20.40.H40", "UBND huyện Ý Yên", "district"),
    ("000.21.40.H40", "UBND huyện Vụ Bản", "district"),
    ("000.22.40.H40", "UBND huyện Hải Hậu", "district"),
    ("000.20.41.H40", "UBND xã Yên Thắng", "commune"),
    ("000.20.42.H40", "UBND xã Yên Tiến", "commune"),
    ("000.21.43.H40", "UBND xã Liên Minh", "commune"),
    ("000.21.44.H40", "UBND xã Kim Thái", "commune"),
    ("000.22.45.H40", "UBND xã Hải Minh", "commune"),
    ("000.22.46.H40", "UBND xã Hải Đông", "commune"),
)

AGENCY_WEIGHTS = (10, 8, 6, 6, 5, 5, 10, 10, 10, 10, 10, 10)

USED_PROCEDURES = 40  # procedures dossiers are filed under (all offered online); half bear a fee

EXTRA_PROCEDURES = 40  # catalog procedures with no dossier in the history


DEFAULTS: dict[str, float] = {
    "online-dossiers": 65.0,
    "payment.per-dossier": 85.0,
    "payment.per-procedure": 95.0,
    "digitisation@province": 75.0,
    "digitisation@district": 65.0,
    "digitisation@commune": 60.0,
    "transfer": 90.0,
    "auth": 99.0,
    "portal": 95.0,
    "online-services": 90.0,
}

# Metric keys → (definition id, level) of the figure they set.
KEYS: dict[str, tuple[str, str]] = {
    "online-dossiers": ("online-dossiers.online-share", "all"),
    "payment.per-dossier": ("payment.per-dossier", "all"),
    "payment.per-procedure": ("payment.per-procedure", "all"),
    "transfer": ("transfer.electronic-share", "all"),
    "auth": ("auth.authenticated-transactions", "all"),
    "portal": ("portal.integrated-on-publication", "all"),
    "online-services": ("online-services.eligible-offered", "all"),
    **{f"digitisation@{level}": ("digitisation.results-by-level", level) for level in LEVELS},
}

_ALIASES = {"digitisation.results-by-level": "digitisation", "transfer.electronic-share": "transfer",
            "auth.authenticated-transactions": "auth", "online-dossiers.online-share": "online-dossiers",
            "portal.integrated-on-publication": "portal", "online-services.eligible-offered": "online-services"}



@dataclass
class SynthSummary:
    dossiers: Path
    agencies: Path
    procedures: Path
    transactions: Path
    year: int
    seed: int
    rows: int
    transactions_written: int = 0
    # (definition id, level) -> (numerator, denominator): the true figures of `year`
    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    @property
    def ratios(self) -> dict[tuple[str, str], Fraction | None]:
        return {key: (Fraction(n * 100, d) if d else None) for key, (n, d) in self.counts.items()}

    def ratio(self, key: str) -> Fraction | None:
        return self.ratios[KEYS[normal_key(key)]]

    def paths(self) -> list[Path]:
        return [self.dossiers, self.agencies, self.procedures, self.transactions]


class SynthError(P111Error, ValueError):
    """A target that cannot be met exactly with the requested number of dossiers."""


def normal_key(key: str) -> str:
    base, _, level = key.partition("@")
    base = _ALIASES.get(base, base)
    normal = f"{base}@{level}" if level else base
    if normal not in KEYS:
        raise SynthError(f"unknown synth target {key!r}; known: {', '.join(KEYS)}")
    return normal


def exact_split(available: int, percent: float) -> tuple[int, int]:
    """(denominator, numerator): the largest denominator ≤ available for which percent × denominator is whole."""
    share = Fraction(str(percent)) / 100
    if not 0 <= share <= 1:
        raise SynthError(f"a target must be between 0 and 100 percent, got {percent}")
    step = share.denominator
    denominator = available - available % step
    if available and denominator == 0:
        raise SynthError(f"{percent}% needs at least {step} units to be exact; only {available} available")
    return denominator, int(share * denominator)


def select_exactly(total: int, wanted: int, rng: random.Random) -> Iterator[bool]:
    """Exactly `wanted` of `total` items, uniformly, in one pass (Knuth's selection sampling)."""
    for seen in range(total):
        if wanted and rng.random() * (total - seen) < wanted:
            wanted -= 1
            yield True
        else:
            yield False


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def count(tally: dict[tuple[str, str], list[int]], key: tuple[str, str], counts: bool) -> None:
    tally[key][1] += 1
    tally[key][0] += counts

