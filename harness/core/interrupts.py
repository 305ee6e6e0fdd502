"""Ctrl-C and SIGTERM during a run: the first stops the checks, none stops the report.

`p111 run` counts every interrupt. The first raises KeyboardInterrupt (pytest stops at the check it is in); later
ones are only counted, so a second or third Ctrl-C cannot cut the report in half. While the report is written every
interrupt is only counted (also under plain `pytest`), and a run that saw any is reported incomplete."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    count = 0  # interrupts seen since `install`
    raising = False  # the next one raises KeyboardInterrupt (only the first of a run does)


def _handler(signum: int, frame: FrameType | None) -> None:
    _State.count += 1
    if _State.raising:
        _State.raising = False
        raise KeyboardInterrupt


def count() -> int:
    return _State.count


@contextmanager
def counting(*, raise_first: bool) -> Iterator[None]:
    """Within: every SIGINT and SIGTERM is counted; with `raise_first`, the first of them (if none came yet) stops the
    run as Ctrl-C does. Only in the main thread (where signals are delivered); elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in SIGNALS}
    saved = _State.raising
    _State.raising = raise_first and _State.count == 0
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        _State.raising = saved and _State.count == 0
        for s, handler in previous.items():
            signal.signal(s, handler)


def hold() -> None:
    """For the rest of the process every interrupt is ignored: the run is over and its report written, so the exit
    code it chose is the one the process ends with, whatever arrives while it exits. Ignored, not handled: Python
    puts a handled signal back to its default (which kills) while it finalises, an ignored one it leaves ignored."""
    if threading.current_thread() is threading.main_thread():
        _State.raising = False
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)


def disarm() -> None:
    """From now on interrupts are only counted (the checks are over: what is left is writing what they found)."""
    _State.raising = False


def reset() -> None:
    _State.count, _State.raising = 0, False
