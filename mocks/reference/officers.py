"""The officers-basic-auth variation: the province's officers present HTTP basic auth (a user name and password of
the system's own directory) instead of signing on through the portal's sign-on, which then makes citizens only.

Whom each user name stands for (TechID, level of assurance) is the officer's own portal account: every transaction
an officer makes still names its subject and level, as the contract demands."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mocks.reference.signon import Principal, SignOnLink

VARIATION = "officers-basic-auth"


@dataclass(frozen=True)
class BasicOfficers:
    accounts: Mapping[str, tuple[str, Principal]]  # user name → (password, whom it stands for)

    def principal(self, encoded: str) -> Principal | None:
        """The officer an `Authorization: Basic` value names, if its password is right (else None: no one)."""
        try:
            username, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        known = self.accounts.get(username)
        if known is None or not secrets.compare_digest(password.encode(), known[0].encode()):
            return None
        return known[1]


def from_target(target: Any, accounts: Iterable[Mapping[str, Any]]) -> BasicOfficers | None:
    """Under the variation, the officers the target's `sut.driver_options.credentials` signs in by basic auth, with
    the passwords the target resolved (fresh per run for the embedded system); each stands for the sign-on account
    its `account` names (default officer-1)."""
    if VARIATION not in target.sut.variations:
        return None
    claims = {str(a["login"]): a["claims"] for a in accounts}
    found: dict[str, tuple[str, Principal]] = {}
    for role, spec in ((target.sut.driver_options or {}).get("credentials") or {}).items():
        secret = target.sut.driver_secrets.get(f"credentials.{role}.password")
        if (spec or {}).get("by") != "basic" or secret is None:
            continue
        account = claims[str(spec.get("account") or "officer-1")]
        officer = Principal(str(account["TechID"]), str(account.get("loAs") or ""), None,
                            str(account.get("HoVaTen") or ""), officer=True)
        found[str(spec["username"])] = (secret.reveal(), officer)
    return BasicOfficers(found)


def sign_on_link(link: SignOnLink | None, basic: BasicOfficers | None) -> SignOnLink | None:
    """Under the variation an officer's portal account signing on is a citizen like any other: officers come in by
    basic auth only."""
    return replace(link, officers=frozenset()) if basic is not None and link is not None else link
