"""The demo system on a loopback port, with the portal, sign-on and payment counterparts it talks to: the reference
system behind the demo's facade, wired as `p111 mocks serve --reference` wires it, but registered at the sign-on and
the payment platform under the demo's own callback and confirm paths."""

from __future__ import annotations

import secrets

from harness.config.target import Target
from mocks import wiring
from mocks.demo.app import CALLBACK_PATH, LOGIN_PATH, DemoSettings, create_demo_app
from mocks.payment import PaymentSettings, create_payment_app
from mocks.portal import PortalSettings, create_portal_app
from mocks.reference.app import ReferenceSettings, create_reference_app
from mocks.reference.payments import CONFIRM_PATH, PaymentLink
from mocks.reference.portal_sync import PortalLink
from mocks.serve import ServedApp, serve_in_thread
from mocks.sso import create_sso_app

REFERENCE_HANDOFF = "/dvc/vnconnect"  # the hidden reference system's own paths, behind the facade
assert CALLBACK_PATH == LOGIN_PATH + wiring.CALLBACK_PATH  # the redirect_uri the reference builds under the facade


def serve_demo(
    target: Target, *, host: str = "127.0.0.1", demo_port: int = 8710, portal_port: int = 8701,
    sso_port: int = 8703, payment_port: int = 8702,
) -> list[ServedApp]:
    """Portal, sign-on, payment and the demo system (named "demo"), each on its own port, fixed beforehand: each
    must know the others' addresses before it starts. The demo's hand-off and confirm paths are the target's
    (sut.handoff_path, payment.confirm_path)."""
    shown = f"[{host}]" if ":" in host else host
    demo_url, sso_url = f"http://{shown}:{demo_port}", f"http://{shown}:{sso_port}"
    payment_url = f"http://{shown}:{payment_port}"
    username, password = wiring.portal_credentials(target)
    portal = create_portal_app(PortalSettings(target.province_code, username, password, target.sync))
    served = [serve_in_thread("portal", portal, host, portal_port)]
    client_id, client_secret = wiring.sso_client(target)
    # Registered as the reference would be if it lived under the demo's login path: that is where its callback is.
    sso_settings, sign_on = wiring.sign_on_pair(
        sso_url, demo_url + LOGIN_PATH, client_id, client_secret, None, target.sign_on_rules.token_endpoint_auth_method
    )
    served.append(serve_in_thread("sso", create_sso_app(sso_settings), host, sso_port))
    merchant, payment_secret = wiring.payment_keys(target)
    variant = target.payment_rules.checksum
    payment = PaymentSettings(merchant, payment_secret, variant, wiring.confirm_url(demo_url, target), payment_url)
    served.append(serve_in_thread("payment", create_payment_app(payment), host, payment_port))
    link = PortalLink(served[0].url, target.sync, username, password or secrets.token_urlsafe(12))
    reference = create_reference_app(
        ReferenceSettings(
            link, frozenset(), sso_url, REFERENCE_HANDOFF, target.year, sign_on,
            PaymentLink(payment_url, merchant, payment_secret, variant), CONFIRM_PATH,
        )
    )
    demo = create_demo_app(
        DemoSettings(
            reference, REFERENCE_HANDOFF, CONFIRM_PATH, target.sut.handoff_path, target.payment_rules.confirm_path
        )
    )
    served.append(serve_in_thread("demo", demo, host, demo_port))
    return served
