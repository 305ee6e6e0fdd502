"""Where the plugin keeps one run's state: on the pytest config's stash, never in a module-level variable, so that
two runs in one process (pytester, `p111 run` called from Python) never share it."""

from __future__ import annotations

import pytest

from harness.config.target import Target
from harness.core.results import RunRecord
from harness.http.evidence import EvidenceRecorder
from harness.http.recording import Recorder, Replayer

Run = RunRecord[Target, EvidenceRecorder]  # the plugin's run record, with the typed target and evidence recorder
RUN = pytest.StashKey[Run]()
TAP = pytest.StashKey["Recorder | Replayer | None"]()  # --p111-record / --p111-replay (harness.http.recording)


def run_of(item: pytest.Item) -> Run:
    return item.config.stash[RUN]


__all__ = ["RUN", "TAP", "Recorder", "Replayer", "Run", "run_of"]
