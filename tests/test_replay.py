"""`p111 run --record DIR`, then `p111 run --replay DIR`: the same verdicts, offline, from an encrypted recording.

Two recorded runs in all (each costs a live run): the whole suite clean, and a defect on a few checks. Both run in
this process, as the self-test matrix runs its cases, so that the replay's guards (no socket, no embedded system) are
the replay's own.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from harness.config.target import embedded_target
from harness.core import schemas
from harness.http import recording
from harness.sut import observers
from tests.support import read_report, run_p111_here, verdicts

KEY = Fernet.generate_key().decode("ascii")
CANARY = "canary-planted-5f0c2e9a7b"  # a target secret the recorded run resolves from the environment


def checks(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Every check's outcome, message, failure, warnings and evidence links: all a verdict rests on."""
    return {
        c["nodeid"]: (c["outcome"], c["message"], c["failure"], c["warnings"], c["evidence"])
        for r in report["requirements"]
        for c in r["checks"]
    }


def p111(args: list[str], cwd: Path, **env: str | None) -> CompletedProcess[str]:
    """`p111` in this process with these environment variables (None: unset)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        return run_p111_here(args, str(cwd))


def canary_target(path: Path) -> Path:
    """The embedded target with one secret planted as an environment reference."""
    document = embedded_target().public_dict()
    document["counterparts"]["portal"]["password"] = "${P111_CANARY_SECRET}"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole suite against the embedded system, recorded."""
    here = tmp_path_factory.mktemp("recorded")
    target = canary_target(here / "canary.target.json")
    args = ["run", "--target", str(target), "--report", "live", "--record", "rec"]
    result = p111(args, here, P111_RECORDING_KEY=KEY, P111_CANARY_SECRET=CANARY)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return here


@pytest.fixture(scope="module")
def replayed(recorded: Path) -> Iterator[tuple[CompletedProcess[str], list[str]]]:
    """The replay of it, with neither the target's secret in the environment nor any way to open a socket or start
    the embedded system: each attempt is noted, and refused."""
    from mocks import wiring

    attempts: list[str] = []

    def refuse(what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(what)
            raise OSError(f"test_replay: a replay must not {what}")

        return refused

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "__init__", refuse("open a socket"))
        mp.setattr(wiring, "start_embedded", refuse("start the embedded system"))
        mp.setattr(wiring, "serve_in_thread", refuse("serve a counterpart"))
        result = p111(["run", "--report", "replay", "--replay", "rec"], recorded, P111_RECORDING_KEY=KEY,
                      P111_CANARY_SECRET=None)
    yield result, attempts


def test_the_replay_gives_the_recorded_runs_verdicts(recorded: Path, replayed: tuple[CompletedProcess[str], list[str]]):
    result, _ = replayed
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    live, replay = read_report(recorded / "live"), read_report(recorded / "replay")
    assert schemas.first_error("report", replay) is None
    assert checks(replay) == checks(live)
    assert verdicts(replay) == verdicts(live)
    assert "the recorded run never sent" not in result.stdout  # every request found its recorded answer
    judged = set(verdicts(live).values())
    assert "PASSED" in judged and not judged & {"FAILED", "ERROR"}  # the whole suite, clean
    assert replay["target"] == live["target"]  # the recorded target, with its digest, re-used
    assert replay.get("metrics") == live.get("metrics")
    # The replay says what it was answered from; the recorded run was not replayed.
    digest = hashlib.sha256((recorded / "rec" / recording.RECORDING_FILE).read_bytes()).hexdigest()
    assert replay["replayed_from"] == {"recording": str(Path("rec") / recording.RECORDING_FILE), "digest": digest}
    assert "replayed_from" not in live
    assert digest in (recorded / "replay" / "report.html").read_text(encoding="utf-8")
    assert f"replayed from: rec/{recording.RECORDING_FILE} (SHA-256 {digest})" in result.stdout


def test_the_replay_opened_no_socket_and_started_nothing(replayed: tuple[CompletedProcess[str], list[str]]):
    result, attempts = replayed
    assert result.returncode == 0
    assert attempts == []


def test_the_recording_is_encrypted_and_private(recorded: Path):
    path = recorded / "rec" / recording.RECORDING_FILE
    raw = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    payload, _ = recording.read_recording(path.parent, KEY.encode("ascii"))
    # What the checks verify is in it (the planted secret, the session cookies learnt) …
    assert payload["target"]["secrets"] == {"${P111_CANARY_SECRET}": CANARY}
    learnt = [value for value, _ in payload["secrets"] if len(value) >= 8]
    assert CANARY in learnt and len(learnt) > 10
    cookies = [value.split(";")[0].partition("=")[2] for e in payload["exchanges"] if "response" in e
               for name, value in e["response"]["headers"] if name.lower() == "set-cookie"]
    assert cookies and all(cookies)
    # … and none of it can be read without the key; nor is it in any report.
    for value in [*learnt, *cookies]:
        assert value.encode("utf-8") not in raw
    assert b"p111_session" not in raw and b"sut.embedded" not in raw
    for written in (recorded / "live").iterdir():
        assert CANARY not in written.read_text(encoding="utf-8", errors="replace"), written.name


def test_record_and_replay_without_a_key_say_how_to_make_one(recorded: Path, tmp_path: Path):
    for args in (["--record", "rec"], ["--replay", str(recorded / "rec")]):
        result = p111(["run", "--report", "out", *args], tmp_path, P111_RECORDING_KEY=None)
        assert result.returncode == 2, result.stderr
        assert "P111_RECORDING_KEY" in result.stderr and "p111 keygen --recording" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "rec").exists()  # nothing ran
    made = p111(["keygen", "--recording"], tmp_path)
    assert made.returncode == 0
    Fernet(made.stdout.strip().encode("ascii"))  # a usable key, alone on stdout


def test_a_wrong_key_or_a_tampered_recording_is_refused(recorded: Path, tmp_path: Path):
    other = p111(["run", "--report", "out", "--replay", str(recorded / "rec")], tmp_path,
                 P111_RECORDING_KEY=Fernet.generate_key().decode("ascii"))
    assert other.returncode == 2
    assert "encrypted under another key" in other.stdout + other.stderr
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    envelope = json.loads((recorded / "rec" / recording.RECORDING_FILE).read_text(encoding="ascii"))
    middle = len(envelope["data"]) // 2
    envelope["data"] = envelope["data"][:middle] + ("A" if envelope["data"][middle] != "A" else "B") + \
        envelope["data"][middle + 1:]
    (tampered / recording.RECORDING_FILE).write_text(json.dumps(envelope), encoding="ascii")
    result = p111(["run", "--report", "out", "--replay", str(tampered)], tmp_path, P111_RECORDING_KEY=KEY)
    assert result.returncode == 2
    assert "damaged or was altered" in result.stdout + result.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_replay_refuses_another_target_and_xdist(recorded: Path, tmp_path: Path):
    plain = tmp_path / "plain.target.json"
    plain.write_text(json.dumps(embedded_target().public_dict(), ensure_ascii=False), encoding="utf-8")
    rec = str(recorded / "rec")
    result = p111(["run", "--report", "out", "--replay", rec, "--target", str(plain)], tmp_path,
                  P111_RECORDING_KEY=KEY)
    assert result.returncode == 2
    assert "is not the recorded target" in result.stdout + result.stderr
    spread = p111(["run", "--report", "out", "--replay", rec, "--", "-n", "2"], tmp_path, P111_RECORDING_KEY=KEY)
    assert spread.returncode == 2
    assert "not with pytest-xdist" in spread.stdout + spread.stderr


def test_a_defect_replays_to_the_same_failure(tmp_path: Path):
    """The second recorded run: a defect, on a few checks. The replay, given no selection, re-applies the recorded
    one (the other checks deselected as when recorded)."""
    args = ["run", "--report", "live", "--record", "rec", "--defect", "dossier-code-wrong-date", "--", "-k", "codes"]
    live = p111(args, tmp_path, P111_RECORDING_KEY=KEY)
    assert live.returncode == 1, live.stdout[-3000:] + live.stderr[-2000:]
    replay = p111(["run", "--report", "replay", "--replay", "rec"], tmp_path, P111_RECORDING_KEY=KEY)
    assert replay.returncode == 1, replay.stdout[-3000:] + replay.stderr[-2000:]
    one, two = read_report(tmp_path / "live"), read_report(tmp_path / "replay")
    assert verdicts(one)["P111-CODES"] == "FAILED"
    assert checks(two) == checks(one) and verdicts(two) == verdicts(one)
    assert two["defects"] == ["dossier-code-wrong-date"]


# ---- the transports, without a suite --------------------------------------------------------------------------


def test_polls_replay_in_order_and_an_unrecorded_request_is_named(tmp_path: Path):
    state = {"n": 0}

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        state["n"] += 1
        return httpx.Response(200, json={"n": state["n"]}, headers={"set-cookie": "s=secret-cookie"})

    check = {"now": "check-a"}
    key = recording.new_key().encode("ascii")
    recorder = recording.Recorder(key, lambda: check["now"])
    sending = recorder.wrap("http://sut.test", lambda: httpx.MockTransport(server))
    live = httpx.Client(base_url="http://sut.test", transport=sending)
    assert [live.get("/rows").json()["n"] for _ in range(3)] == [1, 2, 3]
    live.post("/rows", json={"at": "a time that differs"})
    with pytest.raises(httpx.ConnectError):
        live.get("/down")
    check["now"] = "check-b"
    assert live.get("/rows").json() == {"n": 5}
    recorder.save(tmp_path)

    replayer = recording.Replayer.open(tmp_path, key, lambda: check["now"])

    def boom() -> httpx.BaseTransport:
        raise AssertionError("a replay builds nothing that sends")

    again = httpx.Client(base_url="http://sut.test", transport=replayer.wrap("http://sut.test", boom))
    check["now"] = "check-a"
    # Polled longer than when recorded: the last answer of that check, never the next check's.
    assert [again.get("/rows").json()["n"] for _ in range(4)] == [1, 2, 3, 3]
    assert again.post("/rows", json={"at": "another time"}).status_code == 200  # bodies are not part of the key
    with pytest.raises(httpx.ConnectError, match="refused"):
        again.get("/down")
    with pytest.raises(recording.ReplayMiss, match=r"never sent POST http://sut.test/rows in check-a") as miss:
        again.post("/rows")
    assert isinstance(miss.value, httpx.TransportError)  # drivers and observers turn it into an ERROR, not a crash
    check["now"] = "check-b"
    assert again.get("/rows").json() == {"n": 5}
    assert os.stat(tmp_path / recording.RECORDING_FILE).st_size > 0


def test_a_replayed_poll_makes_the_recorded_fetches_without_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A poll that waited out its window when recorded (the SUT never synced) replays as the same fetches at once:
    a slower or faster replaying machine cannot change where it stops."""
    key = recording.new_key().encode("ascii")
    recorder = recording.Recorder(key, lambda: "check-a")
    waiter = observers.Waiter(tap=recorder)
    fetched: list[int] = []
    assert waiter.poll(lambda: fetched.append(1) or len(fetched), lambda n: n == 3, timeout=5) == 3
    assert waiter.poll(lambda: fetched.append(1) or 0, lambda n: n > 0, timeout=0.05) == 0  # never held
    recorder.save(tmp_path)
    waited = len(fetched) - 3  # the fetches of the poll that ran out of time

    replayer = recording.Replayer.open(tmp_path, key, lambda: "check-a")
    waiter = observers.Waiter(tap=replayer)
    monkeypatch.setattr(observers.time, "sleep", lambda seconds: pytest.fail("a replayed poll never sleeps"))
    again: list[int] = []
    assert waiter.poll(lambda: again.append(1) or len(again), lambda n: n == 3, timeout=0) == 3
    again.clear()
    assert waiter.poll(lambda: again.append(1) or 0, lambda n: n > 0, timeout=0) == 0
    assert len(again) == waited
