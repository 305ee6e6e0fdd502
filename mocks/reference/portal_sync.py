"""How the reference system tells the National Portal about its dossiers: adapter or direct transport."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from harness.config.target import SyncConfig

log = logging.getLogger("p111.reference.sync")

PROGRESS_CHUNK = 10  # the .NET client posts progress records ten at a time


@dataclass(frozen=True)
class PortalLink:
    base_url: str
    sync: SyncConfig  # the transport (adapter | direct) and the portal's paths, as the target sets them
    username: str
    password: str
    http_transport: httpx.AsyncBaseTransport | None = None  # in-process portal; None = the network


class PortalSync:
    """Pushes a dossier and its new progress records. A portal that refuses or is unreachable is logged, never
    raised to the citizen: the dossier is handled whatever the portal says."""

    def __init__(self, link: PortalLink) -> None:
        self._link = link
        self._client = httpx.AsyncClient(base_url=link.base_url, transport=link.http_transport, timeout=10.0)
        self._session: str | None = None
        self.failures: list[str] = []

    async def push(self, dossier: dict[str, Any] | None, progress: list[dict[str, Any]], agency: str) -> None:
        try:
            if self._link.sync.transport == "adapter":
                await self._push_adapter(dossier, progress, agency)
            else:
                await self._push_direct(dossier, progress)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}")
            log.warning("portal sync failed: %s", exc)

    async def _post(self, path: str, body: Any) -> dict[str, Any]:
        response = await self._client.post(path, json=body)
        reply = response.json()
        if str(reply.get("error_code")) != "0":
            self.failures.append(f"{path}: {reply.get('message')}")
        return reply

    async def _integration(self, agency: str, service: str, **fields: Any) -> dict[str, Any]:
        for attempt in range(2):
            if self._session is None:
                reply = await self._post(
                    self._link.sync.auth_path, {"username": self._link.username, "password": self._link.password}
                )
                self._session = reply.get("session")
            reply = await self._post(
                self._link.sync.integration_path,
                {"session": self._session, "madonvi": agency, "service": service, **fields},
            )
            if "Phiên" not in str(reply.get("message")) or attempt:
                return reply
            self._session = None  # the session expired: log in again once
        return reply

    async def _push_adapter(self, dossier: dict[str, Any] | None, progress: list[dict[str, Any]], agency: str) -> None:
        if dossier is not None:
            found = await self._integration(agency, "TraCuuHoSo", MaHoSo=dossier.get("MaHoSo"))
            updating = "True" if found.get("result") else "False"
            await self._integration(agency, "DongBoHoSoMC", isUpdating=updating, data=[dossier])
        if progress:
            await self._integration(agency, "CapNhatTienDoHoSoMC", data=progress)

    async def _push_direct(self, dossier: dict[str, Any] | None, progress: list[dict[str, Any]]) -> None:
        if dossier is not None:
            reply = await self._post(self._link.sync.insert_path, [dossier])
            if "đã tồn tại" in str(reply.get("message")):
                await self._post(self._link.sync.update_path, [dossier])
        for start in range(0, len(progress), PROGRESS_CHUNK):
            await self._post(self._link.sync.progress_path, progress[start : start + PROGRESS_CHUNK])

    async def aclose(self) -> None:
        await self._client.aclose()
