"""A hostile SUT: one misbehaviour per mode, to prove the harness ends, judges and reports instead of hanging.

`create_hostile_app(mode)` is a raw ASGI app for the HTTP modes; `serve_hostile(mode)` serves any mode on a loopback
port, including the two an ASGI app cannot express: `reset` (a plain socket server that drops every connection
without an answer) and `tls-failure` (HTTPS with a self-signed certificate, which the harness must refuse).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from mocks.serve import ServedApp, serve_in_thread

MODES = (
    "timeout",
    "slow-drip",
    "reset",
    "malformed-json",
    "wrong-content-type",
    "huge-body",
    "huge-body-chunked",
    "redirect-elsewhere",
    "redirect-loop",
    "5xx-burst",
    "invalid-utf8",
    "tls-failure",
)
ELSEWHERE = "http://127.0.0.2:9"  # another host: a redirect there must not be followed
BURST = 3  # 503 answers per path before the normal one
HUGE = 12 * 1024 * 1024  # above the default politeness.max_body_bytes (10 MiB)
NORMAL = b"[]"  # the reference API's service list, empty: enough for the catalog checks to judge
LONGEST = 60.0  # no hostile answer holds a connection longer than this, so the server can always stop


class HostileApp:
    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}; one of {', '.join(MODES)}")
        self.mode = mode
        self.hits: Counter[str] = Counter()  # requests received, by path
        self.closing = threading.Event()  # set by stop(): endless answers end

    async def _pause(self, seconds: float) -> bool:
        """Sleeps, ending early when the server stops; False then."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.closing.is_set():
                return False
            await anyio.sleep(min(0.1, end - time.monotonic()))
        return True

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.hits[path] += 1

        async def answer(status: int, body: bytes, content_type: bytes = b"application/json", **extra: bytes) -> None:
            headers = [(b"content-type", content_type), *((k.replace("_", "-").encode(), v) for k, v in extra.items())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        mode = self.mode
        if mode == "timeout":
            await self._pause(LONGEST)  # never answers within any sane request timeout
            return
        if mode == "slow-drip":
            body = b"[" + b" " * 200 + b"]"
            start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            await send(start)
            for byte in body:  # each byte arrives quickly enough to beat a per-read timeout, never the total budget
                if not await self._pause(0.3):
                    return
                await send({"type": "http.response.body", "body": bytes([byte]), "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if mode == "malformed-json":
            return await answer(200, b'[{"code": "1.001193", "name": ')
        if mode == "wrong-content-type":
            return await answer(200, NORMAL, b"text/html; charset=utf-8")
        if mode == "invalid-utf8":
            return await answer(200, b'[{"name": "\xff\xfe\xc3("}]', b"application/json; charset=utf-8")
        if mode in ("huge-body", "huge-body-chunked"):
            headers = [(b"content-type", b"application/json")]
            if mode == "huge-body":
                headers.append((b"content-length", str(HUGE).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            chunk = b" " * (256 * 1024)
            for _ in range(HUGE // len(chunk)):
                if self.closing.is_set():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await anyio.sleep(0)  # lets the server notice a client that hung up, and stop writing to it
            await send({"type": "http.response.body", "body": b""})
            return
        if mode == "redirect-elsewhere":
            return await answer(302, b"", location=f"{ELSEWHERE}{path}".encode())
        if mode == "redirect-loop":
            query = scope.get("query_string", b"")
            return await answer(302, b"", location=path.encode() + (b"?" + query if query else b""))
        if mode == "5xx-burst" and self.hits[path] <= BURST:
            return await answer(503, b'{"error": "busy"}', retry_after=b"1")
        await answer(200, NORMAL)  # 5xx-burst after the burst, tls-failure (were it ever reached)


def create_hostile_app(mode: str) -> HostileApp:
    """The ASGI app of one hostile mode (`reset` needs `serve_hostile`: ASGI cannot drop a connection)."""
    if mode == "reset":
        raise ValueError("an ASGI app cannot drop a connection without an answer: use serve_hostile('reset')")
    return HostileApp(mode)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself: no trust store knows it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p111 hostile self-signed")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class _ResetServer:
    """Accepts, reads the request, and closes with a TCP reset (SO_LINGER 0): no answer at all."""

    def __init__(self) -> None:
        self.hits = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._run, name="p111-hostile-reset", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.hits += 1
            with connection:
                connection.settimeout(1)
                with contextlib.suppress(OSError):
                    connection.recv(65536)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


@dataclass
class HostileServer:
    """A served hostile mode: its url, what it received, and stop()."""

    mode: str
    url: str
    app: HostileApp | None = None
    served: ServedApp | None = None
    reset: _ResetServer | None = None
    certificates: Path | None = None  # the self-signed certificate's directory, removed on stop

    @property
    def hit_count(self) -> int:
        if self.reset is not None:
            return self.reset.hits
        return sum(self.app.hits.values()) if self.app else 0

    def stop(self) -> None:
        if self.app is not None:
            self.app.closing.set()  # endless answers end, so that uvicorn can shut down
        if self.served is not None:
            self.served.stop()
        if self.reset is not None:
            self.reset.closing.set()
            self.reset.thread.join(timeout=5)
        if self.certificates is not None:
            shutil.rmtree(self.certificates, ignore_errors=True)


def serve_hostile(mode: str, *, timeout: float = 10.0) -> HostileServer:
    """Serves `mode` on a free loopback port in a daemon thread; https:// for tls-failure."""
    if mode == "reset":
        reset = _ResetServer()
        return HostileServer(mode, f"http://127.0.0.1:{reset.sock.getsockname()[1]}", reset=reset)
    app = create_hostile_app(mode)
    tls: dict[str, Any] = {}
    certificates = None
    if mode == "tls-failure":
        certificates = Path(tempfile.mkdtemp(prefix="p111-hostile-tls-"))
        cert_file, key_file = self_signed(certificates)
        tls = {"ssl_certfile": str(cert_file), "ssl_keyfile": str(key_file)}
    served = serve_in_thread(
        f"hostile-{mode}", app, timeout=timeout, log_level="critical", timeout_graceful_shutdown=1, **tls
    )
    return HostileServer(mode, served.url, app, served, certificates=certificates)


# ---- a SUT that plants URLs of another origin everywhere the harness reads a URL from it ------------------------

PLANTED_ROUTES = ("openapi-path", "openapi-servers", "file-link", "inbox-item", "payment-url", "sign-on-redirect",
                  "location")


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class EvilOrigin:
    """The origin a hostile SUT points the harness to: it answers 200 to anything and keeps what it received."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.received.append(Received(scope["method"], scope["path"], headers, body))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})


class PlantingSut:
    """The reference API's shape, each URL in it pointing at `evil`: OpenAPI paths and `servers`, a dossier's file
    link and payment page, an inbox item's file link, the sign-on redirect (in its `sso@evil` disguise), and a
    `Location` on every write."""

    def __init__(self, evil: str, sign_on: str) -> None:
        self.evil = evil.rstrip("/")
        self.sign_on = sign_on.rstrip("/")

    def openapi(self) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"a": {"type": "string"}}}
        body = {"content": {"application/json": {"schema": schema}}}
        answers = {"200": {"description": "ok"}, "422": {"description": "no"}}
        return {
            "openapi": "3.1.0",
            "info": {"title": "hostile", "version": "1"},
            "servers": [{"url": self.evil}],
            "paths": {
                f"{self.evil}/api/steal": {"post": {"requestBody": body, "responses": answers},
                                           "get": {"parameters": [{"name": "q", "in": "query", "required": True,
                                                                   "schema": {"type": "string"}}],
                                                   "responses": answers}},
                "/api/items": {"post": {"requestBody": body, "responses": answers}},
            },
        }

    def dossier(self) -> dict[str, Any]:
        return {
            "code": "H00.00-261201-0001", "procedure_code": "1.001193", "agency_code": "H00.00", "channel": "online",
            "status": "1", "submitted_at": "2026-12-01T08:00:00+07:00",
            "history": [{"status": "1", "action": "submit"}],
            "files": [{"id": "f1", "name": "a.pdf", "sha256": "0" * 64, "url": f"{self.evil}/files/f1"}],
            "payments": [{"reference": "R1", "amount": 1000, "state": "pending", "credited": 0,
                          "url": f"{self.evil}/pay/R1"}],
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        import json

        path, method = scope["path"], scope["method"]

        async def answer(status: int, data: Any = None, **headers: str) -> None:
            raw = [(k.encode(), v.encode()) for k, v in headers.items()]
            body = json.dumps(data).encode() if data is not None else b""
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"), *raw]})
            await send({"type": "http.response.body", "body": body})

        host = self.sign_on.split("://", 1)[1]
        if path == "/auth/login":  # the sign-on's host as userinfo: a string prefix check would take it for the SSO
            evil_host = self.evil.split("://", 1)[1]
            return await answer(302, location=f"http://{host}@{evil_host}/authorize?client_id=x&state=s")
        if path == "/openapi.json":
            return await answer(200, self.openapi())
        if path.startswith("/api/dossiers/"):
            return await answer(200, self.dossier())
        if path.startswith("/api/agencies/") and path.endswith("/inbox"):
            return await answer(200, [{"code": "H00.00-261201-0001", "from": "H00.01", "method": "electronic",
                                       "files": self.dossier()["files"]}])
        if method not in ("GET", "HEAD"):
            return await answer(307, {}, location=f"{self.evil}{path}")
        return await answer(302, location=f"{self.evil}{path}")
