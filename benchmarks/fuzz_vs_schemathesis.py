"""p111's fuzzer and Schemathesis, side by side, on the same OpenAPI document and the same reference system.

Each tool runs twice against the reference system on loopback ports: once clean, once with every robustness defect
of mocks/reference/defects.yaml switched on. Printed per tool: requests, seconds, the planted defects it reported
(real findings), and what it reported on the clean system (false findings: the clean reference has no known
robustness defect, so each is listed for a person to judge). A defect counts as found when the tool reported a
finding whose answer is that defect's (`DEFECTS`: each names its own cause, or its operation and status). Not part
of the test suite.

Footing: p111 gets what `p111 fuzz` takes from the target and the driver (harness.fuzz.state.footing: the citizen's
and the officer's sessions, a real dossier, the declared procedures and agencies, the payment callback's
declaration). Schemathesis gets the officer's session (the one role that can submit, act and export) and the same
real dossier code for `{code}` (its `[parameters]` configuration), every check (`--checks all`) and every phase.

Schemathesis lives in its own virtual environment, so that its pins never touch p111's:

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install schemathesis
    python benchmarks/fuzz_vs_schemathesis.py [--st /tmp/stvenv/bin/st] [--examples 3] [--st-examples 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from harness.config.target import embedded_target
from harness.core.lifecycle import load_lifecycle
from harness.fuzz import fuzzer as fuzz
from harness.fuzz.state import footing
from harness.sut.drivers.reference_api import ReferenceApiDriver
from mocks.reference.defects import registry
from mocks.wiring import serve_counterparts

ACTIONS = "POST /api/dossiers/{code}/actions/{action}"


@dataclass(frozen=True)
class Reported:
    """One finding a tool reported: the operation, its kind in the tool's words, the status answered, its text."""

    operation: str
    kind: str
    status: int
    text: str

    def key(self) -> str:
        return f"{self.operation} · {self.kind}"


DEFECTS: dict[str, Callable[[Reported], bool]] = {
    "fuzz-long-summary": lambda r: r.status >= 500 and "TrichYeuHoSo" in r.text,
    "fuzz-astral-name": lambda r: r.status >= 500 and "utf8mb3" in r.text,
    "fuzz-missing-files": lambda r: r.status >= 500 and "(files)" in r.text,
    "fuzz-procedure-component": lambda r: r.status >= 500 and "component not in" in r.text,
    # a dossier's read (or the listing of all of them) broken by what a write stored
    "fuzz-surrogate-read": lambda r: (
        "read-back-error" in r.kind or (r.status >= 500 and r.operation.startswith("GET /api/dossiers"))
    ),
    "fuzz-undocumented-status": lambda r: r.operation == "GET /api/dossiers" and r.status == 400,
    "fuzz-missing-body-accepted": lambda r: (
        r.operation == ACTIONS
        and 200 <= r.status < 300
        and ("body-absent" in r.kind or "Missing request body" in r.text)
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def p111_findings(result: fuzz.FuzzResult) -> list[Reported]:
    found = []
    for f in result.findings:
        sent = (f.response.request.content or b"").decode("utf-8", "replace")
        found.append(
            Reported(str(f.operation), f"{f.problem} ({f.case.rule})", f.response.status_code, f.response.text + sent)
        )
    return found


def run_p111(base: str, target, examples: int) -> tuple[int, float, list[Reported]]:
    with httpx.Client(base_url=base, timeout=30) as sut, httpx.Client(timeout=30) as sso:
        driver = ReferenceApiDriver(sut, sso)
        procedures = [s.code for s in driver.services()]
        started = time.monotonic()
        given = footing(target, driver, load_lifecycle(), procedures)
        given["budget"] = replace(target.fuzz, max_examples=examples, generated_examples=examples * 3)
        document = sut.get("/openapi.json").json()
        result = fuzz.fuzz(sut, document, **given)
        seconds = time.monotonic() - started
    return result.requests + result.setup_requests, seconds, p111_findings(result)


BLOCK = re.compile(r"^\d+\. Test Case ID: \S+$", re.MULTILINE)
CHECK = re.compile(r"^- (ST\d+) (.+)$", re.MULTILINE)
STATUS = re.compile(r"^\[(\d{3})\]", re.MULTILINE)


def schemathesis_findings(junit: Path) -> list[Reported]:
    found = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for failure in case.iter("failure"):
            for block in BLOCK.split(failure.text or "")[1:]:
                status = STATUS.search(block)
                method = "TRACE " if "curl -X TRACE" in block else ""
                operation = method + case.get("name", "") if method else case.get("name", "")
                for code, title in CHECK.findall(block):
                    found.append(Reported(operation, f"{code} {title}", int(status.group(1)) if status else 0, block))
    return found


def run_schemathesis(st: str, base: str, cookie: str, code: str, examples: int) -> tuple[int, float, list[Reported]]:
    work = Path(tempfile.mkdtemp(prefix="p111-st-"))
    (work / "schemathesis.toml").write_text(f'[parameters]\ncode = "{code}"\n', encoding="utf-8")
    command = [
        st, "--config-file", str(work / "schemathesis.toml"), "run", f"{base}/openapi.json",
        "--header", f"Cookie: {cookie}", "--max-examples", str(examples), "--seed", "1", "--checks", "all",
        "--workers", "1", "--report", "junit,har", "--report-dir", str(work / "r"), "--no-color",
    ]  # fmt: skip
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=work)  # its cache there
    seconds = time.monotonic() - started
    hars = list((work / "r").glob("har-*"))
    junits = list((work / "r").glob("junit*"))
    if not hars or not junits:
        print(completed.stdout[-3000:], completed.stderr[-3000:], file=sys.stderr)
        raise SystemExit("Schemathesis wrote no report")
    requests = len(json.loads(hars[0].read_text(encoding="utf-8"))["log"]["entries"])
    found = schemathesis_findings(junits[0])
    shutil.rmtree(work, ignore_errors=True)
    return requests, seconds, found


def serve(defects: tuple[str, ...]):
    target = embedded_target(defects=defects)
    ports = [free_port() for _ in range(4)]
    served = serve_counterparts(
        target, host="127.0.0.1", portal_port=ports[0], reference_port=ports[1], sso_port=ports[2],
        payment_port=ports[3],
    )  # fmt: skip
    return target, served, {app.name: app.url for app in served}["reference"]


def one_round(tool: str, args: argparse.Namespace, defects: tuple[str, ...]) -> tuple[int, float, list[Reported]]:
    target, served, base = serve(defects)
    try:
        if tool == "p111 fuzz":
            return run_p111(base, target, args.examples)
        with httpx.Client(base_url=base, timeout=30) as sut, httpx.Client(timeout=30) as sso:
            driver = ReferenceApiDriver(sut, sso)
            cookie = driver.session("officer").headers["cookie"]
            code = driver.submit(driver.services()[0].code).code
        return run_schemathesis(args.st, base, cookie, code, args.st_examples)
    finally:
        for app in served:
            app.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--st", default=os.environ.get("P111_SCHEMATHESIS") or shutil.which("st"))
    parser.add_argument("--examples", type=int, default=3, help="p111: examples per kind of input (x3 free ones)")
    parser.add_argument("--st-examples", type=int, default=20, help="Schemathesis: --max-examples per operation")
    args = parser.parse_args()
    if not args.st or not Path(args.st).exists():
        print("Schemathesis not found. Install it apart from p111:\n"
              "  python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install schemathesis\n"
              "then pass --st /tmp/stvenv/bin/st or set P111_SCHEMATHESIS.", file=sys.stderr)  # fmt: skip
        return 2
    planted = tuple(name for name in DEFECTS if name in registry())
    rows = []
    for tool in ("p111 fuzz", "schemathesis"):
        requests, seconds, found = one_round(tool, args, planted)
        real = sorted(name for name in planted if any(DEFECTS[name](r) for r in found))
        clean_requests, clean_seconds, false = one_round(tool, args, ())
        unique = {r.key(): r for r in false}
        rows.append((tool, requests, seconds, real, clean_requests, clean_seconds, [unique[k] for k in sorted(unique)]))
    print(f"\nreference system, {len(planted)} planted robustness defects; p111 --examples {args.examples}, "
          f"schemathesis --max-examples {args.st_examples}")  # fmt: skip
    print(f"{'tool':<13} {'requests':>8} {'seconds':>8} {'real':>5} {'false':>6}   (clean run: requests, seconds)")
    for tool, requests, seconds, real, clean_requests, clean_seconds, false in rows:
        print(f"{tool:<13} {requests:>8} {seconds:>8.1f} {len(real):>5} {len(false):>6}   "
              f"({clean_requests}, {clean_seconds:.1f})")  # fmt: skip
    for tool, *_, real, _cr, _cs, false in rows:
        print(f"\n{tool}: found {', '.join(real) or '—'}; missed {', '.join(sorted(set(planted) - set(real))) or '—'}")
        for r in false:
            answer = next((line.strip() for line in r.text.splitlines() if line.strip().startswith("`")), "")
            print(f"  false (on the clean system): {r.key()} → HTTP {r.status} {answer[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
