"""What demo 3's route groups share: its settings and state, who is asking, a dossier's view, telling the portal."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mocks.demo3.cashier import Cashier
from mocks.demo3.model import DEFECTS, KEY_HEADER, ROBUSTNESS, RULES, SERVICES, Demo3Settings, Dossier
from mocks.demo3.signon import Person
from mocks.demo3.views import portal_teller, view_of


@dataclass(frozen=True)
class Shared:
    settings: Demo3Settings
    defects: frozenset[str]
    services: dict[str, dict[str, Any]]
    cashier: Cashier
    dossiers: dict[str, Dossier]
    files: dict[str, dict[str, Any]]
    allowed: dict[str, list[str]]
    error: Callable[[int, str], JSONResponse]
    who: Callable[[Request], Person | None]
    may_see: Callable[[Person, Dossier], bool]
    visible: Callable[[Request], tuple[Person, Dossier] | JSONResponse]
    view: Callable[[Dossier], dict[str, Any]]
    tell_portal: Callable[..., Awaitable[None]]


def share(settings: Demo3Settings) -> Shared:
    defects = frozenset(settings.defects)
    unknown = defects - DEFECTS.keys() - ROBUSTNESS.keys()
    if unknown:
        raise ValueError(f"unknown demo3 defects: {', '.join(sorted(unknown))}; known: {', '.join(DEFECTS)}, "
                         f"{', '.join(ROBUSTNESS)}")
    services = {s["ma_quoc_gia"]: s for s in SERVICES}
    cashier = Cashier(settings.merchant, checks_confirm="demo3-confirm-unchecked" not in defects)
    dossiers: dict[str, Dossier] = {}
    files: dict[str, dict[str, Any]] = {}
    allowed = {k: list(v) for k, v in RULES["allowed"].items()}
    if settings.optional_supplement:
        for status, steps in RULES["optional"].items():
            allowed.setdefault(status, []).extend(steps)
    if "demo3-returns-unfinished" in defects:
        allowed["dang-giai-quyet"].append("tra")

    def error(status: int, text: str) -> JSONResponse:
        return JSONResponse({"loi": text}, status_code=status)

    def who(request: Request) -> Person | None:
        """The bearer session token (a citizen), the static key or basic auth (an officer)."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return settings.sign_on.holder(header[7:].strip())
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            expected_user, expected_password = settings.second_officer
            if secrets.compare_digest(user, expected_user) and secrets.compare_digest(password, expected_password):
                return settings.second_person
            return None
        key = request.headers.get(KEY_HEADER, "")
        if key and secrets.compare_digest(key, settings.officer_key):
            return settings.officer
        return None

    def may_see(person: Person, d: Dossier) -> bool:
        return person.officer or person.tech_id == d.owner.tech_id

    def visible(request: Request) -> tuple[Person, Dossier] | JSONResponse:
        """Who asks and the dossier of the path, or the refusal: 401 unsigned, 404 unknown or not theirs."""
        person = who(request)
        if person is None:
            return error(401, "Chưa đăng nhập")
        d = dossiers.get(request.path_params["so"])
        if d is None or not may_see(person, d):
            return error(404, "Không có hồ sơ này")
        return person, d

    view, tell_portal = view_of(cashier), portal_teller(settings, defects, cashier)
    return Shared(
        settings, defects, services, cashier, dossiers, files, allowed, error, who, may_see, visible, view, tell_portal
    )
