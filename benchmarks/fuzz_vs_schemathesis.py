"""p111's fuzzer and Schemathesis, side by side, on the same OpenAPI document and the same reference system.

The reference system runs on loopback ports with the three fuzz defects switched on; both tools get the same citizen
session header. Printed: requests per second and which defect each tool found. A defect counts as found when the tool
reports a 5xx whose answer is that defect's (each names its own cause: the TrichYeuHoSo column, utf8mb3, the absent
files list). Not part of the test suite.

Schemathesis lives in its own virtual environment, so that its pins never touch p111's:

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install schemathesis
    python benchmarks/fuzz_vs_schemathesis.py [--st /tmp/stvenv/bin/st] [--examples 10]   # or P111_SCHEMATHESIS=…
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from harness import fuzz
from harness.drivers.reference_api import ReferenceApiDriver
from harness.target import embedded_target
from mocks.wiring import serve_counterparts

DEFECTS = {  # the defect, and what its 500 answer names
    "fuzz-long-summary": "TrichYeuHoSo",
    "fuzz-astral-name": "utf8mb3",
    "fuzz-missing-files": "(files)",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def found_in(texts: list[str]) -> list[str]:
    return [name for name, mark in DEFECTS.items() if any(mark in text for text in texts)]


def run_p111(base: str, document: dict, headers: dict[str, str], code: str, examples: int) -> tuple[int, float, list]:
    with httpx.Client(base_url=base, timeout=30) as client:
        started = time.monotonic()
        result = fuzz.fuzz(
            client,
            document,
            sessions=[headers],
            known={"code": code},
            budget=fuzz.Budget(max_examples=examples, generated_examples=examples * 3),
        )
        seconds = time.monotonic() - started
    answers = [f.response.text for f in result.findings if f.response.status_code >= 500]
    return result.requests, seconds, found_in(answers)


def run_schemathesis(st: str, base: str, cookie: str, examples: int) -> tuple[int, float, list]:
    report = Path(tempfile.mkdtemp(prefix="p111-st-"))
    command = [
        st, "run", f"{base}/openapi.json", "--header", f"Cookie: {cookie}", "--max-examples", str(examples),
        "--seed", "1", "--report", "har", "--report-dir", str(report), "--no-color",
    ]
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=report)  # its cache there
    seconds = time.monotonic() - started
    entries = []
    for har in report.glob("har-*"):  # Schemathesis names its HAR har-<time>.json
        entries += json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    answers = [
        e["response"]["content"].get("text", "") for e in entries if e["response"]["status"] >= 500
    ]
    if not entries:
        print(completed.stdout[-2000:], completed.stderr[-2000:], file=sys.stderr)
    shutil.rmtree(report, ignore_errors=True)
    return len(entries), seconds, found_in(answers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--st", default=os.environ.get("P111_SCHEMATHESIS") or shutil.which("st"))
    parser.add_argument("--examples", type=int, default=10, help="max examples per kind of input / per operation")
    args = parser.parse_args()
    if not args.st or not Path(args.st).exists():
        print("Schemathesis not found. Install it apart from p111:\n"
              "  python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install schemathesis\n"
              "then pass --st /tmp/stvenv/bin/st or set P111_SCHEMATHESIS.", file=sys.stderr)
        return 2
    target = embedded_target(defects=tuple(DEFECTS))
    ports = [free_port() for _ in range(4)]
    served = serve_counterparts(
        target, host="127.0.0.1", portal_port=ports[0], reference_port=ports[1], sso_port=ports[2],
        payment_port=ports[3],
    )
    try:
        urls = {app.name: app.url for app in served}
        base = urls["reference"]
        with httpx.Client(base_url=base, timeout=30) as sut, httpx.Client(timeout=30) as sso:
            driver = ReferenceApiDriver(sut, sso)
            headers = dict(driver.session("citizen").headers)
            code = driver.submit(driver.services()[0].code).code
            document = sut.get("/openapi.json").json()
        rows = [
            ("p111 fuzz", *run_p111(base, document, headers, code, args.examples)),
            ("schemathesis", *run_schemathesis(args.st, base, headers["cookie"], args.examples)),
        ]
    finally:
        for app in served:
            app.stop()
    print(f"{'tool':<14} {'requests':>9} {'seconds':>8} {'req/s':>7}  defects found (of {len(DEFECTS)})")
    for tool, requests, seconds, found in rows:
        rate = requests / seconds if seconds else 0.0
        print(f"{tool:<14} {requests:>9} {seconds:>8.1f} {rate:>7.1f}  {', '.join(found) or '—'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
