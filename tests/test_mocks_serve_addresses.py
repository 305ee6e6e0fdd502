"""`p111 mocks serve --target T` listens where T says each app is (review finding 10): counterparts.*.url for the
counterparts, sut.base_url for the system it serves; a flag given explicitly wins; what neither names takes the fixed
default; a host beyond loopback is refused, as with --host."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.cli import parser
from harness.cli.serving import DEFAULT_PORTS, NotServable, addresses
from harness.config.target import load_target
from mocks.serve import free_port
from tests.support import P111, run_p111, vendor_target_file


def target_file(tmp_path: Path, portal: str, payment: str, sso: str, system: str, name: str = "t") -> Path:
    counterparts = {"portal": {"url": portal, "serve": False}, "payment": {"url": payment, "serve": False},
                    "sso": {"url": sso, "serve": False}}
    return vendor_target_file(tmp_path / f"{name}.yaml", system, counterparts)


def where(path: Path | None, *flags: str) -> tuple[str, dict[str, int]]:
    args = parser().parse_args(["mocks", "serve", *(["--target", str(path)] if path else []), *flags])
    return addresses(args, load_target(path) if path else None)


LOCAL = ("http://127.0.0.1:18701", "http://127.0.0.1:18702", "http://127.0.0.1:18703", "http://127.0.0.1:18720")


def test_each_app_listens_where_the_target_says_it_is(tmp_path: Path):
    path = target_file(tmp_path, *LOCAL)
    host, ports = where(path, "--demo3")
    assert host == "127.0.0.1"
    assert (ports["portal"], ports["payment"], ports["sso"], ports["demo3"]) == (18701, 18702, 18703, 18720)
    assert ports["reference"] == ports["demo"] == 18720  # sut.base_url is the system, whichever is served


def test_a_flag_given_explicitly_wins_and_without_a_target_the_defaults_stay(tmp_path: Path):
    path = target_file(tmp_path, *LOCAL)
    host, ports = where(path, "--portal-port", "9001", "--host", "::1")
    assert host == "::1" and ports["portal"] == 9001 and ports["sso"] == 18703
    assert where(None) == ("127.0.0.1", DEFAULT_PORTS)
    embedded = tmp_path / "e.yaml"
    embedded.write_text("name: E\nsut: {embedded: true}\n", encoding="utf-8")
    assert where(embedded) == ("127.0.0.1", DEFAULT_PORTS)  # embedded:// URLs name no port


def test_a_host_beyond_loopback_or_two_hosts_are_refused_naming_the_setting(tmp_path: Path):
    remote = target_file(tmp_path, "https://cong.example.vn", *LOCAL[1:], name="remote")
    with pytest.raises(NotServable, match=r"loopback.*'cong\.example\.vn' \(counterparts\.portal\.url\)"):
        where(remote)
    mixed = target_file(tmp_path, "http://localhost:18701", *LOCAL[1:], name="mixed")
    with pytest.raises(NotServable, match="pass --host"):
        where(mixed)
    assert where(mixed, "--host", "127.0.0.1")[0] == "127.0.0.1"
    # A vendor's system on its own host, not served here: only the counterparts' hosts count.
    assert where(target_file(tmp_path, *LOCAL[:3], "https://motcua.example.vn", name="own"))[0] == "127.0.0.1"
    result = run_p111("mocks", "serve", "--target", str(remote), cwd=tmp_path)
    assert result.returncode == 2 and "counterparts.portal.url" in result.stderr


def test_the_served_urls_are_the_targets(tmp_path: Path):
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]
    path = target_file(tmp_path, *urls, "http://127.0.0.1:9")
    process = subprocess.Popen(
        [*P111, "mocks", "serve", "--target", str(path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    shown: dict[str, str] = {}
    deadline = time.monotonic() + 30
    try:
        while len(shown) < 3 and time.monotonic() < deadline and process.stdout is not None:
            name, _, url = process.stdout.readline().strip().partition(": ")
            if name in ("portal", "payment", "sso"):
                shown[name] = url
            elif not name and process.poll() is not None:
                break
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert shown == dict(zip(("portal", "payment", "sso"), urls, strict=True)), process.stderr.read()
