"""What every driver offers the checks, whatever the vendor's API looks like."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class DriverError(Exception):
    """The driver could not make the SUT act; the check cannot judge anything (ERROR, not FAILED)."""


@dataclass(frozen=True)
class Service:
    """An online service the SUT publishes, and the national procedure it maps to."""

    code: str  # national procedure code (MaTTHC)
    local_code: str  # MaTTHCDP
    service_id: str  # MaDVC
    name: str
    agency_code: str  # MaCoQuanThucHien
    level: str  # as the SUT states it: toàn trình / một phần (or 4 / 3)
    fee_bearing: bool
    second_agency_code: str | None  # the agency it moves to (liên thông), if any


@dataclass(frozen=True)
class FileView:
    id: str
    name: str
    sha256: str
    url: str


@dataclass(frozen=True)
class DossierView:
    code: str
    procedure_code: str
    agency_code: str
    current_agency_code: str
    channel: str  # online | counter | post
    status: str
    submitted_at: datetime
    received_at: datetime | None
    due_at: datetime | None
    statuses: tuple[str, ...]  # every status the dossier passed through, in order
    files: tuple[FileView, ...]


@dataclass(frozen=True)
class InboxItem:
    """A dossier another agency moved to this one, as the receiving agency sees it."""

    code: str
    source_agency: str
    method: str  # electronic | paper
    files: tuple[FileView, ...]


@dataclass(frozen=True)
class ActionResult:
    accepted: bool
    http_status: int
    dossier: DossierView | None
    message: str


class Driver(Protocol):
    def services(self) -> list[Service]: ...

    def submit(
        self, procedure_code: str, *, channel: str = "online", files: tuple[tuple[str, bytes], ...] = ()
    ) -> DossierView: ...

    def act(self, code: str, action: str, *, to_agency: str | None = None) -> ActionResult: ...

    def get(self, code: str) -> DossierView: ...

    def inbox(self, agency_code: str) -> list[InboxItem]: ...

    def download(self, url: str) -> bytes: ...

    def export(self, kind: str) -> list[dict[str, Any]]:
        """Every row of an export: dossiers (as synced, HoSoDongBoDVC), procedures, agencies or transactions."""
        ...
