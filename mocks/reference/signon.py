"""How the reference system signs citizens and officers in: an OpenID Connect relying party of the portal's SSO.

Authorization-code flow with state, nonce and PKCE (S256); the client authenticates at the token endpoint with the
method it registered. The discovery document is read at every login and must name the configured issuer. The ID
token is checked for its signature (RS256 / ES256 only, by the provider's JWKS, fetched again once when the key is
not found: keys rotate), issuer, audience (this client and no untrusted other), sub, iat, validity times, nonce and
at_hash; userinfo gives the portal's claims and must be about the ID token's subject. A session is bound to the
account's TechID. Bearer access tokens are accepted too, checked at the provider's userinfo endpoint (they are opaque
to the system). Named defects weaken one check each; named lawful variations (variations.yaml) do a lawful thing
differently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
# Lawful variations of the reference system's sign-on: each does a lawful thing the other way, so that a check proven
# with the default is proven not to fail a system that does the other. (A minimal, sign-on-only switch.)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def loa_rank(loa: str | None) -> int:
    """LoA1 < LoA2 < LoA3 (the portal's loAs); anything else ranks lowest."""
    digits = str(loa or "").removeprefix("LoA")
    return int(digits) if digits.isdigit() else 0


@dataclass(frozen=True)
class SignOnLink:
    issuer: str  # the provider's base URL (discovery at /.well-known/openid-configuration)
    client_id: str
    client_secret: str
    officers: frozenset[str] = frozenset()  # TechIDs of the province's officer directory
    http_transport: httpx.AsyncBaseTransport | None = None  # in-process provider; None = the network
    token_endpoint_auth_method: str = "client_secret_basic"  # as registered at the provider


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
    nonce: str | None  # None: none sent (the lawful sso-no-nonce variation)
    verifier: str
    redirect_uri: str
    at: float


@dataclass
class RelyingParty:
    link: SignOnLink
    defects: frozenset[str] = frozenset()
    variations: frozenset[str] = frozenset()
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
        sent_nonce = None if "sso-no-nonce" in self.variations else nonce
        self.pending[state] = _Pending(sent_nonce, verifier, redirect_uri, time.time())
        if sent_nonce is not None:
            self.issued_nonces.add(sent_nonce)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        method = "S256"
        if "sso-pkce-plain" in self.defects:  # the defect: the verifier itself travels in the front channel
            challenge, method = verifier, "plain"
        query = {
            "response_type": "code",
            "client_id": self.link.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "acr_values": "LoA1",
            "state": state,
            "nonce": sent_nonce,
            "code_challenge": challenge,
            "code_challenge_method": method,
        }
        if "sso-no-pkce" in self.variations:
            del query["code_challenge"], query["code_challenge_method"]
        if sent_nonce is None:  # optional in the code flow (OIDC Core 3.1.2.1); domain.md section 5 lists none
            del query["nonce"]
        return f"{self.link.issuer.rstrip('/')}/oauth2/authorize?{urlencode(query)}"

    async def _discover(self, client: httpx.AsyncClient, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's configuration; read again at every login (refresh), since a provider may move endpoints.
        Its issuer must be the one configured (OIDC Discovery 4.3), else nothing in it is trusted."""
        if self._config is None or refresh:
            answer = await client.get(f"{self.link.issuer.rstrip('/')}/.well-known/openid-configuration")
            answer.raise_for_status()
            config = dict(answer.json())
            named = config.get("issuer")
            if named != self.link.issuer.rstrip("/") and "sso-trusts-discovery-issuer" not in self.defects:
                raise LoginRefused(f"the discovery document names issuer {named!r}, not the configured one")
            self._config = config
        return self._config

    async def _key_set(self, client: httpx.AsyncClient, *, refresh: bool = False) -> KeySet:
        if refresh and "sso-never-refreshes-jwks" in self.defects:
            refresh = False  # the defect: the JWKS fetched once is kept for ever, so a rotated key is never found
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
        if header.get("alg") == "HS256":
            weak = await self._weak_hs256(client, token, header)
            if weak is not None:
                return weak
        if "sso-skips-signature" in self.defects:  # the defect: the payload is read, its signature never checked
            return dict(json.loads(jws.extract_compact(token.encode()).payload))
        failure: Exception | None = None
        for refresh in (False, True):  # a key not found may be a rotated one: fetch the JWKS once more
            try:
                keys = await self._key_set(client, refresh=refresh)
                if not header.get("kid") and "sso-requires-kid" in self.defects:
                    raise ValueError("the ID token names no kid")  # the defect: even a single-key JWKS is refused
                if not header.get("kid") and len(keys.keys) > 1:
                    return self._kid_absent(token, keys)
                return dict(jwt.decode(token, keys, ALGORITHMS).claims)
            except (JoseError, ValueError) as exc:
                failure = exc
        raise LoginRefused(f"ID token signature not verified: {failure}")

    def _kid_absent(self, token: str, keys: KeySet) -> dict[str, Any]:
        """No kid and several keys: refuse (the default) or try each key (a lawful variation); OIDF allows both."""
        if "sso-kid-absent-unverified" in self.defects:
            # The defect: with no way to pick a key, the claims are read without checking the signature at all.
            return dict(json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==")))
        if "sso-kid-absent-try-each" not in self.variations:
            raise ValueError("the ID token names no kid and the JWKS holds several keys")
        for key in keys.keys:
            try:
                return dict(jwt.decode(token, key, ALGORITHMS).claims)
            except (JoseError, ValueError):
                continue
        raise ValueError("no key of the JWKS verifies the kid-less ID token")

    async def _weak_hs256(self, client: httpx.AsyncClient, token: str, header: dict[str, Any]) -> dict[str, Any] | None:
        """HS256 is never registered here, so a sound RP refuses it (joserfc does, by ALGORITHMS). The two defects
        accept it: keyed with the client secret, or with the provider's public key (the RS-to-HS confusion)."""
        secret: bytes | None = None
        if "sso-accepts-hs256" in self.defects and not header.get("kid"):
            secret = self.link.client_secret.encode()
        elif "sso-alg-confusion" in self.defects and header.get("kid"):
            found = [k for k in (await self._key_set(client)).keys if k.kid == header["kid"]]
            if not found:
                found = [k for k in (await self._key_set(client, refresh=True)).keys if k.kid == header["kid"]]
            secret = found[0].as_pem(private=False) if found else None  # type: ignore[attr-defined]
        if secret is None:
            return None
        signing_input, _, signature = token.rpartition(".")
        mac = base64.urlsafe_b64encode(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
        if not hmac.compare_digest(mac, signature.encode()):
            return None
        return dict(json.loads(base64.urlsafe_b64decode(signing_input.split(".")[1] + "==")))

    def _check_audience(self, claims: dict[str, Any]) -> None:
        """OIDC Core 3.1.3.7 (3): aud names this client, and no other audience this client does not trust."""
        if "sso-skips-audience" in self.defects:
            return
        audience = claims.get("aud")
        if audience is None and "sso-accepts-missing-aud" in self.defects:
            return  # the defect: a token for no one in particular is taken as one for this client
        audiences = audience if isinstance(audience, list) else [audience]
        if self.link.client_id not in audiences:
            raise LoginRefused(f"aud {audience!r} is not this client")
        others = [a for a in audiences if a != self.link.client_id]
        if others and "sso-accepts-extra-audience" not in self.defects:
            raise LoginRefused(f"aud also names {others!r}, which this client does not trust")

    def _check_claims(self, claims: dict[str, Any], pending: _Pending, access_token: str) -> None:
        now = time.time()
        if claims.get("iss") != self.link.issuer.rstrip("/") and "sso-skips-issuer" not in self.defects:
            raise LoginRefused(f"iss {claims.get('iss')!r} is not the provider")
        self._check_audience(claims)
        if not (isinstance(claims.get("sub"), str) and claims["sub"]) and "sso-accepts-missing-sub" not in self.defects:
            raise LoginRefused("the ID token has no sub")
        if not isinstance(claims.get("iat"), (int, float)) and "sso-accepts-missing-iat" not in self.defects:
            raise LoginRefused("the ID token has no iat")
        if "sso-ignores-expiry" not in self.defects and not now - LEEWAY_SECONDS < float(claims.get("exp", 0)):
            raise LoginRefused("ID token expired")
        not_before = float(claims.get("nbf", claims.get("iat", 0)))
        if not_before > now + LEEWAY_SECONDS and "sso-ignores-not-before" not in self.defects:
            raise LoginRefused("ID token not yet valid")
        nonce = claims.get("nonce")
        if pending.nonce is None:
            fresh = True  # none sent: the claim is not compared (OIDC Core 3.1.3.7 step 11 checks a nonce sent)
        elif "sso-replayed-nonce" in self.defects:
            fresh = nonce in self.issued_nonces  # the defect: any nonce ever issued, never bound to this login
        else:
            fresh = isinstance(nonce, str) and secrets.compare_digest(nonce, pending.nonce)
        if not fresh:
            raise LoginRefused("nonce does not match this login (replayed?)")
        if "at_hash" in claims and "sso-ignores-at-hash" not in self.defects:
            # OIDC Core 3.1.3.8: the left half of the access token's hash, by the alg's hash (SHA-256 for every alg
            # this RP accepts: RS256, ES256).
            digest = hashlib.sha256(access_token.encode()).digest()[:16]
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not secrets.compare_digest(str(claims["at_hash"]), expected):
                raise LoginRefused("at_hash does not match the access token")

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
            config = await self._discover(client, refresh=True)
            form = {
                "grant_type": "authorization_code",
                "code": query.get("code", ""),
                "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.verifier,
            }
            if "sso-no-pkce" in self.variations:
                del form["code_verifier"]
            method = self.link.token_endpoint_auth_method
            if "sso-wrong-auth-method" in self.defects:  # the defect: not the method it registered
                method = next(m for m in AUTH_METHODS if m != method)
            if method == "client_secret_post":
                form |= {"client_id": self.link.client_id, "client_secret": self.link.client_secret}
                answer = await client.post(config["token_endpoint"], data=form)
            else:
                answer = await client.post(
                    config["token_endpoint"], data=form, auth=(self.link.client_id, self.link.client_secret)
                )
            if answer.status_code != 200:
                raise LoginRefused(f"token endpoint answered {answer.status_code}")
            tokens = answer.json()
            id_token, access_token = str(tokens.get("id_token", "")), str(tokens.get("access_token", ""))
            claims = await self._verified_claims(client, id_token)
            self._check_claims(claims, pending, access_token)
            info = await self._userinfo(client, access_token)
        if info is None:
            raise LoginRefused("userinfo refused the access token")
        if info.get("sub") != claims.get("sub") and not self._excused_sub(claims):
            # OIDC Core 5.3.2: the userinfo answer must be about the ID token's subject.
            raise LoginRefused("userinfo does not belong to the ID token's subject")
        return self._principal(info)

    def _excused_sub(self, claims: dict[str, Any]) -> bool:
        """Only the defects let a userinfo answer about someone else (or about anyone, when the ID token names no
        subject) through."""
        if "sso-trusts-userinfo-sub" in self.defects:
            return True
        return "sub" not in claims and "sso-accepts-missing-sub" in self.defects

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
        except (httpx.HTTPError, LoginRefused):
            return None
        return self._principal(info) if info is not None else None
