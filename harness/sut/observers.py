"""Reads what the harness's counterparts received, over their /_p111/ endpoints, so checks judge what crossed."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx

from harness.core import limits
from harness.core.errors import P111Error

T = TypeVar("T")
POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 0.5  # polls back off, so waiting for a slow SUT does not flood the evidence


class ObserverError(P111Error):
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
    return limits.json_of(response.content)


class PortalObserver:
    def __init__(self, client: httpx.Client, sync_seconds: float, waiter: Waiter | None = None) -> None:
        self._client = client
        self.sync_seconds = sync_seconds
        self.waiter = waiter or Waiter()

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
        return self.waiter.poll(fetch, until, self.sync_seconds if timeout is None else timeout)


class PollTap(Protocol):
    """What `--record` and `--replay` (harness.http.recording) put in front of every poll: a recording notes how many
    fetches each poll made; a replay makes exactly as many, without waiting, so that its verdicts never depend on how
    fast the replaying machine is."""

    def planned(self) -> int | None: ...

    def made(self, fetches: int) -> None: ...


@dataclass(frozen=True)
class Waiter:
    """How one run waits, the one place it does (`poll`): timed by the run's evidence recorder (`clock`:
    EvidenceRecorder.waiting), counted by its recording and replayed without sleeping (`tap`). The run's system and
    its observers hold it — no module global, so that two runs in one process never share one."""

    tap: PollTap | None = None
    clock: Callable[[], AbstractContextManager[None]] | None = None

    def poll(self, fetch: Callable[[], T], until: Callable[[T], bool], timeout: float) -> T:
        """Fetches until `until` holds or `timeout` seconds pass; returns the last fetch. Polls back off."""
        with self.clock() if self.clock is not None else nullcontext():
            return _poll(fetch, until, timeout, self.tap)


def _poll(fetch: Callable[[], T], until: Callable[[T], bool], timeout: float, tap: PollTap | None) -> T:
    planned = tap.planned() if tap is not None else None
    if planned is not None:
        got = fetch()
        for _ in range(planned - 1):
            if until(got):
                break
            got = fetch()
        return got
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST_SECONDS
    fetches = 0
    while True:
        got = fetch()
        fetches += 1
        left = deadline - time.monotonic()
        if until(got) or left <= 0:
            if tap is not None:
                tap.made(fetches)
            return got
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

    def rotate_keys(self, *, undo: bool = False) -> None:
        """A new signing key from the next login on (or, with undo, back to the previous one)."""
        self._send("POST", "rotate-keys", json={"undo": undo})

    def token_requests(self) -> list[dict[str, Any]]:
        """The token requests received: the authorization they redeemed (its seq), the client authentication
        method used, the PKCE challenge method and whether the verifier matched."""
        return list(self._send("GET", "token-requests"))

    def fetches(self) -> dict[str, int]:
        """How many times the discovery document and the JWKS were fetched."""
        return dict(self._send("GET", "fetches"))

    def mint(self, login: str, *, expired: bool = False) -> str:
        """An access token of a test account (already expired if asked); the evidence never shows it."""
        return str(self._send("POST", "tokens", json={"login": login, "expired": expired})["access_token"])


@dataclass(frozen=True)
class PaymentKeys:
    """What the harness needs to sign messages as the payment platform does: the SUT's merchant code and key."""

    merchant_code: str
    secret: str = field(repr=False)
    variant: str = "sha256-pipe"


class PaymentObserver:
    """The payment counterpart, observed and steered: the messages it exchanged, its transactions, a payment settled
    as a citizen would on its page (or with the callback lost), and the keys to sign confirms as it does."""

    def __init__(self, client: httpx.Client, keys: PaymentKeys | None, waiter: Waiter | None = None) -> None:
        self.client = client
        self._keys = keys
        self.waiter = waiter or Waiter()  # the run's: a check waiting on what the payment shows polls through it

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        return admin_call(self.client, "payment", method, path, **kwargs)

    @property
    def keys(self) -> PaymentKeys:
        if self._keys is None:
            raise ObserverError(
                "the target gives no payment key (counterparts.payment.merchant_code and secret): "
                "confirms cannot be signed as the platform signs them"
            )
        return self._keys

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every message exchanged, in order: direction, kind, body, reply, schema validity, checksum validity."""
        return [m for m in self._send("GET", "messages") if kind is None or m.get("kind") == kind]

    def inits(self, dossier_code: str) -> list[dict[str, Any]]:
        """The INITs received for a dossier (its MaHoSo in the receipt block), with the platform's replies."""
        return [
            m for m in self.messages("INIT")
            if isinstance(m.get("body"), dict)
            and (m["body"].get("ThongTinBienLai") or {}).get("MaHoSo") == dossier_code
        ]

    def transactions(self) -> list[dict[str, Any]]:
        return list(self._send("GET", "transactions"))

    def transaction(self, reference: str) -> dict[str, Any] | None:
        return next((t for t in self.transactions() if t.get("MaThamChieu") == reference), None)

    def settle(self, reference: str, outcome: str, *, callback: bool = True) -> dict[str, Any]:
        """Ends a payment as paid, failed or pending; without the callback the SUT can only learn it by QUERY."""
        body = {"MaThamChieu": reference, "outcome": outcome, "callback": callback}
        return dict(self._send("POST", "settle", json=body))
