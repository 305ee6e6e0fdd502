"""What a relying party reads before a login: the discovery document and the JWKS, as the armed variant shows them."""

from __future__ import annotations

from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.sso.keys import _public_jwk
from mocks.sso.model import FOREIGN_ISSUER, JWKS_VIEWS
from mocks.sso.shared import Shared


def routes(s: Shared) -> list[Route]:
    state, issuer = s.state, s.issuer

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

    return [Route("/.well-known/openid-configuration", discovery), Route("/oauth2/jwks", jwks)]
