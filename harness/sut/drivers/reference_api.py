"""Driver for the reference API (schemas/reference-api.openapi.json), which a vendor may also implement."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from harness.core import limits
from harness.core.formats import VIETNAM_TIME
from harness.http.client import lies_under
from harness.sut.drivers.base import (
    ActionResult,
    DossierView,
    DriverError,
    Fee,
    FileView,
    InboxItem,
    Login,
    NoSignOnOffered,
    PaymentView,
    Service,
    Session,
    StepView,
    call_sut,
)
from harness.sut.drivers.http_credentials import (
    SIGN_ON,
    Credential,
    credentials,
    sensitive_fields,
    sensitive_headers,
    target_secrets,
)

OFFICER = "Cán bộ kiểm thử P111"
CITIZEN = "Công dân kiểm thử P111"
_citizen_numbers = itertools.count(1)


def next_citizen_number() -> str:
    """Test citizens carry obviously fake id numbers (0000 + a counter, one counter for every driver of the run);
    evidence redacts them anyway."""
    return f"0000{next(_citizen_numbers):08d}"
# The sign-on counterpart's test accounts (mocks/data/sso-accounts.yaml) the driver acts as by default.
DEFAULT_ACCOUNTS = {"citizen": "citizen-1", "officer": "officer-1"}
LOGIN_PATH = "/auth/login"
SESSION_COOKIE = "p111_session"


def _time(value: Any, date_format: str | None = None) -> datetime | None:
    """An ISO 8601 time, or one in the SUT's own format (driver option datetime_format); a time without a zone is
    Vietnam's (UTC+7), where the system runs."""
    if not value:
        return None
    moment = datetime.strptime(value, date_format) if date_format else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM_TIME)


def _files(data: list[dict[str, Any]]) -> tuple[FileView, ...]:
    return tuple(FileView(f["id"], f["name"], f["sha256"], f["url"]) for f in data)


def _shaped(build: Any, data: Any, what: str) -> Any:
    try:
        return build(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DriverError(f"the SUT's {what} does not have the reference API's shape: {exc!r}") from exc


def _view(data: dict[str, Any], date_format: str | None = None) -> DossierView:
    return _shaped(
        lambda d: DossierView(
            code=d["code"],
            procedure_code=d["procedure_code"],
            agency_code=d["agency_code"],
            current_agency_code=d.get("current_agency_code", d["agency_code"]),
            channel=d["channel"],
            status=str(d["status"]),
            submitted_at=_time(d["submitted_at"], date_format),
            received_at=_time(d.get("received_at"), date_format),
            due_at=_time(d.get("due_at"), date_format),
            statuses=tuple(str(step["status"]) for step in d.get("history", [])),
            files=_files(d.get("files", [])),
            steps=tuple(
                StepView(str(step["status"]), str(step.get("action", "")), step.get("subject"), step.get("assurance"))
                for step in d.get("history", [])
            ),
            paid_online=bool(d.get("paid_online")),
            payments=tuple(
                PaymentView(str(p["reference"]), int(p["amount"]), str(p["state"]), int(p["credited"]), p.get("url"))
                for p in d.get("payments", [])
            ),
        ),
        data,
        "dossier",
    )


def _service(data: dict[str, Any]) -> Service:
    return Service(
        code=str(data["code"]),
        local_code=str(data["local_code"]),
        service_id=str(data["service_id"]),
        name=str(data["name"]),
        agency_code=str(data["agency_code"]),
        level=str(data["level"]),
        fee_bearing=bool(data.get("fee_bearing")),
        second_agency_code=data.get("second_agency_code"),
        fees=tuple(
            Fee(str(f["LoaiPhiLePhi"]), str(f["MaPhiLePhi"]), str(f["TenPhiLePhi"]), int(f["SoTien"]))
            for f in data.get("fees", [])
        ),
    )


def signed_on(login: Callable[[str], Login], role: str, account: str) -> Session:
    """The role's test account signed on through `login`, or a DriverError carrying the SUT's refusal."""
    attempt = login(account)
    if attempt.session is None:
        raise DriverError(
            f"the SUT refused the {role} test account's sign-on: HTTP {attempt.http_status} {attempt.message}"
        )
    return attempt.session


def follow_code_flow(
    client: httpx.Client, sign_on: httpx.Client | None, login_path: str, account: str
) -> tuple[str, httpx.Response]:
    """The OpenID Connect code flow as a browser follows it: the SUT's login path redirects to the sign-on, which
    approves `account` (login_hint) and sends it back to the SUT's callback. The authorization URL and the SUT's
    answer to the callback; where the session is in that answer is the caller's to know (shared by the drivers)."""
    if sign_on is None:
        raise DriverError("no sign-on counterpart in the target (counterparts.sso.url): nobody can sign on")
    start = call_sut(client, "GET", login_path)
    authorize = start.headers.get("location", "")
    if not start.is_redirect or not lies_under(authorize, sign_on.base_url):
        # An answer that sends nobody to the sign-on is a system without one; a crash says nothing either way.
        error = DriverError if start.status_code >= 500 else NoSignOnOffered
        raise error(
            f"GET {login_path}: expected a redirect to the sign-on at {sign_on.base_url}, "
            f"got HTTP {start.status_code} {authorize}"
        )
    try:
        approved = sign_on.get(f"{authorize}&{urlencode({'login_hint': account})}")
    except httpx.HTTPError as exc:
        raise DriverError(f"the sign-on counterpart did not answer: {exc}") from exc
    back = urlsplit(approved.headers.get("location", ""))
    if not approved.is_redirect:
        raise DriverError(f"the sign-on did not send {account} back to the SUT (HTTP {approved.status_code})")
    return authorize, call_sut(client, "GET", f"{back.path}?{back.query}")


class ReferenceApiDriver:
    """The Driver protocol over the reference API (schemas/reference-api.openapi.json)."""

    asks_a_person = False
    shows_steps = False
    # The calls that act on a dossier, as the http driver's `actions` settings write them (method, path template):
    # what `p111 fuzz` learns which operation of the document is which from (harness.fuzz.state).
    routes = {
        "act": ("POST", "/api/dossiers/{{ code }}/actions/{{ action }}"),
        "pay": ("POST", "/api/dossiers/{{ code }}/pay"),
    }

    @classmethod
    def build(cls, target: Any, system: Any) -> ReferenceApiDriver:
        """The reference API, with the options where a vendor implementing it lawfully differs (dates, paging, how a
        role authenticates: the same `credentials` settings as the http driver's)."""
        options = target.sut.driver_options or {}
        return cls(system.client, system.sign_on, options=options,
                   credentials=credentials(options, target_secrets(target)))

    @staticmethod
    def sensitive_names(options: dict[str, Any] | None) -> tuple[list[str], list[str]]:
        # The reference API's own names the redactor knows already; a role's credentials name theirs.
        return sensitive_headers(options or {}), sensitive_fields(options or {})

    def offered_exports(self) -> tuple[str, ...] | None:
        return None  # not declared: every export is asked

    def _route(self, name: str, **values: str) -> tuple[str, str]:
        """The method and path of one of `routes`, its placeholders filled."""
        method, path = self.routes[name]
        return method, re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(values[m[1]]), path)

    def close(self) -> None:
        """Nothing started for the run."""
    def __init__(
        self,
        client: httpx.Client,
        sign_on: httpx.Client | None = None,
        sessions: dict[str, Session] | None = None,
        options: dict[str, Any] | None = None,
        credentials: Mapping[str, Credential] | None = None,
    ) -> None:
        # sut.driver_options (schemas/drivers/reference-api.schema.json): where a vendor implementing the reference
        # API lawfully differs from it.
        options = options or {}
        # A role's way in other than the sign-on (http_credentials.Credential, from options.credentials).
        self._credentials = {role: c for role, c in (credentials or {}).items() if c.by != SIGN_ON}
        self._date_format: str | None = options.get("datetime_format")
        self._cursor = options.get("export_pagination", "page") == "cursor"
        self._client = client
        self._sign_on = sign_on  # the sign-on counterpart: the driver follows the login redirects itself
        self._sessions: dict[str, Session] = dict(sessions or {})  # by role; given ones were signed on elsewhere
        self._owners: dict[str, Session] = {}  # dossier code → the session that submitted it

    def _call(self, method: str, path: str, *, session: Session | None = None, **kwargs: Any) -> httpx.Response:
        return call_sut(self._client, method, path, session=session, **kwargs)

    # ---- signing on ----

    def login(self, account: str) -> Login:
        authorize, callback = follow_code_flow(self._client, self._sign_on, LOGIN_PATH, account)
        cookie = callback.cookies.get(SESSION_COOKIE)
        session = Session(account, {"cookie": f"{SESSION_COOKIE}={cookie}"}) if cookie else None
        message = "" if callback.is_redirect or callback.is_success else limits.excerpt(callback.text)
        return Login(authorize, callback.status_code, session, message)

    def session(self, role: str) -> Session:
        if role not in self._sessions and role in self._credentials:
            self._sessions[role] = self._credentials[role].session(self._client)
        if role not in self._sessions:
            self._sessions[role] = signed_on(self.login, role, DEFAULT_ACCOUNTS[role])
        return self._sessions[role]

    def whoami(self, session: Session) -> dict[str, Any] | None:
        answer = self._call("GET", "/api/me", session=session)
        return self._json(answer, 200) if answer.status_code == 200 else None

    def _view_of(self, data: Any) -> DossierView:
        return _view(data, self._date_format)

    def _json(self, response: httpx.Response, *expected: int) -> Any:
        where = f"{response.request.method} {response.request.url.path}"
        if response.status_code not in expected:
            moved = f" (a redirect to {response.headers.get('location')}, not followed)" if response.is_redirect else ""
            raise DriverError(
                f"{where}: expected HTTP {'/'.join(map(str, expected))}, got {response.status_code}{moved}",
                refused_with=response.status_code,
            )
        kind = response.headers.get("content-type", "")
        if "json" not in kind.lower():
            raise DriverError(f"{where}: the SUT's answer is not JSON (Content-Type {kind or 'missing'})")
        try:
            return limits.json_of(response.content)
        except ValueError as exc:
            raise DriverError(f"{where}: the SUT's answer is not JSON ({exc})") from exc

    def services(self) -> list[Service]:  # public: the catalog of online services
        data = self._json(self._call("GET", "/api/procedures"), 200)
        return _shaped(lambda rows: [_service(row) for row in rows], data, "service list")  # type: ignore[no-any-return]

    def submit(
        self,
        procedure_code: str,
        *,
        channel: str = "online",
        files: tuple[tuple[str, bytes], ...] = (),
        session: Session | None = None,
    ) -> DossierView:
        # Test citizens carry obviously fake id numbers (0000 + a counter); evidence redacts them anyway.
        number = next_citizen_number()
        body = {
            "procedure_code": procedure_code,
            "channel": channel,
            "summary": "Hồ sơ kiểm thử P111",
            "applicant": {"name": CITIZEN, "id_number": number},
            "files": [{"name": name, "content_base64": base64.b64encode(content).decode()} for name, content in files],
        }
        owner = session or self.session("citizen")
        dossier = self._view_of(self._json(self._call("POST", "/api/dossiers", json=body, session=owner), 201))
        self._owners[dossier.code] = owner
        return dossier

    def act(
        self, code: str, action: str, *, to_agency: str | None = None, session: Session | None = None
    ) -> ActionResult:
        by_citizen = action in ("supplement", "withdraw")
        actor = CITIZEN if by_citizen else OFFICER
        body: dict[str, Any] = {"actor": actor}
        if to_agency is not None:
            body["to_agency"] = to_agency
        if session is None:
            session = self._owners.get(code, self.session("citizen")) if by_citizen else self.session("officer")
        response = self._call(*self._route("act", code=code, action=action), json=body, session=session)
        if response.is_success:
            view = self._view_of(self._json(response, response.status_code))
            return ActionResult(True, response.status_code, view, "")
        if response.status_code in (400, 401, 403, 404, 409, 422):
            try:
                message = limits.quoted(str(limits.json_of(response.content).get("message", "")))
            except (ValueError, AttributeError):
                message = limits.excerpt(response.text)
            return ActionResult(False, response.status_code, None, message)
        raise DriverError(f"{action} on {code}: unexpected HTTP {response.status_code}")

    def get(self, code: str, *, session: Session | None = None) -> DossierView:
        answer = self._call("GET", f"/api/dossiers/{code}", session=session or self.session("officer"))
        return self._view_of(self._json(answer, 200))

    def inbox(self, agency_code: str) -> list[InboxItem]:
        data = self._json(self._call("GET", f"/api/agencies/{agency_code}/inbox", session=self.session("officer")), 200)
        return _shaped(  # type: ignore[no-any-return]
            lambda rows: [InboxItem(r["code"], r["from"], r["method"], _files(r["files"])) for r in rows],
            data,
            "inbox",
        )

    def download(self, url: str) -> bytes:
        response = self._call("GET", url, session=self.session("officer"))
        if response.status_code != 200:
            raise DriverError(f"GET {url}: expected HTTP 200, got {response.status_code}")
        return response.content

    def pay(self, code: str, *, session: Session | None = None) -> ActionResult:
        """The applicant opens the payment the officer asked for (payment.opened_by: citizen)."""
        owner = session or self._owners.get(code) or self.session("citizen")
        response = self._call(*self._route("pay", code=code), json={"actor": CITIZEN}, session=owner)
        if response.is_success:
            view = self._view_of(self._json(response, response.status_code))
            return ActionResult(True, response.status_code, view, "")
        return ActionResult(False, response.status_code, None, limits.excerpt(response.text))

    def export(self, kind: str) -> list[dict[str, Any]]:
        if self._cursor:
            return self._export_by_cursor(kind)
        rows: list[dict[str, Any]] = []
        for page in itertools.count(1):
            params = {"page": page, "size": 5000}
            answer = self._call("GET", f"/api/exports/{kind}", params=params, session=self.session("officer"))
            data = self._json(answer, 200)
            items = _shaped(lambda d: list(d["items"]), data, f"{kind} export")
            rows.extend(items)
            if not items or len(rows) >= int(data.get("total", 0)):
                return rows
        return rows

    def _export_by_cursor(self, kind: str) -> list[dict[str, Any]]:
        """export_pagination: cursor — each page names the next (next_cursor) until none is left."""
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(1_000_000):  # bounded: a SUT that never ends its cursor chain is an error, not a hang
            params: dict[str, Any] = {"size": 5000, **({"cursor": cursor} if cursor else {})}
            answer = self._call("GET", f"/api/exports/{kind}", params=params, session=self.session("officer"))
            data = self._json(answer, 200)
            rows.extend(_shaped(lambda d: list(d["items"]), data, f"{kind} export"))
            cursor = data.get("next_cursor") if isinstance(data, dict) else None
            if not cursor:
                return rows
        raise DriverError(f"GET /api/exports/{kind}: the cursor chain never ended")
