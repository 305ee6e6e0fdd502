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
from harness.core.verdicts import not_applicable
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
def transferred(p111_driver: Driver, services: list[Service]) -> Transferred:
    """A dossier of an inter-agency service taken the whole way: submitted with files, received, moved to the second
    agency (whose inbox is read while the dossier is there: it may list only what is there now) and processed there
    where the SUT has a separate step for it (a transfer may imply it), moved back, finished and returned."""
    joint = [s for s in services if s.second_agency_code]
    if not joint:
        not_applicable("the SUT publishes no inter-agency (liên thông) service")
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
    """An agency is named in DonViXuLy by its code or by its registered name (domain.md section 8)."""
    return {code} | {a.name for a in target.agencies if a.code == code}


def test_portal_hears_of_both_agencies(p111_portal, p111_target, transferred):
    """Progress records of both agencies reach the portal, each naming its agency in DonViXuLy."""
    code = transferred.dossier.code
    first, second = transferred.service.agency_code, transferred.service.second_agency_code
    assert second is not None

    def named(rows) -> tuple[bool, bool]:
        # Received counts, valid or not: whether the records are valid is P111-SYNC-PROGRESS's to judge.
        units = {str(r["item"].get("DonViXuLy") or "") for r in rows}
        return bool(units & _names(p111_target, first)), bool(units & _names(p111_target, second))

    rows = p111_portal.wait(lambda: p111_portal.progress(code), lambda rows: all(named(rows)))
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
            "add them so that DonViXuLy naming them can be recognised"
        )
    units = sorted({str(r["item"].get("DonViXuLy")) for r in rows})
    expect(
        has_first and has_second,
        f"the portal was not told of both agencies handling {code}",
        expected=f"progress records with DonViXuLy naming {first} and {second} (code or registered "
        "name, agencies in the target's registry)",
        received=f"DonViXuLy seen: {', '.join(units) or 'none'}",
        evidence="portal /_p111/progress",
    )
