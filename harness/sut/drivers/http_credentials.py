"""How each role authenticates to a vendor's system, and how the http driver learns who a session belongs to
(`sut.driver_options.credentials` and `.identity`, schemas/drivers/http.schema.json).

A role (citizen, officer, second_officer: the receiving agency's officer) signs on through the portal's sign-on
(the default), presents a static key header or HTTP basic auth whose secret is a `${ENV}` reference in the target,
or calls a login of the system's own. Who a session belongs to comes from a who-am-I call, from the sign-on
callback's answer, or from the claims of the session token itself (a JWT the system issued): a system without a
who-am-I call is still judged by every sign-on check."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from harness.config.target import ENV_REFERENCE
from harness.core import limits
from harness.sut.drivers.base import DriverError, Session, call_sut
from harness.sut.drivers.http_config import OPTIONS, Expression, need, template

ROLES = ("citizen", "officer", "second_officer")
SIGN_ON, KEY, BASIC, LOGIN = "sign-on", "key", "basic", "login"


def resolve(value: Any, key: str, secrets: Mapping[str, str]) -> str:
    """A setting that may be a `${ENV}` reference: the target's resolved secret at `key` (dotted inside
    driver_options), else the environment (a driver built by hand)."""
    text = str(value)
    match = ENV_REFERENCE.match(text)
    if match is None:
        return text
    if key in secrets:
        return secrets[key]
    if os.environ.get(match["name"]):
        return os.environ[match["name"]]
    raise DriverError(f"{OPTIONS}.{key}: environment variable {match['name']} is not set")


class Credential:
    """One role's way in."""

    def __init__(self, role: str, spec: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        key = f"credentials.{role}"
        self.role, self.by = role, str(spec.get("by", SIGN_ON))
        self.account = str(spec.get("account") or "")
        self._spec, self._secrets, self._key = dict(spec), secrets, key
        if self.by == KEY:
            self.header = str(need(spec, "header", key))
            self._value = template(str(spec.get("value", "{{ secret }}")), f"{key}.value")
        elif self.by == LOGIN:
            self.path = template(str(need(spec, "path", key)), f"{key}.path")
            self.body = template(spec.get("body", {}), f"{key}.body")
            credential = need(spec, "credential", key)
            self.credential_from = str(need(credential, "from", f"{key}.credential"))
            self.credential_name = str(need(credential, "name", f"{key}.credential"))
            self._json = Expression(f"{key}.credential.name", self.credential_name)
            present = need(spec, "present", key)
            self.header = str(need(present, "header", f"{key}.present"))
            self._value = template(str(need(present, "value", f"{key}.present")), f"{key}.present.value")
        elif self.by not in (SIGN_ON, BASIC):
            raise DriverError(f"{OPTIONS}.{key}.by: expected one of: {SIGN_ON}, {KEY}, {BASIC}, {LOGIN}")

    def _secret(self, name: str) -> str:
        return resolve(need(self._spec, name, self._key), f"{self._key}.{name}", self._secrets)

    def session(self, client: httpx.Client) -> Session:
        """The role's session, for any way in but the sign-on (the driver follows that one itself)."""
        account = self.account or self.role
        if self.by == KEY:
            return Session(account, {self.header: str(self._value({"secret": self._secret("secret")}))})
        if self.by == BASIC:
            pair = f"{need(self._spec, 'username', self._key)}:{self._secret('password')}".encode()
            return Session(account, {"authorization": "Basic " + base64.b64encode(pair).decode()})
        variables = {"username": str(self._spec.get("username", "")), "password": self._secret("password")}
        method = str(self._spec.get("method", "POST")).upper()
        answer = call_sut(client, method, str(self.path(variables)), json=self.body(variables))
        token = credential_in(answer, self.credential_from, self.credential_name, self._json)
        if token is None:
            raise DriverError(
                f"{OPTIONS}.{self._key}: the system's login ({method} {answer.request.url.path}) answered HTTP "
                f"{answer.status_code} without a credential at {self._key}.credential"
            )
        return Session(account, {self.header: str(self._value({"token": token}))})


def credential_in(answer: httpx.Response, where: str, name: str, expression: Expression | None) -> str | None:
    """A session credential in an answer: a cookie, a header or a JSON field."""
    if answer.status_code >= 400:
        return None
    if where == "cookie":
        return answer.cookies.get(name)
    if where == "header":
        return answer.headers.get(name)
    try:
        body = limits.json_of(answer.content)
    except ValueError:
        return None
    found = expression.search(body, "sign_on") if expression is not None else None
    return str(found) if isinstance(found, str | int) and str(found) else None


def credentials(options: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Credential]:
    configured = dict(options.get("credentials") or {})
    unknown = sorted(set(configured) - set(ROLES))
    if unknown:
        raise DriverError(f"{OPTIONS}.credentials.{unknown[0]}: unknown role (known: {', '.join(ROLES)})")
    return {role: Credential(role, dict(spec or {}), secrets) for role, spec in configured.items()}


class Identity:
    """Where the driver learns whom a session belongs to: `whoami` (the system's call), `callback` (the sign-on
    callback's answer) or `claims` (the session token's own JWT claims, read, not verified: the system vouches for
    its own token by accepting it)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        spec = dict(options.get("identity") or {"from": "whoami"})
        self.source = str(spec.get("from", "whoami"))
        if self.source not in ("whoami", "callback", "claims"):
            raise DriverError(f"{OPTIONS}.identity.from: expected one of: whoami, callback, claims")
        self.fields = {
            name: Expression(f"identity.{name}", text)
            for name, text in spec.items()
            if name != "from"
        }
        if self.source != "whoami" and "subject" not in self.fields:
            raise DriverError(f"{OPTIONS}.identity.subject: required field missing")

    def read(self, data: Any) -> dict[str, Any]:
        return {name: expression.search(data, "identity") for name, expression in self.fields.items()}

    def from_callback(self, callback: httpx.Response) -> dict[str, Any]:
        try:
            return self.read(limits.json_of(callback.content))
        except ValueError:
            return {"subject": None}

    def from_token(self, token: str) -> dict[str, Any]:
        parts = token.split(".")
        try:
            payload = parts[1] + "=" * (-len(parts[1]) % 4)
            return self.read(json.loads(base64.urlsafe_b64decode(payload)))
        except (IndexError, ValueError):
            return {"subject": None}


def sensitive_headers(options: Mapping[str, Any]) -> list[str]:
    """The headers the credentials settings name: what each role presents its key or session in."""
    found = []
    for spec in (options.get("credentials") or {}).values():
        spec = spec or {}
        if spec.get("by") == KEY and spec.get("header"):
            found.append(str(spec["header"]))
        if spec.get("by") == LOGIN:
            found.append(str((spec.get("present") or {}).get("header") or ""))
            if (spec.get("credential") or {}).get("from") == "header":
                found.append(str(spec["credential"].get("name") or ""))
    return [h for h in found if h]


def sensitive_fields(options: Mapping[str, Any]) -> list[str]:
    found = []
    for spec in (options.get("credentials") or {}).values():
        spec = spec or {}
        if spec.get("by") == LOGIN and (spec.get("credential") or {}).get("from") == "json":
            name = str(spec["credential"].get("name") or "")
            found.append(name.replace("]", "").split(".")[-1].split("[")[-1])
    return [f for f in found if f]


def target_secrets(target: Any) -> dict[str, str]:
    """The driver's own `${ENV}` secrets, resolved by the target (sut.driver_options)."""
    return {path: secret.reveal() for path, secret in getattr(target.sut, "driver_secrets", {}).items()}

