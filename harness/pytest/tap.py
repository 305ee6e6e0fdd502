"""Record and replay (`--p111-record DIR` / `--p111-replay DIR`, harness.http.recording) as the plugin uses them: the
tap in front of every client, what the recording must hold to be replayed (the target, the system's layout, the
secrets learnt), and a replay's target and system, built from the recording without starting or sending anything."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.config.target import Target
from harness.http.client import make_client
from harness.http.evidence import EvidenceRecorder
from harness.http.recording import Recorder, RecordingError, Replayer, key_from_environment
from harness.pytest import distributed
from harness.pytest.keys import RUN
from harness.pytest.system import Clients, System
from harness.sut.observers import PaymentKeys, PaymentObserver, PortalObserver, Waiter


def open_tap(config: pytest.Config) -> Recorder | Replayer | None:
    """The recorder (--p111-record) or replayer (--p111-replay) of the run, or None."""
    record, replay = config.getoption("p111_record"), config.getoption("p111_replay")
    if not (record or replay):
        return None
    if record and replay:
        raise pytest.UsageError("--p111-record và --p111-replay loại trừ nhau / are mutually exclusive")
    if distributed.is_controller(config) or distributed.is_worker(config):
        # A recording is one ordered stream of exchanges; workers would each hold a share of it.
        raise pytest.UsageError("--p111-record/--p111-replay chạy tuần tự / run serially: not with pytest-xdist -n")

    def current() -> str | None:
        return config.stash[RUN].recorder.current_check

    try:
        key = key_from_environment()
        return Recorder(key, current) if record else Replayer.open(Path(replay), key, current)
    except RecordingError as exc:
        raise pytest.UsageError(str(exc)) from exc


def note_target(tap: Recorder, target: Target) -> None:
    """What a replay loads its target from: the document (secrets as references), its digest and the references'
    values."""
    tap.session.target_document, tap.session.target_digest = target.public_dict(), target.digest
    tap.session.target_secrets = {s.reference: s.reveal() for s in target.secrets()}


def note_system(tap: Recorder | Replayer, clients: Clients) -> None:
    """What a replay builds its clients from, with the payment key that signs confirms."""
    by_role = {"sut": clients.sut, "portal": clients.portal, "sign_on": clients.sign_on, "payment": clients.payment}
    keys = clients.keys
    tap.session.system = {
        "clients": {role: str(c.base_url) if c is not None else None for role, c in by_role.items()},
        "sign_on_urls": list(clients.sign_on_urls),
        "payment_keys": [keys.merchant_code, keys.secret, keys.variant] if keys is not None else None,
    }


def order_as_recorded(config: pytest.Config, tap: Recorder | Replayer | None, items: list[pytest.Item]) -> None:
    """Recording: the selected checks are noted. Replay: the recorded run's checks, in its order (each answer is
    found by its check); the others are deselected."""
    if isinstance(tap, Recorder):
        tap.session.selected = [item.nodeid for item in items]
    elif isinstance(tap, Replayer):
        order = {nodeid: n for n, nodeid in enumerate(tap.session.selected)}
        dropped = [item for item in items if item.nodeid not in order]
        items[:] = sorted((item for item in items if item.nodeid in order), key=lambda item: order[item.nodeid])
        if dropped:
            config.hook.pytest_deselected(items=dropped)


def save(config: pytest.Config, tap: Recorder | Replayer | None) -> None:
    """At the end of a recorded run: the recording, with every value the redactor learnt."""
    if isinstance(tap, Recorder):
        tap.session.secrets = list(config.stash[RUN].recorder.redactor.known().items())
        tap.save(Path(config.getoption("p111_record")))


def replayed_target(tap: Replayer, path: str | None, year: int | None, defects: list[str]) -> Target:
    """The recorded run's target; a target file given as well must be the one recorded (same digest)."""
    if year or defects:
        raise pytest.UsageError("phát lại dùng năm và lỗi cố ý đã ghi / a replay uses the recorded year and defects")
    try:
        target = tap.target()
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else target.digest
    except (RecordingError, OSError) as exc:
        raise pytest.UsageError(str(exc)) from exc
    if digest != target.digest:
        raise pytest.UsageError(
            f"{path} không phải cấu hình đã ghi / is not the recorded target (SHA-256 {digest}, recorded "
            f"{target.digest})"
        )
    return target


def replayed_system(tap: Replayer, target: Target, recorder: EvidenceRecorder, waiter: Waiter) -> System:
    """The recorded run's clients, each answered from the recording: no embedded system, counterpart or socket."""
    layout = tap.session.system
    if layout is None:
        raise RecordingError("phát lại: lần chạy được ghi không dựng được hệ thống / the recorded run set up no system")
    urls = layout["clients"]

    def client(role: str, **options: Any) -> httpx.Client | None:
        url = urls.get(role)
        return make_client(url, timeouts=target.timeouts, recorder=recorder, tap=tap, **options) if url else None

    networked = not target.sut.embedded
    sut = client(
        "sut",
        headers={"X-API-Key": target.sut.api_key.reveal()} if networked and target.sut.api_key else None,
        read_only=networked and target.safety_mode == "read-only",  # refused before sending, as when recorded
        trusted_origins=target.sut.trusted_origins,
    )
    assert sut is not None
    portal, sign_on, payment = (client(role) for role in ("portal", "sign_on", "payment"))
    keys = PaymentKeys(*layout["payment_keys"]) if layout["payment_keys"] else None
    return System(
        sut,
        PortalObserver(portal, target.timeouts.sync, waiter) if portal is not None else None,
        tuple(layout["sign_on_urls"]),
        sign_on,
        PaymentObserver(payment, keys, waiter) if payment is not None else None,
        waiter,
    )
