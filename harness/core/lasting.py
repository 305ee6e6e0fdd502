"""What lives as long as the process (modules, schemas, the collected checks, the run's record) kept out of the garbage
collector's way. Its full collections walk every tracked object: in an embedded run the harness's thread spent over
half a second in a handful of them, walking the same hundred thousand objects of imports and collection each time."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def keep_for_good() -> None:
    """Everything alive now is moved out of the collector's sight (gc.freeze): it is never freed, as it would not be
    before the process ends anyway; later collections walk only what is allocated from now on."""
    gc.freeze()


@contextmanager
def built_to_last() -> Iterator[None]:
    """Around building what lasts (importing the harness and the suite): no collection meanwhile, and all of it kept
    for good after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        keep_for_good()
        if was_enabled:
            gc.enable()
