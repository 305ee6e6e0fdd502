"""Only the `p111` process keeps what a run built out of the garbage collector's sight: a process that runs the
plugin several times (these tests, a caller of pytest.main) must not keep each run's garbage for good."""

from __future__ import annotations

import gc

from harness.core import lasting


def test_a_process_that_is_not_p111_keeps_its_collector_as_it_is(monkeypatch):
    monkeypatch.setattr(lasting, "_owned", False)
    frozen = gc.get_freeze_count()
    lasting.keep_for_good()
    with lasting.built_to_last():
        assert not gc.isenabled()  # no collection while building, even here
        kept = [object()]
    assert gc.isenabled() and gc.get_freeze_count() == frozen and kept


def test_the_p111_process_keeps_what_it_built_for_good(monkeypatch):
    monkeypatch.setattr(lasting, "_owned", False)
    lasting.own_the_process()
    try:
        with lasting.built_to_last():
            kept = [[] for _ in range(100)]
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()  # this test process runs many more: back to the collector


def test_a_caller_of_p111_commands_keeps_its_later_garbage_free(monkeypatch):
    """The harness's own imports are kept for good the first time only: a process calling `main` again and again (the
    harness's own tests) must not have each call's garbage frozen."""
    from harness.cli import main

    monkeypatch.setattr(lasting, "_owned", False)
    main(["requirements"])
    frozen = gc.get_freeze_count()
    for _ in range(3):
        garbage = [[n] for n in range(10_000)]
        main(["requirements"])
        del garbage
    assert gc.get_freeze_count() == frozen
