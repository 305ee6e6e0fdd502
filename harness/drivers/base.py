"""What every driver offers the checks, whatever the vendor's API looks like."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class DriverError(Exception):
    """The driver could not make the SUT act; the check cannot judge anything (ERROR, not FAILED)."""


@dataclass(frozen=True)
class DossierView:
    code: str
    procedure_code: str
    agency_code: str
    channel: str  # online | counter | post
    status: str
    submitted_at: datetime
    received_at: datetime | None
    due_at: datetime | None
    statuses: tuple[str, ...]  # every status the dossier passed through, in order


@dataclass(frozen=True)
class ActionResult:
    accepted: bool
    http_status: int
    dossier: DossierView | None
    message: str


class Driver(Protocol):
    def procedures(self) -> list[dict[str, str]]: ...

    def submit(self, procedure_code: str, *, channel: str = "online") -> DossierView: ...

    def act(self, code: str, action: str) -> ActionResult: ...

    def get(self, code: str) -> DossierView: ...
