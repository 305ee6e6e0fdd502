"""Times `p111 run` against the embedded reference system, as a newcomer runs it (a fresh process each time).

Usage: python benchmarks/run_embedded.py [RUNS] [--defect NAME]
Prints wall-clock seconds (min / median / max), CPU seconds, the peak resident memory of the runs, and where the time
of the median run went. report.json's `timing` covers its run record, from pytest's configure to the finish: the SUT's
answers, waiting, the counterparts, the harness's own work in the checks and outside them (collection, the embedded
system's start). What the record cannot hold is measured here from outside, by its wall-clock timestamps: before it
(the process's start, imports, the target's validation) and after it (writing the reports, the process's exit). The
harness's own time is everything that is not the SUT, waiting or the counterparts. Goals: the run ≤ 10 s on the
2-core machine, the harness's own time ≤ 10 % of it. On a shared machine the wall time carries other people's load:
compare the CPU seconds too.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

# `python -m harness.cli`, telling at its exit the CPU seconds of its main thread: the harness's own (the checks, the
# evidence, the reports, pytest), where the embedded system and its counterparts answer on their event loop's thread.
# CPU seconds carry little of a shared machine's load, which the wall-clock split carries whole.
MARK = "p111-benchmark-main-thread-cpu"
LAUNCH = (
    "import atexit, sys, time, runpy; "
    f"atexit.register(lambda: sys.stderr.write(f'\\n{MARK} {{time.thread_time()}}\\n')); "
    "runpy.run_module('harness.cli', run_name='__main__', alter_sys=True)"
)


def _one_run(extra: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds, report.json's timing with the seconds before and after its run record and the CPU
    seconds of the harness's thread)."""
    with tempfile.TemporaryDirectory() as directory:
        before = os.times()
        launched, started = time.time(), time.perf_counter()
        result = subprocess.run([sys.executable, "-c", LAUNCH, "run", "--report", directory,
                                 *extra], cwd=directory, capture_output=True, text=True)
        wall, ended = time.perf_counter() - started, time.time()
        after = os.times()
        if result.returncode not in (0, 1):
            sys.exit(f"p111 run failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        report = json.loads((Path(directory) / "report.json").read_text(encoding="utf-8"))
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    timing = dict(report["timing"])
    timing["before_seconds"] = max(0.0, datetime.fromisoformat(report["started_at"]).timestamp() - launched)
    timing["after_seconds"] = max(0.0, ended - datetime.fromisoformat(report["finished_at"]).timestamp())
    marks = [line.split()[1] for line in result.stderr.splitlines() if line.startswith(MARK)]
    timing["cpu_seconds"], timing["harness_cpu_seconds"] = cpu, float(marks[-1]) if marks else float("nan")
    return wall, cpu, timing


def _where_it_went(wall: float, timing: dict) -> str:
    others = timing["sut_seconds"] + timing["waiting_seconds"] + timing["counterparts_seconds"]
    own = max(0.0, wall - others)  # everything not the SUT, waiting or the counterparts: measured, not summed
    cpu, mine = timing["cpu_seconds"], timing["harness_cpu_seconds"]
    return (
        f"median run, {wall:.2f} s: before the run record (start, imports) {timing['before_seconds']:.2f} s · "
        f"run record {timing['wall_seconds']:.2f} s (SUT {timing['sut_seconds']:.2f} s, waiting "
        f"{timing['waiting_seconds']:.2f} s, counterparts {timing['counterparts_seconds']:.2f} s, harness in the "
        f"checks {timing['harness_seconds']:.2f} s, outside the checks {timing['outside_checks_seconds']:.2f} s) · "
        f"after it (reports, exit) {timing['after_seconds']:.2f} s\n"
        f"harness's own time {own:.2f} s = {100 * own / wall:.0f} % of the run (goal ≤ 10 %); "
        f"report.json's harness_share (its run record only) {100 * timing['harness_share']:.0f} %\n"
        f"CPU: the process {cpu:.2f} s, of which the harness's thread {mine:.2f} s ({100 * mine / cpu:.0f} %) and the "
        f"embedded system's, with the counterparts, {cpu - mine:.2f} s"
    )


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv and argv[0].isdigit() else 5
    extra = [a for a in argv if not a.isdigit()]
    timings = [_one_run(extra) for _ in range(runs)]
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    walls = [wall for wall, _, _ in timings]
    print(f"p111 run {' '.join(extra)}: {runs} runs, wall seconds min {min(walls):.2f} · "
          f"median {statistics.median(walls):.2f} · max {max(walls):.2f}; CPU seconds median "
          f"{statistics.median(cpu for _, cpu, _ in timings):.2f}; peak RSS {peak_mib:.0f} MiB")
    wall, _, timing = sorted(timings, key=lambda item: item[0])[len(timings) // 2]
    print(_where_it_went(wall, timing))
    for exchange in timing["slowest"][:5]:
        print(f"  slow: {exchange['time_ms']:.0f} ms #{exchange['seq']} {exchange['method']} {exchange['url']} "
              f"({exchange['check']})")


if __name__ == "__main__":
    main(sys.argv[1:])
