"""How demo 3 signs people on: a relying party of the portal's sign-on (OpenID Connect code flow with state, nonce and
PKCE; the ID token verified against the provider's JWKS, fetched again when a key id is new), then a session token
of its own: a JWT it signs with its own key (HS256), carrying the account's TechID and level of assurance. There is
no who-am-I call: the token's claims say who it belongs to.

Officers do not sign on here: they present the system's static key, or HTTP basic auth at the receiving agency."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

SKEW = 120  # seconds tolerated on exp / nbf
SESSION_SECONDS = 8 * 3600


class Refused(Exception):
    """The provider's answer is not to be trusted: no session."""


@dataclass(frozen=True)
class Person:
    """Who acts: from the sign-on (a citizen) or from the officer directory (a key or a password)."""

    tech_id: str
    assurance: str
    vneid: bool = False
    officer: bool = False


@dataclass(frozen=True)
class Registration:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Login:
    nonce: str
    verifier: str


@dataclass
class SignOn:
    registration: Registration
    ignores_expiry: bool = False  # the planted defect demo3-sso-ignores-expiry
    transport: httpx.AsyncBaseTransport | None = None
    _logins: dict[str, Login] = field(default_factory=dict)
    _meta: dict[str, Any] | None = None
    _keys: KeySet | None = None
    _own_key: OctKey = field(default_factory=lambda: OctKey.generate_key(256))

    def start(self) -> str:
        """The authorization request, with a fresh state, nonce and PKCE challenge."""
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        self._logins[state] = Login(nonce, verifier)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code", "client_id": self.registration.client_id, "scope": "openid",
            "redirect_uri": self.registration.redirect_uri, "state": state, "nonce": nonce, "acr_values": "LoA1",
            "code_challenge": challenge, "code_challenge_method": "S256",
        }
        return f"{self.registration.issuer.rstrip('/')}/oauth2/authorize?{urlencode(query)}"

    async def finish(self, query: dict[str, str]) -> Person:
        login = self._logins.pop(query.get("state", ""), None)
        if login is None:
            raise Refused("unknown state")
        async with httpx.AsyncClient(transport=self.transport, timeout=10.0) as client:
            meta = await self._metadata(client)
            answer = await client.post(
                meta["token_endpoint"],
                data={"grant_type": "authorization_code", "code": query.get("code", ""),
                      "redirect_uri": self.registration.redirect_uri, "code_verifier": login.verifier},
                auth=(self.registration.client_id, self.registration.client_secret),
            )
            if answer.status_code != 200:
                raise Refused(f"token endpoint: HTTP {answer.status_code}")
            tokens = answer.json()
            claims = await self._verified(client, str(tokens.get("id_token", "")))
            self._judge(claims, login, str(tokens.get("access_token", "")))
            info = await client.get(meta["userinfo_endpoint"],
                                    headers={"authorization": f"Bearer {tokens.get('access_token', '')}"})
        if info.status_code != 200 or info.json().get("sub") != claims.get("sub"):
            raise Refused("userinfo is not the ID token's subject")
        data = info.json()
        ial = data.get("IAL")
        return Person(str(data.get("TechID") or data["sub"]), str(data.get("loAs") or ""),
                      vneid=ial not in (None, "") and int(ial) >= 1)

    async def _metadata(self, client: httpx.AsyncClient) -> dict[str, Any]:
        # Read at every login, and its issuer must be the one configured (OIDC Discovery 4.3).
        answer = await client.get(f"{self.registration.issuer.rstrip('/')}/.well-known/openid-configuration")
        meta = dict(answer.json())
        if meta.get("issuer", "").rstrip("/") != self.registration.issuer.rstrip("/"):
            raise Refused("discovery issuer")
        self._meta = meta
        return meta

    async def _verified(self, client: httpx.AsyncClient, token: str) -> dict[str, Any]:
        for fresh in (False, True):  # a key id it does not know may be a rotated key: fetch the JWKS once more
            if self._keys is None or fresh:
                jwks = await client.get((await self._metadata(client))["jwks_uri"])
                self._keys = KeySet.import_key_set(jwks.json())
            try:
                return dict(jwt.decode(token, self._keys, algorithms=["RS256", "ES256"]).claims)
            except (JoseError, ValueError):
                continue
        raise Refused("ID token signature")

    def _judge(self, claims: dict[str, Any], login: Login, access_token: str) -> None:
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != self.registration.issuer.rstrip("/"):
            raise Refused("issuer")
        if not claims.get("sub") or not isinstance(claims.get("iat"), (int, float)):
            raise Refused("sub or iat missing")  # OIDC Core 2: both are required claims
        if audiences != [self.registration.client_id]:
            raise Refused("audience")  # this client alone: it trusts no other party named beside it
        if "at_hash" in claims:  # OIDC Core 3.1.3.8: where present, the left half of the access token's hash
            digest = hashlib.sha256(access_token.encode()).digest()
            expected = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
            if not secrets.compare_digest(str(claims["at_hash"]), expected):
                raise Refused("at_hash")
        if not self.ignores_expiry and float(claims.get("exp", 0)) < now - SKEW:
            raise Refused("expired")
        if float(claims.get("nbf", claims.get("iat", 0))) > now + SKEW:
            raise Refused("not yet valid")
        if not secrets.compare_digest(str(claims.get("nonce", "")), login.nonce):
            raise Refused("nonce")

    # ---- its own session tokens ----

    def issue(self, person: Person) -> str:
        now = int(time.time())
        claims = {"sub": person.tech_id, "loa": person.assurance, "vneid": person.vneid, "iat": now,
                  "exp": now + SESSION_SECONDS}
        return jwt.encode({"alg": "HS256"}, claims, self._own_key)

    def holder(self, token: str) -> Person | None:
        try:
            claims = jwt.decode(token, self._own_key, algorithms=["HS256"]).claims
        except (JoseError, ValueError):
            return None
        if float(claims.get("exp", 0)) < time.time():
            return None
        return Person(str(claims["sub"]), str(claims.get("loa") or ""), vneid=bool(claims.get("vneid")))
