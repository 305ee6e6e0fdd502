"""Reads what the harness's counterparts received, over their /_p111/ endpoints, so checks judge what crossed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 0.5  # polls back off, so waiting for a slow SUT does not flood the evidence


class ObserverError(Exception):
    """The counterpart cannot be observed (not the harness's own, or unreachable): the check cannot judge."""


def admin_call(client: httpx.Client, who: str, method: str, path: str, **kwargs: Any) -> Any:
    """One call to a counterpart's /_p111/ endpoints; anything but a 200 means it cannot be observed (ERROR)."""
    try:
        response = client.request(method, f"/_p111/{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise ObserverError(f"the {who} counterpart did not answer: {exc}") from exc
    if response.status_code != 200:
        raise ObserverError(
            f"the {who} at {client.base_url} is not observable ({method} /_p111/{path} answered "
            f"{response.status_code}): is it the harness's counterpart?"
        )
    return response.json()


class PortalObserver:
    def __init__(self, client: httpx.Client, sync_seconds: float) -> None:
        self._client = client
        self.sync_seconds = sync_seconds

    def _list(self, kind: str, code: str | None, seqs: tuple[int, ...] = ()) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"seq": list(seqs)} if seqs else {}
        if code:
            params["MaHoSo"] = code
        return list(admin_call(self._client, "portal", "GET", kind, params=params))

    def dossiers(self, code: str | None = None) -> list[dict[str, Any]]:
        """Every dossier item received (valid or not), in arrival order."""
        return self._list("dossiers", code)

    def progress(self, code: str | None = None) -> list[dict[str, Any]]:
        return self._list("progress", code)

    def catalog(self) -> list[dict[str, Any]]:
        """The national procedure catalog the portal counterpart serves."""
        return self._list("catalog", None)

    def requests(self, seqs: tuple[int, ...] = ()) -> list[dict[str, Any]]:
        """The whole requests the portal received (all of them, or those numbered `seqs`), with its replies."""
        return self._list("requests", None, seqs)

    def wait(
        self,
        fetch: Callable[[], list[dict[str, Any]]],
        until: Callable[[list[dict[str, Any]]], bool],
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """Polls until `until(rows)` holds or the sync window (a target setting) ends; returns the last rows.
        A SUT may sync through a queue, so what it sends is awaited, not expected at once."""
        deadline = time.monotonic() + (self.sync_seconds if timeout is None else timeout)
        pause = POLL_FIRST_SECONDS
        while True:
            rows = fetch()
            left = deadline - time.monotonic()
            if until(rows) or left <= 0:
                return rows
            time.sleep(min(pause, left))
            pause = min(pause * 2, POLL_MAX_SECONDS)


class SsoObserver:
    """The sign-on counterpart, observed and steered: its test accounts, the authorization requests it received,
    hostile variants of the next login, key rotation and access tokens minted for the checks."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        return admin_call(self.client, "sign-on", method, path, **kwargs)

    def accounts(self) -> dict[str, dict[str, Any]]:
        """Test accounts by login_hint: role, provider and claims (never the citizen id number)."""
        return {a["login"]: a for a in self._send("GET", "accounts")}

    def tech_id(self, login: str) -> str:
        return str(self.accounts()[login]["claims"]["TechID"])

    def clients(self) -> list[dict[str, Any]]:
        """Relying parties registered at the counterpart: client_id and where each may be sent back to."""
        return list(self._send("GET", "clients"))

    def authorizations(self) -> list[dict[str, Any]]:
        return list(self._send("GET", "authorizations"))

    def arm(self, variant: str | None) -> None:
        """Makes the next login hostile (`alg-none`, `expired` …), or plain again with None."""
        self._send("POST", "next-login", json={"variant": variant})

    def rotate_keys(self) -> None:
        self._send("POST", "rotate-keys")

    def mint(self, login: str, *, expired: bool = False) -> str:
        """An access token of a test account (already expired if asked); the evidence never shows it."""
        return str(self._send("POST", "tokens", json={"login": login, "expired": expired})["access_token"])
