"""How the `http` driver signs on: it follows the code flow itself (as the reference-api driver does), then finds the
session credential in the callback's answer where `sign_on.credential` says and presents it as `sign_on.present`
says; who the session is, where the system answers no who-am-I call, comes from the callback or the token's claims."""

from __future__ import annotations

from typing import Any

import httpx

from harness.sut.drivers.base import Login, Session
from harness.sut.drivers.http_config import OPTIONS, Expression, need, shape, template
from harness.sut.drivers.http_credentials import Identity, credential_in
from harness.sut.drivers.reference_api import follow_code_flow


def session_key(session: Session) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(session.headers.items()))


class CodeFlowSignOn:
    """The target's `sign_on` settings, and who each session it gave is (when the system is not asked)."""

    def __init__(
        self, sign: dict[str, Any], client: httpx.Client, sign_on: httpx.Client | None, identity: Identity
    ) -> None:
        self._client = client
        self._sign_on = sign_on
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
        self.identity = identity
        self.identities: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}  # by session, when not asked

    def _token(self, callback: httpx.Response) -> str | None:
        """The session credential in the callback's answer, where sign_on.credential says it is."""
        return credential_in(callback, self._credential_from, self._credential_name, self._credential_json)

    @staticmethod
    def _answer_shape(response: httpx.Response) -> str:
        try:
            return shape(response.json())
        except ValueError:
            return f"not JSON (Content-Type {response.headers.get('content-type') or 'missing'})"

    def login(self, account: str) -> Login:
        authorize, callback = follow_code_flow(self._client, self._sign_on, self._login_path, account)
        token = self._token(callback)
        session = None
        if token is not None:
            session = Session(account, {self._present_header: str(self._present_value({"token": token}))})
            if self.identity.source == "callback":
                self.identities[session_key(session)] = self.identity.from_callback(callback)
            elif self.identity.source == "claims":
                self.identities[session_key(session)] = self.identity.from_token(token)
        message = ""
        if session is None:
            # A refusal's own words; but an answer that came back fine yet without the credential where the
            # configuration says may hold it elsewhere: then only its shape, never its text.
            message = (
                callback.text[:300]
                if callback.status_code >= 400
                else f"no credential at {OPTIONS}.sign_on.credential; the answer is {self._answer_shape(callback)}"
            )
            if self._login_message is not None:
                try:
                    found = self._login_message.search(callback.json(), "sign_on")
                    message = str(found) if found is not None else message
                except ValueError:
                    pass
        return Login(authorize, callback.status_code, session, message)
