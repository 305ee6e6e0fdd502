"""The provider's settings, its registered clients, test accounts, grants and state, and the variants an armed
login can take."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from joserfc.jwk import ECKey, RSAKey

from harness.core.resources import read_yaml

ACCOUNTS_FILE = Path(__file__).parent.parent / "data" / "sso-accounts.yaml"
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
    return tuple(read_yaml(ACCOUNTS_FILE))


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


