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

from starlette.applications import Starlette

from mocks.sso import admin, authorize, discovery, tokens
from mocks.sso.model import (
    EITHER_VARIANTS,
    HOSTILE_VARIANTS,
    KNOWN_VARIANTS,
    LOW_LOA_VARIANT,
    VALID_VARIANTS,
    SsoClient,
    SsoSettings,
    load_accounts,
    sign_in_page,
)
from mocks.sso.shared import share

__all__ = [
    "EITHER_VARIANTS",
    "HOSTILE_VARIANTS",
    "KNOWN_VARIANTS",
    "LOW_LOA_VARIANT",
    "VALID_VARIANTS",
    "SsoClient",
    "SsoSettings",
    "create_sso_app",
    "load_accounts",
    "sign_in_page",
]


def create_sso_app(settings: SsoSettings) -> Starlette:
    shared = share(settings)
    return Starlette(
        routes=[
            *discovery.routes(shared),
            *authorize.routes(shared),
            *tokens.routes(shared),
            *admin.driving_routes(shared),
            *admin.observing_routes(shared),
        ]
    )
