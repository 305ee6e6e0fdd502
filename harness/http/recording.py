"""Record and replay a run (`p111 run --record DIR`, `p111 run --replay DIR`).

Every request the harness sends goes through a client built by `harness.http.client.make_client`; a `Tap` given there
sits in front of whatever really sends (the network or an in-process app, behind the politeness layer). Recording,
the tap passes each request on and keeps the exchange; replaying, it answers each request from the recording and
nothing is sent: no SUT, no counterpart, no socket.

A recording holds what the checks verify — session cookies, authorization codes, payment keys, checksums — which
the redaction rules keep out of every report. It is therefore encrypted at rest (Fernet: AES-128-CBC and an
HMAC-SHA256 over it) under a key from the environment variable P111_RECORDING_KEY, and written privately (directory
0700, file 0600). The replay re-uses the run's learnt secrets, stored inside it, so that its report is redacted as
the recorded run's was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography.fernet import Fernet, InvalidToken

import harness
from harness.config.target import ENV_REFERENCE, Target, TargetError, load_target_text
from harness.core import limits
from harness.core.errors import P111Error
from harness.core.formats import vietnam_now
from harness.http import politeness

KEY_VARIABLE = "P111_RECORDING_KEY"
RECORDING_FILE = "recording.p111"
FORMAT = "p111-recording/1"
KEYGEN_HINT = (
    f"tạo khóa bằng / make one with: `p111 keygen --recording` (hoặc / or "
    f"`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`), "
    f"rồi / then `export {KEY_VARIABLE}=<khóa / key>`"
)
# Reads: a server that changed nothing answers a repeated read as it answered the last one.
READS = frozenset({"GET", "HEAD"})
# Exceptions a transport may raise, re-raised by name in a replay so that a check ends as it ended when recorded.
_ERRORS: dict[str, type[httpx.TransportError]] = {
    cls.__name__: cls
    for cls in (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.PoolTimeout,
        httpx.ReadError,
        httpx.WriteError,
        httpx.RemoteProtocolError,
        httpx.LocalProtocolError,
        httpx.UnsupportedProtocol,
        httpx.ProxyError,
        politeness.CircuitOpen,
        politeness.ResponseTooLarge,
    )
}


class RecordingError(P111Error):
    """A recording cannot be written or read (no key, another key, damaged, not a recording): a usage error."""


class ReplayMiss(httpx.TransportError, P111Error):
    """The replay sent a request the recorded run never sent: the check cannot be judged (ERROR), it names it."""


# ---- the key and the file -------------------------------------------------------------------------------------------


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def key_from_environment(environ: dict[str, str] | None = None) -> bytes:
    value = (os.environ if environ is None else environ).get(KEY_VARIABLE, "").strip()
    if not value:
        raise RecordingError(
            f"--record/--replay cần khóa mã hóa trong biến môi trường {KEY_VARIABLE} / need an encryption key in "
            f"the environment variable {KEY_VARIABLE}; {KEYGEN_HINT}"
        )
    try:
        Fernet(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise RecordingError(
            f"{KEY_VARIABLE} không phải khóa Fernet / is not a Fernet key (32 bytes, URL-safe base64); {KEYGEN_HINT}"
        ) from None
    return value.encode("ascii")


def _key_id(key: bytes) -> str:
    """Names the key without revealing it, so that a wrong key is told apart from a damaged file."""
    return hashlib.sha256(b"p111-recording-key:" + key).hexdigest()[:16]


def _write_private(path: Path, data: bytes) -> None:
    """Atomically, readable by the owner only: the file holds the run's secrets, even if encrypted."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp makes it 0600
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def write_recording(directory: Path, payload: dict[str, Any], key: bytes) -> Path:
    sealed = Fernet(key).encrypt(zlib.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8"), 6))
    envelope = {"format": FORMAT, "key_id": _key_id(key), "data": sealed.decode("ascii")}
    path = directory / RECORDING_FILE
    _write_private(path, (json.dumps(envelope) + "\n").encode("ascii"))
    return path


def read_recording(directory: Path, key: bytes) -> tuple[dict[str, Any], str]:
    """The recording's content and the SHA-256 of its file."""
    path = Path(directory) / RECORDING_FILE
    try:
        raw = limits.read_bytes(path, "recording")
    except limits.BadInput as exc:
        raise RecordingError(str(exc)) from None
    except OSError as exc:
        reason = exc.strerror or exc
        raise RecordingError(f"không đọc được bản ghi / cannot read the recording {path}: {reason}") from None
    damaged = f"bản ghi {path} bị hỏng hoặc bị sửa / the recording {path} is damaged or was altered"
    try:
        envelope = json.loads(raw)
        fmt, key_id, data = envelope["format"], envelope["key_id"], envelope["data"]
    except (ValueError, KeyError, TypeError):
        raise RecordingError(damaged) from None
    if fmt != FORMAT:
        raise RecordingError(f"{path}: định dạng không hỗ trợ / unsupported format {fmt!r} (expected {FORMAT})")
    if key_id != _key_id(key):
        raise RecordingError(
            f"bản ghi {path} được mã hóa bằng khóa khác / the recording {path} was encrypted under another key "
            f"than {KEY_VARIABLE}"
        )
    try:
        inflate = zlib.decompressobj()  # inflated no bigger than the cap: a small file cannot become gigabytes
        plain = inflate.decompress(Fernet(key).decrypt(str(data).encode("ascii")), limits.cap("recording") * 4)
        if inflate.unconsumed_tail:
            raise RecordingError(limits.too_large("recording", f"{path} (inflated)", None))
        payload = json.loads(plain)
    except (InvalidToken, UnicodeEncodeError, zlib.error, ValueError):
        raise RecordingError(damaged) from None
    return payload, hashlib.sha256(raw).hexdigest()


# ---- exchanges --------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(check: str | None, base_url: str, request: httpx.Request) -> str:
    base_url = base_url.rstrip("/")  # as given to make_client or as httpx shows it: the same client
    # Request bodies are not part of the key: they may differ between two runs of the same checks (the time in a
    # signed confirm, a random transaction id). Nor are headers (a per-run session cookie arrives in a replayed answer
    # anyway). The check is in it so that a poll that runs longer in the replay (it waits out the same window) never
    # takes an answer meant for a later check.
    return json.dumps([check, base_url, request.method, str(request.url)])


class Tap(Protocol):
    """What `make_client` puts in front of a client's transport. `sending` builds the transport that really sends;
    a replay never calls it."""

    def wrap(self, base_url: str, sending: Callable[[], httpx.BaseTransport]) -> httpx.BaseTransport: ...


@dataclass
class Session:
    """What a recording holds besides the exchanges; the plugin fills it in and reads it back."""

    target_document: dict[str, Any] = field(default_factory=dict)
    target_digest: str = ""
    target_secrets: dict[str, str] = field(default_factory=dict)  # ${REFERENCE} → value, to resolve the document
    secrets: list[tuple[str, str]] = field(default_factory=list)  # (value, label): every value the redactor knew
    system: dict[str, Any] | None = None  # the clients' base URLs, the sign-on URLs, the payment keys
    selected: list[str] = field(default_factory=list)  # the checks the recorded run selected, in order


class Recorder:
    """The tap of `--record`: every exchange, in order, attributed to the check that made it."""

    def __init__(self, key: bytes, current_check: Callable[[], str | None]) -> None:
        self._key, self.current_check = key, current_check
        self._lock = threading.Lock()
        self.exchanges: list[dict[str, Any]] = []
        self.polls: list[tuple[str | None, int]] = []  # (check, fetches) of every poll, in order
        self.session = Session()

    def planned(self) -> int | None:
        return None  # a recorded run polls for real

    def made(self, fetches: int) -> None:
        self.polls.append((self.current_check(), fetches))

    def wrap(self, base_url: str, sending: Callable[[], httpx.BaseTransport]) -> httpx.BaseTransport:
        return _RecordingTransport(self, base_url, sending())

    def keep(self, exchange: dict[str, Any]) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def save(self, directory: Path) -> Path:
        s = self.session
        payload = {
            "format": FORMAT,
            "harness": harness.__version__,
            "recorded_at": vietnam_now().isoformat(),
            "target": {"digest": s.target_digest, "document": s.target_document, "secrets": s.target_secrets},
            "secrets": [list(pair) for pair in s.secrets],
            "system": s.system,
            "selected": s.selected,
            "exchanges": self.exchanges,
            "polls": self.polls,
        }
        return write_recording(directory, payload, self._key)


class _RecordingTransport(httpx.BaseTransport):
    def __init__(self, recorder: Recorder, base_url: str, inner: httpx.BaseTransport) -> None:
        self._recorder, self._base_url, self._inner = recorder, base_url, inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange: dict[str, Any] = {
            "key": _key(self._recorder.current_check(), self._base_url, request),
            "request": {
                "headers": request.headers.multi_items(),
                "body": _b64(request.read()),
            },
        }
        try:
            response = self._inner.handle_request(request)
            try:
                # As sent, so that a replay decodes it as the client did; unless whoever built the response has
                # read it already (a mock transport), which leaves only its content.
                raw = response.content if response.is_stream_consumed else b"".join(response.iter_raw())
            finally:
                response.close()
        except httpx.TransportError as exc:
            exchange["error"] = {"type": type(exc).__name__, "message": str(exc)}
            self._recorder.keep(exchange)
            raise
        exchange["response"] = {
            "status": response.status_code,
            "headers": response.headers.multi_items(),
            "http_version": response.http_version,
            "body": _b64(raw),
        }
        self._recorder.keep(exchange)
        return _answer(request, exchange["response"])

    def close(self) -> None:
        self._inner.close()


def _answer(request: httpx.Request, recorded: dict[str, Any]) -> httpx.Response:
    # A byte stream, not content=: httpx would add a Content-Length the recorded answer may not have had.
    return httpx.Response(
        recorded["status"],
        headers=[(name, value) for name, value in recorded["headers"]],
        stream=httpx.ByteStream(base64.b64decode(recorded["body"])),
        extensions={"http_version": recorded["http_version"].encode("ascii")},
        request=request,
    )


# ---- replay -------------------------------------------------------------------------------------------------------


class Replayer:
    """The tap of `--replay`: answers each request with the recorded answer to the same request (same check, same
    client, method and URL), the n-th time with the n-th answer, so that repeated polls replay in order."""

    def __init__(
        self, payload: dict[str, Any], path: Path, digest: str, current_check: Callable[[], str | None]
    ) -> None:
        self.path, self.digest = path, digest
        self._current = current_check
        self._lock = threading.Lock()
        self._answers: dict[str, list[dict[str, Any]]] = {}
        for exchange in payload["exchanges"]:
            self._answers.setdefault(exchange["key"], []).append(exchange)
        self._used: dict[str, int] = {}
        self._polls: dict[str | None, list[int]] = {}  # per check, the fetches of each recorded poll, in order
        for check, fetches in payload.get("polls", []):
            self._polls.setdefault(check, []).append(fetches)
        target = payload["target"]
        self.session = Session(
            target_document=target["document"],
            target_digest=target["digest"],
            target_secrets=dict(target["secrets"]),
            secrets=[(value, label) for value, label in payload["secrets"]],
            system=payload["system"],
            selected=list(payload["selected"]),
        )
        self.misses: list[str] = []

    @classmethod
    def open(cls, directory: Path, key: bytes, current_check: Callable[[], str | None]) -> Replayer:
        payload, digest = read_recording(directory, key)
        try:
            return cls(payload, Path(directory) / RECORDING_FILE, digest, current_check)
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"{directory}: không phải bản ghi p111 / not a p111 recording ({exc!r})") from None

    def identity(self) -> dict[str, str]:
        return {"recording": str(self.path), "digest": self.digest}

    def target(self) -> Target:
        """The recorded run's target: its document (secrets as references), resolved with the recorded values."""
        s = self.session
        env = {}
        for reference, value in s.target_secrets.items():
            match = ENV_REFERENCE.match(reference)
            if match:
                env[match["name"]] = value
        raw = json.dumps(s.target_document, ensure_ascii=False).encode("utf-8")  # JSON is YAML
        try:
            target = load_target_text(raw, f"target of the recording {self.path}", env)
        except TargetError as exc:
            raise RecordingError(str(exc)) from None
        # The recorded file's identity, not that of its JSON form.
        return replace(target, digest=s.target_digest)

    def wrap(self, base_url: str, sending: Callable[[], httpx.BaseTransport]) -> httpx.BaseTransport:
        return _ReplayTransport(self, base_url)

    def planned(self) -> int | None:
        """The fetches the recorded run's next poll in this check made; None (poll for real) past the recording."""
        recorded = self._polls.get(self._current())
        return recorded.pop(0) if recorded else None

    def made(self, fetches: int) -> None:
        pass

    def answer(self, base_url: str, request: httpx.Request) -> httpx.Response:
        check = self._current()
        key = _key(check, base_url, request)
        with self._lock:
            answers = self._answers.get(key, [])
            n = self._used.get(key, 0)
            self._used[key] = n + 1
            if n < len(answers):
                exchange = answers[n]
            elif answers and request.method in READS:
                exchange = answers[-1]  # polled longer than when recorded: the last state seen
            else:
                where = f"in {check}" if check else "outside any check"
                message = (
                    f"phát lại: lần chạy được ghi không gửi yêu cầu này / replay: the recorded run never sent "
                    f"{request.method} {request.url} {where} (time {n + 1}, recorded {len(answers)}); the replay "
                    "must run the checks the recording ran, in the same order"
                )
                self.misses.append(message)
                raise ReplayMiss(message, request=request)
        if "error" in exchange:
            error = exchange["error"]
            raise _ERRORS.get(error["type"], httpx.TransportError)(error["message"], request=request)
        return _answer(request, exchange["response"])


class _ReplayTransport(httpx.BaseTransport):
    def __init__(self, replayer: Replayer, base_url: str) -> None:
        self._replayer, self._base_url = replayer, base_url

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._replayer.answer(self._base_url, request)
