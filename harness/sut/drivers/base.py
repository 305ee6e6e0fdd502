"""What every driver offers the checks, whatever the vendor's API looks like."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import httpx

from harness.core.errors import P111Error


class DriverError(P111Error):
    """The driver could not make the SUT act; the check cannot judge anything (ERROR, not FAILED).
    `refused_with`: the SUT did answer, with this HTTP status instead of the expected one — a refusal a check whose
    data it is may judge (FAILED), where no answer or garbage stays ERROR."""

    def __init__(self, message: str, *, refused_with: int | None = None) -> None:
        super().__init__(message)
        self.refused_with = refused_with


class NoSignOnOffered(DriverError):
    """The SUT answered its login path, and not by sending the browser to the sign-on counterpart (a page or form of
    its own, a 404, a redirect elsewhere): it offers no sign-on through it. What a target declaring no sign-on
    expects; a login that breaks any other way (no answer, a 5xx, an answer of the wrong shape) stays a plain
    DriverError, which says nothing about whether the SUT signs on."""


@dataclass(frozen=True)
class Fee:
    """One fee or charge of a procedure, as the portal's receipt names it (PhiLePhi)."""

    kind: str  # LoaiPhiLePhi
    code: str  # MaPhiLePhi
    name: str  # TenPhiLePhi
    amount: int  # SoTien, VND


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
    fees: tuple[Fee, ...] = ()  # what a payment for it asks, in total

    @property
    def fee_total(self) -> int:
        return sum(f.amount for f in self.fees)


@dataclass(frozen=True)
class FileView:
    id: str
    name: str
    sha256: str
    url: str


@dataclass(frozen=True)
class Session:
    """Credentials the SUT gave an account after it signed on through the sign-on counterpart."""

    account: str  # the counterpart's test account (login_hint)
    # What to present on each request (a session cookie, a bearer token …): never in a repr, so that no traceback,
    # log line or assertion message prints a live credential.
    headers: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class Login:
    """One sign-on attempt, step by step: what the SUT asked the provider, and what it gave back."""

    authorize_url: str  # the SUT's authorization request
    http_status: int  # the SUT's answer to the provider's redirect back
    session: Session | None  # None: the SUT created no session
    message: str


@dataclass(frozen=True)
class StepView:
    """One stored transaction on a dossier: the move and who made it."""

    status: str
    action: str
    subject: str | None  # the authenticated account (TechID)
    assurance: str | None  # its level of assurance


@dataclass(frozen=True)
class PaymentView:
    """One payment transaction of a dossier, as the SUT shows it."""

    reference: str  # MaThamChieu
    amount: int  # asked, VND
    state: str  # pending | paid | failed
    credited: int  # what confirms credited: more than `amount` is a double credit
    url: str | None  # UrlThanhToan, the citizen's payment page


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
    steps: tuple[StepView, ...] = ()
    paid_online: bool = False  # DuocThanhToanTrucTuyen = 1
    payments: tuple[PaymentView, ...] = ()


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
    """Citizens' calls go out with the default citizen's session (or `session`), officers' with the officer's; a
    citizen's action on a dossier uses the session that submitted it.

    What a driver is, declared on its class: every built-in declares all of it; a vendor's class (`module:Class`)
    may leave any of it out and gets the default (the functions below read it so)."""

    # A person performs the steps (operator mode): checks that need automation are NOT-TESTED, and what only the
    # SUT's screen shows is asked of the person (`review`), ending REVIEW. Default False.
    asks_a_person: ClassVar[bool]
    # It prints each step for a person to read (and so needs the terminal or its prompt file). Default False.
    shows_steps: ClassVar[bool]

    @classmethod
    def build(cls, target: Any, system: Any) -> Driver:
        """The one factory of the built-in drivers: from the target (`sut.driver_options`, its secrets) and the run's
        system (harness.pytest.system.System: the SUT's client and the counterparts). A vendor's class is built
        `Class(client, sign_on)` instead."""
        ...

    @staticmethod
    def sensitive_names(options: dict[str, Any] | None) -> tuple[list[str], list[str]]:
        """(headers, fields) the driver's own configuration marks secret or personal, for the redactor, known before
        the driver is built. Default: none beyond the reference API's, which the redactor knows already."""
        ...

    def offered_exports(self) -> tuple[str, ...] | None:
        """The exports the system declares it offers; None (the default): not declared, every export is asked."""
        ...

    def close(self) -> None:
        """Stops what the driver started for the run (the http driver's file store). Default: nothing."""
        ...

    def services(self) -> list[Service]: ...

    def login(self, account: str) -> Login:
        """Signs `account` on through the SUT's sign-on flow, following each redirect itself; NoSignOnOffered when
        the SUT answers without sending anyone to the sign-on."""
        ...

    def session(self, role: str) -> Session:
        """The default session of a role (citizen | officer), signed on once."""
        ...

    def whoami(self, session: Session) -> dict[str, Any] | None:
        """Who the SUT says the session belongs to (subject, assurance …); None when it refuses the session."""
        ...

    def submit(
        self,
        procedure_code: str,
        *,
        channel: str = "online",
        files: tuple[tuple[str, bytes], ...] = (),
        session: Session | None = None,
    ) -> DossierView: ...

    def act(
        self, code: str, action: str, *, to_agency: str | None = None, session: Session | None = None
    ) -> ActionResult: ...

    def get(self, code: str, *, session: Session | None = None) -> DossierView: ...

    def inbox(self, agency_code: str) -> list[InboxItem]: ...

    def download(self, url: str) -> bytes: ...

    def export(self, kind: str) -> list[dict[str, Any]]:
        """Every row of an export: dossiers (as synced, HoSoDongBoDVC), procedures, agencies or transactions."""
        ...

    # Optional (not every driver has it, so not part of the protocol's required methods): where the citizen opens a
    # payment by a call of their own after the officer's request (target payment.opened_by: citizen), the scenarios
    # call `pay(code, session=None) -> ActionResult` on the driver. See `opens_payment` below.
    # Optional too: `routes`, the calls that act on a dossier as {"act" | "pay": (method, path with {{ code }} and
    # {{ action }})}, from which `p111 fuzz` learns which operation of the SUT's document is which (harness.fuzz.state);
    # the http driver's are its `actions` settings.


def asks_a_person(driver: Any) -> bool:
    """Driver.asks_a_person of a driver or driver class (False when it does not say)."""
    return bool(getattr(driver, "asks_a_person", False))


def shows_steps(driver: Any) -> bool:
    """Driver.shows_steps of a driver or driver class (False when it does not say)."""
    return bool(getattr(driver, "shows_steps", False))


def offered_exports(driver: Any) -> tuple[str, ...] | None:
    """Driver.offered_exports (None when the driver does not say)."""
    declared = getattr(driver, "offered_exports", None)
    return declared() if callable(declared) else None


def close(driver: Any) -> None:
    """Driver.close, where the driver has one."""
    closing = getattr(driver, "close", None)
    if callable(closing):
        closing()


def opens_payment(driver: Any) -> Any:
    """The driver's `pay` step (the citizen opens the payment the officer asked for), or None when it has none."""
    pay = getattr(driver, "pay", None)
    return pay if callable(pay) else None


def call_sut(
    client: httpx.Client, method: str, path: str, *, session: Session | None = None, **kwargs: Any
) -> httpx.Response:
    """One call to the SUT with the session's credentials; no answer at all is a DriverError."""
    headers = {**kwargs.pop("headers", {}), **(session.headers if session else {})}
    try:
        return client.request(method, path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise DriverError(f"{method} {path}: the SUT did not answer ({type(exc).__name__}: {exc})") from exc
    finally:
        # Credentials travel only when a call asks for them: never from the client's cookie jar.
        client.cookies.clear()
