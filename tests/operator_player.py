"""Plays the person of operator-driven mode: reads each step `p111 run` prints to its prompt file and performs it
against the reference system as a person would in its user interface (sign on through the sign-on counterpart,
submit, act on a dossier), with the reference-api driver as the person's hands.

Run beside `p111 run --target <operator target>`:
    python -m tests.operator_player --prompt-file steps.txt --sut http://127.0.0.1:P --sso http://127.0.0.1:Q
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from harness.sut.drivers import ReferenceApiDriver, Session
from harness.sut.drivers.operator import STEP_LINE

Step = dict[str, Any]


class Player:
    """Performs every step read from `prompt_file` until stopped; `skip(step)` names the steps the person
    does not perform (to prove a step left undone ends in a clear ERROR)."""

    def __init__(
        self, prompt_file: Path, sut_url: str, sso_url: str, skip: Callable[[Step], bool] = lambda step: False
    ) -> None:
        self.prompt_file = prompt_file
        self.skip = skip
        self.performed: list[Step] = []
        self.skipped: list[Step] = []
        self.problems: list[str] = []
        self._sut = httpx.Client(base_url=sut_url, timeout=10)
        self._sso = httpx.Client(base_url=sso_url, timeout=10)
        self._hands = ReferenceApiDriver(self._sut, self._sso)
        self._sessions: dict[str, Session] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="operator-player", daemon=True)

    def start(self) -> Player:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._sut.close()
        self._sso.close()

    def _lines(self) -> Any:
        """Follows the prompt file as `tail -f` does, from its start; it may not exist yet."""
        while not self.prompt_file.exists():
            if self._stop.wait(0.05):
                return
        with self.prompt_file.open(encoding="utf-8") as prompts:
            pending = ""
            while not self._stop.is_set():
                chunk = prompts.readline()
                if not chunk:
                    time.sleep(0.02)
                    continue
                pending += chunk
                if pending.endswith("\n"):
                    yield pending.rstrip("\n")
                    pending = ""

    def _run(self) -> None:
        for line in self._lines():
            if not line.startswith(STEP_LINE):
                continue  # the words are for a person; the JSON line says the same for a program
            step: Step = json.loads(line[len(STEP_LINE) :])
            if self.skip(step):
                self.skipped.append(step)
                continue
            try:
                self.perform(step)
                self.performed.append(step)
            except Exception as exc:  # noqa: BLE001 - a person who cannot do a step just does not do it
                self.problems.append(f"step {step['step']} [{step['tag']}]: {type(exc).__name__}: {exc}")

    def _session(self, account: str) -> Session:
        if account not in self._sessions:
            session = self._hands.login(account).session
            if session is None:
                raise RuntimeError(f"the reference system refused {account}'s sign-on")
            self._sessions[account] = session
        return self._sessions[account]

    def perform(self, step: Step) -> None:
        """One step, as a person would do it in the system's pages."""
        tag = step["tag"]
        if tag == "login":
            self._hands.login(step["account"])  # a fresh sign-on, each time the harness asks for one
        elif tag == "submit":
            files = tuple((Path(p).name, Path(p).read_bytes()) for p in step["files"])
            session = self._session(step["account"])
            self._hands.submit(step["procedure"], channel=step["channel"], files=files, session=session)
        elif tag == "act":
            session = self._session(step["account"])
            self._hands.act(step["code"], step["action"], to_agency=step.get("to_agency"), session=session)
        # "review": a person takes the screenshot the step names; nothing to do in the system.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt-file", type=Path, required=True)
    parser.add_argument("--sut", required=True)
    parser.add_argument("--sso", required=True)
    args = parser.parse_args()
    player = Player(args.prompt_file, args.sut, args.sso).start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        player.stop()


if __name__ == "__main__":
    main()
