"""P111-SYNC-PROGRESS: every status a dossier passes through reaches the portal (CapNhatTienDoHoSoMC), in order.

«100% dịch vụ công trực tuyến của tỉnh được tích hợp với cổng Dịch vụ công quốc gia ngay khi có quyết định công bố»
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from harness.core.formats import format_portal_datetime, parse_portal_datetime
from harness.sut.checking import expect, expect_valid, received_ref
from harness.sut.observers import PortalObserver

pytestmark = pytest.mark.requirement("P111-SYNC-PROGRESS")

# The SUT's API and its progress records may round a time differently; a minute covers any lawful rounding.
TIME_TOLERANCE = timedelta(seconds=60)
# Steps that wait on the citizen (a supplement, a payment): their due date may be the citizen's deadline, which the
# appointment date does not bound (the handling time stops meanwhile, domain.md section 6).
WAITING_ON_THE_CITIZEN = ("5", "6")


def expected_statuses(statuses: tuple[str, ...]) -> list[str]:
    """The statuses the portal must hear of. A submission record (status 1) is optional (domain.md section 8)."""
    return [s for s in statuses if s != "1"]


def progress_until_done(portal: PortalObserver, code: str, final: str) -> list[dict[str, Any]]:
    """The progress records received for `code`, once one with the final status was accepted (or the window ends)."""
    return portal.wait(
        lambda: portal.progress(code),
        lambda rows: any(r["accepted"] and r["item"].get("TrangThai") == final for r in rows),
    )


def is_subsequence(wanted: list[str], received: list[str]) -> bool:
    remaining = iter(received)
    return all(status in remaining for status in wanted)


def test_every_status_reaches_portal_in_order(p111_portal, p111_lifecycle, handled_dossier):
    """Every status the dossier passed through reaches the portal, in the order it happened (extra records allowed)."""
    dossier = handled_dossier.dossier
    rows = [r for r in progress_until_done(p111_portal, dossier.code, dossier.status) if r["accepted"]]
    received = [str(r["item"].get("TrangThai")) for r in rows]
    wanted = expected_statuses(dossier.statuses)
    names = " → ".join(p111_lifecycle.name(s) for s in wanted)
    expect(
        is_subsequence(wanted, received),
        f"the portal did not receive {dossier.code}'s progress in order",
        expected=f"progress records with TrangThai {' → '.join(wanted)} in this order ({names}); "
        "extra records allowed",
        received=f"TrangThai of the accepted records in arrival order: {' → '.join(received) or 'none'}",
        evidence=received_ref(rows[0]) if rows else "portal /_p111/progress",
    )


def test_progress_records_are_schema_valid(p111_portal, handled_dossier):
    """Every progress record is a valid TienDoHoSo (CapNhatTienDoHoSoMC item)."""
    dossier = handled_dossier.dossier
    rows = progress_until_done(p111_portal, dossier.code, dossier.status)
    expect(
        rows,
        f"no progress record for {dossier.code} reached the portal",
        expected="progress records (CapNhatTienDoHoSoMC) for each status change",
        received="none",
        evidence="portal /_p111/progress",
    )
    expect_valid("portal/TienDoHoSo", rows, "progress record")


def test_progress_times_never_go_back(p111_portal, handled_dossier):
    """Progress records arrive with ThoiDiemXuLy that never goes back in time."""
    dossier = handled_dossier.dossier
    rows = progress_until_done(p111_portal, dossier.code, dossier.status)
    timed = [(r, parse_portal_datetime(str(r["item"].get("ThoiDiemXuLy")))) for r in rows]
    for row, moment in timed:
        expect(
            moment is not None,
            f"progress record of {dossier.code} has no valid ThoiDiemXuLy",
            expected="ThoiDiemXuLy as yyyyMMddHHmmss (Vietnam time)",
            received=repr(row["item"].get("ThoiDiemXuLy")),
            evidence=received_ref(row),
        )
    for (before, earlier), (after, later) in zip(timed, timed[1:], strict=False):
        expect(
            not (later is not None and earlier is not None and later < earlier),
            f"progress of {dossier.code} goes back in time",
            expected="each record's ThoiDiemXuLy at or after the previous one's",
            received=f"TrangThai {after['item'].get('TrangThai')} at {after['item'].get('ThoiDiemXuLy')} after "
            f"TrangThai {before['item'].get('TrangThai')} at {before['item'].get('ThoiDiemXuLy')}",
            evidence=received_ref(after),
        )


def test_progress_due_dates_agree_with_the_dossier(p111_portal, handled_dossier):
    """A progress record's due date (NgayKetThucTheoQuyDinh), where the SUT states it, falls within the dossier's
    handling: not before it was submitted, not after the appointment date the SUT shows (NgayHenTra) unless the step
    waits on the citizen. A step may be due earlier than the dossier (a vendor's own step deadlines are lawful); a
    step due after the dossier itself tells the portal of time the citizen was never promised."""
    dossier = handled_dossier.dossier
    rows = [r for r in progress_until_done(p111_portal, dossier.code, dossier.status) if r["accepted"]]
    stated = [(r, str(r["item"].get("NgayKetThucTheoQuyDinh") or "")) for r in rows]
    wrong = []
    for row, sent in stated:
        if not sent:
            continue  # not required (the portal's schema): an empty due date says nothing
        moment = parse_portal_datetime(sent)
        earliest, latest = dossier.submitted_at - TIME_TOLERANCE, dossier.due_at and dossier.due_at + TIME_TOLERANCE
        if str(row["item"].get("TrangThai")) in WAITING_ON_THE_CITIZEN:
            latest = None  # the citizen's own deadline, while the appointment waits
        if moment is None or moment < earliest or (latest is not None and moment > latest):
            wrong.append((row, sent))
    due = format_portal_datetime(dossier.due_at) if dossier.due_at else "none"
    expect(
        not wrong,
        f"progress records of {dossier.code} state a due date outside the dossier's handling",
        expected=f"NgayKetThucTheoQuyDinh between the submission ({format_portal_datetime(dossier.submitted_at)}) "
        f"and the appointment date the SUT shows ({due}), as yyyyMMddHHmmss, tolerance {TIME_TOLERANCE.seconds} s",
        received=lambda: "; ".join(f"TrangThai {r['item'].get('TrangThai')}: {sent!r}" for r, sent in wrong),
        evidence=lambda: received_ref(wrong[0][0]),
    )
