"""Under pytest-xdist: a check that must see what every other check did to the SUT (the ratio targets, measured on
the SUT's export) waits until every worker has run all the other checks it was given.

xdist hands checks out in collection order, so once a worker starts a check collected last (the suite sorts the
ratio targets last) it has run everything before it, and so has any worker that ended. Each worker says so by a
file in a private folder the controller makes for the run; the waiting worker goes on when every worker has. In a
serial run there is nothing to wait for.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from harness.pytest.distributed import is_worker

KEY = "p111_barrier"  # in each worker's workerinput: the folder
WAIT_SECONDS = 1800.0  # a worker that crashed never arrives: the wait ends, and the check says why


def open_for(node: Any) -> None:
    """In the controller, as xdist sets up a worker: the run's folder (made once, 0700) goes in its workerinput."""
    config = node.config
    folder = getattr(config, "_p111_barrier", None)
    if folder is None:
        folder = config._p111_barrier = tempfile.mkdtemp(prefix="p111-barrier-")
    node.workerinput[KEY] = folder


def close(config: pytest.Config) -> None:
    """In the controller, at the end of the run: the folder goes."""
    folder = getattr(config, "_p111_barrier", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def arrive(config: pytest.Config) -> None:
    """In a worker: every check before the barrier that this worker was given has run."""
    if is_worker(config) and KEY in config.workerinput:  # type: ignore[attr-defined]
        Path(config.workerinput[KEY], config.workerinput["workerid"]).touch()  # type: ignore[attr-defined]


def missing(config: pytest.Config) -> list[str]:
    """The workers that have not arrived yet (none in a serial run)."""
    if not is_worker(config) or KEY not in config.workerinput:  # type: ignore[attr-defined]
        return []
    given = config.workerinput  # type: ignore[attr-defined]
    arrived = {p.name for p in Path(given[KEY]).iterdir()}
    return [f"gw{n}" for n in range(int(given["workercount"])) if f"gw{n}" not in arrived]


def wait(config: pytest.Config, seconds: float = WAIT_SECONDS, poll: float = 0.05) -> list[str]:
    """Arrive, then wait until every worker has; the workers still missing when `seconds` ran out (else [])."""
    arrive(config)
    deadline = time.monotonic() + seconds
    while (left := missing(config)) and time.monotonic() < deadline:
        time.sleep(poll)
    return left
