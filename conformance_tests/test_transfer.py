"""P111-TRANSFER: a dossier that needs a second agency (liên thông) moves to it electronically, files and all, and the
portal hears of both agencies.

«Tối thiểu 80% hồ sơ giải quyết TTHC được luân chuyển giữa các cơ quan có thẩm quyền giải quyết liên quan bằng
phương thức điện tử»
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from conformance_tests.scenarios import SUBMITTED_FILES, act_where_offered, drive_actions, try_optional
from harness.config.target import Target
from harness.core.verdicts import NotTested
from harness.sut.checking import expect
from harness.sut.drivers import DossierView, Driver, InboxItem, Service

pytestmark = [pytest.mark.requirement("P111-TRANSFER"), pytest.mark.offered("transfer")]

@dataclass(frozen=True)
class Transferred:
    service: Service
    dossier: DossierView  # at the end: returned
    inbox: tuple[InboxItem, ...]  # the second agency's inbox, read while the dossier was there
    contents: dict[str, bytes]  # what each file of the dossier's inbox item downloaded to, by URL


@pytest.fixture(scope="module")
def transferred(p111_driver: Driver, services: list[Service], p111_target: Target) -> Transferred:
    """A dossier of an inter-agency service taken the whole way: submitted with files, received, moved to the second
    agency (whose inbox is read while the dossier is there: it may list only what is there now) and processed there
    where the SUT has a separate step for it (a transfer may imply it), moved back, finished and returned.
    No such service published while the target declares transfer offered (the `offered` marker let the check run):
    nothing can be judged, NOT-TESTED — NOT-APPLICABLE is for a capability the target declares absent."""
    joint = [s for s in services if s.second_agency_code]
    if not joint:
        raise NotTested(
            f"{p111_target.capabilities.declaration('transfer')}, yet the SUT publishes no inter-agency (liên thông) "
            "service naming a second agency (second_agency_code): no dossier to move (a system without inter-agency "
            "transfer declares capabilities.transfer: false)"
        )
    service = joint[0]
    dossier = p111_driver.submit(service.code, files=SUBMITTED_FILES)
    # Where on the core path a dossier may move to another agency is the SUT's choice (lifecycle.yaml core).
    act_where_offered(p111_driver, dossier.code, "transfer", to_agency=service.second_agency_code)
    inbox = tuple(p111_driver.inbox(service.second_agency_code or ""))
    item = next((i for i in inbox if i.code == dossier.code), None)
    contents = {f.url: p111_driver.download(f.url) for f in (item.files if item else ())}
    # Processing there as a step of its own, and moving the dossier back, are lawful choices, not demands.
    try_optional(p111_driver, dossier.code, "process")
    try_optional(p111_driver, dossier.code, "transfer", to_agency=service.agency_code)
    drive_actions(p111_driver, dossier.code, ("finish", "return"))
    return Transferred(service, p111_driver.get(dossier.code), inbox, contents)


def test_receiving_agency_gets_the_files_electronically(p111_driver, transferred):
    """The second agency receives the dossier through the SUT, electronically, with every submitted file intact."""
    agency = transferred.service.second_agency_code
    code = transferred.dossier.code
    found = [i for i in transferred.inbox if i.code == code]  # read while the dossier was at that agency
    sender = transferred.service.agency_code
    # Read again now (the dossier may have moved back): whatever it lists of the dossier must be addressed to it.
    listed = found + [i for i in p111_driver.inbox(agency) if i.code == code]
    expect(
        all(i.source_agency == sender for i in listed),
        f"the inbox of agency {agency} lists moves of {code} that were not addressed to it",
        expected=f"only the transfer of {code} from {sender} to {agency}",
        received=f"items from {', '.join(i.source_agency for i in listed)}",
        evidence=f"GET /api/agencies/{agency}/inbox",
    )
    item = found[0] if found else None
    expect(
        item is not None,
        f"{code} never reached agency {agency}",
        expected=f"{code} in the inbox of {agency}",
        received="not there while the dossier was at that agency",
        evidence=f"GET /api/agencies/{agency}/inbox",
    )
    expect(
        item.method == "electronic",
        f"{code} moved to {agency} by {item.method}",
        expected="method electronic: no paper step",
        received=item.method,
        evidence=f"GET /api/agencies/{agency}/inbox",
    )
    wanted = {hashlib.sha256(content).hexdigest(): name for name, content in SUBMITTED_FILES}
    got = {}
    for received in item.files:
        content = transferred.contents[received.url]
        got[hashlib.sha256(content).hexdigest()] = received.name
    missing = [name for digest, name in wanted.items() if digest not in got]
    expect(
        not missing,
        f"agency {agency} did not receive every submitted file of {code} as an electronic document",
        expected="each submitted file downloadable by the receiving agency, byte for byte",
        received=f"missing: {', '.join(missing)}; received {len(item.files)} file(s)",
        evidence=f"GET /api/agencies/{agency}/inbox",
    )


def _names(target, code: str) -> set[str]:
    """An agency is named by its code or by its registered name (domain.md section 8)."""
    return {code} | {a.name for a in target.agencies if a.code == code}


# Where the portal hears which agency handled a dossier: a progress record's PhongBanXuLy (the contract's field,
# domain.md section 3) or DonViXuLy (an extra field the portal accepts, section 8), and a synced dossier's DonViXuLy
# (HoSoDongBoDVC, section 3). A lawful system may use any of them.
NAMING_FIELDS = ("PhongBanXuLy", "DonViXuLy")


def test_portal_hears_of_both_agencies(p111_portal, p111_target, transferred):
    """The portal is told of both agencies handling the dossier: each is named by a progress record (PhongBanXuLy or
    DonViXuLy) or by a synced copy of the dossier (DonViXuLy)."""
    code = transferred.dossier.code
    first, second = transferred.service.agency_code, transferred.service.second_agency_code
    assert second is not None

    def told(rows) -> set[str]:
        # Received counts, valid or not: whether the records are valid is P111-SYNC-PROGRESS's to judge.
        return {str(r["item"].get(f) or "") for r in rows for f in NAMING_FIELDS} - {""}

    def named(rows) -> tuple[bool, bool]:
        units = told(rows)
        return bool(units & _names(p111_target, first)), bool(units & _names(p111_target, second))

    rows = p111_portal.wait(lambda: p111_portal.progress(code) + p111_portal.dossiers(code), lambda r: all(named(r)))
    has_first, has_second = named(rows)
    unregistered = [
        c
        for c, found in ((first, has_first), (second, has_second))
        if not found and p111_target.agency_level(c) is None
    ]
    if unregistered:
        # Not the SUT's fault: without the registry the harness cannot recognise an agency named by its name.
        raise LookupError(
            f"agencies {', '.join(unregistered)} are not in the target's agency registry (agencies): "
            "add them so that a record naming them can be recognised"
        )
    expect(
        has_first and has_second,
        f"the portal was not told of both agencies handling {code}",
        expected=f"{first} and {second} (code or registered name, agencies in the target's registry) named by a "
        "progress record (PhongBanXuLy or DonViXuLy) or a synced dossier (DonViXuLy)",
        received=f"names seen: {', '.join(sorted(told(rows))) or 'none'}",
        evidence="portal /_p111/progress and /_p111/dossiers",
    )
