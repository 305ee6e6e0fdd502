"""The reference system's dossiers: codes per the national format, the lifecycle, files, transfers between agencies,
and the portal's view of them."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from harness.core.formats import format_dossier_code, format_portal_datetime
from harness.core.lifecycle import Lifecycle

CHANNELS = {"counter": "1", "online": "2", "post": "3"}
ID_KINDS = {12: "1", 9: "2"}  # LoaiDinhDanh: 12-digit citizen id, 9-digit old id


def is_id_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) in ID_KINDS


@dataclass(frozen=True)
class Agency:
    code: str
    name: str


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    component: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "sha256": self.sha256, "url": f"/api/files/{self.id}"}


@dataclass
class Step:
    status: str
    at: datetime
    actor: str
    action: str
    actor_kind: str  # citizen | officer
    agency: Agency  # the agency handling the dossier at that step
    subject: str = ""  # the authenticated account (TechID) that made the step
    assurance: str = ""  # its level of assurance (loAs)


@dataclass(frozen=True)
class Transfer:
    source: Agency
    destination: Agency
    at: datetime
    files: tuple[StoredFile, ...]  # what the receiving agency gets, as electronic documents


@dataclass
class Payment:
    """One payment transaction of a dossier at the portal's payment platform."""

    reference: str  # MaThamChieu
    dossier_code: str
    amount: int  # VND, the sum of the procedure's fees
    url: str | None = None  # UrlThanhToan, once the platform accepted the INIT
    state: str = "pending"  # pending | paid | failed
    credited: int = 0  # what confirms have credited; more than `amount` is a double credit
    init_error: str = ""  # the platform's MaLoi when it refused the INIT (the transaction stays pending)

    def public(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "amount": self.amount,
            "state": self.state,
            "credited": self.credited,
            "url": self.url,
        }


# HinhThucThu [inferred]: how a fee was collected; 2 = online through the portal's payment platform, "" = not yet.
COLLECTED_ONLINE = "2"


@dataclass
class Dossier:
    code: str
    service: dict[str, Any]
    channel: str
    applicant_name: str
    applicant_id_number: str
    summary: str
    submitted_at: datetime
    due_at: datetime
    agency: Agency  # the agency handling it now
    files: tuple[StoredFile, ...] = ()
    owner: str = ""  # the applicant's account (TechID) from the sign-on
    owner_vneid: bool = False  # the applicant signed on through VNeID with IAL >= 1
    status: str = "1"
    received_at: datetime | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    refused_at: datetime | None = None
    resume_status: str | None = None
    history: list[Step] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def paid_online(self) -> bool:
        return any(p.state == "paid" for p in self.payments)

    def public(self) -> dict[str, Any]:
        """The reference API's own view (ISO 8601 times; no citizen id number)."""
        return {
            "code": self.code,
            "procedure_code": self.service["code"],
            "procedure_name": self.service["name"],
            "agency_code": self.service["agency_code"],
            "current_agency_code": self.agency.code,
            "channel": self.channel,
            "status": self.status,
            "applicant": {"name": self.applicant_name},
            "summary": self.summary,
            "submitted_at": _iso(self.submitted_at),
            "received_at": _iso(self.received_at),
            "due_at": _iso(self.due_at),
            "finished_at": _iso(self.finished_at),
            "returned_at": _iso(self.returned_at),
            "files": [f.public() for f in self.files],
            "history": [
                {
                    "status": s.status,
                    "at": _iso(s.at),
                    "actor": s.actor,
                    "action": s.action,
                    "agency_code": s.agency.code,
                    "subject": s.subject or None,
                    "assurance": s.assurance or None,
                }
                for s in self.history
            ],
            "transfers": [
                {"from": t.source.code, "to": t.destination.code, "at": _iso(t.at), "method": "electronic"}
                for t in self.transfers
            ],
            "paid_online": self.paid_online,
            "payments": [p.public() for p in self.payments],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class CodeBook:
    """Daily sequences per agency: `{agency}-{yyMMdd}-{nnnn}` (domain.md section 2)."""

    def __init__(self, *, malformed: bool = False, descending: bool = False) -> None:
        self._last: dict[tuple[str, date], int] = defaultdict(int)
        self._malformed = malformed
        self._descending = descending  # a defect: unique codes whose sequence counts down

    def next_code(self, agency: str, day: date) -> str:
        self._last[(agency, day)] += 1
        sequence = 9999 - self._last[(agency, day)] if self._descending else self._last[(agency, day)]
        if self._malformed:
            return f"{agency}-{day:%Y%m%d}-{sequence:04d}"
        return format_dossier_code(agency, day, sequence)


def apply(
    dossier: Dossier,
    action: str,
    lifecycle: Lifecycle,
    actor: str,
    now: datetime,
    *,
    guarded: bool,
    to_agency: Agency | None = None,
    subject: str = "",
    assurance: str = "",
) -> bool:
    """Moves the dossier by `action`; False (and nothing changed) when the lifecycle forbids it and `guarded`."""
    target = lifecycle.actions[action].to
    resuming = target == "resume"
    if resuming:
        target = dossier.resume_status or "2"
    # Supplying a supplement resumes handling only where one was asked for (status 5).
    if guarded and (not lifecycle.allows(dossier.status, target) or resuming and dossier.status != "5"):
        return False
    if target == "5":
        dossier.resume_status = dossier.status if dossier.status in ("2", "4", "6") else "2"
    if target == "2" and dossier.received_at is None:
        dossier.received_at = now
    if target == "3":
        dossier.refused_at = now
    if target == "9":
        dossier.finished_at = now
    if target == "10":
        dossier.returned_at = now
    if action == "transfer" and to_agency is not None:
        dossier.transfers.append(Transfer(dossier.agency, to_agency, now, dossier.files))
        dossier.agency = to_agency
    dossier.status = target
    kind = lifecycle.actions[action].actor
    dossier.history.append(Step(target, now, actor, action, kind, dossier.agency, subject, assurance))
    return True


def due_date(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


def portal_time(moment: datetime | None, date_format: str | None = None) -> str:
    """The portal's `yyyyMMddHHmmss`, or "" for a moment that has not happened; `date_format` serves a defect."""
    if moment is None:
        return ""
    return moment.strftime(date_format) if date_format else format_portal_datetime(moment)


def portal_dossier(dossier: Dossier, date_format: str | None = None) -> dict[str, Any]:
    """The dossier as the portal's `HoSoDongBoDVC`: every value a string, nothing-to-say as ""."""
    service = dossier.service
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": service["code"],
        "TenTTHC": service["name"],
        "MaLinhVuc": service["field_code"],
        "TenLinhVuc": service["field_name"],
        "KenhThucHien": CHANNELS[dossier.channel],
        "ChuHoSo": dossier.applicant_name,
        "SoGiayToChuHoSo": dossier.applicant_id_number,
        "LoaiDoiTuong": "1",
        "MaDoiTuong": dossier.owner if dossier.channel == "online" else "",
        "ThongTinKhac": "",
        "Email": "",
        "Fax": "",
        "SoDienThoai": "",
        "TrichYeuHoSo": dossier.summary,
        "NgayTiepNhan": portal_time(dossier.received_at, date_format),
        "NgayHenTra": portal_time(dossier.due_at, date_format),
        "TrangThaiHoSo": dossier.status,
        "NgayTra": portal_time(dossier.returned_at, date_format),
        "ThongTinTra": "",
        "HinhThuc": "0",
        "NgayKetThucXuLy": portal_time(dossier.finished_at, date_format),
        "DonViXuLy": dossier.history[-1].agency.name if dossier.history else dossier.agency.name,
        "GhiChu": "",
        "NgayTuChoi": portal_time(dossier.refused_at, date_format),
        "NgayNopHoSo": portal_time(dossier.submitted_at, date_format),
        "NoiNopHoSo": "1" if dossier.channel == "online" else "0",
        "HoSoCoThanhPhanSoHoa": "1" if dossier.files else "0",
        "TaiKhoanDuocXacThucVoiVNeID": "1" if dossier.owner_vneid else "0",
        "DuocThanhToanTrucTuyen": "1" if dossier.paid_online else "0",
        "TaiLieuNop": [_portal_file(f) for f in dossier.files],
        "DanhSachLePhi": [_portal_fee(fee, dossier.paid_online) for fee in service.get("fees", [])],
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
        "DinhDanhCHS": [
            {"LoaiDinhDanh": ID_KINDS[len(dossier.applicant_id_number)], "SoDinhDanh": dossier.applicant_id_number}
        ],
        "DSKetNoiCSDL": [],
    }


def _portal_file(f: StoredFile) -> dict[str, str]:
    """A submitted file as the portal's `TaiLieuNop` item: digitised, not reused, not from the national store."""
    return {
        "TepDinhKemId": f.id,
        "TenTepDinhKem": f.name,
        "IsDeleted": "False",
        "MaThanhPhanHoSo": f.component,
        "DuongDanTaiTepTin": f"/api/files/{f.id}",
        "DuocSoHoa": "1",
        "DuocTaiSuDung": "0",
        "DuocLayTuKhoDMQG": "0",
        "MaKetQuaThayThe": "",
    }


def _portal_fee(fee: dict[str, Any], paid_online: bool) -> dict[str, str]:
    """A service's fee as the portal's `DanhSachLePhi` item, collected online once paid so."""
    return {
        "TenPhiLePhi": fee["TenPhiLePhi"],
        "MaPhiLePhi": fee["MaPhiLePhi"],
        "HinhThucThu": COLLECTED_ONLINE if paid_online else "",
        "Gia": str(fee["SoTien"]),
        "LoaiPhiLePhi": fee["LoaiPhiLePhi"],
    }


def portal_progress(
    dossier: Dossier, step: Step, lifecycle: Lifecycle, date_format: str | None = None
) -> dict[str, Any]:
    """One progress record (`CapNhatTienDoHoSoMC`) for a step the dossier took. `DonViXuLy` is an extra field the
    portal accepts (domain.md section 8): the agency that handled the step."""
    return {
        "MaHoSo": dossier.code,
        "NguoiXuLy": step.actor,
        "ChucDanh": "Công dân" if step.actor_kind == "citizen" else "Cán bộ một cửa",
        "ThoiDiemXuLy": portal_time(step.at, date_format),
        "PhongBanXuLy": step.agency.name,
        "NoiDungXuLy": lifecycle.statuses[step.status][0],
        "TrangThai": step.status,
        "NgayBatDau": portal_time(dossier.received_at or dossier.submitted_at, date_format),
        "NgayKetThucTheoQuyDinh": portal_time(dossier.due_at, date_format),
        "DonViXuLy": step.agency.name,
    }
