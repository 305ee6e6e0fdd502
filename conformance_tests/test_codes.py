"""P111-CODES: dossier, agency and procedure codes in the national formats (domain.md section 2).

«100% dịch vụ công trực tuyến của tỉnh được tích hợp với cổng Dịch vụ công quốc gia ngay khi có quyết định công bố»
"""

from __future__ import annotations

import warnings

import pytest

from conformance_tests.scenarios import LIST_ATTACH, LIST_WHY, person_judges
from harness.core.formats import (
    DOSSIER_CODE,
    LOCAL_PROCEDURE_CODE,
    PROCEDURE_CODE,
    VIETNAM_TIME,
    is_national_procedure_code,
    is_procedure_code,
    parse_dossier_code,
)
from harness.core.verdicts import ConformanceWarning
from harness.sut.checking import expect
from harness.sut.drivers import DossierView, Driver

pytestmark = pytest.mark.requirement("P111-CODES")

DOSSIERS_PER_PROCEDURE = 2


@pytest.fixture(scope="module")
def fresh_dossiers(p111_driver: Driver, procedure_codes: list[str]) -> list[DossierView]:
    """Two dossiers per published procedure, submitted in this order and received at once."""
    made = []
    for procedure in procedure_codes:
        for _ in range(DOSSIERS_PER_PROCEDURE):
            dossier = p111_driver.submit(procedure)
            p111_driver.act(dossier.code, "receive")
            made.append(p111_driver.get(dossier.code))
    return made


def test_dossier_codes_have_the_national_form(fresh_dossiers, p111_target):
    """Every dossier code is {agency code}-{yyMMdd}-{sequence}, and its agency belongs to the province."""
    for dossier in fresh_dossiers:
        parsed = parse_dossier_code(dossier.code)
        expect(
            parsed is not None,
            f"dossier code {dossier.code!r} is not in the national form",
            expected=f"{{agency code}}-{{yyMMdd}}-{{4–5 digit sequence}}, regex {DOSSIER_CODE.pattern}",
            received=repr(dossier.code),
        )
        expect(
            parsed.agency.endswith("." + p111_target.province_code),
            f"dossier code {dossier.code} names an agency outside province {p111_target.province_code}",
            expected=f"an agency code ending in .{p111_target.province_code} (province.code, a target setting)",
            received=parsed.agency,
        )
        if p111_target.agencies and p111_target.agency_level(parsed.agency) is None:
            warnings.warn(
                ConformanceWarning(
                    f"agency {parsed.agency} of dossier {dossier.code} is not in the target's agency registry"
                ),
                stacklevel=1,
            )


def test_dossier_code_date_is_registration_or_receipt_day(fresh_dossiers):
    """The date inside a dossier code is the day it was registered or received (Vietnam time): either is lawful."""
    for dossier in fresh_dossiers:
        parsed = parse_dossier_code(dossier.code)
        if parsed is None:
            continue  # the form itself is judged by the check above
        lawful = {dossier.submitted_at.astimezone(VIETNAM_TIME).date()}
        if dossier.received_at is not None:
            lawful.add(dossier.received_at.astimezone(VIETNAM_TIME).date())
        expect(
            parsed.day in lawful,
            f"the date in dossier code {dossier.code} is neither its registration nor its receipt day",
            expected="yyMMdd = " + " or ".join(sorted(f"{d:%y%m%d}" for d in lawful)),
            received=f"{parsed.day:%y%m%d}",
        )


def test_dossier_codes_are_unique_and_sequenced(fresh_dossiers):
    """Dossier codes are unique, and within one agency and day the sequence grows in the order of registration."""
    codes = [d.code for d in fresh_dossiers]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    expect(
        not duplicates,
        "dossier codes repeat", expected="a distinct code for every dossier", received=", ".join(duplicates)
    )
    last: dict[tuple[str, object], tuple[int, str]] = {}
    for code in codes:
        parsed = parse_dossier_code(code)
        if parsed is None:
            continue
        key = (parsed.agency, parsed.day)
        expect(
            not (key in last and parsed.sequence <= last[key][0]),
            "the daily sequence of dossier codes does not grow",
            expected=lambda key=key: f"a sequence after {last[key][1]} greater than {last[key][0]}",
            received=code,
        )
        last[key] = (parsed.sequence, code)


def test_published_services_have_national_codes(services, p111_driver):
    """Every online service carries a national procedure code (1.xxxxxx / 2.xxxxxx) and its local form."""
    bad = [
        f"{s.service_id}: {s.code!r} / {s.local_code!r}"
        for s in services
        if not (is_national_procedure_code(s.code) and is_procedure_code(s.local_code))
    ]
    expect(
        not bad,
        "services without a national procedure code",
        expected=f"MaTTHC matching {PROCEDURE_CODE.pattern} and MaTTHCDP matching {LOCAL_PROCEDURE_CODE.pattern} "
        "(the national code, with an agency code appended or not)",
        received=", ".join(bad),
    )
    person_judges(p111_driver, why=LIST_WHY, attach=LIST_ATTACH)
