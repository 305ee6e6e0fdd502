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


class PortalObserver:
    def __init__(self, client: httpx.Client, sync_seconds: float) -> None:
        self._client = client
        self.sync_seconds = sync_seconds

    def _list(self, kind: str, code: str | None, seqs: tuple[int, ...] = ()) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"seq": list(seqs)} if seqs else {}
        if code:
            params["MaHoSo"] = code
        try:
            response = self._client.get(f"/_p111/{kind}", params=params)
        except httpx.HTTPError as exc:
            raise ObserverError(f"the portal counterpart did not answer: {exc}") from exc
        if response.status_code != 200:
            raise ObserverError(
                f"the portal at {self._client.base_url} is not observable "
                f"(GET /_p111/{kind} answered {response.status_code}): is it the harness's counterpart?"
            )
        return list(response.json())

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
