"""What the reference system's route groups share: its settings, its state (dossiers, files, the portal link, the
relying party, the cashier) and the helpers every group calls (who is asking, how a refusal reads, telling the
portal). `share` builds it once per app; each module of `routes/` takes it and returns its routes."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.core.lifecycle import Lifecycle, load_lifecycle
from harness.core.resources import read_yaml
from mocks.reference import dossiers as model
from mocks.reference.defects import check_names
from mocks.reference.officers import BasicOfficers
from mocks.reference.payments import CONFIRM_PATH, Cashier, PaymentLink
from mocks.reference.portal_sync import PortalLink, PortalSync
from mocks.reference.signon import Principal, RelyingParty, SignOnLink
from mocks.reference.variations import check_names as check_variations

SERVICES_FILE = Path(__file__).with_name("services.yaml")
WRONG_DATE_FORMAT = "%d/%m/%Y %H:%M:%S"  # the defect's format: a common .NET default for vi-VN
API_DATE_FORMAT = "%d/%m/%Y %H:%M:%S"  # the api-dates-ddmmyyyy variation: the same format, in the system's own API
SESSION_COOKIE = "p111_session"
EXPORT_KINDS = ("dossiers", "procedures", "agencies", "transactions")
SUMMARY_COLUMN = 2000  # characters the TrichYeuHoSo column holds: the document's maxLength of `summary`


@dataclass(frozen=True)
class ReferenceSettings:
    portal: PortalLink
    defects: frozenset[str] = frozenset()
    sign_on_url: str = "http://sso.embedded"  # where a citizen without a session is sent to sign on
    handoff_path: str = "/dvc/vnconnect"
    year: int | None = None  # the evaluation year whose synthetic history the system holds (None: the current year)
    sign_on: SignOnLink | None = None  # the SSO it is a client of; None: nobody can sign in
    payment: PaymentLink | None = None  # the payment platform it is registered with; None: no online payment
    confirm_path: str = CONFIRM_PATH  # where the platform sends its confirm callback
    variations: frozenset[str] = frozenset()  # lawful variations (variations.yaml): a vendor's lawful choices
    basic_officers: BasicOfficers | None = None  # officers-basic-auth: the officers' own user names and passwords


def local_code(service: dict[str, Any]) -> str:
    """MaTTHCDP: the national code with the handling agency's code appended (domain.md section 2)."""
    return f"{service['code']}.{service['agency_code']}"


def load_services(defects: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    services = [dict(s) for s in read_yaml(SERVICES_FILE)]
    if "catalog-unknown-code" in defects:
        services[1]["code"] = "2.999999"  # well formed, but no such procedure in the national catalog
    if "procedure-code-local-form" in defects:  # MaTTHC published in its local form, agency code appended
        services[1]["code"] = f"{services[1]['code']}.{services[1]['agency_code']}"
    if "catalog-level-mismatch" in defects:
        services[2]["level"] = "một phần"  # the portal lists it as level 4, toàn trình
    return services


@dataclass(frozen=True)
class Shared:
    """The state and helpers of one reference app, handed to every route group."""

    settings: ReferenceSettings
    defects: frozenset[str]
    variations: frozenset[str]
    refusal_status: int  # how an unlawful action is refused
    lifecycle: Lifecycle
    services: dict[str, dict[str, Any]]
    codes: model.CodeBook
    store: dict[str, model.Dossier]
    files: dict[str, model.StoredFile]
    sync: PortalSync
    relying_party: RelyingParty
    cashier: Cashier
    public: Callable[[model.Dossier], dict[str, Any]]
    optional_refused: Callable[[str, str], bool]
    principal: Callable[[Request], Awaitable[Principal | None]]
    may_read: Callable[[Principal, model.Dossier], bool]
    visible: Callable[[Request], Awaitable[tuple[Principal, model.Dossier] | JSONResponse]]
    audit: Callable[[Principal | None], tuple[str, str]]
    tell_portal: Callable[[model.Dossier], Awaitable[None]]
    payment_settled: Callable[[str], Awaitable[None]]


def problem(http_status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=http_status)


def unauthenticated() -> JSONResponse:
    answer = problem(401, "unauthenticated", "Cần đăng nhập / sign in first (session or bearer token)")
    answer.headers["www-authenticate"] = 'Bearer realm="p111-reference"'
    return answer


def forbidden(why: str) -> JSONResponse:
    return problem(403, "forbidden", f"Không có quyền / not allowed: {why}")


def share(settings: ReferenceSettings) -> Shared:
    defects = check_names(settings.defects)
    variations = check_variations(settings.variations)
    # How an unlawful action is refused: 409 by default, 422 or 400 as lawful variations.
    refusal_status = 422 if "refusals-422" in variations else 400 if "refusals-400" in variations else 409
    api_date_format = API_DATE_FORMAT if "api-dates-ddmmyyyy" in variations else None
    lifecycle = load_lifecycle()
    services = {s["code"]: s for s in load_services(defects)}
    codes = model.CodeBook(
        malformed="malformed-dossier-code" in defects, descending="dossier-code-sequence-descending" in defects
    )
    store: dict[str, model.Dossier] = {}
    files: dict[str, model.StoredFile] = {}
    date_format = WRONG_DATE_FORMAT if "wrong-date-format" in defects else None
    link = settings.sign_on or SignOnLink(settings.sign_on_url, "p111-reference", secrets.token_urlsafe(16))
    relying_party = RelyingParty(link, defects, variations)
    cashier = Cashier(settings.payment, defects)

    def public(dossier: model.Dossier) -> dict[str, Any]:
        """The dossier in the API's own shape; its times as the variation writes them, if any."""
        view = dossier.public()
        return _redated(view, api_date_format) if api_date_format else view

    def optional_refused(action: str, status: str) -> bool:
        """The optional-transitions-refused variation: every optional move of lifecycle.yaml is refused."""
        return "optional-transitions-refused" in variations and any(
            move.action == action and status in move.sources for move in lifecycle.optional
        )

    principal, may_read, visible, audit = _access(defects, relying_party, store, settings.basic_officers)
    portal = _portal_helpers(settings, defects, lifecycle, store, date_format)
    return Shared(
        settings, defects, variations, refusal_status, lifecycle, services, codes, store, files, portal.sync,
        relying_party, cashier, public, optional_refused, principal, may_read, visible, audit, portal.tell_portal,
        portal.payment_settled,
    )


def _access(
    defects: frozenset[str],
    relying_party: RelyingParty,
    store: dict[str, model.Dossier],
    basic_officers: BasicOfficers | None,
) -> tuple[Callable[..., Any], Callable[..., bool], Callable[..., Any], Callable[..., tuple[str, str]]]:
    """Who asks (principal), whom a dossier shows to (may_read, visible), what a transaction records of who made it."""

    async def principal(request: Request) -> Principal | None:
        """The session cookie, else an officer's basic auth (a variation), else a bearer token the provider checks."""
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            return relying_party.sessions.get(sid)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic ") and basic_officers is not None:
            return basic_officers.principal(header[6:])
        if header.lower().startswith("bearer "):
            return await relying_party.from_bearer(header[7:].strip())
        return None

    def may_read(who: Principal, dossier: model.Dossier) -> bool:
        return who.officer or who.subject == dossier.owner or "txn-cross-account-read" in defects

    def audit(who: Principal | None) -> tuple[str, str]:
        """What a transaction records of who made it: the subject and its level of assurance."""
        if who is None or "txn-log-without-subject" in defects:
            return "", ""
        if "txn-log-fixed-assurance" in defects:
            return who.subject, "LoA1"  # the defect: one level written for everyone, whatever the sign-on said
        return who.subject, who.assurance

    async def visible(request: Request) -> tuple[Principal, model.Dossier] | JSONResponse:
        """Who asks and the dossier of the path, or the refusal: 401 unsigned, 404 unknown or not theirs (another
        citizen's dossier is not even confirmed to exist)."""
        who = await principal(request)
        if who is None:
            return unauthenticated()
        dossier = store.get(request.path_params["code"])
        if dossier is None or not may_read(who, dossier):
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        return who, dossier

    return principal, may_read, visible, audit


@dataclass(frozen=True)
class _PortalHelpers:
    sync: PortalSync
    tell_portal: Callable[[model.Dossier], Awaitable[None]]
    payment_settled: Callable[[str], Awaitable[None]]


def _portal_helpers(
    settings: ReferenceSettings,
    defects: frozenset[str],
    lifecycle: Lifecycle,
    store: dict[str, model.Dossier],
    date_format: str | None,
) -> _PortalHelpers:
    """What the portal hears of a dossier, and when."""
    sync = PortalSync(settings.portal)
    held_progress: dict[str, list[dict[str, Any]]] = {}

    def portal_record(dossier: model.Dossier) -> dict[str, Any] | None:
        record = _record_as_defects_make_it(dossier, defects, date_format)
        if record is not None and "transfer-portal-unaware" in defects:  # the defect: the first agency, always
            record["DonViXuLy"] = dossier.service["agency_name"]
        if record is not None and "documents-unlisted" in settings.variations:
            record["TaiLieuNop"] = []  # the variation: the optional list of submitted documents is left empty
        return record

    async def tell_portal(dossier: model.Dossier) -> None:
        step = dossier.history[-1]
        progress = [model.portal_progress(dossier, step, lifecycle, date_format)]
        if "transfer-portal-unaware" in defects:
            # The defect: the portal only ever hears of the first agency.
            for told in progress:
                told["DonViXuLy"] = told["PhongBanXuLy"] = dossier.service["agency_name"]
        if "progress-without-unit" in settings.variations:  # the variation: exactly the contract's fields
            for told in progress:
                del told["DonViXuLy"]
        if "progress-due-date-late" in defects:  # the defect: each step due a day after the dossier itself
            for told in progress:
                told["NgayKetThucTheoQuyDinh"] = model.portal_time(dossier.due_at + timedelta(days=1), date_format)
        if "progress-out-of-order" in defects:
            # The defect: a stack instead of a queue, flushed only when handling ends.
            queue = held_progress.setdefault(dossier.code, [])
            queue.extend(progress)
            if dossier.status not in lifecycle.end_states:
                progress = []
            else:
                progress, held_progress[dossier.code] = list(reversed(queue)), []
        await sync.push(portal_record(dossier), progress, dossier.service["agency_code"])

    async def payment_settled(dossier_code: str) -> None:
        """A payment changed: the portal hears the dossier again (DuocThanhToanTrucTuyen, DanhSachLePhi)."""
        dossier = store.get(dossier_code)
        if dossier is not None:
            await sync.push(portal_record(dossier), [], dossier.service["agency_code"])

    return _PortalHelpers(sync, tell_portal, payment_settled)


def _redated(view: Any, date_format: str) -> Any:
    """api-dates-ddmmyyyy: every ISO time of the view (keys `*_at` and `at`) rewritten in the variation's format."""
    if isinstance(view, list):
        return [_redated(item, date_format) for item in view]
    if not isinstance(view, dict):
        return view
    result = {}
    for key, value in view.items():
        if (key == "at" or key.endswith("_at")) and isinstance(value, str):
            value = datetime.fromisoformat(value).strftime(date_format)
        result[key] = _redated(value, date_format)
    return result


def _record_as_defects_make_it(
    dossier: model.Dossier, defects: frozenset[str], date_format: str | None
) -> dict[str, Any] | None:
    """The portal's record of `dossier`, as the planted sync defects spoil it (None: never sent)."""
    record: dict[str, Any] | None = model.portal_dossier(dossier, date_format)
    if record is None or "sync-never-sent" in defects:
        return None
    if "sync-missing-field" in defects:
        del record["MaTTHC"]
    if "sync-due-date-late" in defects:  # the defect: the portal is told a later date
        record["NgayHenTra"] = model.portal_time(dossier.due_at + timedelta(days=1), date_format)
    if "sync-vneid-unflagged" in defects:
        record["TaiKhoanDuocXacThucVoiVNeID"] = "0"  # the defect: a VNeID-verified account never flagged
    if "sync-fee-price-zero" in defects:  # the defect: every fee synced at price 0
        for fee in record["DanhSachLePhi"]:
            fee["Gia"] = "0"
    if "sync-applicant-kind-wrong" in defects:  # the defect: a citizen synced as a business
        record["LoaiDoiTuong"] = "2"
    if "sync-documents-first-only" in defects:  # the defect: the first document only
        del record["TaiLieuNop"][1:]
    if "sync-refusal-date-always" in defects:  # the defect: every dossier "refused"
        record["NgayTuChoi"] = record["NgayTiepNhan"] or record["NgayNopHoSo"]
    if "pay-sync-unpaid" in defects:
        record["DuocThanhToanTrucTuyen"] = "0"  # the defect: the portal never hears that it was paid online
    return record
