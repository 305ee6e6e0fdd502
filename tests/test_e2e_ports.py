"""End to end over real loopback ports: `p111 mocks serve --reference` in one process, `p111 run` in another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from harness.config.target import embedded_target
from harness.core.catalog import load_catalog
from mocks.serve import free_port
from tests.support import P111, read_report, run_p111, sign_in, verdicts

pytestmark = pytest.mark.slow

# Every behaviour of the plan (the ratio targets read the year's export, not this exchange).
BUILT = tuple(r.id for r in load_catalog() if r.kind == "behaviour")

SAMPLE_DOSSIER = {
    "MaHoSo": "000.00.06.H40-261127-9001",
    "MaTTHC": "1.001193",
    "TenTTHC": "Cấp bản sao trích lục hộ tịch",
    "ChuHoSo": "Nguyễn Văn Thử",
    "TrangThaiHoSo": "2",
    "KenhThucHien": "2",
    "NgayTiepNhan": "20261127090000",
    "NgayHenTra": "20261130170000",
    "TaiLieuNop": [],
    "DanhSachLePhi": [],
}



# The reference system's key at the payment platform: both it and the harness (which signs confirms) must know it.
PAYMENT_ENV = {"P111_E2E_PAYMENT_SECRET": "e2e-payment-key-7c1d"}
PAYMENT_KEYS = {"merchant_code": "P111", "secret": "${P111_E2E_PAYMENT_SECRET}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Portal counterpart and reference system on real ports, as a vendor would start them."""
    portal_port, reference_port = free_port(), free_port()
    directory = tmp_path_factory.mktemp("serve")
    document = embedded_target().public_dict()
    document["counterparts"]["payment"] = {"url": "embedded://payment", "serve": True, **PAYMENT_KEYS}
    (directory / "serve.target.yaml").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    process = subprocess.Popen(
        [
            *P111,
            "mocks",
            "serve",
            "--target",
            "serve.target.yaml",
            "--reference",
            "--portal-port",
            str(portal_port),
            "--reference-port",
            str(reference_port),
            "--sso-port",
            str(free_port()),
            "--payment-port",
            str(free_port()),
        ],
        cwd=directory,
        env={**os.environ, **PAYMENT_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while len(urls) < 4 and time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line and process.poll() is not None:
            break
        name, _, url = line.strip().partition(": ")
        if name in ("portal", "reference", "sso", "payment"):
            urls[name] = url
    assert len(urls) == 4, f"mocks serve did not start: {process.stderr.read() if process.stderr else ''}"
    yield urls
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_sync_posted_by_hand_is_accepted_and_listed(served):
    portal = served["portal"]
    session = httpx.post(
        f"{portal}/api/adapter/auth", json={"username": "p111", "password": "any"}, headers={"dstcode": "H40"}
    ).json()["session"]
    reply = httpx.post(
        f"{portal}/api/adapter/integration",
        json={
            "session": session,
            "madonvi": "000.00.06.H40",
            "service": "DongBoHoSoMC",
            "isUpdating": "False",
            "data": [SAMPLE_DOSSIER],
        },
    ).json()
    assert str(reply["error_code"]) == "0", reply
    listed = httpx.get(f"{portal}/_p111/dossiers", params={"MaHoSo": SAMPLE_DOSSIER["MaHoSo"]}).json()
    assert [row["valid"] for row in listed] == [True]
    assert listed[0]["item"]["ChuHoSo"] == "Nguyễn Văn Thử"


def write_target(
    path: Path, sut_url: str, portal_url: str, mode: str = "full", sso_url: str | None = None,
    payment_url: str | None = None, transport: str = "adapter",
) -> Path:
    path.write_text(
        json.dumps(
            {
                "name": "Hệ thống tham chiếu qua mạng (loopback)",
                "agencies": embedded_target().public_dict()["agencies"],  # the reference system's agencies
                "sut": {"embedded": False, "base_url": sut_url},
                "counterparts": {"portal": {"url": portal_url, "serve": False}}
                | ({"sso": {"url": sso_url, "serve": False}} if sso_url else {})
                | ({"payment": {"url": payment_url, "serve": False, **PAYMENT_KEYS}} if payment_url else {}),
                "sync": {"transport": transport},
                "safety": {"mode": mode, "environment": "staging"},
                "timeouts": {"connect_seconds": 2, "request_seconds": 5, "sync_seconds": 3},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def test_a_false_transport_declaration_fails_the_sync(served, tmp_path: Path):
    """The served reference system syncs by the adapter transport; a target that declares direct is contradicted."""
    target = write_target(tmp_path / "direct.yaml", served["reference"], served["portal"], sso_url=served["sso"],
                          transport="direct")
    args = ("run", "--target", str(target), "--report", str(tmp_path / "out"), "--allow-not-tested", "--", "-k",
            "sync_dossier")
    result = run_p111(*args, cwd=tmp_path)
    report = read_report(tmp_path / "out")
    sync = next(r for r in report["requirements"] if r["id"] == "P111-SYNC-DOSSIER")
    failed = [c for c in sync["checks"] if c["outcome"] == "FAILED"]
    assert sync["verdict"] == "FAILED", result.stdout[-3000:]
    assert [c["nodeid"].rsplit("::", 1)[-1] for c in failed] == ["test_dossier_arrives_by_the_declared_transport"]
    assert "sync.transport: direct" in failed[0]["failure"]["expected"]


def test_the_suite_passes_the_reference_system_over_the_network(served, tmp_path: Path):
    target = write_target(
        tmp_path / "loopback.target.yaml", served["reference"], served["portal"], sso_url=served["sso"],
        payment_url=served["payment"],
    )
    out = tmp_path / "out"
    result = run_p111("run", "--target", str(target), "--report", str(out), cwd=tmp_path, env=PAYMENT_ENV)
    report = read_report(tmp_path / "out")
    got = verdicts(report)
    for requirement in BUILT:
        assert got[requirement] == "PASSED", result.stdout[-4000:]
    assert result.returncode == 0
    assert report["target"]["document"]["sut"]["base_url"] == served["reference"]


def test_read_only_mode_sends_nothing_that_changes_the_sut(served, tmp_path: Path):
    with httpx.Client(base_url=served["reference"]) as sut, httpx.Client(base_url=served["sso"]) as sso:
        officer = sign_in(sut, sso)
    before = httpx.get(f"{served['reference']}/api/dossiers", headers=officer).json()["total"]
    def payment_messages() -> int:  # what the harness could cause; the SUT's own QUERYs go on meanwhile
        return sum(m["kind"] in ("INIT", "confirm") for m in httpx.get(f"{served['payment']}/_p111/messages").json())

    payment_before = payment_messages()
    target = write_target(
        tmp_path / "ro.yaml", served["reference"], served["portal"], "read-only", served["sso"], served["payment"]
    )
    result = run_p111("run", "--target", str(target), "--report", str(tmp_path / "out"), cwd=tmp_path, env=PAYMENT_ENV)
    report = read_report(tmp_path / "out")
    assert httpx.get(f"{served['reference']}/api/dossiers", headers=officer).json()["total"] == before
    exchanges = [json.loads(line) for line in (tmp_path / "out" / "evidence.ndjson").read_text().splitlines()]
    # What went to the SUT; the harness's own counterparts (arming the sign-on) are not the SUT.
    sent = {e["method"] for e in exchanges if e["url"].startswith(served["reference"])}
    assert sent <= {"GET", "HEAD"}
    assert payment_messages() == payment_before, "no payment was started or confirmed"
    for requirement in BUILT:
        # The catalog and sign-on checks only read (a sign-on is a series of GETs); the rest need dossiers created.
        expected = "PASSED" if requirement in ("P111-CATALOG", "P111-AUTH-SSO") else "NOT-TESTED"
        assert verdicts(report)[requirement] == expected, result.stdout[-3000:]
    assert "safety.mode read-only" in result.stdout + json.dumps(report, ensure_ascii=False)


async def garbage_app(scope, receive, send):
    """A bare ASGI app that answers every request with a broken HTML page."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": "<html><h1>Lỗi hệ thống".encode()})


def test_a_sut_that_sends_garbage_gets_error_verdicts_and_a_report(served, tmp_path: Path):
    from mocks.serve import serve_in_thread

    garbage = serve_in_thread("garbage", garbage_app)
    try:
        target = write_target(tmp_path / "g.yaml", garbage.url, served["portal"])
        result = run_p111("run", "--target", str(target), "--report", str(tmp_path / "out"), cwd=tmp_path)
    finally:
        garbage.stop()
    report = read_report(tmp_path / "out")
    assert result.returncode == 2, result.stdout[-3000:]
    for requirement in BUILT:
        assert verdicts(report)[requirement] == "ERROR"
    # The sign-on and payment checks have no counterpart in this target: their ERROR says so instead.
    messages = [
        c["message"] for r in report["requirements"] if r["id"] in BUILT for c in r["checks"] if c["outcome"] == "ERROR"
    ]
    others = [m for m in messages if "not JSON" not in m and "counterpart in the target" not in m]
    assert messages and not others, others


def test_an_unreachable_sut_gets_error_verdicts(served, tmp_path: Path):
    target = write_target(tmp_path / "down.yaml", f"http://127.0.0.1:{free_port()}", served["portal"])
    result = run_p111("run", "--target", str(target), "--report", str(tmp_path / "out"), cwd=tmp_path)
    report = read_report(tmp_path / "out")
    assert result.returncode == 2
    assert {verdicts(report)[r] for r in BUILT} == {"ERROR"}
    assert "did not answer" in json.dumps(report, ensure_ascii=False)
