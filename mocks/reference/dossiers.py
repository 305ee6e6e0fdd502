"""The reference system's dossiers: codes per the national format, the lifecycle, and the portal's view of them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from harness.formats import format_dossier_code, format_portal_datetime
from harness.lifecycle import Lifecycle

CHANNELS = {"counter": "1", "online": "2", "post": "3"}
ID_KINDS = {12: "1", 9: "2"}  # LoaiDinhDanh: 12-digit citizen id, 9-digit old id


def is_id_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) in ID_KINDS


@dataclass
class Step:
    status: str
    at: datetime
    actor: str
    action: str
    actor_kind: str  # citizen | officer


@dataclass
class Dossier:
    code: str
    procedure: dict[str, Any]
    channel: str
    applicant_name: str
    applicant_id_number: str
    summary: str
    submitted_at: datetime
    due_at: datetime
    status: str = "1"
    received_at: datetime | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    refused_at: datetime | None = None
    resume_status: str | None = None
    history: list[Step] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The reference API's own view (ISO 8601 times; no citizen id number)."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "code": self.code,
            "procedure_code": self.procedure["code"],
            "procedure_name": self.procedure["name"],
            "agency_code": self.procedure["agency_code"],
            "channel": self.channel,
            "status": self.status,
            "applicant": {"name": self.applicant_name},
            "summary": self.summary,
            "submitted_at": iso(self.submitted_at),
            "received_at": iso(self.received_at),
            "due_at": iso(self.due_at),
            "finished_at": iso(self.finished_at),
            "returned_at": iso(self.returned_at),
            "history": [
                {"status": s.status, "at": iso(s.at), "actor": s.actor, "action": s.action} for s in self.history
            ],
        }


class CodeBook:
    """Daily sequences per agency: `{agency}-{yyMMdd}-{nnnn}` (domain.md section 2)."""

    def __init__(self, *, malformed: bool = False) -> None:
        self._last: dict[tuple[str, date], int] = defaultdict(int)
        self._malformed = malformed

    def next_code(self, agency: str, day: date) -> str:
        self._last[(agency, day)] += 1
        sequence = self._last[(agency, day)]
        if self._malformed:
            return f"{agency}-{day:%Y%m%d}-{sequence:04d}"
        return format_dossier_code(agency, day, sequence)


def apply(dossier: Dossier, action: str, lifecycle: Lifecycle, actor: str, now: datetime, *, guarded: bool) -> bool:
    """Moves the dossier by `action`; False (and nothing changed) when the lifecycle forbids it and `guarded`."""
    target = lifecycle.actions[action].to
    if target == "resume":
        target = dossier.resume_status or "2"
    if guarded and not lifecycle.allows(dossier.status, target):
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
    dossier.status = target
    dossier.history.append(Step(target, now, actor, action, lifecycle.actions[action].actor))
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

    procedure = dossier.procedure
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": procedure["code"],
        "TenTTHC": procedure["name"],
        "MaLinhVuc": procedure["field_code"],
        "TenLinhVuc": procedure["field_name"],
        "KenhThucHien": CHANNELS[dossier.channel],
        "ChuHoSo": dossier.applicant_name,
        "SoGiayToChuHoSo": dossier.applicant_id_number,
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "",
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
        "DonViXuLy": procedure["agency_name"],
        "GhiChu": "",
        "NgayTuChoi": portal_time(dossier.refused_at, date_format),
        "NgayNopHoSo": portal_time(dossier.submitted_at, date_format),
        "NoiNopHoSo": "1" if dossier.channel == "online" else "0",
        "HoSoCoThanhPhanSoHoa": "0",
        "TaiKhoanDuocXacThucVoiVNeID": "0",
        "DuocThanhToanTrucTuyen": "0",
        "TaiLieuNop": [],
        "DanhSachLePhi": [],
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
        "DinhDanhCHS": [
            {"LoaiDinhDanh": ID_KINDS[len(dossier.applicant_id_number)], "SoDinhDanh": dossier.applicant_id_number}
        ],
        "DSKetNoiCSDL": [],
    }


def portal_progress(
    dossier: Dossier, step: Step, lifecycle: Lifecycle, date_format: str | None = None
) -> dict[str, Any]:
    """One progress record (`CapNhatTienDoHoSoMC`) for a step the dossier took."""

    return {
        "MaHoSo": dossier.code,
        "NguoiXuLy": step.actor,
        "ChucDanh": "Công dân" if step.actor_kind == "citizen" else "Cán bộ một cửa",
        "ThoiDiemXuLy": portal_time(step.at, date_format),
        "PhongBanXuLy": dossier.procedure["agency_name"],
        "NoiDungXuLy": lifecycle.statuses[step.status][0],
        "TrangThai": step.status,
        "NgayBatDau": portal_time(dossier.received_at or dossier.submitted_at, date_format),
        "NgayKetThucTheoQuyDinh": portal_time(dossier.due_at, date_format),
    }
