"""What stands between the `p111` command and its user: one handler for every command, and inert output.

Bad input is one line and exit 2; an unexpected internal error is one line, exit 2, and its full trace in a file
whose path is printed; a broken pipe (`p111 … | head`) ends quietly; an interrupt is one line and exit 2 (the run
itself writes its report marked incomplete). Whatever a command prints passes `inert.terminal`: text it quotes from
a SUT, a data file or a report cannot drive the terminal."""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

from harness.core import inert
from harness.core.limits import MAX_DEPTH, BadInput

USAGE_ERROR = 2


def print_problems(error: Exception) -> int:
    """A target that is not valid: its problems (each a path and what was expected), and exit 2."""
    print(f"Cấu hình không hợp lệ / invalid configuration:\n{error}", file=sys.stderr)
    return USAGE_ERROR
BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away


class _InertStream:
    """A text stream that writes through `inert.terminal`."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(inert.terminal(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def inert_output() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _InertStream(sys.stdout), _InertStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _say(line: str) -> None:
    with suppress(BrokenPipeError, OSError, ValueError):
        print(inert.line(line), file=sys.stderr, flush=True)


def _quiet_pipe() -> None:
    """The reader went away: nothing more is written, and Python's own flush at exit must not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (OSError, AttributeError, ValueError):
        pass


def _trace_file(error: BaseException) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    descriptor, path = tempfile.mkstemp(prefix=f"p111-crash-{stamp}-", suffix=".txt")
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:  # mkstemp: private to the user (0600)
        file.write("".join(traceback.format_exception(error)))
    return path


def guarded(command: Callable[[], int]) -> int:
    try:
        return command()
    except SystemExit:
        raise  # argparse's usage errors, already said in one line
    except BrokenPipeError:
        _quiet_pipe()
        return BROKEN_PIPE
    except KeyboardInterrupt:
        _say("Bị ngắt / interrupted")
        return USAGE_ERROR
    except BadInput as exc:
        _say(f"Đầu vào bị từ chối / input refused: {exc}")
        return USAGE_ERROR
    except RecursionError:
        _say(f"Đầu vào lồng quá sâu / input nested too deeply (more than {MAX_DEPTH} levels, or more than the parser "
             "can follow): refused")
        return USAGE_ERROR
    except MemoryError:
        _say("Đầu vào quá lớn để xử lý / input too large to process in memory: refused")
        return USAGE_ERROR
    except Exception as exc:  # a bug of the harness: one line for the user, the whole story in a file
        try:
            where = _trace_file(exc)
        except OSError:
            where = "(không ghi được / could not be written)"
        _say(f"Lỗi nội bộ của p111 / internal error: {type(exc).__name__}; chi tiết / full trace: {where}")
        return USAGE_ERROR
