"""The provider's /_p111/ routes: the harness arms the next login, rotates keys and mints tokens (driving), and reads
what the provider saw (observing)."""

from __future__ import annotations

import json
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.sso.keys import _new_keys
from mocks.sso.model import HOSTILE_VARIANTS, KNOWN_VARIANTS, SKEW_SECONDS, TOKEN_SECONDS
from mocks.sso.shared import Shared


def driving_routes(s: Shared) -> list[Route]:
    accounts, state, error, token = s.accounts, s.state, s.error, s.token

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

    return [
        Route("/_p111/next-login", next_login, methods=["POST"]),
        Route("/_p111/rotate-keys", rotate, methods=["POST"]),
        Route("/_p111/tokens", mint, methods=["POST"]),
    ]


def observing_routes(s: Shared) -> list[Route]:
    settings, accounts, state = s.settings, s.accounts, s.state

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

    return [
        Route("/_p111/accounts", list_accounts),
        Route("/_p111/authorizations", list_authorizations),
        Route("/_p111/clients", list_clients),
        Route("/_p111/token-requests", list_token_requests),
        Route("/_p111/fetches", list_fetches),
        Route("/_p111/health", health),
    ]
