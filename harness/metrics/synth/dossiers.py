"""The synced dossiers, in two passes: pass 1 plans each dossier's agency, procedure and candidacy and the exact size
of every set a target is a share of; pass 2 decides each dossier's facts by exact selection and writes it."""

from __future__ import annotations

import json
import random
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from harness.core.catalog import LEVELS
from harness.metrics.synth.figures import (
    AGENCIES,
    AGENCY_WEIGHTS,
    KEYS,
    USED_PROCEDURES,
    SynthError,
    count,
    days_of,
    exact_split,
    select_exactly,
)


@dataclass
class _Plan:
    """Pass 1: each dossier's agency, procedure and candidacy, cheap and compact, and the exact size of every set a
    target is a share of."""

    n: int
    agency_of: array
    procedure_of: array
    in_year: array  # in the year's denominators at all
    finished_candidate: array
    transfer_candidate: array
    den_online: int
    num_online: int
    never_paid: set[int]  # fee-bearing procedures whose dossiers are never paid online
    fee_counted: array  # in payment.per-dossier's denominator
    payable: int
    num_fee: int
    level_of_agency: list[str]
    finished_by_level: dict[str, int]
    splits: dict[str, tuple[int, int]]  # digitisation: (denominator, numerator) per level
    transfers: int
    den_transfer: int
    num_transfer: int


def plan_sets(n: int, targets: Mapping[str, float], rng: random.Random) -> _Plan:
    agency_of = array("B", rng.choices(range(len(AGENCIES)), weights=AGENCY_WEIGHTS, k=n))
    procedure_of = array("B", (rng.randrange(USED_PROCEDURES) for _ in range(n)))
    den_online, num_online = exact_split(n, targets["online-dossiers"])
    in_year = array("B", select_exactly(n, den_online, rng))
    finished_candidate = array("B", (rng.random() < 0.8 for _ in range(n)))
    transfer_candidate = array("B", (rng.random() < 0.25 for _ in range(n)))
    never_paid, fee_counted, payable, num_fee = _plan_fees(n, in_year, procedure_of, targets, rng)
    level_of_agency = [AGENCIES[a][2] for a in range(len(AGENCIES))]
    finished_by_level = {level: 0 for level in LEVELS}
    for i in range(n):
        if in_year[i] and finished_candidate[i]:
            finished_by_level[level_of_agency[agency_of[i]]] += 1
    splits = {level: exact_split(finished_by_level[level], targets[f"digitisation@{level}"]) for level in LEVELS}
    transfers = sum(1 for i in range(n) if in_year[i] and transfer_candidate[i])
    den_transfer, num_transfer = exact_split(transfers, targets["transfer"])
    return _Plan(n, agency_of, procedure_of, in_year, finished_candidate, transfer_candidate, den_online, num_online,
                 never_paid, fee_counted, payable, num_fee, level_of_agency, finished_by_level, splits, transfers,
                 den_transfer, num_transfer)


def _plan_fees(
    n: int, in_year: array, procedure_of: array, targets: Mapping[str, float], rng: random.Random
) -> tuple[set[int], array, int, int]:
    """Fee-bearing procedures whose dossiers are never paid online set the per-procedure reading; the per-dossier
    reading counts the in-year dossiers of fee-bearing procedures, of which `payable` can be paid."""
    fee_bearing_procedures = list(range(0, USED_PROCEDURES, 2))
    den_procedures, num_procedures = exact_split(len(fee_bearing_procedures), targets["payment.per-procedure"])
    if den_procedures != len(fee_bearing_procedures):
        raise SynthError(f"payment.per-procedure {targets['payment.per-procedure']}% is not a share of "
                         f"{len(fee_bearing_procedures)} fee-bearing procedures")
    never_paid = set(fee_bearing_procedures[: den_procedures - num_procedures])
    fee_candidates = sum(1 for i in range(n) if in_year[i] and procedure_of[i] % 2 == 0)
    den_fee, num_fee = exact_split(fee_candidates, targets["payment.per-dossier"])
    fee_in = select_exactly(fee_candidates, den_fee, rng)
    fee_counted = array("B", (bool(in_year[i] and procedure_of[i] % 2 == 0 and next(fee_in)) for i in range(n)))
    payable = sum(1 for i in range(n) if fee_counted[i] and procedure_of[i] not in never_paid)
    if num_fee > payable:
        raise SynthError(f"payment.per-dossier {targets['payment.per-dossier']}% needs {num_fee} payable dossiers")
    return never_paid, fee_counted, payable, num_fee


@dataclass
class _Choices:
    """Pass 2's exact selections within each set, drawn as the dossiers are written."""

    online: Iterator[bool]
    fee_paid: Iterator[bool]  # among payable dossiers; non-payable ones are never paid
    level_in: dict[str, Iterator[bool]]
    level_ok: dict[str, Iterator[bool]]
    transfer_in: Iterator[bool]
    transfer_ok: Iterator[bool]


@dataclass
class _Written:
    """What pass 2 decided that the transaction log and the figures need."""

    tx_count: array
    transfer_kind: array  # 0 none, 1 electronic, 2 paper
    paid_flags: array
    days: list[date]
    previous_days: list[date]
    tally: dict[tuple[str, str], list[int]]


def write_dossiers(path: Path, plan: _Plan, year: int, rng: random.Random, progress: bool) -> _Written:
    """Pass 2: decide each dossier's facts by exact selection within each set, and write it."""
    n, splits = plan.n, plan.splits
    chosen = _Choices(
        select_exactly(plan.den_online, plan.num_online, rng),
        select_exactly(plan.payable, plan.num_fee, rng),
        {level: select_exactly(plan.finished_by_level[level], splits[level][0], rng) for level in LEVELS},
        {level: select_exactly(splits[level][0], splits[level][1], rng) for level in LEVELS},
        select_exactly(plan.transfers, plan.den_transfer, rng),
        select_exactly(plan.den_transfer, plan.num_transfer, rng),
    )
    written = _Written(array("B", bytes(n)), array("B", bytes(n)), array("B", bytes(n)), days_of(year),
                       days_of(year - 1), _empty_tally())
    fee_procedures: dict[int, bool] = {}
    bar = _bar(progress, n, "dossiers")
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            agency, procedure = AGENCIES[plan.agency_of[i]][0], plan.procedure_of[i]
            day_list = written.days if plan.in_year[i] else written.previous_days
            day = day_list[i * len(day_list) // n]
            code = f"{agency}-{day:%y%m%d}-{i % 100000:05d}"
            online, fee_bearing, paid, finished, digitised, moved = _decide(i, plan, chosen, written.tally,
                                                                            fee_procedures)
            written.transfer_kind[i], written.paid_flags[i] = moved, paid
            written.tx_count[i] = 2 + (moved != 0) + paid
            out.write(_dossier_line(code, procedure, day, online, fee_bearing, paid, finished, digitised, rng))
            if bar is not None and i % 10000 == 9999:
                bar.update(10000)
    if bar is not None:
        bar.close()
    _check_payable(chosen.fee_paid)
    written.tally[("payment.per-procedure", "all")] = [sum(fee_procedures.values()), len(fee_procedures)]
    return written


def _empty_tally() -> dict[tuple[str, str], list[int]]:
    """(numerator, denominator) of every figure the dossiers and transactions set, from zero."""
    measured_here = [key for key in KEYS.values() if key[0] not in (
        "portal.integrated-on-publication", "online-services.eligible-offered")]
    tally: dict[tuple[str, str], list[int]] = {key: [0, 0] for key in measured_here}
    tally[("payment.per-procedure", "all")] = [0, 0]
    return tally


def _decide(
    i: int, plan: _Plan, chosen: _Choices, tally: dict[tuple[str, str], list[int]], fee_procedures: dict[int, bool]
) -> tuple[bool, bool, bool, bool, bool, int]:
    """Dossier i's facts (online, fee-bearing, paid, finished, digitised, moved: 0 none, 1 electronic, 2 paper),
    each counted in the figures it belongs to."""
    procedure, level = plan.procedure_of[i], plan.level_of_agency[plan.agency_of[i]]
    current = bool(plan.in_year[i])
    online = current and next(chosen.online)
    if current:
        count(tally, ("online-dossiers.online-share", "all"), online)
    fee_bearing = procedure % 2 == 0
    paid = False
    if current and fee_bearing:
        counted = bool(plan.fee_counted[i])
        fee_bearing = counted  # a dossier dropped out of the denominator has fees of 0
        if counted:
            paid = procedure not in plan.never_paid and next(chosen.fee_paid)
            count(tally, ("payment.per-dossier", "all"), paid)
            fee_procedures[procedure] = fee_procedures.get(procedure, False) or paid
    finished = digitised = False
    if current and plan.finished_candidate[i]:
        finished = next(chosen.level_in[level])
        if finished:
            digitised = next(chosen.level_ok[level])
            count(tally, ("digitisation.results-by-level", level), digitised)
    elif not current:
        finished, digitised = plan.finished_candidate[i] == 1, True
    moved = 0
    if current and plan.transfer_candidate[i] and next(chosen.transfer_in):
        moved = 1 if next(chosen.transfer_ok) else 2
        count(tally, ("transfer.electronic-share", "all"), moved == 1)
    return online, fee_bearing, paid, finished, digitised, moved


def _check_payable(remaining: Iterator[bool]) -> None:
    for _ in remaining:  # drain: the selection must have been used up exactly
        pass


def _bar(progress: bool, total: int, unit: str) -> Any:
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=f" {unit}", unit_scale=True, mininterval=0.5)


def _dossier_line(
    code: str, procedure: int, day: date, online: bool, fee: bool, paid: bool, finished: bool, digitised: bool,
    rng: random.Random,
) -> str:
    stamp = f"{day:%Y%m%d}0{rng.randrange(7, 10)}{rng.randrange(60):02d}00"
    due = f"{day + timedelta(days=10):%Y%m%d}170000"
    done = f"{day + timedelta(days=rng.randrange(3, 13)):%Y%m%d}100000" if finished else ""
    results = [{"TenGiayTo": "Kết quả", "MaThanhPhanHoSo": "KQ1", "GiayToId": code[-5:],
                "DuongDanTepTinKetQua": f"https://motcua.example/kq/{code}.pdf" if digitised else "",
                "MaGiayToKetQua": "KQ"}] if finished else []
    record = {
        "MaHoSo": code, "MaTTHC": f"1.{procedure + 1:06d}", "TenTTHC": f"Thủ tục số {procedure + 1}",
        "MaLinhVuc": f"LV{procedure % 7}", "KenhThucHien": "2" if online else "1", "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": "1", "NgayTiepNhan": stamp, "NgayHenTra": due, "TrangThaiHoSo": "10" if finished else "4",
        "NgayKetThucXuLy": done, "NgayTra": done, "HoSoCoThanhPhanSoHoa": "1" if rng.random() < 0.6 else "0",
        "TaiKhoanDuocXacThucVoiVNeID": "1" if online else "0", "DuocThanhToanTrucTuyen": "1" if paid else "0",
        "TaiLieuNop": [{"TepDinhKemId": "1", "TenTepDinhKem": "don.pdf", "DuocTaiSuDung": "1" if rng.random() < 0.3
                        else "0"}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP", "Gia": "50000" if fee else "0"}]
        if procedure % 2 == 0 else [],
        "DanhSachGiayToKetQua": results,
        "DSKetNoiCSDL": [{"MaCSDL": "CSDLQGDC"}] if rng.random() < 0.4 else [],
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"

