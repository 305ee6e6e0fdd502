"""`p111 mocks serve`: the counterparts (and a reference or demo system) on loopback ports.

With `--target T` each app listens where T says it is (counterparts.*.url, sut.base_url for the system served), so
the `p111 run --target T` that follows talks to them; a flag given explicitly wins, and what neither names takes the
fixed default port. The apps are test doubles without hardening: they listen only on a loopback host."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

from harness.cli.guard import USAGE_ERROR, print_problems
from harness.config.target import TargetError, embedded_target, is_loopback, load_target
from harness.core.errors import P111Error

DEFAULT_HOST = "127.0.0.1"
# Each app served, its fixed default port, and where a target says it is.
DEFAULT_PORTS = {"portal": 8701, "payment": 8702, "sso": 8703, "reference": 8700, "demo": 8710, "demo3": 8720}
SYSTEMS = ("reference", "demo", "demo3")


class NotServable(P111Error):
    """Where the target says an app is, it cannot be served from here (a host beyond loopback, hosts that differ)."""


def _where(url: str | None) -> tuple[str, int] | None:
    """(host, port) of a URL a target gives; None for none or an embedded:// one."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _settings(target: Any) -> dict[str, tuple[str, str | None]]:
    """Each app → (the setting that says where it is, its URL)."""
    system = None if target.sut.embedded else target.sut.base_url
    return {
        "portal": ("counterparts.portal.url", target.portal.url),
        "payment": ("counterparts.payment.url", target.payment.url),
        "sso": ("counterparts.sso.url", target.sso.url),
        **{name: ("sut.base_url", system) for name in SYSTEMS},
    }


def addresses(args: argparse.Namespace, target: Any | None) -> tuple[str, dict[str, int]]:
    """The host and each app's port: the flag given, else where `target` (None: no --target) says, else the
    default. The host is one for all the apps served; a non-loopback one is refused (NotServable)."""
    settings = _settings(target) if target is not None else {}
    served = ["portal", "payment", "sso", *(name for name in SYSTEMS if getattr(args, name, False))]
    ports: dict[str, int] = {}
    hosts: dict[str, str] = {}  # the host each served app's setting names → the setting
    for name, default in DEFAULT_PORTS.items():
        given = getattr(args, f"{name}_port")
        where = _where(settings[name][1]) if name in settings else None
        if given is not None or where is None:
            ports[name] = default if given is None else given
            continue
        ports[name] = where[1]
        if name in served and args.host is None:
            hosts.setdefault(where[0], settings[name][0])
    beyond = next((host for host in ([args.host] if args.host is not None else hosts) if not is_loopback(host)), None)
    if beyond is not None:
        said = f" ({hosts[beyond]})" if beyond in hosts else ""
        raise NotServable(
            f"Chỉ phục vụ trên địa chỉ loopback / the counterparts listen only on loopback, not {beyond!r}{said}"
        )
    if args.host is None and len(hosts) > 1:
        named = ", ".join(f"{setting}: {host}" for host, setting in hosts.items())
        raise NotServable(f"các địa chỉ khác nhau / the target names different hosts ({named}); pass --host")
    host = args.host if args.host is not None else next(iter(hosts), DEFAULT_HOST)
    return host, ports


def cmd_mocks_serve(args: argparse.Namespace) -> int:
    from mocks.wiring import serve_counterparts

    try:
        target = load_target(args.target) if args.target else embedded_target()
    except TargetError as exc:
        return print_problems(exc)
    try:
        host, ports = addresses(args, target if args.target else None)
    except NotServable as exc:
        print(exc, file=sys.stderr)
        return USAGE_ERROR
    counterparts = {f"{name}_port": ports[name] for name in ("portal", "sso", "payment")}
    if args.demo:  # the second demo system (mocks/demo), for the declarative http driver
        from mocks.demo.wiring import serve_demo

        served = serve_demo(target, host=host, demo_port=ports["demo"], **counterparts)
    elif args.demo3:  # the third demo system (mocks/demo3): not a facade, its own semantics
        from mocks.demo3.wiring import serve_demo3

        try:
            served = serve_demo3(target, host=host, demo3_port=ports["demo3"], **counterparts)
        except KeyError as exc:
            print(f"Thiếu biến môi trường / environment variable {exc} is not set (examples/demo3.target.yaml)",
                  file=sys.stderr)
            return USAGE_ERROR
    else:
        reference = ports["reference"] if args.reference else None
        served = serve_counterparts(target, host=host, reference_port=reference, **counterparts)
    for app in served:
        print(f"{app.name}: {app.url}")
    if target.portal.password is None:
        print("Cổng nhận mọi tài khoản / the portal accepts any login (no counterparts.portal.password in the target)")
    print(
        "Đã nhận / received: GET <portal>/_p111/requests, /_p111/dossiers, /_p111/progress, "
        "<payment>/_p111/messages; Ctrl-C: dừng / stop",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    for app in served:
        app.stop()
    return 0


def add_commands(sub: Any) -> None:
    """`p111 mocks serve`. A port or host left out comes from the target (--target), else the default."""
    mocks = sub.add_parser("mocks", help="các hệ thống đối ứng / counterparts")
    mocks_sub = mocks.add_subparsers(dest="mocks_command", required=True)
    serve = mocks_sub.add_parser("serve", help="chạy các hệ thống đối ứng trên cổng mạng / serve on loopback ports")
    serve.add_argument("--target", help="target.yaml (credentials, sync paths, province; where each app listens)")
    serve.add_argument("--host", default=None, help=f"loopback; default: the target's URLs', else {DEFAULT_HOST}")

    def port(flag: str, name: str, what: str = "") -> None:
        shown = f"{what}; " if what else ""
        serve.add_argument(flag, type=int, default=None,
                           help=f"{shown}default: the target's URL, else {DEFAULT_PORTS[name]}")

    port("--portal-port", "portal")
    serve.add_argument("--reference", action="store_true", help="also serve the reference provincial system")
    port("--reference-port", "reference")
    port("--sso-port", "sso", "the sign-on counterpart (OpenID Connect)")
    port("--payment-port", "payment", "the portal's payment platform")
    serve.add_argument("--demo", action="store_true",
                       help="hệ thống demo v2 (API khác, cho trình điều khiển http) / the demo system v2 (http driver)")
    port("--demo-port", "demo")
    serve.add_argument(
        "--demo3", action="store_true",
        help="hệ thống demo 3 (độc lập, ngữ nghĩa riêng) / the demo 3 system (independent, its own ways)",
    )
    port("--demo3-port", "demo3")
    serve.set_defaults(handler=cmd_mocks_serve)
