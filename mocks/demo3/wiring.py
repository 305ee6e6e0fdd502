"""Demo 3 on a loopback port, with the portal, sign-on and payment counterparts it talks to, each on its own port
fixed beforehand (each must know the others' addresses). The counterparts are the harness's own (mocks/portal.py,
sso.py, payment.py), registered under demo 3's callback and confirm paths; demo 3's keys come from the target and
the environment, as a vendor's would."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from harness.config.target import Target, load_target
from mocks import wiring
from mocks.demo3.app import CALLBACK_PATH, Demo3Settings, create_demo3_app
from mocks.demo3.cashier import Merchant
from mocks.demo3.portal import PortalClient
from mocks.demo3.signon import Person, Registration, SignOn
from mocks.payment import PaymentSettings, create_payment_app
from mocks.portal import PortalSettings, create_portal_app
from mocks.serve import ServedApp, free_port, serve_in_thread
from mocks.sso import SsoClient, SsoSettings, create_sso_app, load_accounts

# Demo 3's own officer directory: whom its static key and its receiving agency's password stand for.
OFFICER_LOGIN = "officer-1"
SECOND_USER = "canbo-bhxh"
SECOND_TECH_ID = "MC-CANBO-BHXH-01"
KEY_ENV, PASSWORD_ENV = "P111_DEMO3_OFFICER_KEY", "P111_DEMO3_SECOND_PASSWORD"


def serve_demo3(
    target: Target, *, host: str = "127.0.0.1", demo3_port: int = 8720, portal_port: int = 8701,
    sso_port: int = 8703, payment_port: int = 8702, defects: frozenset[str] = frozenset(),
    optional_supplement: bool = False, env: dict[str, str] | None = None,
) -> list[ServedApp]:
    env = dict(os.environ if env is None else env)
    shown = f"[{host}]" if ":" in host else host
    demo3_url, sso_url = f"http://{shown}:{demo3_port}", f"http://{shown}:{sso_port}"
    payment_url, portal_url = f"http://{shown}:{payment_port}", f"http://{shown}:{portal_port}"
    username, password = wiring.portal_credentials(target)
    served = [serve_in_thread(
        "portal", create_portal_app(PortalSettings(target.province_code, username, password, target.sync)),
        host, portal_port,
    )]
    client_id, client_secret = wiring.sso_client(target)
    redirect = demo3_url + CALLBACK_PATH
    sso = SsoSettings(sso_url, (SsoClient(client_id, client_secret, (redirect,)),))
    served.append(serve_in_thread("sso", create_sso_app(sso), host, sso_port))
    merchant, key = wiring.payment_keys(target)
    variant = target.payment_rules.checksum
    served.append(serve_in_thread(
        "payment",
        create_payment_app(PaymentSettings(merchant, key, variant, wiring.confirm_url(demo3_url, target), payment_url)),
        host, payment_port,
    ))
    officer = next(a["claims"] for a in load_accounts() if a["login"] == OFFICER_LOGIN)
    settings = Demo3Settings(
        portal=PortalClient(portal_url, target.sync, username, password or secrets.token_urlsafe(12)),
        sign_on=SignOn(Registration(sso_url, client_id, client_secret, redirect),
                       ignores_expiry="demo3-sso-ignores-expiry" in defects),
        merchant=Merchant(payment_url, merchant, key, variant),
        officer_key=env[KEY_ENV],
        officer=Person(str(officer["TechID"]), str(officer["loAs"]), officer=True),
        second_officer=(SECOND_USER, env[PASSWORD_ENV]),
        second_person=Person(SECOND_TECH_ID, "LoA2", officer=True),
        year=target.year,
        defects=defects,
        optional_supplement=optional_supplement,
    )
    served.append(serve_in_thread("demo3", create_demo3_app(settings), host, demo3_port))
    return served


# The ports examples/demo3.target.yaml names for demo 3 and its counterparts.
EXAMPLE_PORTS = {"demo3": 8720, "portal": 8701, "payment": 8702, "sso": 8703}


@dataclass
class Served:
    """Demo 3 and its counterparts on free ports, and the target file rewritten to find them."""

    target_file: Path
    target: Target
    apps: list[ServedApp]
    urls: dict[str, str]

    def stop(self) -> None:
        for app in self.apps:
            app.stop()


def serve_example_on_free_ports(
    example: Path, work: Path, env: dict[str, str], defects: frozenset[str] = frozenset()
) -> Served:
    """`example` (a target naming EXAMPLE_PORTS) served on free loopback ports: the target written to `work` with
    those ports, so that tests and benchmarks can run side by side."""
    ports = {name: free_port() for name in EXAMPLE_PORTS}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    text = example.read_text(encoding="utf-8")
    for name, default in EXAMPLE_PORTS.items():
        text = text.replace(f"http://127.0.0.1:{default}", urls[name])
    target_file = work / example.name
    target_file.write_text(text, encoding="utf-8")
    target = load_target(target_file, env=env)
    apps = serve_demo3(target, demo3_port=ports["demo3"], portal_port=ports["portal"], sso_port=ports["sso"],
                       payment_port=ports["payment"], defects=defects, env=env)  # fmt: skip
    return Served(target_file, target, apps, urls)

