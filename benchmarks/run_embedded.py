"""Times `p111 run` against the embedded reference system, as a newcomer runs it (a fresh process each time).

Usage: python benchmarks/run_embedded.py [RUNS] [--defect NAME]
Prints wall-clock seconds (min / median / max) and the peak resident memory of the runs. The issue's target:
the verdict table and a schema-valid report in under 30 s.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv and argv[0].isdigit() else 5
    extra = [a for a in argv if not a.isdigit()]
    timings = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--report", directory, *extra],
                                    cwd=directory, capture_output=True, text=True)
            timings.append(time.perf_counter() - started)
            if result.returncode not in (0, 1):
                sys.exit(f"p111 run failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"p111 run {' '.join(extra)}: {runs} runs, wall seconds min {min(timings):.2f} · "
          f"median {statistics.median(timings):.2f} · max {max(timings):.2f}; peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
