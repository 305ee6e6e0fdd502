"""The declarative `http` driver: every operation of the Driver protocol is an HTTP call described in the target
(`sut.driver_options`, schemas/drivers/http.schema.json), so a vendor whose API differs from the reference API needs
no Python. Requests are Jinja2 templates; the fields of an answer are found by JMESPath expressions; the system's
words (statuses, actions, channels …) are translated through the vocabulary tables (harness/sut/drivers/http_config.py).

Anything unexpected is a DriverError naming the action and the configuration key (an ERROR verdict, never a crash).
Credentials never appear in a message: only paths, statuses, configuration keys and the answers' field names do.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Mapping
from typing import Any

import httpx

from harness.config.target import Refusals
from harness.core import limits
from harness.core.lifecycle import load_lifecycle
from harness.http.client import refused
from harness.sut.drivers.base import (
    ActionResult,
    DossierView,
    DriverError,
    InboxItem,
    Login,
    Service,
    Session,
    call_sut,
)
from harness.sut.drivers.file_store import FileStore
from harness.sut.drivers.http_config import (
    OPTIONS,
    Action,
    Expression,
    Vocabulary,
    build_views,
    need,
    shape,
    template,
)
from harness.sut.drivers.http_config import sensitive_names as configured_names
from harness.sut.drivers.http_credentials import (
    SIGN_ON,
    Identity,
    credential_in,
    credentials,
    sensitive_fields,
    sensitive_headers,
    target_secrets,
)
from harness.sut.drivers.http_views import AnswerReader
from harness.sut.drivers.reference_api import (
    CITIZEN,
    DEFAULT_ACCOUNTS,
    OFFICER,
    follow_code_flow,
    next_citizen_number,
    signed_on,
)

# ---- the driver ---------------------------------------------------------------------------------------------------


class HttpDriver:
    """The Driver protocol over a vendor's own HTTP API, as `options` (sut.driver_options) describe it."""

    asks_a_person = False
    shows_steps = False

    @classmethod
    def build(cls, target: Any, system: Any) -> HttpDriver:
        """The driver of `sut.driver_options`, on the run's SUT client and sign-on counterpart, with the driver's own
        secrets resolved from the target (`${ENV}` references)."""
        return cls(dict(target.sut.driver_options or {}), system.client, system.sign_on, target_secrets(target),
                   refusals=target.sut.refusals)

    @staticmethod
    def sensitive_names(options: dict[str, Any] | None) -> tuple[list[str], list[str]]:
        return sensitive_names(options or {})

    def __init__(
        self,
        options: dict[str, Any],
        client: httpx.Client,
        sign_on: httpx.Client | None = None,
        secrets: Mapping[str, str] | None = None,
        *,
        refusals: Refusals | None = None,
    ) -> None:
        self._client = client
        # How the system refuses a caller without a valid session (sut.refusals), which whoami reads as well.
        self._refusals = refusals or Refusals()
        self._sign_on = sign_on
        sign = need(options, "sign_on")
        self._login_path = str(need(sign, "login_path", "sign_on"))
        credential = need(sign, "credential", "sign_on")
        self._credential_from = str(need(credential, "from", "sign_on.credential"))
        self._credential_name = str(need(credential, "name", "sign_on.credential"))
        self._credential_json = (
            Expression("sign_on.credential.name", self._credential_name) if self._credential_from == "json" else None
        )
        present = need(sign, "present", "sign_on")
        self._present_header = str(need(present, "header", "sign_on.present"))
        self._present_value = template(str(need(present, "value", "sign_on.present")), "sign_on.present.value")
        self._login_message = Expression("sign_on.message", sign["message"]) if "message" in sign else None
        self._accounts = {**DEFAULT_ACCOUNTS, **(sign.get("accounts") or {})}
        self._credentials = credentials(options, secrets or {})
        self._identity = Identity(options)
        self._identities: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}  # by session, when not asked
        files = dict(options.get("files") or {})
        self._files_by = str(files.get("send", "content"))  # content | multipart | link
        self._store_settings = dict(files.get("store") or {})
        self._store: FileStore | None = None
        # Which exports the system offers (None: not declared, every kind is asked).
        self._exports: tuple[str, ...] | None = (
            tuple(str(k) for k in options["exports"]) if "exports" in options else None
        )
        self._datetime_format: str | None = options.get("datetime_format")
        vocabulary = options.get("vocabulary") or {}
        self._vocabulary = {
            name: Vocabulary(name, vocabulary.get(name))
            for name in ("status", "action", "channel", "level", "payment_state", "transfer_method", "export_kind")
        }
        self._actions = {
            name: Action(name, dict(spec)) for name, spec in dict(need(options, "actions")).items()
        }
        for name in ("services", "submit", "act", "get"):
            if name not in self._actions:
                raise DriverError(f"{OPTIONS}.actions.{name}: required field missing")
        self._views = build_views(dict(need(options, "views")))
        self._read = AnswerReader(self._views, self._vocabulary, self._datetime_format, self.download)
        self._actors = {name: a.actor for name, a in load_lifecycle().actions.items()}
        self._sessions: dict[str, Session] = {}  # by role, signed on once
        self._owners: dict[str, Session] = {}  # dossier code → the session that submitted it

    # ---- calls ----

    def _action(self, name: str) -> Action:
        if name not in self._actions:
            raise DriverError(f"{OPTIONS}.actions.{name} is not configured: the SUT cannot be asked to {name}")
        return self._actions[name]

    def _send(self, name: str, session: Session | None, variables: dict[str, Any]) -> httpx.Response:
        action = self._action(name)
        path = str(action.path(variables))
        self._own_origin(name, path)
        kwargs: dict[str, Any] = {}
        if action.query is not None:
            kwargs["params"] = action.query(variables)
        if action.headers is not None:
            kwargs["headers"] = {str(k): str(v) for k, v in action.headers(variables).items()}
        if action.multipart is not None:
            # A multipart upload: the body's fields as form fields, each file as a part of its own.
            fields = action.body(variables) if action.body is not None else {}
            kwargs["data"] = {str(k): v if isinstance(v, str) else str(v) for k, v in fields.items()}
            part = str(action.multipart.get("file_field", "files"))
            kwargs["files"] = [
                (part, (f["name"], f["content"], "application/octet-stream")) for f in variables.get("raw_files", ())
            ]
        elif action.body is not None:
            kwargs["json"] = action.body(variables)
        return call_sut(self._client, action.method, path, session=session, **kwargs)

    def _own_origin(self, name: str, path: str) -> None:
        """A path the SUT handed out (a file's link) may be a full URL: the session goes only to the SUT's own
        origin, never to a host its answer names."""
        url = httpx.URL(path)
        if not url.is_absolute_url:
            return
        own = self._client.base_url

        def origin(u: httpx.URL) -> tuple[str, str, int | None]:
            return u.scheme, u.host, u.port or {"http": 80, "https": 443}.get(u.scheme)

        if origin(url) != origin(own):
            raise DriverError(
                f"actions.{name}: {url.scheme}://{url.host}{':' + str(url.port) if url.port else ''} is not the SUT's "
                f"origin ({own.scheme}://{own.host}{':' + str(own.port) if own.port else ''}): its credentials are "
                "never sent elsewhere"
            )

    @staticmethod
    def _where(name: str, response: httpx.Response) -> str:
        return f"actions.{name} ({response.request.method} {response.request.url.path})"

    def _json(self, name: str, response: httpx.Response) -> Any:
        action, where = self._action(name), self._where(name, response)
        if response.status_code not in action.expect:
            moved = f" (a redirect to {response.headers.get('location')}, not followed)" if response.is_redirect else ""
            raise DriverError(
                f"{where}: expected HTTP {'/'.join(map(str, action.expect))} ({OPTIONS}.actions.{name}.expect), "
                f"got {response.status_code}{moved}",
                refused_with=response.status_code,
            )
        try:
            return limits.json_of(response.content)
        except ValueError as exc:
            kind = response.headers.get("content-type") or "missing"
            raise DriverError(f"{where}: the SUT's answer is not JSON (Content-Type {kind}; {exc})") from exc

    def _result(self, name: str, response: httpx.Response) -> Any:
        return self._action(name).result.required(self._json(name, response), self._where(name, response))

    def _list_result(self, name: str, response: httpx.Response) -> list[Any]:
        found = self._result(name, response)
        if not isinstance(found, list):
            raise DriverError(
                f"{self._where(name, response)}: {OPTIONS}.actions.{name}.result: expected a list, "
                f"found {shape(found)}"
            )
        return found

    # ---- signing on ----

    def _token(self, callback: httpx.Response) -> str | None:
        """The session credential in the callback's answer, where sign_on.credential says it is."""
        return credential_in(callback, self._credential_from, self._credential_name, self._credential_json)

    @staticmethod
    def _answer_shape(response: httpx.Response) -> str:
        try:
            return shape(limits.json_of(response.content))
        except ValueError:
            return f"not JSON (Content-Type {response.headers.get('content-type') or 'missing'})"

    def login(self, account: str) -> Login:
        authorize, callback = follow_code_flow(self._client, self._sign_on, self._login_path, account)
        token = self._token(callback)
        session = None
        if token is not None:
            session = Session(account, {self._present_header: str(self._present_value({"token": token}))})
            if self._identity.source == "callback":
                self._identities[_key(session)] = self._identity.from_callback(callback)
            elif self._identity.source == "claims":
                self._identities[_key(session)] = self._identity.from_token(token)
        message = ""
        if session is None:
            # A refusal's own words; but an answer that came back fine yet without the credential where the
            # configuration says may hold it elsewhere: then only its shape, never its text.
            message = (
                limits.excerpt(callback.text)
                if callback.status_code >= 400
                else f"no credential at {OPTIONS}.sign_on.credential; the answer is {self._answer_shape(callback)}"
            )
            if self._login_message is not None:
                try:
                    found = self._login_message.search(limits.json_of(callback.content), "sign_on")
                    message = limits.quoted(str(found)) if found is not None else message
                except ValueError:
                    pass
        return Login(authorize, callback.status_code, session, message)

    def session(self, role: str) -> Session:
        if role == "second_officer" and role not in self._credentials:
            role = "officer"  # the receiving agency's officer signs in as the officers do, unless configured
        credential = self._credentials.get(role)
        if role not in self._sessions and credential is not None and credential.by != SIGN_ON:
            self._sessions[role] = credential.session(self._client)
        if role not in self._sessions:
            account = (credential.account if credential is not None else "") or self._accounts.get(role)
            if not account:
                raise DriverError(f"{OPTIONS}.credentials.{role}: no test account for this role (credentials.{role}"
                                  ".account)")
            self._sessions[role] = signed_on(self.login, role, account)
        return self._sessions[role]

    def whoami(self, session: Session) -> dict[str, Any] | None:
        if self._identity.source != "whoami":
            # No who-am-I call: what the sign-on callback (or the session's own claims) said when the system gave
            # the session; a session it never gave belongs to nobody.
            return self._identities.get(_key(session))
        response = self._send("whoami", session, {})
        # actions.whoami.refused is the old spelling of sut.refusals.statuses, honoured where a target still has it.
        declared = self._action("whoami").refused
        if (response.status_code in declared) if declared else refused(response, self._refusals):
            return None
        data = self._result("whoami", response)
        where = self._where("whoami", response)
        view = self._views.get("account")
        if view is None:
            raise DriverError(f"{where}: {OPTIONS}.views.account: required, since actions.whoami is set")
        return {field: view.value(field, data, where, required=field == "subject") for field in view.fields}

    # ---- the dossier's life ----

    def services(self) -> list[Service]:
        response = self._send("services", None, {})
        where = self._where("services", response)
        return [self._read.service(row, where) for row in self._list_result("services", response)]

    def submit(
        self,
        procedure_code: str,
        *,
        channel: str = "online",
        files: tuple[tuple[str, bytes], ...] = (),
        session: Session | None = None,
    ) -> DossierView:
        variables = {
            "procedure_code": procedure_code,
            "channel": self._vocabulary["channel"].to_sut(channel, "actions.submit"),
            "summary": "Hồ sơ kiểm thử P111",
            "applicant": {"name": CITIZEN, "id_number": next_citizen_number()},
            "files": [
                {
                    "name": name,
                    "content_base64": base64.b64encode(content).decode(),
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "url": self._file_store().put(name, content) if self._files_by == "link" else None,
                }
                for name, content in files
            ],
            "raw_files": [{"name": name, "content": content} for name, content in files],
        }
        owner = session or self.session("citizen")
        response = self._send("submit", owner, variables)
        dossier = self._read.dossier(self._result("submit", response), self._where("submit", response))
        self._owners[dossier.code] = owner
        return dossier

    def _file_store(self) -> FileStore:
        """The run's file store, started at the first file sent by link (files.store: host, port, public_url)."""
        if self._store is None:
            settings = self._store_settings
            self._store = FileStore(
                str(settings.get("host", "127.0.0.1")), int(settings.get("port", 0)), settings.get("public_url")
            )
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def pay(self, code: str, *, session: Session | None = None) -> ActionResult:
        """The citizen opens the payment the officer asked for (actions.pay), where the system waits for them to (the
        target's `payment.opened_by: citizen`); not configured, a DriverError naming actions.pay."""
        self._action("pay")
        owner = session or self._owners.get(code) or self.session("citizen")
        response = self._send("pay", owner, {"code": code, "actor": CITIZEN})
        spec, where = self._action("pay"), self._where("pay", response)
        if response.status_code in spec.expect:
            return ActionResult(True, response.status_code, None, "")
        if response.status_code in spec.refused:
            return ActionResult(False, response.status_code, None, self._refusal(spec, response, where))
        raise DriverError(
            f"{where}: pay on {code}: unexpected HTTP {response.status_code} (neither {OPTIONS}.actions.pay.expect "
            "nor actions.pay.refused)"
        )

    def act(
        self, code: str, action: str, *, to_agency: str | None = None, session: Session | None = None
    ) -> ActionResult:
        by_citizen = self._actors.get(action) == "citizen"
        if session is None:
            session = (self._owners.get(code) or self.session("citizen")) if by_citizen else self.session("officer")
        variables = {
            "code": code,
            "action": self._vocabulary["action"].to_sut(action, "actions.act"),
            "actor": CITIZEN if by_citizen else OFFICER,
            "to_agency": to_agency,
        }
        response = self._send("act", session, variables)
        spec, where = self._action("act"), self._where("act", response)
        if response.status_code in spec.expect:
            dossier = self._read.dossier(self._result("act", response), where)
            return ActionResult(True, response.status_code, dossier, "")
        if response.status_code in spec.refused:
            return ActionResult(False, response.status_code, None, self._refusal(spec, response, where))
        raise DriverError(
            f"{where}: {action} on {code}: unexpected HTTP {response.status_code} (neither "
            f"{OPTIONS}.actions.act.expect nor actions.act.refused)"
        )

    @staticmethod
    def _refusal(spec: Action, response: httpx.Response, where: str) -> str:
        excerpt = limits.excerpt(response.text)
        try:
            body = limits.json_of(response.content)
        except ValueError:
            return excerpt
        found = spec.message.search(body, where) if spec.message is not None else None
        return limits.quoted(str(found)) if found is not None else excerpt

    def get(self, code: str, *, session: Session | None = None) -> DossierView:
        response = self._send("get", session or self.session("officer"), {"code": code})
        return self._read.dossier(self._result("get", response), self._where("get", response))

    def inbox(self, agency_code: str) -> list[InboxItem]:
        response = self._send("inbox", self.session("second_officer"), {"agency": agency_code})
        where, v = self._where("inbox", response), self._views.get("inbox_item")
        if v is None:
            raise DriverError(f"{where}: {OPTIONS}.views.inbox_item: required, since actions.inbox is set")
        return [
            InboxItem(
                v.text("code", row, where),
                v.text("source_agency", row, where),
                self._vocabulary["transfer_method"].from_sut(v.value("method", row, where), where),
                tuple(self._read.file(f, where) for f in v.items("files", row, where)),
            )
            for row in self._list_result("inbox", response)
        ]

    def download(self, url: str) -> bytes:
        response = self._send("download", self.session("officer"), {"url": url})
        if response.status_code not in self._action("download").expect:
            raise DriverError(
                f"{self._where('download', response)}: expected HTTP "
                f"{'/'.join(map(str, self._action('download').expect))} ({OPTIONS}.actions.download.expect), "
                f"got {response.status_code}"
            )
        return response.content

    def offered_exports(self) -> tuple[str, ...] | None:
        """The exports the system declares it offers (sut.driver_options.exports); None: not declared."""
        return self._exports

    def export(self, kind: str) -> list[dict[str, Any]]:
        if self._exports is not None and kind not in self._exports:
            raise DriverError(
                f"{OPTIONS}.exports: the system declares no {kind} export (it offers: {', '.join(self._exports)})"
            )
        spec = self._action("export")
        word = self._vocabulary["export_kind"].to_sut(kind, "actions.export")
        rows: list[dict[str, Any]] = []
        previous: list[Any] | None = None
        cursor: Any = None
        for page in itertools.count(1):
            variables = {"kind": word, "page": page, "size": spec.page_size, "cursor": cursor}
            response = self._send("export", self.session("officer"), variables)
            data = self._json("export", response)
            where = self._where("export", response)
            items = spec.result.required(data, where)
            if not isinstance(items, list):
                raise DriverError(f"{where}: {OPTIONS}.actions.export.result: expected a list, found {shape(items)}")
            rows.extend(items)
            if spec.next is not None:  # by cursor: the last page names no next one
                cursor = spec.next.search(data, where)
                if not items or cursor in (None, ""):
                    return rows
                continue
            total = spec.total.required(data, where) if spec.total is not None else None
            if not items or (total is not None and len(rows) >= int(total)):
                return rows
            # An export that ignores the page number would repeat its first page for ever (a SUT may lawfully cap
            # the page size below ours, so a short page alone does not end the export).
            if items == previous:
                raise DriverError(
                    f"{where}: page {page} repeats page {page - 1}: does {OPTIONS}.actions.export.query pass the "
                    "page number ({{ page }})?"
                )
            previous = items
        return rows


def _key(session: Session) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(session.headers.items()))


def sensitive_names(options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(headers, fields) the configuration marks secret or personal: where the session travels, where the citizen's
    id number is sent, and every header and field the credentials settings name (a key header, a login's session
    field). The secrets' values themselves are the target's and redacted as such."""
    headers, fields = configured_names(options)
    return [*headers, *sensitive_headers(options)], [*fields, *sensitive_fields(options)]
