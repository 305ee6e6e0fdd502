"""Times `p111 run` against the embedded reference system, as a newcomer runs it (a fresh process each time).

Usage: python benchmarks/run_embedded.py [RUNS] [--defect NAME]
Prints wall-clock seconds (min / median / max), CPU seconds, the peak resident memory of the runs, and where the time
of the median run went (report.json's `timing`): the SUT's answers, waiting, the counterparts, the harness's own work
in the checks, and the time outside the checks (start, collection, the embedded system's start). Goals: the run
≤ 10 s on the 2-core machine, the harness's own time ≤ 10 % of it. On a shared machine the wall time carries other
people's load: compare the CPU seconds too.
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
from pathlib import Path


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv and argv[0].isdigit() else 5
    extra = [a for a in argv if not a.isdigit()]
    timings: list[tuple[float, float, dict]] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as directory:
            before = os.times()
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--report", directory, *extra],
                                    cwd=directory, capture_output=True, text=True)
            wall = time.perf_counter() - started
            after = os.times()
            if result.returncode not in (0, 1):
                sys.exit(f"p111 run failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
            report = json.loads((Path(directory) / "report.json").read_text(encoding="utf-8"))
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            timings.append((wall, cpu, report["timing"]))
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    walls = [wall for wall, _, _ in timings]
    print(f"p111 run {' '.join(extra)}: {runs} runs, wall seconds min {min(walls):.2f} · "
          f"median {statistics.median(walls):.2f} · max {max(walls):.2f}; CPU seconds median "
          f"{statistics.median(cpu for _, cpu, _ in timings):.2f}; peak RSS {peak_mib:.0f} MiB")
    wall, _, timing = sorted(timings, key=lambda item: item[0])[len(timings) // 2]
    own = timing["harness_seconds"] + timing["outside_checks_seconds"]
    print(f"median run, {wall:.2f} s as measured outside; in report.json: {timing['wall_seconds']:.2f} s — SUT "
          f"{timing['sut_seconds']:.2f} s, waiting {timing['waiting_seconds']:.2f} s, counterparts "
          f"{timing['counterparts_seconds']:.2f} s, harness in the checks {timing['harness_seconds']:.2f} s "
          f"({100 * timing['harness_share']:.0f} %), outside the checks {timing['outside_checks_seconds']:.2f} s; "
          f"harness's own share (in and outside the checks) {100 * own / wall:.0f} % of the run (goal ≤ 10 %)")
    for exchange in timing["slowest"][:5]:
        print(f"  slow: {exchange['time_ms']:.0f} ms #{exchange['seq']} {exchange['method']} {exchange['url']} "
              f"({exchange['check']})")


if __name__ == "__main__":
    main(sys.argv[1:])
