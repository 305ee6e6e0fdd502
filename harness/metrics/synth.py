"""A synthetic dossier history whose true ratios are known exactly: for demos, tests, boundary defects and benchmarks.

`write_history(path, dossiers=N, year=Y, seed=S)` writes, deterministically for a seed:
- `path`: the synced dossiers (HoSoDongBoDVC), NDJSON;
- `<stem>.agencies.json`, `<stem>.procedures.json` (JSON arrays) and `<stem>.transactions.ndjson` next to it
  (`<stem>` is `path` without its suffix: history.ndjson → history.agencies.json, …);
`to_parquet(summary)` then rewrites the dossiers and transactions as Parquet (`p111 synth --format parquet`).

Each target ratio is met exactly: a metric's denominator is made a multiple of the ratio's denominator (units that do
not fit drop out of it: a dossier left unfinished, a fee of 0, a dossier or transaction dated the year before), then
exactly ratio × denominator units count. `overrides` sets targets by metric key, e.g.
{"digitisation@commune": 54.0} or {"online-dossiers": 59.5}; `SynthSummary.ratios` has the true figures.
"""

from __future__ import annotations

import json
import random
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from harness.core.catalog import LEVELS

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
        return self.ratios[KEYS[_normal_key(key)]]

    def paths(self) -> list[Path]:
        return [self.dossiers, self.agencies, self.procedures, self.transactions]


class SynthError(ValueError):
    """A target that cannot be met exactly with the requested number of dossiers."""


def _normal_key(key: str) -> str:
    base, _, level = key.partition("@")
    base = _ALIASES.get(base, base)
    normal = f"{base}@{level}" if level else base
    if normal not in KEYS:
        raise SynthError(f"unknown synth target {key!r}; known: {', '.join(KEYS)}")
    return normal


def sidecar_paths(path: Path) -> tuple[Path, Path, Path]:
    stem = path.with_suffix("")
    return (Path(f"{stem}.agencies.json"), Path(f"{stem}.procedures.json"), Path(f"{stem}.transactions.ndjson"))


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


def _select(total: int, wanted: int, rng: random.Random) -> Iterator[bool]:
    """Exactly `wanted` of `total` items, uniformly, in one pass (Knuth's selection sampling)."""
    for seen in range(total):
        if wanted and rng.random() * (total - seen) < wanted:
            wanted -= 1
            yield True
        else:
            yield False


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def write_history(
    path: Path, *, dossiers: int, year: int, seed: int, overrides: Mapping[str, float] | None = None,
    progress: bool = False,
) -> SynthSummary:
    """Write the history and its side files; return the true figures of `year` (see module docstring)."""
    targets = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        targets[_normal_key(key)] = float(value)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    agencies_path, procedures_path, transactions_path = sidecar_paths(path)
    summary = SynthSummary(path, agencies_path, procedures_path, transactions_path, year, seed, dossiers)
    rng = random.Random(seed)
    _write_agencies(agencies_path)
    _write_procedures(procedures_path, year, targets, rng, summary)

    # Pass 1: each dossier's agency, procedure and candidacy, cheap and compact.
    n = dossiers
    agency_of = array("B", rng.choices(range(len(AGENCIES)), weights=AGENCY_WEIGHTS, k=n))
    procedure_of = array("B", (rng.randrange(USED_PROCEDURES) for _ in range(n)))
    den_online, num_online = exact_split(n, targets["online-dossiers"])
    in_year = array("B", _select(n, den_online, rng))
    finished_candidate = array("B", (rng.random() < 0.8 for _ in range(n)))
    transfer_candidate = array("B", (rng.random() < 0.25 for _ in range(n)))
    # Fee-bearing procedures whose dossiers are never paid online set the per-procedure reading.
    fee_bearing_procedures = list(range(0, USED_PROCEDURES, 2))
    den_procedures, num_procedures = exact_split(len(fee_bearing_procedures), targets["payment.per-procedure"])
    if den_procedures != len(fee_bearing_procedures):
        raise SynthError(f"payment.per-procedure {targets['payment.per-procedure']}% is not a share of "
                         f"{len(fee_bearing_procedures)} fee-bearing procedures")
    never_paid = set(fee_bearing_procedures[: den_procedures - num_procedures])
    fee_candidates = sum(1 for i in range(n) if in_year[i] and procedure_of[i] % 2 == 0)
    den_fee, num_fee = exact_split(fee_candidates, targets["payment.per-dossier"])
    fee_in = _select(fee_candidates, den_fee, rng)
    fee_counted = array("B", (bool(in_year[i] and procedure_of[i] % 2 == 0 and next(fee_in)) for i in range(n)))
    payable = sum(1 for i in range(n) if fee_counted[i] and procedure_of[i] not in never_paid)
    if num_fee > payable:
        raise SynthError(f"payment.per-dossier {targets['payment.per-dossier']}% needs {num_fee} payable dossiers")
    level_of_agency = [AGENCIES[a][2] for a in range(len(AGENCIES))]
    finished_by_level = {level: 0 for level in LEVELS}
    for i in range(n):
        if in_year[i] and finished_candidate[i]:
            finished_by_level[level_of_agency[agency_of[i]]] += 1
    splits = {level: exact_split(finished_by_level[level], targets[f"digitisation@{level}"]) for level in LEVELS}
    transfers = sum(1 for i in range(n) if in_year[i] and transfer_candidate[i])
    den_transfer, num_transfer = exact_split(transfers, targets["transfer"])

    # Pass 2: decide each dossier's facts by exact selection within each set, and write it.
    choose_online = _select(den_online, num_online, rng)
    fee_paid = _select(payable, num_fee, rng)  # among payable dossiers; non-payable ones are never paid
    level_in = {level: _select(finished_by_level[level], splits[level][0], rng) for level in LEVELS}
    level_ok = {level: _select(splits[level][0], splits[level][1], rng) for level in LEVELS}
    transfer_in = _select(transfers, den_transfer, rng)
    transfer_ok = _select(den_transfer, num_transfer, rng)
    tx_count = array("B", bytes(n))
    transfer_kind = array("B", bytes(n))  # 0 none, 1 electronic, 2 paper
    paid_flags = array("B", bytes(n))
    days, previous_days = _days(year), _days(year - 1)
    measured_here = [key for key in KEYS.values() if key[0] not in (
        "portal.integrated-on-publication", "online-services.eligible-offered")]
    tally: dict[tuple[str, str], list[int]] = {key: [0, 0] for key in measured_here}
    tally[("payment.per-procedure", "all")] = [0, 0]
    fee_procedures: dict[int, bool] = {}
    bar = _bar(progress, n, "dossiers")
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            agency, procedure = AGENCIES[agency_of[i]][0], procedure_of[i]
            level = level_of_agency[agency_of[i]]
            current = bool(in_year[i])
            day_list = days if current else previous_days
            day = day_list[i * len(day_list) // n]
            code = f"{agency}-{day:%y%m%d}-{i % 100000:05d}"
            online = current and next(choose_online)
            if current:
                _add(tally, ("online-dossiers.online-share", "all"), online)
            fee_bearing = procedure % 2 == 0
            paid = False
            if current and fee_bearing:
                counted = bool(fee_counted[i])
                fee_bearing = counted  # a dossier dropped out of the denominator has fees of 0
                if counted:
                    paid = procedure not in never_paid and next(fee_paid)
                    _add(tally, ("payment.per-dossier", "all"), paid)
                    fee_procedures[procedure] = fee_procedures.get(procedure, False) or paid
            finished = digitised = False
            if current and finished_candidate[i]:
                finished = next(level_in[level])
                if finished:
                    digitised = next(level_ok[level])
                    _add(tally, ("digitisation.results-by-level", level), digitised)
            elif not current:
                finished, digitised = finished_candidate[i] == 1, True
            moved = 0
            if current and transfer_candidate[i] and next(transfer_in):
                moved = 1 if next(transfer_ok) else 2
                _add(tally, ("transfer.electronic-share", "all"), moved == 1)
            transfer_kind[i], paid_flags[i] = moved, paid
            tx_count[i] = 2 + (moved != 0) + paid
            out.write(_dossier_line(code, procedure, day, online, fee_bearing, paid, finished, digitised, rng))
            if bar is not None and i % 10000 == 9999:
                bar.update(10000)
    if bar is not None:
        bar.close()
    _check_payable(fee_paid)
    tally[("payment.per-procedure", "all")] = [sum(fee_procedures.values()), len(fee_procedures)]
    _write_transactions(transactions_path, summary, n, year, agency_of, in_year, tx_count, transfer_kind,
                        paid_flags, days, previous_days, targets["auth"], rng, tally)
    summary.counts.update({key: (value[0], value[1]) for key, value in tally.items()})
    return summary


def to_parquet(summary: SynthSummary) -> SynthSummary:
    """Rewrite the dossiers and the transaction log as Parquet beside their NDJSON (history.parquet,
    history.transactions.parquet) and remove the NDJSON; the small agency and procedure files stay JSON. DuckDB
    infers the column types from every record (sample_size=-1), so a field that is an empty list for the first
    thousands of rows still gets its full type."""
    import duckdb

    converted = []
    for source in (summary.dossiers, summary.transactions):
        target = source.with_suffix(".parquet")
        quoted_source = str(source).replace("'", "''")
        quoted_target = str(target).replace("'", "''")
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT * FROM read_json('{quoted_source}', format='newline_delimited', sample_size=-1)) "
                f"TO '{quoted_target}' (FORMAT parquet, COMPRESSION zstd)"
            )
        source.unlink()
        converted.append(target)
    summary.dossiers, summary.transactions = converted
    return summary


def _check_payable(remaining: Iterator[bool]) -> None:
    for _ in remaining:  # drain: the selection must have been used up exactly
        pass


def _add(tally: dict[tuple[str, str], list[int]], key: tuple[str, str], counts: bool) -> None:
    tally[key][1] += 1
    tally[key][0] += counts


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


def _write_agencies(path: Path) -> None:
    rows = [{"code": code, "name": name, "level": level} for code, name, level in AGENCIES]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _write_procedures(
    path: Path, year: int, targets: Mapping[str, float], rng: random.Random, summary: SynthSummary
) -> None:
    """Two independent sets, so that both targets are exact. The procedures dossiers use are online (eligibility not
    recorded): the portal target is met by which are listed on the portal, the denominator made exact by publishing
    the rest after the year. The extra procedures are eligible with no publication date recorded: the online-services
    target is met by which are offered online and listed, the denominator made exact by publishing the rest later."""
    den_portal, num_portal = exact_split(USED_PROCEDURES, targets["portal"])
    listed = set(rng.sample(range(den_portal), num_portal))
    den_offer, num_offer = exact_split(EXTRA_PROCEDURES, targets["online-services"])
    offered = set(rng.sample(range(den_offer), num_offer))
    rows = []
    for p in range(USED_PROCEDURES):
        rows.append({
            "MaTTHC": f"1.{p + 1:06d}", "TenTTHC": f"Thủ tục số {p + 1}",
            "online_level": "toan-trinh" if p % 3 else "3",
            "fee_bearing": p % 2 == 0, "eligible_online": None,
            "published_on": f"{year - 1}-06-01" if p < den_portal else f"{year + 1}-03-01",
            "portal_listed_on": f"{year - 1}-07-01" if p in listed else None,
        })
    for e in range(EXTRA_PROCEDURES):
        rows.append({
            "MaTTHC": f"2.{e + 1:06d}", "TenTTHC": f"Thủ tục khác số {e + 1}",
            "online_level": "4" if e in offered else "2", "fee_bearing": False, "eligible_online": True,
            "published_on": None if e < den_offer else f"{year + 1}-03-01",
            "portal_listed_on": f"{year - 1}-09-01" if e in offered else None,
        })
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    summary.counts[("portal.integrated-on-publication", "all")] = (num_portal, den_portal)
    summary.counts[("online-services.eligible-offered", "all")] = (num_offer, den_offer)


def _write_transactions(
    path: Path, summary: SynthSummary, n: int, year: int, agency_of: array, in_year: array, tx_count: array,
    transfer_kind: array, paid_flags: array, days: list[date], previous_days: list[date], auth_target: float,
    rng: random.Random, tally: dict[tuple[str, str], list[int]],
) -> None:
    # Each in-year dossier has one "status" transaction; the few that must leave the year's denominator (to make it
    # exact) are status transactions dated the year before, so transfers and payments always stay in the year.
    in_year_total = sum(tx_count[i] for i in range(n) if in_year[i])
    den_auth, num_auth = exact_split(in_year_total, auth_target)
    statuses = sum(1 for i in range(n) if in_year[i])
    keep = _select(statuses, statuses - (in_year_total - den_auth), rng)
    good = _select(den_auth, num_auth, rng)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            current = bool(in_year[i])
            day_list = days if current else previous_days
            day = day_list[i * len(day_list) // n]
            code = f"{AGENCIES[agency_of[i]][0]}-{day:%y%m%d}-{i % 100000:05d}"
            actions = ["create", "status"] + (["transfer"] if transfer_kind[i] else []) + (
                ["payment"] if paid_flags[i] else [])
            for k, action in enumerate(actions):
                when, authenticated = day, True
                if current:
                    if action != "status" or next(keep):
                        authenticated = next(good)
                        _add(tally, ("auth.authenticated-transactions", "all"), authenticated)
                    else:
                        when = previous_days[-1]
                record: dict[str, Any] = {
                    "id": f"T{i:08d}-{k}", "at": f"{when:%Y%m%d}1{k}0000", "action": action, "MaHoSo": code,
                    "subject": f"user-{i % 977}" if authenticated else None,
                    "assurance": "LoA2" if authenticated else None,
                }
                if action == "transfer":
                    record["transfer_method"] = "electronic" if transfer_kind[i] == 1 else "paper"
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
                written += 1
    summary.transactions_written = written
