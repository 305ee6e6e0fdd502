"""A dossier as demo 3's API shows it, and as the portal hears it (its own words mapped to the national ones)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mocks.demo3.cashier import Cashier
from mocks.demo3.model import CHANNELS, RULES, Demo3Settings, Dossier, Step, _portal_time, _time


def view_of(cashier: Cashier) -> Callable[[Dossier], dict[str, Any]]:
    def view(d: Dossier) -> dict[str, Any]:
        return {
            "so_ho_so": d.code,
            "thu_tuc": d.service["ma_quoc_gia"],
            "don_vi_nhan": d.service["don_vi"]["ma"],
            "don_vi_hien_tai": d.agency["ma"],
            "kenh": next(k for k, v in CHANNELS.items() if v == d.channel),
            "tinh_trang": d.status,
            "luc_nop": _time(d.at),
            "luc_nhan": _time(d.received),
            "han_tra": _time(d.due),
            "nhat_ky": [
                {"tinh_trang": s.status, "buoc": s.step, "luc": _time(s.at), "nguoi": s.by or None,
                 "muc_xac_thuc": s.level or None, "don_vi": s.agency["ma"]}
                for s in d.steps
            ],
            "giay_to": [{"ma": f["ma"], "ten": f["ten"], "tai": f"/mc/giay-to/{f['ma']}"} for f in d.files],
            "giao_dich": [
                {"ma": t.reference, "so_tien": t.amount, "trang_thai": t.state, "trang": t.page}
                for t in (cashier.transactions[r] for r in d.payments)
            ],
            "ghi_co": [c for c in cashier.credits if c["giao_dich"] in d.payments],
        }

    return view


def portal_teller(settings: Demo3Settings, defects: frozenset[str], cashier: Cashier) -> Callable[..., Awaitable[None]]:
    def paid(d: Dossier) -> bool:
        return any(cashier.transactions[r].state == "xong" for r in d.payments)

    def portal_dossier(d: Dossier) -> dict[str, Any]:
        s = d.service
        last = d.steps[-1].agency if d.steps else d.agency
        return {
            "MaHoSo": d.code, "MaTTHC": s["ma_quoc_gia"], "TenTTHC": s["ten"], "MaLinhVuc": s["linh_vuc"]["ma"],
            "TenLinhVuc": s["linh_vuc"]["ten"], "KenhThucHien": d.channel, "ChuHoSo": d.name,
            "SoGiayToChuHoSo": d.id_number, "LoaiDoiTuong": "1",
            "MaDoiTuong": d.owner.tech_id if d.channel == "2" else "", "ThongTinKhac": "", "Email": "", "Fax": "",
            "SoDienThoai": "", "TrichYeuHoSo": d.summary, "NgayTiepNhan": _portal_time(d.received),
            "NgayHenTra": _portal_time(d.due), "TrangThaiHoSo": RULES["statuses"][d.status],
            "NgayTra": _portal_time(d.returned), "ThongTinTra": "", "HinhThuc": "0",
            "NgayKetThucXuLy": _portal_time(d.finished), "DonViXuLy": last["ten"], "GhiChu": "",
            "NgayTuChoi": _portal_time(d.refused), "NgayNopHoSo": _portal_time(d.at),
            "NoiNopHoSo": "1" if d.channel == "2" else "0", "HoSoCoThanhPhanSoHoa": "1" if d.files else "0",
            "TaiKhoanDuocXacThucVoiVNeID": "1" if d.owner.vneid else "0",
            "DuocThanhToanTrucTuyen": "1" if paid(d) else "0",
            "TaiLieuNop": [
                {"TepDinhKemId": f["ma"], "TenTepDinhKem": f["ten"], "IsDeleted": "False", "MaThanhPhanHoSo": "",
                 "DuongDanTaiTepTin": f"/mc/giay-to/{f['ma']}", "DuocSoHoa": "1", "DuocTaiSuDung": "0",
                 "DuocLayTuKhoDMQG": "0", "MaKetQuaThayThe": ""}
                for f in d.files
            ],
            "DanhSachLePhi": [
                {"TenPhiLePhi": f["ten"], "MaPhiLePhi": f["ma"], "HinhThucThu": "2" if paid(d) else "",
                 "Gia": str(f["tien"]), "LoaiPhiLePhi": f["loai"]}
                for f in s.get("phi") or []
            ],
            "DanhSachTepDinhKemKhac": [], "DanhSachHoSoBoSung": [], "DanhSachGiayToKetQua": [],
            "DinhDanhCHS": [{"LoaiDinhDanh": "1" if len(d.id_number) == 12 else "2", "SoDinhDanh": d.id_number}],
            "DSKetNoiCSDL": [],
        }

    def progress(d: Dossier, step: Step) -> dict[str, Any]:
        national = RULES["statuses"][step.status]
        return {
            "MaHoSo": d.code, "NguoiXuLy": step.actor,
            "ChucDanh": "Công dân" if RULES["steps"].get(step.step, {}).get("ai") == "cong-dan" or step.step == "nop"
            else "Cán bộ tiếp nhận",
            "ThoiDiemXuLy": _portal_time(step.at), "PhongBanXuLy": step.agency["ten"],
            "NoiDungXuLy": f"Trạng thái {national}", "TrangThai": national,
            "NgayBatDau": _portal_time(d.received or d.at), "NgayKetThucTheoQuyDinh": _portal_time(d.due),
            "DonViXuLy": step.agency["ten"],
        }

    async def tell_portal(d: Dossier, with_step: bool = True) -> None:
        records = [progress(d, d.steps[-1])] if with_step else []
        if "demo3-progress-skips-processing" in defects:
            records = [r for r in records if r["TrangThai"] != "4"]
        await settings.portal.tell(d.service["don_vi"]["ma"], portal_dossier(d), records)

    return tell_portal
