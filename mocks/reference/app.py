"""The reference provincial one-stop system: a documented API for drivers, and a client of the National Portal.

It generates dossier codes per the national format, follows the lifecycle of harness/data/lifecycle.yaml, moves
dossiers electronically to a second agency (liên thông), welcomes citizens handed off by the portal, and syncs every
dossier and every status change to the portal it is configured with. Named defects break it on purpose.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from harness.core import resources
from harness.core.formats import is_agency_code, vietnam_now
from harness.core.lifecycle import load_lifecycle
from mocks.reference import dossiers as model
from mocks.reference import inputs
from mocks.reference.defects import check_names
from mocks.reference.history import History, build_history
from mocks.reference.payments import CONFIRM_PATH, Cashier, PaymentLink
from mocks.reference.portal_sync import PortalLink, PortalSync
from mocks.reference.signon import LoginRefused, Principal, RelyingParty, SignOnLink, loa_rank
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


def local_code(service: dict[str, Any]) -> str:
    """MaTTHCDP: the national code with the handling agency's code appended (domain.md section 2)."""
    return f"{service['code']}.{service['agency_code']}"


def load_services(defects: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    services = [dict(s) for s in yaml.safe_load(SERVICES_FILE.read_text(encoding="utf-8"))]
    if "catalog-unknown-code" in defects:
        services[1]["code"] = "2.999999"  # well formed, but no such procedure in the national catalog
    if "procedure-code-local-form" in defects:  # MaTTHC published in its local form, agency code appended
        services[1]["code"] = f"{services[1]['code']}.{services[1]['agency_code']}"
    if "catalog-level-mismatch" in defects:
        services[2]["level"] = "một phần"  # the portal lists it as level 4, toàn trình
    return services


def create_reference_app(settings: ReferenceSettings) -> Starlette:
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
    sync = PortalSync(settings.portal)
    date_format = WRONG_DATE_FORMAT if "wrong-date-format" in defects else None
    held_progress: dict[str, list[dict[str, Any]]] = {}
    past_years: dict[int, History] = {}
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

    def problem(http_status: int, error: str, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": error, "message": message, **extra}, status_code=http_status)

    def unauthenticated() -> JSONResponse:
        answer = problem(401, "unauthenticated", "Cần đăng nhập / sign in first (session or bearer token)")
        answer.headers["www-authenticate"] = 'Bearer realm="p111-reference"'
        return answer

    def forbidden(why: str) -> JSONResponse:
        return problem(403, "forbidden", f"Không có quyền / not allowed: {why}")

    async def principal(request: Request) -> Principal | None:
        """The session cookie, else a bearer access token checked at the provider."""
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            return relying_party.sessions.get(sid)
        header = request.headers.get("authorization", "")
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

    def portal_record(dossier: model.Dossier) -> dict[str, Any] | None:
        record: dict[str, Any] | None = model.portal_dossier(dossier, date_format)
        if "sync-never-sent" in defects:
            record = None
        elif "sync-missing-field" in defects and record is not None:
            del record["MaTTHC"]
        if record is not None and "sync-due-date-late" in defects:  # the defect: the portal is told a later date
            record["NgayHenTra"] = model.portal_time(dossier.due_at + timedelta(days=1), date_format)
        if record is not None and "sync-vneid-unflagged" in defects:
            record["TaiKhoanDuocXacThucVoiVNeID"] = "0"  # the defect: a VNeID-verified account never flagged
        if record is not None and "sync-fee-price-zero" in defects:  # the defect: every fee synced at price 0
            for fee in record["DanhSachLePhi"]:
                fee["Gia"] = "0"
        if record is not None and "sync-applicant-kind-wrong" in defects:  # the defect: a citizen synced as a business
            record["LoaiDoiTuong"] = "2"
        if record is not None and "sync-documents-first-only" in defects:  # the defect: the first document only
            del record["TaiLieuNop"][1:]
        if record is not None and "sync-refusal-date-always" in defects:  # the defect: every dossier "refused"
            record["NgayTuChoi"] = record["NgayTiepNhan"] or record["NgayNopHoSo"]
        if record is not None and "pay-sync-unpaid" in defects:
            record["DuocThanhToanTrucTuyen"] = "0"  # the defect: the portal never hears that it was paid online
        return record

    async def tell_portal(dossier: model.Dossier) -> None:
        step = dossier.history[-1]
        progress = [model.portal_progress(dossier, step, lifecycle, date_format)]
        if "transfer-portal-unaware" in defects:
            # The defect: the portal only ever hears of the first agency.
            for told in progress:
                told["DonViXuLy"] = told["PhongBanXuLy"] = dossier.service["agency_name"]
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

    # The fuzz defects: a rule the validation forgets, then a crash (HTTP 500) where the dossier is stored, as a
    # database column, a utf8mb3 table or a careless loop over an absent list would give.
    forgotten_rules = {("summary", "maxLength")} if "fuzz-long-summary" in defects else set()
    if "fuzz-surrogate-read" in defects:  # stored as it came; only the write's own answer escapes it
        forgotten_rules.add(("summary", "unicode"))
    # fuzz-procedure-component: the component list of a transferred procedure, looked up with a key that is not one
    transferred_components = {"1.004227": {"BHXH01", "BHXH02"}}

    def storage_fault(body: dict[str, Any]) -> str | None:
        if "fuzz-long-summary" in defects and len(body.get("summary", "")) > SUMMARY_COLUMN:
            return "Data too long for column 'TrichYeuHoSo' at row 1"
        if "fuzz-astral-name" in defects and any(ord(c) > 0xFFFF for c in body["applicant"]["name"]):
            return "Incorrect string value for column 'ChuHoSo' (utf8mb3 holds no character beyond U+FFFF)"
        if "fuzz-missing-files" in defects and "files" not in body:
            return "'NoneType' object is not iterable (files)"
        known = transferred_components.get(body["procedure_code"]) if "fuzz-procedure-component" in defects else None
        if known is not None and any(
            f.get("component_code", "") not in known for f in body.get("files", []) if f.get("component_code")
        ):
            return "KeyError: component not in the procedure's list (unhashable lookup in the transfer form)"
        return None

    def service_view(s: dict[str, Any]) -> dict[str, Any]:
        view = {
            "code": s["code"],
            "local_code": local_code(s),
            "service_id": s["service_id"],
            "name": s["name"],
            "agency_code": s["agency_code"],
            "level": s["level"],
            "fee_bearing": s["fee_bearing"],
            "fees": s.get("fees", []),
        }
        if "second_agency_code" in s:
            view["second_agency_code"] = s["second_agency_code"]
        return view

    async def list_services(request: Request) -> JSONResponse:
        return JSONResponse([service_view(s) for s in services.values()])

    def read_files(body: dict[str, Any]) -> tuple[model.StoredFile, ...]:
        stored = []
        for entry in body.get("files", []):
            content = base64.b64decode(entry["content_base64"], validate=True)
            stored.append(
                model.StoredFile(
                    secrets.token_hex(8), str(entry["name"]), str(entry.get("component_code", "")), content
                )
            )
        return tuple(stored)

    async def submit(request: Request) -> JSONResponse:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        try:
            body = json.loads(await request.body())
            inputs.check_body("Submission", body, tolerate=forgotten_rules)
            service = services[body["procedure_code"]]
            applicant = body["applicant"]
            channel = body.get("channel", "online")
            if channel not in model.CHANNELS:
                raise KeyError("channel")
            if not model.is_id_number(str(applicant.get("id_number", ""))):
                raise ValueError("applicant.id_number must be a 12-digit citizen id or a 9-digit old id")
            submitted_files = read_files(body)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return problem(422, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        required = service.get("min_loa")
        if required and loa_rank(who.assurance) < loa_rank(required) and "sso-ignores-loa" not in defects:
            return forbidden(f"dịch vụ yêu cầu {required}, đăng nhập có {who.assurance or 'không rõ'} / "
                             f"the service requires {required}, the sign-on gave {who.assurance or 'none'}")
        fault = storage_fault(body)
        if fault is not None:
            return problem(500, "internal-error", f"Lỗi hệ thống / internal error: {fault}")
        now = vietnam_now()
        due = model.due_date(now, service["days"])
        code_day = due.date() if "dossier-code-wrong-date" in defects else now.date()
        agency = model.Agency(service["agency_code"], service["agency_name"])
        dossier = model.Dossier(
            code=codes.next_code(service["agency_code"], code_day),
            service=service,
            channel=channel,
            applicant_name=str(applicant.get("name", "")),
            applicant_id_number=str(applicant.get("id_number", "")),
            summary=str(body.get("summary", "")),
            submitted_at=now,
            due_at=due,
            agency=agency,
            files=submitted_files,
            owner=who.subject,
            owner_vneid=who.vneid_verified,
        )
        subject, assurance = audit(who)
        step = model.Step("1", now, dossier.applicant_name, "submit", "citizen", agency, subject, assurance)
        dossier.history.append(step)
        store[dossier.code] = dossier
        files.update({f.id: f for f in submitted_files})
        await tell_portal(dossier)
        if "fuzz-surrogate-read" in defects:  # the write answers in escaped ASCII; the reads do not
            return Response(json.dumps(public(dossier)), status_code=201, media_type="application/json")
        return JSONResponse(public(dossier), status_code=201)

    async def show(request: Request) -> JSONResponse:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        dossier = store.get(request.path_params["code"])
        if dossier is None or not may_read(who, dossier):
            # Another citizen's dossier is not even confirmed to exist.
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        return JSONResponse(public(dossier))

    async def export(request: Request) -> JSONResponse:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        if not who.officer:
            return forbidden("officers only")
        try:
            page = inputs.query_int(request.query_params, "page", 1, 1, 2**31 - 1)
            size = inputs.query_int(request.query_params, "size", 100, 1, 500)
        except inputs.InvalidInput as exc:
            status = 400 if "fuzz-undocumented-status" in defects else 422
            return problem(status, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        items = list(store.values())[(page - 1) * size : page * size]
        return JSONResponse({"page": page, "size": size, "total": len(store), "items": [public(d) for d in items]})

    def destination(dossier: model.Dossier, code: Any) -> model.Agency | None:
        if not isinstance(code, str) or not is_agency_code(code):
            return None
        name = dossier.service.get("second_agency_name") if code == dossier.service.get("second_agency_code") else None
        if code == dossier.service["agency_code"]:
            name = dossier.service["agency_name"]
        return model.Agency(code, name or code)

    async def act(request: Request) -> JSONResponse:
        dossier = store.get(request.path_params["code"])
        action = request.path_params["action"]
        who = await principal(request)
        anonymous_allowed = action == "supplement" and "txn-supplement-anonymous" in defects
        if who is None and not anonymous_allowed:
            return unauthenticated()
        if dossier is None or (who is not None and not may_read(who, dossier)):
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        if action not in lifecycle.actions:
            return problem(422, "unknown-action", f"unknown action {action}; known: {', '.join(lifecycle.actions)}")
        if who is not None and not anonymous_allowed:
            role_checked = "txn-officer-action-by-citizen" not in defects
            if role_checked and lifecycle.actions[action].actor == "officer" and not who.officer:
                return forbidden(f"{action} is an officer's action")
            if lifecycle.actions[action].actor == "citizen" and who.subject != dossier.owner:
                return forbidden(f"{action} is the applicant's own action")
        try:
            raw = await request.body()
            if not raw and "fuzz-missing-body-accepted" in defects and who is not None:
                raw = json.dumps({"actor": who.subject}).encode()  # the defect: no body, a default actor
            body = json.loads(raw or b"{}")
            inputs.check_body("Action", body)
            actor = str(body.get("actor") or "")
        except (ValueError, AttributeError) as exc:
            return problem(422, "invalid-request", f"body must be a JSON object as documented: {exc}")
        if not actor:
            return problem(422, "invalid-request", "actor is required: every transaction names who acted")
        to_agency = destination(dossier, body.get("to_agency")) if action == "transfer" else None
        if action == "transfer" and (to_agency is None or to_agency.code == dossier.agency.code):
            return problem(422, "invalid-request", "transfer needs to_agency: another agency's code")
        before = dossier.status
        if optional_refused(action, before):
            return problem(
                refusal_status, "not-offered", f"{action} from {before} is not offered by this system", status=before
            )
        if action == "request-supplement" and "supplement-never-offered" in defects:
            # The defect: no officer can ever ask for a supplement, a move every system must offer somewhere.
            return problem(refusal_status, "not-offered", f"{action} is not offered by this system", status=before)
        if action in ("refuse", "withdraw", "return") and "end-actions-change-nothing" in defects:
            return JSONResponse(public(dossier))  # the defect: accepted, and the dossier left as it was
        guarded = "illegal-transition-accepted" not in defects and not (
            "end-state-reopened" in defects and before in lifecycle.end_states
        )
        subject, assurance = audit(who)
        moved = model.apply(
            dossier,
            action,
            lifecycle,
            actor,
            vietnam_now(),
            guarded=guarded,
            to_agency=to_agency,
            subject=subject,
            assurance=assurance,
        )
        if not moved:
            return problem(
                refusal_status, "illegal-transition", f"{action} is not allowed: {lifecycle.rule(before)}", status=before
            )
        await tell_portal(dossier)
        if "pay-init-on-every-step" in defects and action != "request-payment":  # the defect: every step opens one
            await cashier.request(dossier, request.client.host if request.client else "127.0.0.1")
        if action == "request-payment" and "citizen-opens-payment" not in variations:
            await cashier.request(dossier, request.client.host if request.client else "127.0.0.1")
            cashier.start_reconciling(lambda payment: payment_settled(payment.dossier_code))
        return JSONResponse(public(dossier))

    async def confirm_payment(request: Request) -> JSONResponse:
        """The payment platform's confirm callback: authenticated by its MaXacThuc, answered HTTP 200 with a MaLoi
        (domain.md section 8), whatever the verdict."""
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            return JSONResponse({"MaLoi": "99", "MoTaLoi": "Bản tin không hợp lệ / invalid message"})
        reply, settled = cashier.confirm(body)
        if settled is not None:
            await payment_settled(settled.dossier_code)
        return JSONResponse(reply)

    async def inbox(request: Request) -> JSONResponse:
        """What an agency received from others: each transfer with the files as electronic documents."""
        who = await principal(request)
        if who is None:
            return unauthenticated()
        if not who.officer:
            return forbidden("officers only")
        agency = request.path_params["agency"]
        received = []
        for dossier in store.values():
            # inbox-now-only: a dossier is listed only while it is at the agency, with its latest transfer there.
            here = dossier.transfers[-1:] if dossier.agency.code == agency else []
            for transfer in here if "inbox-now-only" in variations else dossier.transfers:
                # The defect: every agency's inbox lists every transfer, wherever it was addressed.
                if transfer.destination.code == agency or "transfer-inbox-unfiltered" in defects:
                    sent = () if "transfer-drops-files" in defects else transfer.files
                    received.append(
                        {
                            "code": dossier.code,
                            "from": transfer.source.code,
                            "at": transfer.at.isoformat(),
                            "method": "electronic",
                            "files": [f.public() for f in sent],
                        }
                    )
        return JSONResponse(received)

    async def download(request: Request) -> Response:
        who = await principal(request)
        if who is None:
            return unauthenticated()
        stored = files.get(request.path_params["file_id"])
        holders = [d for d in store.values() if stored is not None and stored in d.files]
        if "txn-cross-account-file-read" in defects:  # the defect: any signed-in account may read any file
            holders = list(store.values())
        if stored is None or not any(may_read(who, d) for d in holders):
            return problem(404, "not-found", "Không tìm thấy tệp / file not found")
        return Response(stored.content, media_type="application/octet-stream")

    async def handoff(request: Request) -> Response:
        """The portal's hand-off (vnconnect=1&MaTTHCDP=…&MaCoQuanThucHien=…&MaDVC=…): the service page for a
        signed-in citizen, otherwise the portal's sign-on."""
        if "handoff-link-error" in defects:
            return HTMLResponse("<h1>500 Internal Server Error</h1>", status_code=500)
        query = request.query_params
        service = next((s for s in services.values() if s["service_id"] == query.get("MaDVC")), None)
        if (
            query.get("vnconnect") != "1"
            or service is None
            or query.get("MaTTHCDP") != local_code(service)
            or query.get("MaCoQuanThucHien") != service["agency_code"]
        ):
            return HTMLResponse("<h1>Không tìm thấy dịch vụ / service not found</h1>", status_code=404)
        if await principal(request) is None or "handoff-ignores-session" in defects:
            return RedirectResponse(relying_party.begin(str(request.url_for("signed_in"))), status_code=302)
        title = html.escape(service["name"])
        return HTMLResponse(f"<html lang='vi'><h1>{title}</h1><p>Mã TTHC {html.escape(service['code'])}</p></html>")

    async def sign_in(request: Request) -> Response:
        """Starts a login: the browser goes to the provider's authorization endpoint."""
        return RedirectResponse(relying_party.begin(str(request.url_for("signed_in"))), status_code=302)

    async def signed_in(request: Request) -> Response:
        """The provider's redirect back: a session bound to the account's TechID, or a refusal and no session."""
        try:
            who = await relying_party.complete(dict(request.query_params))
        except LoginRefused as exc:
            return problem(401, "sign-on-refused", f"Đăng nhập bị từ chối / sign-on refused: {exc}")
        answer = RedirectResponse("/api/me", status_code=302)
        answer.set_cookie(SESSION_COOKIE, relying_party.open_session(who), httponly=True, samesite="lax")
        return answer

    async def me(request: Request) -> JSONResponse:
        who = await principal(request)
        return JSONResponse(who.public()) if who is not None else unauthenticated()

    def history() -> History:
        """The year's history, built on first use: most runs of the app never ask for it."""
        year = settings.year or vietnam_now().year
        if year not in past_years:
            past_years[year] = build_history(year, defects)
        return past_years[year]

    async def export_history(request: Request) -> JSONResponse:
        """The paged export a metrics driver reads: the year's dossiers as synced to the portal, the procedure
        catalog, the agency registry and the transaction log."""
        who = await principal(request)
        if who is None:
            return unauthenticated()
        if not who.officer or "export-refused-to-officers" in defects:
            return forbidden("officers only")
        kind = request.path_params["kind"]
        rows = getattr(history(), kind, None) if kind in EXPORT_KINDS else None
        if rows is None:
            return problem(404, "not-found", f"unknown export {kind!r}; known: {', '.join(EXPORT_KINDS)}")
        try:
            page = inputs.query_int(request.query_params, "page", 1, 1, 2**31 - 1)
            size = inputs.query_int(request.query_params, "size", 1000, 1, 5000)
        except inputs.InvalidInput as exc:
            return problem(422, "invalid-request", f"Yêu cầu không hợp lệ / invalid request: {exc}")
        if "exports-cursor" in variations:
            return JSONResponse(_cursor_page(rows, request.query_params.get("cursor"), size))
        items = rows[(page - 1) * size : page * size]
        return JSONResponse({"page": page, "size": size, "total": len(rows), "items": items})

    async def openapi(request: Request) -> Response:
        document = (resources.schema_dir() / "reference-api.openapi.json").read_bytes()
        if variations & {"public-calls-declared", "citizen-opens-payment"}:
            return JSONResponse(_documented(json.loads(document), variations, settings.confirm_path))
        return Response(document, media_type="application/json")

    async def pay(request: Request) -> JSONResponse:
        """citizen-opens-payment: the applicant opens the transaction the officer asked for, by a call of their own."""
        who = await principal(request)
        if who is None:
            return unauthenticated()
        dossier = store.get(request.path_params["code"])
        if dossier is None or not may_read(who, dossier):
            return problem(404, "not-found", "Không tìm thấy hồ sơ / dossier not found")
        if who.subject != dossier.owner:
            return forbidden("paying is the applicant's own action")
        if dossier.status != "6" or any(p.state == "pending" for p in dossier.payments):
            return problem(refusal_status, "nothing-to-pay", "Không có khoản cần thanh toán / nothing to pay now")
        await cashier.request(dossier, request.client.host if request.client else "127.0.0.1")
        cashier.start_reconciling(lambda payment: payment_settled(payment.dossier_code))
        return JSONResponse(public(dossier))

    async def health(request: Request) -> JSONResponse:
        """public-calls-declared: a public write a monitor calls, with no session (the target lists it)."""
        return JSONResponse({"status": "ok"})

    async def sync_failures(request: Request) -> JSONResponse:
        return JSONResponse(sync.failures)

    async def unrouted(request: Request, exc: Exception) -> JSONResponse:
        """No such route or method: a JSON problem like every other refusal, not Starlette's plain text."""
        status = getattr(exc, "status_code", 404)
        error = "not-found" if status == 404 else "method-not-allowed"
        answer = problem(status, error, f"{request.method} {request.url.path}")
        if status == 405:  # what every route of this path allows (RFC 9110), not only the first one's
            allowed = {m for r in routes if r.matches(request.scope)[0] != Match.NONE for m in r.methods or ()}
            answer.headers["allow"] = ", ".join(sorted(allowed))
        return answer

    routes = [
        Route("/openapi.json", openapi),
        Route("/api/procedures", list_services),
        Route("/api/dossiers", submit, methods=["POST"]),
        Route("/api/dossiers", export, methods=["GET"]),
        Route("/api/dossiers/{code}", show),
        Route("/api/dossiers/{code}/actions/{action}", act, methods=["POST"]),
        Route(settings.confirm_path, confirm_payment, methods=["POST"]),
        Route("/api/agencies/{agency}/inbox", inbox),
        Route("/api/files/{file_id}", download),
        Route("/api/exports/{kind}", export_history),
        Route(settings.handoff_path, handoff),
        Route("/auth/login", sign_in),
        Route("/auth/callback", signed_in, name="signed_in"),
        Route("/api/me", me),
        Route("/_p111/sync-failures", sync_failures),
        *([Route("/api/dossiers/{code}/pay", pay, methods=["POST"])] if "citizen-opens-payment" in variations else []),
        *([Route("/api/health", health, methods=["POST"])] if "public-calls-declared" in variations else []),
    ]
    return Starlette(exception_handlers={404: unrouted, 405: unrouted}, routes=routes)


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


def _cursor_page(rows: list[Any], cursor: str | None, size: int) -> dict[str, Any]:
    """exports-cursor: an opaque cursor (the next offset, encoded) instead of page numbers; none when done."""
    try:
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except (ValueError, binascii.Error):
        start = 0
    end = start + size
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(rows) else None
    return {"items": rows[start:end], "next_cursor": following}


def _documented(document: dict[str, Any], variations: frozenset[str], confirm_path: str) -> dict[str, Any]:
    """The OpenAPI document as the variations change the API: no p111 extension (a vendor's document carries none),
    the public health call, the citizen's pay call."""
    paths = document.setdefault("paths", {})
    if "public-calls-declared" in variations:
        for item in paths.values():
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("x-p111-authenticated-by", None)
        paths["/api/health"] = {"post": {"summary": "Health check (public)", "responses": {"200": {"description": "ok"}}}}
    if "citizen-opens-payment" in variations:
        paths["/api/dossiers/{code}/pay"] = {
            "post": {
                "summary": "The applicant opens the payment the officer asked for",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the dossier, with the payment opened"}},
            }
        }
    return document
