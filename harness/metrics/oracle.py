"""A small, readable pure-Python measurement of every metric: the test oracle the DuckDB engine must agree with.

One loop per kind of data, one small function per rule. The rules are the ones of data/metrics.yaml; the engine
(harness.metrics.engine) writes the same rules in SQL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from harness.metrics.datasets import Datasets
from harness.metrics.results import ALL, AgencyCounts, Measurements, Tally, level_map

Row = Mapping[str, Any]
ONLINE_LEVELS = {"toan-trinh": "toan-trinh", "toàn trình": "toan-trinh", "4": "toan-trinh",
                 "mot-phan": "mot-phan", "một phần": "mot-phan", "3": "mot-phan"}
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")

NEEDS_MISSING = {
    "dossiers": "không có dữ liệu hồ sơ đồng bộ / no synced dossiers given",
    "procedures": "không có danh mục TTHC / no procedure catalog given",
    "agencies": "không có sổ đăng ký cơ quan (mã → cấp) / no agency registry (code → level) given",
    "transactions": "không có nhật ký giao dịch / no transaction log given",
}


# --------------------------------------------------------------------------------------------------- per-row rules


def text(value: Any) -> str:
    """A field as text with spaces trimmed; None → ''."""
    return "" if value is None else str(value).strip(" ")


def dossier_year(row: Row) -> int:
    received = row.get("NgayTiepNhan")
    if isinstance(received, str) and len(received) == 14:
        return int(received[:4])
    return 2000 + int(row["MaHoSo"].split("-")[1][:2])


def agency_of(row: Row) -> str:
    return str(row["MaHoSo"]).split("-")[0]


def national_code(procedure_code: str) -> str:
    return procedure_code[:8]


def fee_positive(value: Any) -> bool:
    """A fee counts when its amount, as text, is a plain decimal number above 0 ("150000", 150000, "12.5")."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return value > 0
    amount = str(value).strip(" ")
    return bool(_PLAIN_NUMBER.fullmatch(amount)) and float(amount) > 0


def fee_bearing(row: Row) -> bool:
    return any(fee_positive(fee.get("Gia")) for fee in (row.get("DanhSachLePhi") or []))


def paid_online(row: Row) -> bool:
    return text(row.get("DuocThanhToanTrucTuyen")) in ("1", "2")


def finished_with_result(row: Row) -> bool:
    return text(row.get("TrangThaiHoSo")) in ("9", "10") and bool(row.get("DanhSachGiayToKetQua"))


def results_digitised(row: Row) -> bool:
    return all(text(doc.get("DuongDanTepTinKetQua")) != "" for doc in row.get("DanhSachGiayToKetQua") or [])


def on_time(row: Row) -> tuple[bool, bool]:
    """(counted, on time): finished dossiers with both dates; more than one supplement request counts as overdue."""
    finished, promised = text(row.get("NgayKetThucXuLy")), text(row.get("NgayHenTra"))
    if text(row.get("TrangThaiHoSo")) not in ("9", "10") or len(finished) != 14 or len(promised) != 14:
        return False, False
    return True, finished <= promised and len(row.get("DanhSachHoSoBoSung") or []) <= 1


def reused(row: Row) -> bool:
    return any(text(item.get("DuocTaiSuDung")) in ("1", "true", "True") for item in row.get("TaiLieuNop") or [])


def online_level(procedure: Row) -> str | None:
    return ONLINE_LEVELS.get(text(procedure.get("online_level")))


def by_end_of(day: Any, year: int) -> bool:
    return text(day) != "" and text(day) <= f"{year}-12-31"


# ------------------------------------------------------------------------------------------------------ measuring


def measure(datasets: Datasets, *, year: int, levels: Mapping[str, str] | None = None) -> Measurements:
    """Every tally of `year`; `levels` (agency code → level) overrides the registry in `datasets`."""
    registry = dict(levels) if levels is not None else level_map(datasets.rows("agencies"))
    have_registry = levels is not None or datasets.has("agencies")
    procedures = list(datasets.rows("procedures"))
    result = Measurements(year=year, levels=registry)
    _missing(result, datasets, have_registry)
    catalog_online: dict[str, bool] = defaultdict(bool)
    for procedure in procedures:
        catalog_online[national_code(procedure["MaTTHC"])] |= online_level(procedure) is not None
    dossiers = list(datasets.rows("dossiers"))
    result.rows_read = {"dossiers": len(dossiers), "procedures": len(procedures),
                        "transactions": 0, "agencies": len(registry)}
    _dossiers(result, (d for d in dossiers if dossier_year(d) == year), registry, have_registry, catalog_online)
    _procedures(result, procedures, year)
    transactions = list(datasets.rows("transactions"))
    result.rows_read["transactions"] = len(transactions)
    _transactions(result, (t for t in transactions if t["at"][:4] == str(year)))
    tallies_for_all_levels(result)
    return result


def _missing(result: Measurements, datasets: Datasets, have_registry: bool) -> None:
    from harness.metrics.definitions import load_definitions

    for definition in load_definitions().items:
        for need in definition.needs:
            present = have_registry if need == "agencies" else datasets.has(need)
            if not present:
                result.missing[definition.id] = NEEDS_MISSING[need]
                break


def _count(tally: Tally, counts: bool, code: str) -> None:
    tally.denominator += 1
    if counts:
        tally.numerator += 1
    else:
        tally.against.append(code)


def _dossiers(
    result: Measurements, dossiers: Iterable[Row], registry: Mapping[str, str], have_registry: bool,
    catalog_online: Mapping[str, bool],
) -> None:
    per_agency: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    fee_procs: dict[str, dict[str, bool]] = defaultdict(dict)  # agency -> procedure -> paid online at least once
    procs: dict[str, dict[str, bool]] = defaultdict(dict)  # agency -> procedure -> uses population data once
    for row in dossiers:
        code, agency, procedure = row["MaHoSo"], agency_of(row), national_code(row["MaTTHC"])
        counts = per_agency[agency]
        counts["received"] += 1
        online = text(row.get("KenhThucHien")) == "2"
        counts["online"] += online
        # A dossier counts as online unless the catalog lists its procedure and not as online at level 3 or 4.
        _count(result.tally("online-dossiers.online-share"), online and catalog_online.get(procedure, True), code)
        counted, timely = on_time(row)
        counts["finished_dated"] += counted
        counts["on_time"] += timely
        if fee_bearing(row):
            paid = paid_online(row)
            counts["fee_dossiers"] += 1
            counts["fee_paid_online"] += paid
            _count(result.tally("payment.per-dossier"), paid, code)
            fee_procs[agency][procedure] = fee_procs[agency].get(procedure, False) or paid
        if finished_with_result(row):
            digitised = results_digitised(row)
            counts["finished_with_result"] += 1
            counts["digitised_results"] += digitised
            level = registry.get(agency)
            if level is None:
                result.unclassified["digitisation.results-by-level"] = (
                    result.unclassified.get("digitisation.results-by-level", 0) + 1
                )
            elif have_registry:
                _count(result.tally("digitisation.results-by-level", level), digitised, code)
        counts["digitised_components"] += text(row.get("HoSoCoThanhPhanSoHoa")) == "1"
        counts["reused"] += reused(row)
        population = bool(row.get("DSKetNoiCSDL"))
        counts["population_data"] += population
        procs[agency][procedure] = procs[agency].get(procedure, False) or population
    # Per procedure, province-wide: a procedure is paid online when any of its fee-bearing dossiers was.
    province_fee: dict[str, bool] = {}
    for agency_procs in fee_procs.values():
        for procedure, paid in agency_procs.items():
            province_fee[procedure] = province_fee.get(procedure, False) or paid
    tally = result.tally("payment.per-procedure")
    for procedure, paid in province_fee.items():
        _count(tally, paid, procedure)
    for agency, counts in per_agency.items():
        result.agencies[agency] = AgencyCounts(
            agency=agency,
            fee_procedures=len(fee_procs[agency]),
            fee_procedures_paid=sum(fee_procs[agency].values()),
            procedures=len(procs[agency]),
            procedures_population=sum(procs[agency].values()),
            **counts,
        )


def _procedures(result: Measurements, procedures: Iterable[Row], year: int) -> None:
    portal, offered = result.tally("portal.integrated-on-publication"), result.tally("online-services.eligible-offered")
    for procedure in procedures:
        code, online = procedure["MaTTHC"], online_level(procedure) is not None
        listed = by_end_of(procedure.get("portal_listed_on"), year)
        published = procedure.get("published_on")
        if online and by_end_of(published, year):
            _count(portal, listed, code)
        if procedure.get("eligible_online") is True and (text(published) == "" or by_end_of(published, year)):
            _count(offered, online and listed, code)


def _transactions(result: Measurements, transactions: Iterable[Row]) -> None:
    auth = result.tally("auth.authenticated-transactions")
    paper: dict[str, bool] = {}  # dossier -> moved on paper at least once
    for row in transactions:
        _count(auth, text(row.get("subject")) != "" and text(row.get("assurance")) != "", str(row["id"]))
        if row["action"] == "transfer":
            dossier = str(row["MaHoSo"])
            paper[dossier] = paper.get(dossier, False) or row["transfer_method"] != "electronic"
    transfer = result.tally("transfer.electronic-share")
    for dossier, on_paper in paper.items():
        _count(transfer, not on_paper, dossier)


def tallies_for_all_levels(result: Measurements) -> None:
    """Make sure every (definition, level) pair exists, so engine and oracle compare like with like."""
    from harness.core.catalog import LEVELS
    from harness.metrics.definitions import load_definitions

    for definition in load_definitions().items:
        for level in (LEVELS if definition.by_level else (ALL,)):
            result.tally(definition.id, level)
