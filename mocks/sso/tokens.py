"""The token endpoint (client authentication, PKCE, the ID token as the armed variant builds it) and userinfo."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.sso.keys import _b64, _hs256, _new_keys, _tampered, _unsigned
from mocks.sso.model import (
    LOW_LOA_VARIANT,
    LOWEST_LOA,
    SKEW_SECONDS,
    TOKEN_SECONDS,
    UNTRUSTED_AUDIENCE,
    Grant,
    SsoClient,
)
from mocks.sso.shared import Shared


def routes(s: Shared) -> list[Route]:
    accounts, state, error, token = s.accounts, s.state, s.error, s.token
    id_token = _id_tokens(s)
    auth_method, pkce, client_of = _client_checks(s)

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

    return [
        Route("/oauth2/token", token_endpoint, methods=["POST"]),
        Route("/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
    ]


def _client_checks(s: Shared) -> tuple[Callable[..., str], Callable[..., str], Callable[..., SsoClient | None]]:
    """How a token request authenticated its client, whether its PKCE verifier matched, and which client it is."""
    clients = s.clients

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

    return auth_method, pkce, client_of


def _id_tokens(s: Shared) -> Callable[[Grant, str], str]:
    clients, state, issuer = s.clients, s.state, s.issuer

    def id_token(grant: Grant, access_token: str) -> str:
        now = int(time.time())
        claims = _claims(issuer, grant, access_token, now)
        _bend(claims, grant, now)
        variant = grant.variant
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

    return id_token


def _claims(issuer: str, grant: Grant, access_token: str, now: int) -> dict[str, Any]:
    """The ID token's claims for the account that logged in, as an honest provider states them."""
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
    return claims


def _bend(claims: dict[str, Any], grant: Grant, now: int) -> None:
    """The armed variant's change to the claims: out of date, another audience or issuer, a replayed nonce …"""
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
