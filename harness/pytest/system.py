"""The system as the checks reach it: the SUT's client and the counterparts' observers, wired in-process for the
embedded default or over the network for a vendor's system (with the harness's own counterparts started on ports
where the target says `serve: true`). The one place, with `p111 defects` / `mocks serve`, where harness reaches into
mocks/, lazily."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx

from harness.config.target import Target
from harness.http.client import make_client
from harness.http.evidence import EvidenceRecorder
from harness.http.recording import Recorder
from harness.sut.observers import PaymentKeys, PaymentObserver, PortalObserver, Waiter


@dataclass(frozen=True)
class System:
    """The SUT and the counterparts as the checks reach them."""

    client: httpx.Client
    portal: PortalObserver | None
    sign_on_urls: tuple[str, ...]  # where the SUT may lawfully send a citizen to sign on
    sign_on: httpx.Client | None = None  # the sign-on counterpart, which the driver follows logins through
    payment: PaymentObserver | None = None
    waiter: Waiter = field(default_factory=Waiter)  # how the run waits (timed, recorded, replayed)


@dataclass
class Clients:
    """The clients of one run before they are observed: the SUT's and each counterpart's (None: not in the target)."""

    sut: httpx.Client
    portal: httpx.Client | None
    sign_on: httpx.Client | None
    payment: httpx.Client | None
    sign_on_urls: tuple[str, ...]  # where the SUT may lawfully send a citizen to sign on
    keys: PaymentKeys | None  # the payment platform's merchant key, which signs confirms

    def opened(self) -> list[httpx.Client]:
        return [c for c in (self.sut, self.portal, self.sign_on, self.payment) if c is not None]


def embedded_clients(target: Target, stack: ExitStack, recorder: EvidenceRecorder, tap: Recorder | None) -> Clients:
    """The embedded default: the reference system and its counterparts as ASGI apps on one event loop thread."""
    # The one place the harness reaches into mocks/: the embedded default, loaded lazily.
    from mocks.wiring import start_embedded

    embedded = start_embedded(target)
    stack.callback(embedded.close)
    recorder.redactor.add(*embedded.secrets)

    def in_process(url: str, transport: httpx.BaseTransport) -> httpx.Client:
        return make_client(
            url, timeouts=target.timeouts, recorder=recorder, transport=transport, politeness=target.politeness, tap=tap
        )

    return Clients(
        sut=in_process(embedded.sut_url, embedded.sut_transport),
        portal=in_process(embedded.portal_url, embedded.portal_transport),
        sign_on=in_process(embedded.sign_on_url, embedded.sign_on_transport),
        payment=in_process(embedded.payment_url, embedded.payment_transport),
        sign_on_urls=(embedded.sign_on_url,),
        keys=PaymentKeys(embedded.merchant_code, embedded.payment_secret, target.payment_rules.checksum),
    )


def networked_clients(target: Target, stack: ExitStack, recorder: EvidenceRecorder, tap: Recorder | None) -> Clients:
    """A vendor's system at `sut.base_url`, and the counterparts the target names."""
    headers = {"X-API-Key": target.sut.api_key.reveal()} if target.sut.api_key else None
    assert target.sut.base_url is not None  # the target schema demands it when not embedded
    sut = make_client(
        target.sut.base_url,
        timeouts=target.timeouts,
        recorder=recorder,
        headers=headers,
        read_only=target.safety_mode == "read-only",
        politeness=target.politeness,
        tap=tap,
        trusted_origins=target.sut.trusted_origins,
    )
    portal, sign_on, payment = (
        _counterpart_client(name, target, stack, recorder, tap) for name in ("portal", "sso", "payment")
    )
    merchant, secret = target.payment.merchant_code, target.payment.secret
    keys = PaymentKeys(merchant, secret.reveal(), target.payment_rules.checksum) if merchant and secret else None
    sign_on_urls = tuple(u for u in (target.sso.url, target.portal.url) if u)
    return Clients(sut, portal, sign_on, payment, sign_on_urls, keys)


def observed(clients: Clients, target: Target, waiter: Waiter) -> System:
    """The system the checks reach: the clients, with an observer on each counterpart there is, all waiting through
    the run's `waiter`."""
    portal = PortalObserver(clients.portal, target.timeouts.sync, waiter) if clients.portal is not None else None
    payment = PaymentObserver(clients.payment, clients.keys, waiter) if clients.payment is not None else None
    return System(clients.sut, portal, clients.sign_on_urls, clients.sign_on, payment, waiter)


def _counterpart_client(
    name: str, target: Target, stack: ExitStack, recorder: EvidenceRecorder, tap: Recorder | None = None
) -> httpx.Client | None:
    """A client of a counterpart of a networked SUT: the harness's own, started here when `serve: true`, or the one
    at the configured URL; None when the target names none."""
    config = getattr(target, name)
    if not config.url:
        return None
    url = config.url
    if config.serve:
        # Only here, and lazily, does the harness reach into mocks/: to start its own counterpart on a port.
        from mocks import wiring

        served = getattr(wiring, f"serve_{name}")(target)
        stack.callback(served.stop)
        url = served.url
    return make_client(url, timeouts=target.timeouts, recorder=recorder, politeness=target.politeness, tap=tap)
