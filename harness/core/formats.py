"""The portal's code and date formats (domain.md section 2): one definition used by schemas, checks and mocks."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

# Vietnam has kept UTC+7 without daylight saving since 1975; a fixed offset needs no tz database.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

# [0-9], not \d (which admits other scripts' digits); matched with fullmatch, since $ alone admits a trailing newline.
# Anchored all the same, so that each pattern also means the same in a JSON Schema `pattern` (a search).
AGENCY_CODE = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")
DOSSIER_CODE = re.compile(
    r"^(?P<agency>[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})-(?P<day>[0-9]{6})-(?P<sequence>[0-9]{4,5})$"
)
PROCEDURE_CODE = re.compile(r"^[12]\.[0-9]{6}$")
# The local form of a procedure code appends the agency code: 1.003560.000.00.00.H56.
LOCAL_PROCEDURE_CODE = re.compile(r"^[12]\.[0-9]{6}(\.[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})?$")
PORTAL_DATETIME = "%Y%m%d%H%M%S"
_PORTAL_DATETIME_SHAPE = re.compile(r"^[0-9]{14}$")


class DossierCode(NamedTuple):
    agency: str
    day: date
    sequence: int


def is_agency_code(value: str) -> bool:
    return bool(AGENCY_CODE.fullmatch(value))


def is_procedure_code(value: str) -> bool:
    """A procedure code in either form (the schemas' p111-procedure-code): national, or local with an agency code."""
    return bool(LOCAL_PROCEDURE_CODE.fullmatch(value))


def is_national_procedure_code(value: str) -> bool:
    """The national form only (MaTTHC): 1.xxxxxx or 2.xxxxxx, no agency suffix."""
    return bool(PROCEDURE_CODE.fullmatch(value))


def parse_dossier_code(value: str) -> DossierCode | None:
    """Split `{agency}-{yyMMdd}-{sequence}`; None when the code is malformed or its date does not exist."""
    match = DOSSIER_CODE.fullmatch(value)
    if match is None:
        return None
    digits = match["day"]
    year = int(digits[:2])
    try:  # as strptime's %y%m%d reads six digits (69–99 → 19xx), without its cost on every row of an export
        day = date(year + (2000 if year <= 68 else 1900), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return None
    return DossierCode(match["agency"], day, int(match["sequence"]))


def is_dossier_code(value: str) -> bool:
    return parse_dossier_code(value) is not None


def format_dossier_code(agency: str, day: date, sequence: int) -> str:
    return f"{agency}-{day:%y%m%d}-{sequence:04d}"


def parse_portal_datetime(value: str) -> datetime | None:
    """`yyyyMMddHHmmss` in Vietnam time; None when the string is not such a date."""
    if not _PORTAL_DATETIME_SHAPE.fullmatch(value):
        return None
    try:  # fourteen digits in fixed places: what strptime(PORTAL_DATETIME) accepts, at a fraction of its cost
        return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]),
                        int(value[12:14]), tzinfo=VIETNAM_TIME)
    except ValueError:
        return None


def is_portal_datetime(value: str) -> bool:
    return parse_portal_datetime(value) is not None


def format_portal_datetime(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TIME).strftime(PORTAL_DATETIME)


# Service levels: Decree 42/2022 replaced levels 3/4 (Decree 43/2011) on 15/08/2022; level 4 ≈ toàn trình and
# level 3 ≈ một phần [inferred, domain.md section 1]. Data in either vocabulary is read as the new one.
SERVICE_LEVELS = {"toàn trình": "toàn trình", "một phần": "một phần", "4": "toàn trình", "3": "một phần"}


def service_level(value: object) -> str | None:
    """`toàn trình` or `một phần` for either vocabulary; None for anything else."""
    if value is None:
        return None
    # Vietnamese text arrives composed or decomposed depending on the system that wrote it.
    return SERVICE_LEVELS.get(unicodedata.normalize("NFC", str(value)).strip().lower())


def vietnam_now() -> datetime:
    return datetime.now(VIETNAM_TIME)
