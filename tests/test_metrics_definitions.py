"""Each metric definition on a hand-made dataset with hand-computed figures, and the catalog's thresholds per year."""

from __future__ import annotations

import pytest

from harness.config.target import Agency
from harness.core.verdicts import Verdict
from harness.metrics import evaluate, load_rows, requirement_verdicts
from harness.metrics.definitions import load_definitions
from harness.metrics.results import judge, percent

PROVINCE, COMMUNE = "000.00.06.H40", "000.21.40.H40"
AGENCIES = [Agency(PROVINCE, "Sở Tư pháp", "province"), Agency(COMMUNE, "UBND xã", "commune")]


def dossier(agency: str, seq: int, **fields):
    row = {"MaHoSo": f"{agency}-230301-{seq:04d}", "MaTTHC": "1.000001", "TenTTHC": "Thủ tục", "ChuHoSo": "An",
           "TrangThaiHoSo": "4", "KenhThucHien": "1", "NgayTiepNhan": "20230301080000"}
    row.update(fields)
    return row


def linked(*links):
    return [{"DuongDanTepTinKetQua": link} for link in links]


DOSSIERS = [
    # province: 2 finished with results, 1 digitised (the other has one result without a file)
    dossier(PROVINCE, 1, TrangThaiHoSo="10", DanhSachGiayToKetQua=linked("https://x/1.pdf"), KenhThucHien="2",
            DanhSachLePhi=[{"Gia": "50000"}], DuocThanhToanTrucTuyen="1"),
    dossier(PROVINCE, 2, TrangThaiHoSo="9", DanhSachGiayToKetQua=linked("https://x/2.pdf", ""), KenhThucHien="2",
            MaTTHC="1.000002", DanhSachLePhi=[{"Gia": 20000}], DuocThanhToanTrucTuyen="0"),
    dossier(PROVINCE, 3, DanhSachLePhi=[{"Gia": "0"}]),  # fees all 0: not fee-bearing; unfinished: no result
    # commune: 1 finished, digitised; one of the year before (by NgayTiepNhan) that must not count
    dossier(COMMUNE, 4, TrangThaiHoSo="10", DanhSachGiayToKetQua=linked("https://x/4.pdf"), MaTTHC="1.000003",
            DanhSachLePhi=[{"Gia": "15000"}], DuocThanhToanTrucTuyen="2"),
    dossier(COMMUNE, 5, NgayTiepNhan="20221231080000", KenhThucHien="2"),
    # an agency not in the registry: counted province-wide, at no level
    dossier("000.99.99.H40", 6, TrangThaiHoSo="10", DanhSachGiayToKetQua=linked("")),
]
PROCEDURES = [
    {"MaTTHC": "1.000001", "online_level": "toàn trình", "eligible_online": True, "published_on": "2022-01-01",
     "portal_listed_on": "2022-02-01"},
    {"MaTTHC": "1.000002", "online_level": "3", "eligible_online": True, "published_on": "2023-05-01",
     "portal_listed_on": None},
    {"MaTTHC": "1.000003", "online_level": "2", "eligible_online": True, "published_on": "2022-01-01"},
    {"MaTTHC": "1.000004", "online_level": "4", "eligible_online": False, "published_on": "2024-01-01"},
]
TRANSACTIONS = [
    {"id": "t1", "at": "20230301080000", "action": "create", "subject": "u1", "assurance": "LoA2"},
    {"id": "t2", "at": "20230301090000", "action": "transfer", "MaHoSo": f"{PROVINCE}-230301-0001",
     "transfer_method": "electronic", "subject": "u2", "assurance": "LoA2"},
    {"id": "t3", "at": "20230302090000", "action": "transfer", "MaHoSo": f"{PROVINCE}-230301-0002",
     "transfer_method": "electronic", "subject": "u2", "assurance": ""},
    {"id": "t4", "at": "20230303090000", "action": "transfer", "MaHoSo": f"{PROVINCE}-230301-0002",
     "transfer_method": "paper", "subject": "u2", "assurance": "LoA1"},
    {"id": "t5", "at": "20220303090000", "action": "update", "subject": None},  # the year before
]


@pytest.fixture(scope="module", params=["duckdb", "oracle"])
def results(request):
    datasets = load_rows(dossiers=DOSSIERS, procedures=PROCEDURES, transactions=TRANSACTIONS)
    assert datasets.bad_rows == []
    found = evaluate(datasets, year=2023, agencies=AGENCIES, engine=request.param)
    return {(r.definition, r.level): r for r in found}


def figures(results, definition, level="all"):
    r = results[(definition, level)]
    return r.numerator, r.denominator, r.ratio, r.sample


def test_hand_computed_figures(results):
    p2 = f"{PROVINCE}-230301-0002"
    assert figures(results, "digitisation.results-by-level", "province") == (1, 2, 50.0, (p2,))
    assert figures(results, "digitisation.results-by-level", "commune") == (1, 1, 100.0, ())
    assert figures(results, "digitisation.results-by-level", "district") == (0, 0, None, ())
    assert "1 đơn vị không rõ cấp" in results[("digitisation.results-by-level", "province")].reason
    assert figures(results, "payment.per-dossier") == (2, 3, 66.67, (p2,))
    assert figures(results, "payment.per-procedure") == (2, 3, 66.67, ("1.000002",))
    # 5 dossiers of 2023; 2 online, of procedures the catalog lists as online
    assert figures(results, "online-dossiers.online-share")[:3] == (2, 5, 40.0)
    assert figures(results, "transfer.electronic-share") == (1, 2, 50.0, (p2,))
    assert figures(results, "auth.authenticated-transactions") == (3, 4, 75.0, ("t3",))
    # online procedures published by 2023-12-31: 1.000001 (listed), 1.000002 (not listed); 1.000004 published 2024
    assert figures(results, "portal.integrated-on-publication") == (1, 2, 50.0, ("1.000002",))
    # eligible and published by the end of 2023: 1, 2, 3; offered online and listed: 1 only
    assert figures(results, "online-services.eligible-offered") == (1, 3, 33.33, ("1.000002", "1.000003"))


def test_thresholds_come_from_the_catalog_per_year_and_level(results):
    province = results[("digitisation.results-by-level", "province")]
    assert (province.threshold, province.verdict) == (70.0, Verdict.FAILED)
    commune = results[("digitisation.results-by-level", "commune")]
    assert (commune.threshold, commune.verdict) == (55.0, Verdict.PASSED)
    transfer = results[("transfer.electronic-share", "all")]
    assert transfer.threshold is None and transfer.verdict == Verdict.NOT_APPLICABLE  # "by 2025": none in 2023


def test_payment_shows_both_readings_and_the_catalog_names_the_one_that_decides(results):
    per_procedure = results[("payment.per-procedure", "all")]
    per_dossier = results[("payment.per-dossier", "all")]
    assert (per_procedure.reading, per_procedure.decides) == ("per-procedure", True)
    assert (per_dossier.reading, per_dossier.decides) == ("per-dossier", False)


def test_2025_thresholds_and_the_requirement_verdicts():
    datasets = load_rows(dossiers=DOSSIERS, procedures=PROCEDURES, transactions=TRANSACTIONS)
    found = evaluate(datasets, year=2025, agencies=AGENCIES)
    assert {r.threshold for r in found if r.definition == "digitisation.results-by-level"} == {100.0, 95.0}
    verdicts = requirement_verdicts(found)
    assert verdicts["P111-KPI-PORTAL"] == Verdict.FAILED  # 1 of 2 online services on the portal, target 100%


def test_missing_data_makes_the_metric_not_tested():
    found = evaluate(load_rows(dossiers=DOSSIERS), year=2023)
    by_definition = {r.definition: r for r in found}
    assert by_definition["auth.authenticated-transactions"].verdict == Verdict.NOT_TESTED
    assert "nhật ký giao dịch" in by_definition["auth.authenticated-transactions"].reason
    assert by_definition["digitisation.results-by-level"].verdict == Verdict.NOT_TESTED  # no agency registry


def test_exact_boundary_and_rounding():
    assert judge(55, 100, 55.0)[0] == Verdict.PASSED
    assert judge(54, 100, 55.0)[0] == Verdict.FAILED
    assert judge(549, 1000, 55.0)[0] == Verdict.FAILED
    assert percent(2, 3) == 66.67 and percent(1, 8) == 12.5 and percent(1, 0) is None


def test_every_definition_cites_a_catalog_requirement_and_quote():
    definitions = load_definitions()
    assert len(definitions.requirements) == 7
    for item in definitions.items:
        assert item.quote_vi() and item.numerator.vi and item.denominator.en
