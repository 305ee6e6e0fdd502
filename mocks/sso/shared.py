"""What the provider's route groups share: its settings, accounts, clients and state, and two small answers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

from mocks.sso.keys import _new_keys
from mocks.sso.model import SsoClient, SsoSettings, SsoState, load_accounts


@dataclass(frozen=True)
class Shared:
    settings: SsoSettings
    accounts: dict[str, dict[str, Any]]
    clients: dict[str, SsoClient]
    state: SsoState
    issuer: str
    error: Callable[[int, str, str], JSONResponse]
    token: Callable[..., str]


def share(settings: SsoSettings) -> Shared:
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

    return Shared(settings, accounts, clients, state, issuer, error, token)
