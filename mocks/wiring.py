"""Wires the counterparts and the reference system together: in-process (the embedded default) or on real ports."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import httpx
from anyio.from_thread import start_blocking_portal

from harness.inprocess import BlockingASGITransport
from harness.target import Target
from mocks.portal import PortalSettings, create_portal_app
from mocks.reference.app import ReferenceSettings, create_reference_app
from mocks.reference.portal_sync import PortalLink
from mocks.reference.signon import SignOnLink
from mocks.serve import ServedApp, serve_in_thread
from mocks.sso import SsoClient, SsoSettings, create_sso_app, load_accounts

SUT_URL = "http://sut.embedded"
PORTAL_URL = "http://portal.embedded"
SIGN_ON_URL = "http://sso.embedded"
CALLBACK_PATH = "/auth/callback"  # the reference system's redirect_uri, registered at the sign-on counterpart
REFERENCE_CLIENT_ID = "p111-reference"


@dataclass
class EmbeddedSystem:
    sut_transport: httpx.BaseTransport
    portal_transport: httpx.BaseTransport
    sign_on_transport: httpx.BaseTransport
    secrets: tuple[str, ...]
    _stack: ExitStack = field(repr=False)
    sut_url: str = SUT_URL
    portal_url: str = PORTAL_URL
    sign_on_url: str = SIGN_ON_URL

    def close(self) -> None:
        self._stack.close()


def officer_directory() -> frozenset[str]:
    """The province's officers, as the reference system knows them: the sign-on's officer test accounts."""
    return frozenset(a["claims"]["TechID"] for a in load_accounts() if a.get("officer"))


def sign_on_pair(
    sso_url: str, sut_url: str, client_id: str, client_secret: str, http_transport: httpx.AsyncBaseTransport | None
) -> tuple[SsoSettings, SignOnLink]:
    """The provider's registration of the reference system, and the reference system's link to the provider."""
    client = SsoClient(client_id, client_secret, (sut_url.rstrip("/") + CALLBACK_PATH,))
    link = SignOnLink(sso_url, client_id, client_secret, officer_directory(), http_transport)
    return SsoSettings(sso_url, (client,)), link


def start_embedded(target: Target) -> EmbeddedSystem:
    stack = ExitStack()
    loop = stack.enter_context(start_blocking_portal())
    username, password = "p111-embedded", secrets.token_urlsafe(18)  # fresh per run: nothing to leak or configure
    portal_app = create_portal_app(PortalSettings(target.province_code, username, password, target.sync))
    link = PortalLink(PORTAL_URL, target.sync, username, password, httpx.ASGITransport(app=portal_app))
    client_secret = secrets.token_urlsafe(18)
    sso_settings, sign_on = sign_on_pair(SIGN_ON_URL, SUT_URL, REFERENCE_CLIENT_ID, client_secret, None)
    sso_app = create_sso_app(sso_settings)
    sign_on = replace(sign_on, http_transport=httpx.ASGITransport(app=sso_app))
    reference_app = create_reference_app(
        ReferenceSettings(
            link, frozenset(target.sut.defects), SIGN_ON_URL, target.sut.handoff_path, target.year, sign_on
        )
    )
    return EmbeddedSystem(
        sut_transport=BlockingASGITransport(loop, reference_app),
        portal_transport=BlockingASGITransport(loop, portal_app),
        sign_on_transport=BlockingASGITransport(loop, sso_app),
        secrets=(password, client_secret),
        _stack=stack,
    )


def _portal_credentials(target: Target) -> tuple[str, str | None]:
    return target.portal.username or "p111", target.portal.password.reveal() if target.portal.password else None


def serve_portal(target: Target) -> ServedApp:
    """The portal counterpart on the loopback address of `counterparts.portal.url`, for a SUT on the network."""
    url = httpx.URL(target.portal.url or "")
    username, password = _portal_credentials(target)
    app = create_portal_app(PortalSettings(target.province_code, username, password, target.sync))
    return serve_in_thread("portal", app, url.host, url.port or 80)


def _sso_client(target: Target) -> tuple[str, str]:
    """The SUT's registration at the sign-on counterpart: the target's, or a throwaway one."""
    client_id = target.sso.client_id or REFERENCE_CLIENT_ID
    secret = target.sso.client_secret.reveal() if target.sso.client_secret else secrets.token_urlsafe(18)
    return client_id, secret


def serve_sso(target: Target) -> ServedApp:
    """The sign-on counterpart on the loopback address of `counterparts.sso.url`, for a SUT on the network."""
    url = httpx.URL(target.sso.url or "")
    client_id, secret = _sso_client(target)
    settings, _ = sign_on_pair(str(url).rstrip("/"), target.sut.base_url or "", client_id, secret, None)
    return serve_in_thread("sso", create_sso_app(settings), url.host, url.port or 80)


def serve_counterparts(
    target: Target, *, host: str, portal_port: int, reference_port: int | None, sso_port: int = 8703,
    token_prefix: str = "",
) -> list[ServedApp]:
    """`p111 mocks serve`: the portal and sign-on counterparts, and with a port the reference system wired to
    both. `token_prefix` marks every code and access token the sign-on issues (the canary test plants one)."""
    username, password = _portal_credentials(target)
    app = create_portal_app(PortalSettings(target.province_code, username, password, target.sync))
    served = [serve_in_thread("portal", app, host, portal_port)]
    shown_host = f"[{host}]" if ":" in host else host
    sso_url = f"http://{shown_host}:{sso_port}"
    reference_url = f"http://{shown_host}:{reference_port}" if reference_port is not None else ""
    client_id, client_secret = _sso_client(target)
    sso_settings, sign_on = sign_on_pair(sso_url, reference_url, client_id, client_secret, None)
    sso_settings = replace(sso_settings, token_prefix=token_prefix)
    served.append(serve_in_thread("sso", create_sso_app(sso_settings), host, sso_port))
    if reference_port is not None:
        # With no password configured the portal accepts any login; the reference then sends a throwaway one.
        link = PortalLink(served[0].url, target.sync, username, password or secrets.token_urlsafe(12))
        settings = ReferenceSettings(
            link, frozenset(target.sut.defects), sso_url, target.sut.handoff_path, target.year, sign_on
        )
        reference = create_reference_app(settings)
        served.append(serve_in_thread("reference", reference, host, reference_port))
    return served
