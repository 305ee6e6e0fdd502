"""Wires the counterparts and the reference system together: in-process (the embedded default) or on real ports."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal

from harness.config.target import Target
from harness.http.inprocess import BlockingASGITransport
from mocks.payment import PaymentSettings, create_payment_app
from mocks.portal import PortalSettings, create_portal_app, load_catalog
from mocks.reference import officers
from mocks.reference.app import ReferenceSettings, create_reference_app
from mocks.reference.payments import PaymentLink
from mocks.reference.portal_sync import PortalLink
from mocks.reference.signon import SignOnLink
from mocks.serve import ServedApp, serve_in_thread
from mocks.sso import SsoClient, SsoSettings, create_sso_app, load_accounts

SUT_URL = "http://sut.embedded"
PORTAL_URL = "http://portal.embedded"
SIGN_ON_URL = "http://sso.embedded"
PAYMENT_URL = "http://payment.embedded"
MERCHANT_CODE = "P111"  # the reference system's MaDoiTac when the target names none
CALLBACK_PATH = "/auth/callback"  # the reference system's redirect_uri, registered at the sign-on counterpart
REFERENCE_CLIENT_ID = "p111-reference"


@dataclass
class EmbeddedSystem:
    sut_transport: httpx.BaseTransport
    portal_transport: httpx.BaseTransport
    sign_on_transport: httpx.BaseTransport
    payment_transport: httpx.BaseTransport
    payment_secret: str  # the checksum key the reference system shares with the platform (fresh per run)
    secrets: tuple[str, ...]
    _stack: ExitStack = field(repr=False)
    sut_url: str = SUT_URL
    portal_url: str = PORTAL_URL
    sign_on_url: str = SIGN_ON_URL
    payment_url: str = PAYMENT_URL
    merchant_code: str = MERCHANT_CODE

    def close(self) -> None:
        self._stack.close()


def officer_directory() -> frozenset[str]:
    """The province's officers, as the reference system knows them: the sign-on's officer test accounts."""
    return frozenset(a["claims"]["TechID"] for a in load_accounts() if a.get("officer"))


def redirect_uris(sut_url: str, given: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The SUT's callback addresses the sign-on registers: the target's (counterparts.sso.redirect_uris; a path is
    taken from the SUT's base URL), else the reference system's own /auth/callback."""
    base = sut_url.rstrip("/")
    return tuple(uri if "://" in uri else base + uri for uri in given) or (base + CALLBACK_PATH,)


def portal_settings(target: Target, username: str, password: str | None) -> PortalSettings:
    """The portal counterpart for the target: its national catalog extended by the target's own entries
    (counterparts.portal.catalog / catalog_file, in the portal's export shape; the same maTTHC replaces)."""
    extra = {entry["maTTHC"]: entry for entry in target.portal.catalog}
    catalog = tuple(e for e in load_catalog() if e["maTTHC"] not in extra) + tuple(extra.values())
    return PortalSettings(target.province_code, username, password, target.sync, catalog)


def sign_on_pair(
    sso_url: str,
    sut_url: str,
    client_id: str,
    client_secret: str,
    http_transport: httpx.AsyncBaseTransport | None,
    auth_method: str = "client_secret_basic",
    callbacks: tuple[str, ...] = (),
) -> tuple[SsoSettings, SignOnLink]:
    """The provider's registration of the SUT (the target's callbacks, else the reference system's), and the
    reference system's link to the provider; both name the token endpoint's client authentication method the target
    says was registered (sign_on)."""
    client = SsoClient(client_id, client_secret, redirect_uris(sut_url, callbacks), auth_method)
    link = SignOnLink(sso_url, client_id, client_secret, officer_directory(), http_transport, auth_method)
    return SsoSettings(sso_url, (client,)), link


class _LateApp:
    """An ASGI app bound after it is handed out: the platform and the reference system each call the other."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def confirm_url(sut_url: str, target: Target) -> str:
    return sut_url.rstrip("/") + target.payment_rules.confirm_path


def start_embedded(target: Target) -> EmbeddedSystem:
    stack = ExitStack()
    try:
        return _start_embedded(target, stack)
    except BaseException:  # Ctrl-C while starting: the event loop thread must stop, or the interpreter never exits
        stack.close()
        raise


def _start_embedded(target: Target, stack: ExitStack) -> EmbeddedSystem:
    loop = stack.enter_context(start_blocking_portal())
    username, password = "p111-embedded", secrets.token_urlsafe(18)  # fresh per run: nothing to leak or configure
    portal_app = create_portal_app(portal_settings(target, username, password))
    link = PortalLink(PORTAL_URL, target.sync, username, password, httpx.ASGITransport(app=portal_app))
    client_secret = secrets.token_urlsafe(18)
    sso_settings, sign_on = sign_on_pair(
        SIGN_ON_URL, SUT_URL, REFERENCE_CLIENT_ID, client_secret, None, target.sign_on_rules.token_endpoint_auth_method
    )
    sso_app = create_sso_app(sso_settings)
    sign_on = replace(sign_on, http_transport=httpx.ASGITransport(app=sso_app))
    payment_secret, variant = secrets.token_urlsafe(18), target.payment_rules.checksum
    reference = _LateApp()
    payment_app = create_payment_app(
        PaymentSettings(MERCHANT_CODE, payment_secret, variant, confirm_url(SUT_URL, target), PAYMENT_URL,
                        httpx.ASGITransport(app=reference))
    )
    cashier = PaymentLink(PAYMENT_URL, MERCHANT_CODE, payment_secret, variant, httpx.ASGITransport(app=payment_app))
    basic = officers.from_target(target, load_accounts())  # officers-basic-auth, else None
    sign_on = officers.sign_on_link(sign_on, basic)
    reference.app = create_reference_app(
        ReferenceSettings(
            link, frozenset(target.sut.defects), SIGN_ON_URL, target.sut.handoff_path, target.year, sign_on,
            cashier, target.payment_rules.confirm_path, frozenset(target.sut.variations), basic,
        )
    )
    return EmbeddedSystem(
        sut_transport=BlockingASGITransport(loop, reference.app),
        portal_transport=BlockingASGITransport(loop, portal_app),
        sign_on_transport=BlockingASGITransport(loop, sso_app),
        payment_transport=BlockingASGITransport(loop, payment_app),
        payment_secret=payment_secret,
        secrets=(password, client_secret, payment_secret),
        _stack=stack,
    )


def portal_credentials(target: Target) -> tuple[str, str | None]:
    return target.portal.username or "p111", target.portal.password.reveal() if target.portal.password else None


def serve_portal(target: Target) -> ServedApp:
    """The portal counterpart on the loopback address of `counterparts.portal.url`, for a SUT on the network."""
    url = httpx.URL(target.portal.url or "")
    username, password = portal_credentials(target)
    app = create_portal_app(portal_settings(target, username, password))
    return serve_in_thread("portal", app, url.host, url.port or 80)


def sso_client(target: Target) -> tuple[str, str]:
    """The SUT's registration at the sign-on counterpart: the target's, or a throwaway one."""
    client_id = target.sso.client_id or REFERENCE_CLIENT_ID
    secret = target.sso.client_secret.reveal() if target.sso.client_secret else secrets.token_urlsafe(18)
    return client_id, secret


def serve_sso(target: Target) -> ServedApp:
    """The sign-on counterpart on the loopback address of `counterparts.sso.url`, for a SUT on the network."""
    url = httpx.URL(target.sso.url or "")
    client_id, secret = sso_client(target)
    settings, _ = sign_on_pair(
        str(url).rstrip("/"), target.sut.base_url or "", client_id, secret, None,
        auth_method=target.sign_on_rules.token_endpoint_auth_method, callbacks=target.sso.redirect_uris,
    )
    return serve_in_thread("sso", create_sso_app(settings), url.host, url.port or 80)


def payment_keys(target: Target) -> tuple[str, str]:
    """The SUT's registration at the payment counterpart: the target's merchant code and key, or throwaway ones."""
    merchant = target.payment.merchant_code or MERCHANT_CODE
    secret = target.payment.secret.reveal() if target.payment.secret else secrets.token_urlsafe(18)
    return merchant, secret


def serve_payment(target: Target) -> ServedApp:
    """The payment counterpart on the loopback address of `counterparts.payment.url`, for a SUT on the network."""
    url = httpx.URL(target.payment.url or "")
    merchant, secret = payment_keys(target)
    public = str(url).rstrip("/")
    settings = PaymentSettings(
        merchant, secret, target.payment_rules.checksum, confirm_url(target.sut.base_url or "", target), public
    )
    return serve_in_thread("payment", create_payment_app(settings), url.host, url.port or 80)


def serve_counterparts(
    target: Target,
    *,
    host: str,
    portal_port: int,
    reference_port: int | None,
    sso_port: int = 8703,
    payment_port: int = 8702,
    token_prefix: str = "",
) -> list[ServedApp]:
    """`p111 mocks serve`: the portal, sign-on and payment counterparts, and with a port the reference system wired
    to all three. `token_prefix` marks every code and access token the sign-on issues (the canary test plants one)."""
    username, password = portal_credentials(target)
    app = create_portal_app(portal_settings(target, username, password))
    served = [serve_in_thread("portal", app, host, portal_port)]
    shown_host = f"[{host}]" if ":" in host else host
    sso_url = f"http://{shown_host}:{sso_port}"
    # The SUT every handed-out URL points at (sign-on redirect, payment confirm callback): the reference system when
    # served here, otherwise the target's system (sut.base_url), so that long-lived counterparts serve a vendor's.
    reference_url = f"http://{shown_host}:{reference_port}" if reference_port is not None else ""
    sut_url = reference_url or target.sut.base_url or ""
    client_id, client_secret = sso_client(target)
    callbacks = () if reference_port is not None else target.sso.redirect_uris
    sso_settings, sign_on = sign_on_pair(
        sso_url, sut_url, client_id, client_secret, None,
        auth_method=target.sign_on_rules.token_endpoint_auth_method, callbacks=callbacks,
    )
    sso_settings = replace(sso_settings, token_prefix=token_prefix)
    served.append(serve_in_thread("sso", create_sso_app(sso_settings), host, sso_port))
    payment_url = f"http://{shown_host}:{payment_port}"
    merchant, payment_secret = payment_keys(target)
    variant = target.payment_rules.checksum
    payment = PaymentSettings(merchant, payment_secret, variant, confirm_url(sut_url, target), payment_url)
    served.append(serve_in_thread("payment", create_payment_app(payment), host, payment_port))
    if reference_port is not None:
        # With no password configured the portal accepts any login; the reference then sends a throwaway one.
        link = PortalLink(served[0].url, target.sync, username, password or secrets.token_urlsafe(12))
        cashier = PaymentLink(payment_url, merchant, payment_secret, variant)
        basic = officers.from_target(target, load_accounts())  # officers-basic-auth, else None
        sign_on = officers.sign_on_link(sign_on, basic)
        settings = ReferenceSettings(
            link, frozenset(target.sut.defects), sso_url, target.sut.handoff_path, target.year, sign_on,
            cashier, target.payment_rules.confirm_path, frozenset(target.sut.variations), basic,
        )
        reference = create_reference_app(settings)
        served.append(serve_in_thread("reference", reference, host, reference_port))
    return served
