"""What lives as long as the process (modules, schemas, the collected checks, the run's record) kept out of the garbage
collector's way. Its full collections walk every tracked object: in an embedded run the harness's thread spent over
half a second in a handful of them, walking the same hundred thousand objects of imports and collection each time.

Only the `p111` process itself keeps a run's objects for good (`own_the_process`): a process that runs the plugin
several times (the harness's own tests, a caller of pytest.main) would keep each run's garbage for good too."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_owned = False
_built_once: set[str] = set()  # what was built once per process (`built_to_last(once_per_process=…)`), by name


def own_the_process() -> None:
    """Said by the `p111` command when it is the process (harness.cli.main without arguments): what its run builds
    lives until the process exits."""
    global _owned
    _owned = True


def keep_for_good() -> None:
    """In the `p111` process, everything alive now is moved out of the collector's sight (gc.freeze): never freed, as
    it would not be before the process ends anyway; later collections walk only what is allocated from then on."""
    if _owned:
        gc.freeze()


@contextmanager
def built_to_last(*, once_per_process: str | None = None) -> Iterator[None]:
    """Around building what lasts (importing the harness, the suite): no collection meanwhile, and all of it kept for
    good after, by the `p111` process, or by any process the first time the thing named `once_per_process` is built
    (the harness's own imports): a caller that runs `p111` commands again and again keeps its later garbage free."""
    first = once_per_process is not None and once_per_process not in _built_once
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if first or _owned:
            gc.freeze()
        if once_per_process is not None:
            _built_once.add(once_per_process)
        if was_enabled:
            gc.enable()
