"""Wires the counterparts and the reference system together: in-process (the embedded default) or on real ports."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
from anyio.from_thread import start_blocking_portal

from harness.inprocess import BlockingASGITransport
from harness.target import SyncConfig, Target
from mocks.portal import PortalSettings, create_portal_app
from mocks.reference.app import ReferenceSettings, create_reference_app
from mocks.reference.portal_sync import PortalLink
from mocks.serve import ServedApp, serve_in_thread

SUT_URL = "http://sut.embedded"
PORTAL_URL = "http://portal.embedded"
SIGN_ON_URL = "http://sso.embedded"


@dataclass
class EmbeddedSystem:
    sut_transport: httpx.BaseTransport
    portal_transport: httpx.BaseTransport
    secrets: tuple[str, ...]
    _stack: ExitStack = field(repr=False)
    sut_url: str = SUT_URL
    portal_url: str = PORTAL_URL
    sign_on_url: str = SIGN_ON_URL

    def close(self) -> None:
        self._stack.close()


def portal_link(
    base_url: str,
    sync: SyncConfig,
    username: str,
    password: str,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> PortalLink:
    return PortalLink(
        base_url,
        sync.transport,
        username,
        password,
        sync.auth_path,
        sync.integration_path,
        sync.insert_path,
        sync.update_path,
        sync.progress_path,
        http_transport,
    )


def portal_settings(province_code: str, sync: SyncConfig, username: str, password: str | None) -> PortalSettings:
    return PortalSettings(
        province_code,
        username,
        password,
        sync.auth_path,
        sync.integration_path,
        sync.insert_path,
        sync.update_path,
        sync.progress_path,
    )


def start_embedded(target: Target) -> EmbeddedSystem:
    stack = ExitStack()
    loop = stack.enter_context(start_blocking_portal())
    username, password = "p111-embedded", secrets.token_urlsafe(18)  # fresh per run: nothing to leak or configure
    portal_app = create_portal_app(portal_settings(target.province_code, target.sync, username, password))
    link = portal_link(PORTAL_URL, target.sync, username, password, httpx.ASGITransport(app=portal_app))
    reference_app = create_reference_app(
        ReferenceSettings(link, frozenset(target.sut.defects), SIGN_ON_URL, target.sut.handoff_path, target.year)
    )
    return EmbeddedSystem(
        sut_transport=BlockingASGITransport(loop, reference_app),
        portal_transport=BlockingASGITransport(loop, portal_app),
        secrets=(password,),
        _stack=stack,
    )


def _portal_credentials(target: Target) -> tuple[str, str | None]:
    return target.portal.username or "p111", target.portal.password.reveal() if target.portal.password else None


def serve_portal(target: Target) -> ServedApp:
    """The portal counterpart on the loopback address of `counterparts.portal.url`, for a SUT on the network."""
    url = httpx.URL(target.portal.url or "")
    username, password = _portal_credentials(target)
    app = create_portal_app(portal_settings(target.province_code, target.sync, username, password))
    return serve_in_thread("portal", app, url.host, url.port or 80)


def serve_counterparts(target: Target, *, host: str, portal_port: int, reference_port: int | None) -> list[ServedApp]:
    """`p111 mocks serve`: the portal counterpart, and with a port the reference system wired to it."""
    username, password = _portal_credentials(target)
    app = create_portal_app(portal_settings(target.province_code, target.sync, username, password))
    served = [serve_in_thread("portal", app, host, portal_port)]
    if reference_port is not None:
        # With no password configured the portal accepts any login; the reference then sends a throwaway one.
        link = portal_link(served[0].url, target.sync, username, password or secrets.token_urlsafe(12))
        # Until a sign-on counterpart runs here, citizens without a session are sent to the portal's address.
        sign_on = target.sso.url if target.sso.url and not target.sut.embedded else served[0].url
        settings = ReferenceSettings(link, frozenset(target.sut.defects), sign_on, target.sut.handoff_path, target.year)
        reference = create_reference_app(settings)
        served.append(serve_in_thread("reference", reference, host, reference_port))
    return served
