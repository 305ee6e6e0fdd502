"""P111-SYNC-DOSSIER: every dossier reaches the National Portal (DongBoHoSoMC or direct insert/update), valid.

«100% dịch vụ công trực tuyến của tỉnh được tích hợp với cổng Dịch vụ công quốc gia ngay khi có quyết định công bố»
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conformance_tests.scenarios import person_judges
from harness.core.formats import format_portal_datetime, parse_portal_datetime
from harness.core.verdicts import not_applicable
from harness.sut.checking import blocked, expect, expect_valid, received_ref
from harness.sut.observers import PortalObserver

pytestmark = pytest.mark.requirement("P111-SYNC-DOSSIER")

# The SUT's API and its sync message may round a time differently; a minute covers any lawful rounding.
TIME_TOLERANCE = timedelta(seconds=60)
CHANNEL_CODES = {"counter": "1", "online": "2", "post": "3"}
# The applicant of an online dossier is the account that signed on to submit it: its LoaiTaiKhoan (domain.md section
# 5: 1 citizen, 2 business, 3 organisation) tells the LoaiDoiTuong the portal may be told (section 3: 1 citizen,
# 2 business, 3 state agency, 4 other organisation).
APPLICANT_KINDS = {"1": ("1",), "2": ("2",), "3": ("3", "4")}
DELETED = ("true", "1")  # IsDeleted of a submitted document withdrawn from the dossier
# Dates of a step, with the statuses that step leads to (lifecycle.yaml end states: 3 7 8 9 10): a date the portal
# holds for a step the dossier never took tells it of a refusal, an end or a return that did not happen.
STEP_DATES = {
    "NgayTuChoi": ("3",),
    "NgayKetThucXuLy": ("3", "7", "8", "9", "10"),
    "NgayTra": ("3", "7", "8", "9", "10"),
}


def accepted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items the portal took (its reply was error_code 0): what it now holds."""
    return [r for r in rows if r["accepted"]]


def holds_status(status: str) -> Any:
    return lambda rows: bool(accepted(rows)) and accepted(rows)[-1]["item"].get("TrangThaiHoSo") == status


def synced(portal: PortalObserver, code: str, until: Any = bool) -> list[dict[str, Any]]:
    """The dossier items the portal received for `code`, waiting up to the sync window until `until(rows)` holds."""
    return portal.wait(lambda: portal.dossiers(code), until)


def require_synced(portal: PortalObserver, code: str) -> list[dict[str, Any]]:
    rows = synced(portal, code)
    expect(
        rows,
        f"dossier {code} never reached the portal",
        expected=f"a DongBoHoSoMC (adapter) or insert (direct) carrying MaHoSo {code} within "
        f"{portal.sync_seconds:g} s (timeouts.sync_seconds, a target setting)",
        received=lambda: f"nothing for {code}; {len(portal.dossiers())} dossier item(s) for other codes",
        evidence="portal /_p111/dossiers",
    )
    return rows


def require_held(portal: PortalObserver, code: str, status: str) -> dict[str, Any]:
    """The portal's accepted copy of `code` showing `status`; a Failure naming what it holds otherwise."""
    rows = synced(portal, code, holds_status(status))
    taken = accepted(rows)
    held = f"TrangThaiHoSo {taken[-1]['item'].get('TrangThaiHoSo')!r}" if taken else "no accepted copy at all"
    expect(
        taken and taken[-1]["item"].get("TrangThaiHoSo") == status,
        f"the portal does not hold {code} in status {status}",
        expected=f"an accepted sync of {code} with TrangThaiHoSo {status!r} within {portal.sync_seconds:g} s "
        "(timeouts.sync_seconds)",
        received=f"{held}; {len(rows) - len(taken)} refused item(s)"
        + (f", last refusal: {rows[-1]['reply']}" if len(rows) > len(taken) else ""),
        evidence=received_ref(rows[-1]) if rows else "portal /_p111/dossiers",
    )
    return taken[-1]


def test_new_dossier_reaches_portal(p111_portal, received_dossier):
    """A dossier received by an officer is sent to the portal."""
    require_synced(p111_portal, received_dossier.dossier.code)


def test_dossier_arrives_by_the_declared_transport(p111_portal, p111_target, received_dossier):
    """The dossier reaches the portal by the transport the target declares (sync.transport): adapter (a session,
    one integration URL) or direct (insert, update and progress URLs)."""
    code, declared = received_dossier.dossier.code, p111_target.sync.transport
    rows = p111_portal.wait(lambda: p111_portal.dossiers(code), bool)
    if not rows:
        blocked(f"dossier {code} never reached the portal", "P111-SYNC-DOSSIER")
    used = sorted({str(r.get("channel")) for r in rows})
    expect(
        used == [declared],
        f"{code} reached the portal by another transport than the target declares",
        expected=f"the {declared} transport (sync.transport: {declared})",
        received=f"the {', '.join(used)} transport",
        evidence=received_ref(rows[-1]),
    )


def test_synced_dossier_is_schema_valid(p111_portal, received_dossier):
    """Every dossier item sent to the portal is a valid HoSoDongBoDVC."""
    expect_valid("portal/HoSoDongBoDVC", require_synced(p111_portal, received_dossier.dossier.code), "dossier")


def test_portal_accepted_the_sync(p111_portal, received_dossier):
    """The portal accepted the SUT's sync (an insert refused as "đã tồn tại" is lawful when an update follows)."""
    code = received_dossier.dossier.code
    rows = synced(p111_portal, code, lambda rows: bool(rows) and rows[-1]["accepted"])
    if not rows:
        require_synced(p111_portal, code)
    for number, row in enumerate(rows):
        if row["accepted"]:
            continue
        updated_later = any(later["accepted"] for later in rows[number + 1 :])
        expect(
            "đã tồn tại" in row["reply"] and updated_later,
            f"the portal refused the sync of {code}",
            expected='error_code 0 from the portal (or "đã tồn tại" followed by an accepted update)',
            received=f"{row['operation']} refused: {row['reply']}",
            evidence=received_ref(row),
        )
    expect(
        rows and rows[-1]["accepted"],
        f"the portal holds no accepted copy of {code}",
        expected="the last sync of the dossier accepted (error_code 0)",
        received=lambda: f"{rows[-1]['operation']} refused: {rows[-1]['reply']}",
        evidence=lambda: received_ref(rows[-1]),
    )


def _mismatches(item: dict[str, Any], dossier, account_kind: str | None) -> list[str]:
    wanted = {
        "MaHoSo": dossier.code,
        "MaTTHC": dossier.procedure_code,
        "TrangThaiHoSo": dossier.status,
        "KenhThucHien": CHANNEL_CODES[dossier.channel],
    }
    problems = [
        f"{field}: SUT says {value!r}, portal got {item.get(field)!r}"
        for field, value in wanted.items()
        if item.get(field) != value
    ]
    # LoaiDoiTuong is not required (the portal's schema): left empty it says nothing, filled it must be true.
    kinds = APPLICANT_KINDS.get(account_kind or "")
    if kinds and item.get("LoaiDoiTuong") and item.get("LoaiDoiTuong") not in kinds:
        problems.append(
            f"LoaiDoiTuong: the applicant signed on with an account of LoaiTaiKhoan {account_kind}, so "
            f"{' or '.join(kinds)}; portal got {item.get('LoaiDoiTuong')!r}"
        )
    for field, reached in STEP_DATES.items():
        if item.get(field) and not set(reached) & set(dossier.statuses):
            problems.append(
                f"{field}: the dossier never reached status {' or '.join(reached)} "
                f"(it went {' → '.join(dossier.statuses)}), portal got {item.get(field)!r}"
            )
    dates = (
        ("NgayNopHoSo", dossier.submitted_at),
        ("NgayTiepNhan", dossier.received_at),
        ("NgayHenTra", dossier.due_at),
    )
    for field, moment in dates:
        sent = item.get(field)
        if moment is None or not sent:
            continue  # an optional date the SUT has nothing to say about
        parsed = parse_portal_datetime(sent)
        if parsed is None or abs(parsed - moment) > TIME_TOLERANCE:
            problems.append(
                f"{field}: SUT says {format_portal_datetime(moment)}, portal got {sent!r} "
                f"(tolerance {TIME_TOLERANCE.seconds} s)"
            )
    return problems


def test_synced_dossier_matches_sut(p111_portal, received_dossier, p111_driver, p111_sso):
    """What the portal holds for a dossier is what the SUT holds: code, procedure, status, channel, the dates of
    submission and receipt and the appointment date (NgayHenTra, from which the portal scores timeliness), no date of
    a step the dossier never took (refusal, end of handling, return), and the applicant's kind where the SUT states
    it (LoaiDoiTuong: the kind of account that signed on to submit)."""
    dossier = received_dossier.dossier
    held = require_held(p111_portal, dossier.code, dossier.status)
    account = p111_sso.accounts().get(p111_driver.session("citizen").account) or {}
    problems = _mismatches(held["item"], dossier, (account.get("claims") or {}).get("LoaiTaiKhoan"))
    expect(
        not problems,
        f"the portal's copy of {dossier.code} differs from the SUT's",
        expected="the latest accepted dossier equals the SUT's record",
        received="; ".join(problems),
        evidence=received_ref(held),
    )
    person_judges(
        p111_driver,
        why="without an API the SUT's own record of the dossier shows only on its screen",
        attach=f"ảnh chụp màn hình trang hồ sơ {dossier.code} trên hệ thống: mã hồ sơ, mã thủ tục, trạng thái, kênh "
        f"nộp, ngày nộp và ngày tiếp nhận, để so với bản Cổng nhận / a screenshot of dossier {dossier.code}'s page on "
        "the system: code, procedure, status, channel, submission and receipt dates, to compare with the portal's copy",
    )


def test_synced_documents_are_the_dossiers(p111_portal, received_dossier):
    """The submitted documents the portal is told of (TaiLieuNop) include every file the SUT holds for the dossier
    (named by TepDinhKemId or TenTepDinhKem): the portal's digitisation figures (766) count from that list. The
    contract does not require the list (the portal's schema), so an empty one is lawful and leaves the check
    NOT-APPLICABLE (nothing was judged); more documents than the API shows (a form the system generates from the
    online submission) are lawful."""
    dossier = received_dossier.dossier
    held = require_held(p111_portal, dossier.code, dossier.status)
    listed = [
        d
        for d in held["item"].get("TaiLieuNop") or []
        if isinstance(d, dict) and str(d.get("IsDeleted") or "").lower() not in DELETED
    ]

    if not listed:  # lawful, and nothing to compare: said so, never passed
        not_applicable(
            f"the portal was told of no submitted documents for {dossier.code} (TaiLieuNop is optional in the "
            "portal's contract): there is no list to compare with the dossier's files"
        )

    def names(document: dict[str, Any], file) -> bool:
        return str(document.get("TepDinhKemId")) == file.id or document.get("TenTepDinhKem") == file.name

    unlisted = [f.name for f in dossier.files if not any(names(d, f) for d in listed)]
    expect(
        not unlisted,
        f"the documents the portal was told of for {dossier.code} leave out some of the dossier's",
        expected=f"TaiLieuNop listing every file the SUT holds: {', '.join(f.name for f in dossier.files) or 'none'}",
        received=lambda: f"not listed: {', '.join(unlisted)}; listed: "
        + ", ".join(str(d.get("TenTepDinhKem") or d.get("TepDinhKemId")) for d in listed),
        evidence=received_ref(held),
    )


def test_status_changes_are_synced(p111_portal, handled_dossier):
    """After the result is returned, the portal holds the dossier in status 10 with its end dates."""
    dossier = handled_dossier.dossier
    held = require_held(p111_portal, dossier.code, dossier.status)
    # The portal's 766 scoring counts a dossier on time by NgayKetThucXuLy <= NgayHenTra (domain.md section 6).
    missing = [f for f in ("NgayKetThucXuLy", "NgayHenTra") if not held["item"].get(f)]
    expect(
        not missing,
        f"the portal's copy of finished dossier {dossier.code} lacks {', '.join(missing)}",
        expected="NgayKetThucXuLy and NgayHenTra set once handling is finished (the portal scores timeliness "
        "from them)",
        received=", ".join(f"{f}={held['item'].get(f)!r}" for f in missing),
        evidence=received_ref(held),
    )
