"""How the reference system signs citizens and officers in: an OpenID Connect relying party of the portal's SSO.

Authorization-code flow with state, nonce and PKCE; the ID token is checked for its signature (the provider's JWKS,
fetched again once when a key id is unknown: keys rotate), issuer, audience, validity times and nonce; userinfo
gives the portal's claims. A session is bound to the account's TechID. Bearer access tokens are accepted too, checked
at the provider's userinfo endpoint (they are opaque to the system). Named defects weaken one check each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LEEWAY_SECONDS = 120  # clock skew tolerated on exp / nbf
ALGORITHMS = ["RS256", "ES256"]


@dataclass(frozen=True)
class SignOnLink:
    issuer: str  # the provider's base URL (discovery at /.well-known/openid-configuration)
    client_id: str
    client_secret: str
    officers: frozenset[str] = frozenset()  # TechIDs of the province's officer directory
    http_transport: httpx.AsyncBaseTransport | None = None  # in-process provider; None = the network


@dataclass(frozen=True)
class Principal:
    """Who is acting, as the sign-on established it."""

    subject: str  # TechID: the stable portal account id
    assurance: str  # loAs
    ial: int | None  # VNeID's identity assurance level, when the account came through VNeID
    name: str
    officer: bool

    @property
    def vneid_verified(self) -> bool:
        return self.ial is not None and self.ial >= 1

    def public(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "assurance": self.assurance,
            "ial": self.ial,
            "name": self.name,
            "role": "officer" if self.officer else "citizen",
        }


class LoginRefused(Exception):
    """The sign-on's answer cannot be trusted; no session is created."""


@dataclass
class _Pending:
    nonce: str
    verifier: str
    redirect_uri: str
    at: float


@dataclass
class RelyingParty:
    link: SignOnLink
    defects: frozenset[str] = frozenset()
    pending: dict[str, _Pending] = field(default_factory=dict)  # by state
    issued_nonces: set[str] = field(default_factory=set)
    sessions: dict[str, Principal] = field(default_factory=dict)
    _config: dict[str, Any] | None = None
    _keys: KeySet | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.link.http_transport, timeout=10.0)

    def begin(self, redirect_uri: str) -> str:
        """The authorization request a citizen's browser is sent to (domain.md section 5), with PKCE."""
        state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
        if "sso-constant-nonce" in self.defects:
            nonce = "p111-the-same-nonce-every-time"  # the defect: a nonce that binds no login
        self.pending[state] = _Pending(nonce, verifier, redirect_uri, time.time())
        self.issued_nonces.add(nonce)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": self.link.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "acr_values": "LoA1",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.link.issuer.rstrip('/')}/oauth2/authorize?{urlencode(query)}"

    async def _discover(self, client: httpx.AsyncClient) -> dict[str, Any]:
        if self._config is None:
            answer = await client.get(f"{self.link.issuer.rstrip('/')}/.well-known/openid-configuration")
            answer.raise_for_status()
            self._config = dict(answer.json())
        return self._config

    async def _key_set(self, client: httpx.AsyncClient, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            answer = await client.get((await self._discover(client))["jwks_uri"])
            answer.raise_for_status()
            self._keys = KeySet.import_key_set(answer.json())
        return self._keys

    async def _verified_claims(self, client: httpx.AsyncClient, token: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise LoginRefused(f"ID token is not a JWS: {exc}") from exc
        if header.get("alg") == "none" and "sso-accepts-alg-none" in self.defects:
            # The defect: an unsigned token's claims are read as if they were signed.
            with warnings.catch_warnings():  # joserfc rightly warns about `none`: the defect wants it anyway
                warnings.simplefilter("ignore")
                return dict(jwt.decode(token, None, algorithms=["none"]).claims)  # type: ignore[arg-type]
        if "sso-skips-signature" in self.defects:  # the defect: the payload is read, its signature never checked
            return dict(json.loads(jws.extract_compact(token.encode()).payload))
        failure: Exception | None = None
        for refresh in (False, True):  # an unknown kid may be a rotated key: fetch the JWKS once more
            try:
                return dict(jwt.decode(token, await self._key_set(client, refresh=refresh), ALGORITHMS).claims)
            except (JoseError, ValueError) as exc:
                failure = exc
        raise LoginRefused(f"ID token signature not verified: {failure}")

    def _check_claims(self, claims: dict[str, Any], pending: _Pending) -> None:
        now = time.time()
        if claims.get("iss") != self.link.issuer.rstrip("/") and "sso-skips-issuer" not in self.defects:
            raise LoginRefused(f"iss {claims.get('iss')!r} is not the provider")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.link.client_id not in audiences and "sso-skips-audience" not in self.defects:
            raise LoginRefused(f"aud {audience!r} is not this client")
        if "sso-ignores-expiry" not in self.defects and not now - LEEWAY_SECONDS < float(claims.get("exp", 0)):
            raise LoginRefused("ID token expired")
        not_before = float(claims.get("nbf", claims.get("iat", 0)))
        if not_before > now + LEEWAY_SECONDS and "sso-ignores-not-before" not in self.defects:
            raise LoginRefused("ID token not yet valid")
        nonce = claims.get("nonce")
        if "sso-replayed-nonce" in self.defects:
            fresh = nonce in self.issued_nonces  # the defect: any nonce ever issued, never bound to this login
        else:
            fresh = isinstance(nonce, str) and secrets.compare_digest(nonce, pending.nonce)
        if not fresh:
            raise LoginRefused("nonce does not match this login (replayed?)")

    def _take_pending(self, state: str) -> _Pending:
        pending = self.pending.pop(state, None)
        if pending is None and "sso-ignores-state" in self.defects and self.pending:
            # The defect: state is never compared; the latest login in progress is assumed.
            pending = self.pending.pop(next(reversed(self.pending)))
        if pending is None:
            raise LoginRefused("state does not match a login in progress")
        return pending

    async def complete(self, query: dict[str, str]) -> Principal:
        """The callback: state, code exchange, ID token, userinfo. Raises LoginRefused when anything is off."""
        if "error" in query:
            raise LoginRefused(f"the provider answered {query['error']}")
        pending = self._take_pending(query.get("state", ""))
        async with self._client() as client:
            config = await self._discover(client)
            answer = await client.post(
                config["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": query.get("code", ""),
                    "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier,
                },
                auth=(self.link.client_id, self.link.client_secret),
            )
            if answer.status_code != 200:
                raise LoginRefused(f"token endpoint answered {answer.status_code}")
            tokens = answer.json()
            claims = await self._verified_claims(client, str(tokens.get("id_token", "")))
            self._check_claims(claims, pending)
            info = await self._userinfo(client, str(tokens.get("access_token", "")))
        if info is None or info.get("sub") != claims.get("sub"):
            raise LoginRefused("userinfo does not belong to the ID token's subject")
        return self._principal(info)

    async def _userinfo(self, client: httpx.AsyncClient, access_token: str) -> dict[str, Any] | None:
        config = await self._discover(client)
        answer = await client.get(config["userinfo_endpoint"], headers={"authorization": f"Bearer {access_token}"})
        return dict(answer.json()) if answer.status_code == 200 else None

    def _principal(self, info: dict[str, Any]) -> Principal:
        ial = info.get("IAL")
        return Principal(
            # The defect names the provider's opaque `sub`, not the account's TechID, as who made a transaction.
            subject=str(
                info.get("sub") if "sso-subject-is-sub" in self.defects else info.get("TechID") or info.get("sub")
            ),
            assurance=str(info.get("loAs") or ""),
            ial=int(ial) if ial not in (None, "") else None,
            name=str(info.get("HoVaTen") or ""),
            officer=str(info.get("TechID")) in self.link.officers,
        )

    def open_session(self, principal: Principal) -> str:
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = principal
        return sid

    async def from_bearer(self, access_token: str) -> Principal | None:
        """A bearer access token: whoever the provider's userinfo says it belongs to (None: not valid)."""
        if not access_token:
            return None
        try:
            async with self._client() as client:
                info = await self._userinfo(client, access_token)
        except httpx.HTTPError:
            return None
        return self._principal(info) if info is not None else None
