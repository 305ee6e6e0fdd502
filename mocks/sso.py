"""The single sign-on counterpart: an OpenID Connect provider standing for the portal's SSO and for VNeID.

Authorization-code flow (state, nonce, optional PKCE, acr_values), a client-secret token endpoint, userinfo with the
portal's claims (VNeID accounts add `IAL`), ID tokens signed RS256 or ES256 by joserfc, and a JWKS that keeps the
previous keys after a rotation. Test accounts log in without a page: `login_hint` names one and the authorization
endpoint approves it at once, so a driver follows the redirects itself; without it, a person (operator mode, in a
browser) gets a page with one link per test account.

On the harness's request (`POST /_p111/next-login`) the next login is hostile: an unsigned token, a bad signature,
an unknown key, expired or not yet valid, for another audience or from another issuer, a replayed nonce, a
mismatched `state`, a required claim left out, an extra untrusted audience, HS256 keyed with the client secret or with
the provider's public key, a wrong `at_hash`, a userinfo answer about someone else, a discovery document naming
another issuer. A system under test must refuse every one of them (HOSTILE_VARIANTS). Some answers are lawful edge
cases instead: a token without `kid` when the JWKS holds one key (must be accepted), or several keys (accepting by
trying each, or refusing, are both lawful), a lower level of assurance than asked for (the login may succeed; the
services that require more must refuse it). The token and userinfo requests are recorded: which client
authentication method the SUT used and whether its PKCE verifier matched.
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
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import yaml
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from harness.core.formats import vietnam_now

ACCOUNTS_FILE = Path(__file__).parent / "data" / "sso-accounts.yaml"
VALID_VARIANTS = ("rs256", "es256", "kid-absent-single")
# Lawful either way: accepted (the RP tried each key) or refused (it could not tell which key): OIDF allows both.
EITHER_VARIANTS = ("kid-absent-multiple",)
# A valid login whose level of assurance is the lowest (LoA1), whatever the account's and whatever was asked for.
LOW_LOA_VARIANT = "low-loa"
LOWEST_LOA = "LoA1"
HOSTILE_VARIANTS = (
    "alg-none",
    "bad-signature",
    "unknown-key",
    "expired",
    "not-yet-valid",
    "wrong-audience",
    "wrong-issuer",
    "replayed-nonce",
    "state-mismatch",
    "missing-sub",
    "missing-iat",
    "missing-aud",
    "extra-audience",
    "hs256-client-secret",
    "hs256-public-key",
    "bad-at-hash",
    "userinfo-other-sub",
    "kid-absent-bad-signature",
    "discovery-issuer-mismatch",
)
KNOWN_VARIANTS = (*VALID_VARIANTS, *EITHER_VARIANTS, LOW_LOA_VARIANT, *HOSTILE_VARIANTS)
# What the JWKS and the discovery document look like while a variant is armed (until the next arming).
JWKS_VIEWS = {"kid-absent-single": "single", "kid-absent-multiple": "multiple", "kid-absent-bad-signature": "multiple"}
UNTRUSTED_AUDIENCE = "p111-untrusted-party"
FOREIGN_ISSUER = "https://sso.not-the-portal.example"
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
TOKEN_SECONDS = 600
SKEW_SECONDS = 3600  # how far outside its validity a hostile token is: beyond any lawful clock leeway


@dataclass(frozen=True)
class SsoClient:
    """A relying party registered at the provider: its secret and where it may be sent back to."""

    client_id: str
    client_secret: str
    redirect_prefixes: tuple[str, ...]  # a registered redirect_uri starts with one of these
    token_endpoint_auth_method: str = "client_secret_basic"  # as registered (OIDC Registration's default)

    def registered(self, redirect_uri: str) -> bool:
        return any(redirect_uri.startswith(p) for p in self.redirect_prefixes)


@dataclass(frozen=True)
class SsoSettings:
    issuer: str  # the provider's base URL, also the `iss` of its tokens
    clients: tuple[SsoClient, ...]
    token_prefix: str = ""  # prepended to access tokens and codes (the canary test plants one)


def sign_in_page(query: dict[str, str], accounts: dict[str, dict[str, Any]]) -> str:
    """The page a person sees (operator mode, a browser): one link per test account, each the same authorization
    request with that account as `login_hint`. A driver passes `login_hint` itself and never sees it."""
    links = "".join(
        f"<li><a href='?{escape(urlencode({**query, 'login_hint': login}))}'>{escape(account['claims']['HoVaTen'])}"
        f" ({escape(login)}, {escape(account['provider'])})</a></li>"
        for login, account in accounts.items()
    )
    return (
        "<!doctype html><html lang='vi'><meta charset='utf-8'><title>Đăng nhập kiểm thử / test sign-in</title>"
        "<h1>Đăng nhập bằng tài khoản kiểm thử / sign in with a test account</h1>"
        f"<ul>{links}</ul></html>"
    )


def load_accounts() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load(ACCOUNTS_FILE.read_text(encoding="utf-8")))


def _new_keys(generation: int) -> tuple[RSAKey, ECKey]:
    rsa = RSAKey.generate_key(2048, parameters={"kid": f"rsa-{generation}", "use": "sig", "alg": "RS256"})
    ec = ECKey.generate_key("P-256", parameters={"kid": f"ec-{generation}", "use": "sig", "alg": "ES256"})
    return rsa, ec


@dataclass
class Grant:
    """An issued authorization code: who logged in, for which client, and how its ID token must be built."""

    account: dict[str, Any]
    client_id: str
    redirect_uri: str
    nonce: str | None
    acr: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    variant: str
    replayed_nonce: str | None
    authorization: int  # the seq of the authorization request that issued it


@dataclass
class SsoState:
    keys: list[tuple[RSAKey, ECKey]] = field(default_factory=list)
    generations: int = 1
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)  # access token → account, expiry
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    fetches: dict[str, int] = field(default_factory=lambda: {"discovery": 0, "jwks": 0})
    armed: str | None = None
    view: str | None = None  # the armed variant, kept for what the SUT reads after the redirect (JWKS, discovery)
    last_nonce: str | None = None
    spare: RSAKey | None = None  # a second RSA key the JWKS shows while a kid-less token is checked against several


def _unsigned(claims: dict[str, Any]) -> str:
    """`alg: none`: joserfc builds it when told to allow the algorithm (it warns, rightly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode({"alg": "none"}, claims, None, algorithms=["none"])  # type: ignore[arg-type]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str | None) -> str:
    """An HS256 token built by hand: joserfc rightly refuses an asymmetric public key as an HMAC secret, and the
    RS-to-HS confusion needs exactly that."""
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _public_jwk(key: RSAKey | ECKey, *, kid: bool = True) -> dict[str, Any]:
    data = dict(key.as_dict(private=False))
    if not kid:
        data.pop("kid", None)
    return data


def _tampered(token: str, claims: dict[str, Any]) -> str:
    """A signed token whose payload was swapped afterwards: the signature no longer matches."""
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def create_sso_app(settings: SsoSettings) -> Starlette:
    accounts = {a["login"]: a for a in load_accounts()}
    clients = {c.client_id: c for c in settings.clients}
    state = SsoState()
    state.keys.append(_new_keys(1))
    state.spare = _new_keys(0)[0]
    issuer = settings.issuer.rstrip("/")

    def error(status: int, code: str, description: str) -> JSONResponse:
        return JSONResponse({"error": code, "error_description": description}, status_code=status)

    def token(length: int = 24) -> str:
        return settings.token_prefix + secrets.token_urlsafe(length)

    async def discovery(request: Request) -> JSONResponse:
        state.fetches["discovery"] += 1
        return JSONResponse(
            {
                "issuer": FOREIGN_ISSUER if state.view == "discovery-issuer-mismatch" else issuer,
                "authorization_endpoint": f"{issuer}/oauth2/authorize",
                "token_endpoint": f"{issuer}/oauth2/token",
                "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
                "jwks_uri": f"{issuer}/oauth2/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "acr_values_supported": ["LoA1", "LoA2", "LoA3"],
                "claims_supported": ["sub", "TechID", "LoaiTaiKhoan", "loAs", "SoDinhDanh", "HoVaTen", "IAL"],
            }
        )

    async def jwks(request: Request) -> JSONResponse:
        state.fetches["jwks"] += 1
        rsa, ec = state.keys[-1]
        view = JWKS_VIEWS.get(state.view or "")
        if view == "single":  # OIDF rp-id_token-kid-absent-single-jwks: one key, no kid
            return JSONResponse({"keys": [_public_jwk(rsa, kid=False)]})
        if view == "multiple":  # rp-id_token-kid-absent-multiple-jwks: several keys of the same type, no kid
            assert state.spare is not None
            return JSONResponse({"keys": [_public_jwk(k, kid=False) for k in (state.spare, rsa, ec)]})
        published = KeySet([k for pair in state.keys for k in pair])
        return JSONResponse(published.as_dict(private=False))

    async def authorize(request: Request) -> Response:
        query = request.query_params
        client = clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        state.authorizations.append(
            {
                "seq": len(state.authorizations) + 1,
                "received_at": vietnam_now().isoformat(),
                # login_hint is the harness's own; the rest is what the SUT asked for.
                "query": {k: v for k, v in query.items() if k != "login_hint"},
            }
        )
        if client is None or not client.registered(redirect_uri):
            # Never redirect to an unregistered address (an open redirector): answer here.
            return error(400, "invalid_request", "unknown client_id or unregistered redirect_uri")
        account = accounts.get(query.get("login_hint", ""))
        if account is None:
            return HTMLResponse(sign_in_page(dict(query), accounts))
        back = {"state": query.get("state", "")}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            back["error"] = "invalid_request"
            return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)
        variant, state.armed = state.armed or "rs256", None
        code = token()
        state.grants[code] = Grant(
            account,
            client.client_id,
            redirect_uri,
            query.get("nonce"),
            query.get("acr_values"),
            query.get("code_challenge"),
            query.get("code_challenge_method"),
            variant,
            state.last_nonce,
            len(state.authorizations),
        )
        state.last_nonce = query.get("nonce")
        if variant == "state-mismatch":
            back["state"] = secrets.token_urlsafe(16)
        back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    def id_token(grant: Grant, access_token: str) -> str:
        now = int(time.time())
        low = grant.variant == LOW_LOA_VARIANT
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": grant.client_id,
            "sub": grant.account["claims"]["sub"],
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_SECONDS,
            "auth_time": now,
            "acr": LOWEST_LOA if low else grant.account["claims"].get("loAs", grant.acr),
            "at_hash": base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()[:16])
            .rstrip(b"=")
            .decode(),
            "TechID": grant.account["claims"]["TechID"],
            "LoaiTaiKhoan": grant.account["claims"]["LoaiTaiKhoan"],
            "loAs": LOWEST_LOA if low else grant.account["claims"]["loAs"],
        }
        if "IAL" in grant.account["claims"]:
            claims["IAL"] = grant.account["claims"]["IAL"]
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        variant = grant.variant
        if variant == "expired":
            claims.update(iat=now - 2 * SKEW_SECONDS, nbf=now - 2 * SKEW_SECONDS, exp=now - SKEW_SECONDS)
        elif variant == "not-yet-valid":
            claims.update(iat=now + SKEW_SECONDS, nbf=now + SKEW_SECONDS, exp=now + 2 * SKEW_SECONDS)
        elif variant == "wrong-audience":
            claims["aud"] = "p111-another-client"
        elif variant == "wrong-issuer":
            claims["iss"] = "https://sso.not-the-portal.example"
        elif variant == "replayed-nonce":
            claims["nonce"] = grant.replayed_nonce or secrets.token_urlsafe(16)
        elif variant in ("missing-sub", "missing-iat", "missing-aud"):
            del claims[variant.removeprefix("missing-")]
        elif variant == "extra-audience":  # OIDC Core 3.1.3.7 (3): another audience the client does not trust
            claims["aud"] = [grant.client_id, UNTRUSTED_AUDIENCE]
        elif variant == "bad-at-hash":
            claims["at_hash"] = _b64(hashlib.sha256(b"another access token").digest()[:16])
        if variant == "alg-none":
            return _unsigned(claims)
        rsa, ec = state.keys[-1]
        if variant == "hs256-client-secret":  # the client secret as an HMAC key, where RS256 / ES256 are the algs
            return _hs256(claims, clients[grant.client_id].client_secret.encode(), None)
        if variant == "hs256-public-key":  # RS-to-HS confusion: HMAC keyed with the provider's own public key
            return _hs256(claims, rsa.as_pem(private=False), rsa.kid)
        key: RSAKey | ECKey = ec if variant == "es256" else rsa
        if variant == "unknown-key":
            key = _new_keys(0)[0]  # kid rsa-0: never published
        header = {"alg": "ES256" if key is ec else "RS256"}
        if not variant.startswith("kid-absent"):
            header["kid"] = str(key.kid)
        signed = jwt.encode(header, claims, key)
        if variant in ("bad-signature", "kid-absent-bad-signature"):
            return _tampered(signed, {**claims, "TechID": "TECH-9999999999"})
        return signed

    def auth_method(request: Request, form: dict[str, str]) -> str:
        """How the client authenticated itself (RFC 6749 2.3.1 allows one method per request)."""
        basic = request.headers.get("authorization", "").lower().startswith("basic ")
        post = "client_secret" in form
        if basic and post:
            return "both"
        return "client_secret_basic" if basic else "client_secret_post" if post else "none"

    def pkce(grant: Grant, verifier: str | None) -> str:
        """Whether the verifier answers the challenge (S256, or plain: still honoured, so that a check can name it)."""
        if grant.code_challenge is None:
            return "absent"
        if verifier is None:
            return "no-verifier"
        method = grant.code_challenge_method or "plain"
        expected = _b64(hashlib.sha256(verifier.encode()).digest()) if method == "S256" else verifier
        return "verified" if secrets.compare_digest(expected, grant.code_challenge) else "mismatch"

    def client_of(request: Request, form: dict[str, str]) -> SsoClient | None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                return None
        client = clients.get(str(client_id or ""))
        if client is None or not secrets.compare_digest(client.client_secret, str(secret or "")):
            return None
        return client

    async def token_endpoint(request: Request) -> JSONResponse:
        # application/x-www-form-urlencoded, read by hand: starlette's form parser needs python-multipart.
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode(), keep_blank_values=True).items()}
        client = client_of(request, form)
        if client is None:
            return error(401, "invalid_client", "client authentication failed")
        grant = state.grants.pop(str(form.get("code", "")), None)  # a code is used once
        if grant is not None:
            # What a check reads: how this client authenticated, and whether its PKCE verifier matched.
            state.token_requests.append(
                {
                    "authorization": grant.authorization,
                    "auth_method": auth_method(request, form),
                    "code_challenge_method": grant.code_challenge_method if grant.code_challenge else None,
                    "pkce": pkce(grant, form.get("code_verifier")),
                }
            )
        if form.get("grant_type") != "authorization_code" or grant is None:
            return error(400, "invalid_grant", "unknown, used or expired code")
        if grant.client_id != client.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return error(400, "invalid_grant", "the code was issued to another client or redirect_uri")
        if pkce(grant, form.get("code_verifier")) not in ("absent", "verified"):
            # A code exchanged without the right verifier signs no one on.
            return error(400, "invalid_grant", "PKCE code_verifier does not match")
        access = token(32)
        account = grant.account
        if grant.variant == "userinfo-other-sub":  # userinfo answers about another account
            account = next(a for a in accounts.values() if a["claims"]["sub"] != grant.account["claims"]["sub"])
        elif grant.variant == LOW_LOA_VARIANT:
            account = {**account, "claims": {**account["claims"], "loAs": LOWEST_LOA}}
        state.tokens[access] = (account, time.time() + TOKEN_SECONDS)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": id_token(grant, access),
                "scope": "openid",
            },
            headers={"cache-control": "no-store"},
        )

    async def userinfo(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        held = state.tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
        if held is None or held[1] < time.time():
            challenge = {"www-authenticate": 'Bearer error="invalid_token"'}
            return JSONResponse({"error": "invalid_token"}, status_code=401, headers=challenge)
        return JSONResponse(dict(held[0]["claims"]))

    # ---- /_p111/: the harness drives and observes the provider ----

    async def next_login(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        variant = body.get("variant")
        if variant is not None and variant not in KNOWN_VARIANTS:
            return error(422, "unknown-variant", f"known: {', '.join(KNOWN_VARIANTS)}")
        state.armed = state.view = variant
        return JSONResponse({"armed": variant})

    async def rotate(request: Request) -> JSONResponse:
        """A new signing key pair, used from the next login on; the previous keys stay published. With
        `{"undo": true}` the newest pair is retired and signing returns to the previous one (still in every JWKS a
        client fetched before), so that later checks do not depend on how the SUT caches keys."""
        body = json.loads(await request.body() or b"{}")
        if body.get("undo") and len(state.keys) > 1:
            state.keys.pop()
        elif not body.get("undo"):
            state.generations += 1  # never reused: a kid always names one key
            state.keys.append(_new_keys(state.generations))
        return JSONResponse({"kids": [k.kid for pair in state.keys for k in pair]})

    async def mint(request: Request) -> JSONResponse:
        """An access token for a test account, valid or already expired: what a check presents to the SUT."""
        body = json.loads(await request.body() or b"{}")
        account = accounts.get(str(body.get("login", "")))
        if account is None:
            return error(404, "unknown-account", f"known: {', '.join(accounts)}")
        access = token(32)
        lifetime = -SKEW_SECONDS if body.get("expired") else TOKEN_SECONDS
        state.tokens[access] = (account, time.time() + lifetime)
        return JSONResponse({"access_token": access, "token_type": "Bearer"})

    async def list_accounts(request: Request) -> JSONResponse:
        # Id numbers stay inside the provider: the harness needs who an account is, not its citizen id.
        return JSONResponse(
            [
                {
                    "login": a["login"],
                    "provider": a.get("provider", "portal"),
                    "officer": bool(a.get("officer")),
                    "claims": {k: v for k, v in a["claims"].items() if k != "SoDinhDanh"},
                }
                for a in accounts.values()
            ]
        )

    async def list_authorizations(request: Request) -> JSONResponse:
        return JSONResponse(state.authorizations)

    async def list_clients(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {
                    "client_id": c.client_id,
                    "redirect_prefixes": list(c.redirect_prefixes),
                    "token_endpoint_auth_method": c.token_endpoint_auth_method,
                }
                for c in settings.clients
            ]
        )

    async def list_token_requests(request: Request) -> JSONResponse:
        return JSONResponse(state.token_requests)

    async def list_fetches(request: Request) -> JSONResponse:
        return JSONResponse(state.fetches)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "variants": list(HOSTILE_VARIANTS)})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/oauth2/jwks", jwks),
            Route("/oauth2/authorize", authorize),
            Route("/oauth2/token", token_endpoint, methods=["POST"]),
            Route("/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
            Route("/_p111/next-login", next_login, methods=["POST"]),
            Route("/_p111/rotate-keys", rotate, methods=["POST"]),
            Route("/_p111/tokens", mint, methods=["POST"]),
            Route("/_p111/accounts", list_accounts),
            Route("/_p111/authorizations", list_authorizations),
            Route("/_p111/clients", list_clients),
            Route("/_p111/token-requests", list_token_requests),
            Route("/_p111/fetches", list_fetches),
            Route("/_p111/health", health),
        ]
    )
