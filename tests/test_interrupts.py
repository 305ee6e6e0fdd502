"""Interrupts and the report as one set: however many Ctrl-C or SIGTERM reach a `p111 run`, and whenever they come
(during the checks or while the report is written), the run exits 2 with one line and leaves a whole report set
marked incomplete, which `p111 verify` finds intact; nothing half-written is left beside it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.reporting import report as reports
from harness.reporting.manifest import MANIFEST_FILE
from tests.support import read_report

pytestmark = pytest.mark.slow
STARTED_SECONDS = 90  # a run that has not finished one check by then is broken, not slow


def _interrupted_run(tmp_path: Path, signals: list[signal.Signals], gap: float) -> tuple[int, str, Path]:
    out, err, directory = tmp_path / "out.txt", tmp_path / "err.txt", tmp_path / "report"
    with out.open("w") as stdout, err.open("w") as stderr:
        run = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--report", str(directory)],
                               stdout=stdout, stderr=stderr)
        deadline = time.monotonic() + STARTED_SECONDS
        while "." not in out.read_text() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the first checks have passed: the run is in the middle of the suite
        for sent in signals:
            if run.poll() is not None:
                break
            run.send_signal(sent)
            time.sleep(gap)
        code = run.wait(timeout=120)
    return code, err.read_text() + out.read_text(), directory


@pytest.mark.parametrize("signals, gap", [
    ([signal.SIGINT, signal.SIGINT], 0.05),
    ([signal.SIGINT] * 3, 0.02),
    ([signal.SIGTERM, signal.SIGTERM], 0.05),
    ([signal.SIGINT, signal.SIGTERM, signal.SIGINT], 0.01),
    ([signal.SIGINT] * 80, 0.05),  # a storm: some land while the report is written
], ids=["int-twice", "int-thrice", "term-twice", "mixed", "storm"])
def test_any_number_of_interrupts_leave_a_whole_set_marked_incomplete(tmp_path, signals, gap):
    code, said, directory = _interrupted_run(tmp_path, signals, gap)
    assert code == 2, said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    report = read_report(directory)
    assert report["incomplete"] is True
    assert set(report["outputs"].values()) <= {p.name for p in directory.iterdir()}
    assert (directory / MANIFEST_FILE).is_file()
    verified = subprocess.run([sys.executable, "-m", "harness.cli", "verify", str(directory)], capture_output=True,
                              text=True, timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert [p.name for p in tmp_path.iterdir() if ".writing-" in p.name] == []  # no staging folder left behind


def test_the_set_is_published_manifest_last(tmp_path, monkeypatch):
    """A reader watching the folder sees the old manifest go first and the new one come last."""
    from tests.reports_support import write_synthetic

    write_synthetic(tmp_path)
    seen: list[str] = []
    real = reports.os.replace

    def watching(source, target):
        if Path(target).parent != tmp_path:
            return real(source, target)  # a file written in the staging folder
        seen.append(Path(target).name)
        if Path(target).name != MANIFEST_FILE:
            assert not (tmp_path / MANIFEST_FILE).exists(), "an old manifest over a set being replaced"
        return real(source, target)

    monkeypatch.setattr(reports.os, "replace", watching)
    write_synthetic(tmp_path)
    assert seen[-1] == MANIFEST_FILE and reports.REPORT_FILE in seen
    assert json.loads((tmp_path / MANIFEST_FILE).read_text())
