"""Demo 3's client of the National Portal: each change of a dossier goes out at once, as the dossier
(HoSoDongBoDVC) and a progress record (TienDoHoSo), by the transport the province set (adapter or direct)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.config.target import SyncConfig


@dataclass
class PortalClient:
    url: str
    sync: SyncConfig
    username: str
    password: str
    transport: httpx.AsyncBaseTransport | None = None
    _session: str | None = None
    problems: list[str] = field(default_factory=list)

    async def tell(self, agency: str, dossier: dict[str, Any], progress: list[dict[str, Any]]) -> None:
        try:
            async with httpx.AsyncClient(base_url=self.url, transport=self.transport, timeout=10.0) as client:
                if self.sync.transport == "direct":
                    reply = await self._post(client, self.sync.insert_path, [dossier])
                    if "đã tồn tại" in str(reply.get("message")):
                        await self._post(client, self.sync.update_path, [dossier])
                    if progress:
                        await self._post(client, self.sync.progress_path, progress)
                else:
                    await self._adapter(client, agency, dossier, progress)
        except (httpx.HTTPError, ValueError) as exc:  # the dossier is handled whatever the portal says
            self.problems.append(f"{type(exc).__name__}: {exc}")

    async def _post(self, client: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
        reply = dict((await client.post(path, json=body)).json())
        if str(reply.get("error_code")) != "0":
            self.problems.append(f"{path}: {reply.get('message')}")
        return reply

    async def _adapter(self, client: httpx.AsyncClient, agency: str, dossier: dict[str, Any],
                       progress: list[dict[str, Any]]) -> None:
        async def call(service: str, **fields: Any) -> dict[str, Any]:
            if self._session is None:
                login = await self._post(client, self.sync.auth_path,
                                         {"username": self.username, "password": self.password})
                self._session = login.get("session")
            return await self._post(client, self.sync.integration_path,
                                    {"session": self._session, "madonvi": agency, "service": service, **fields})

        known = await call("TraCuuHoSo", MaHoSo=dossier["MaHoSo"])
        await call("DongBoHoSoMC", isUpdating="True" if known.get("result") else "False", data=[dossier])
        if progress:
            await call("CapNhatTienDoHoSoMC", data=progress)
