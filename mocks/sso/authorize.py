"""The authorization endpoint: a test account approved at once (`login_hint`), or a page for a person."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from harness.core.formats import vietnam_now
from mocks.sso.model import Grant, sign_in_page
from mocks.sso.shared import Shared


def routes(s: Shared) -> list[Route]:
    accounts, clients, state, error, token = s.accounts, s.clients, s.state, s.error, s.token

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

    return [Route("/oauth2/authorize", authorize)]
