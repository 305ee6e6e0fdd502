"""p111's fuzzer and Schemathesis, side by side, on the same OpenAPI documents and the same systems.

Two systems: the reference system (its robustness defects in mocks/reference/defects.yaml) and demo 3, a system that
is not ours (mocks/demo3: its own document at /mc/openapi.json, its own words, sessions and rules; its robustness
defects in mocks/demo3/robustness.yaml), driven as examples/demo3.target.yaml describes it. Each tool runs twice
against each system on loopback ports: once clean, once with every robustness defect switched on. Printed per tool:
requests, seconds, the planted defects it reported (real findings), and what it reported on the clean system (false
findings: neither clean system has a known robustness defect, so each is listed for a person to judge). A defect
counts as found when the tool reported a finding whose answer is that defect's (`DEFECTS`, `DEMO3_DEFECTS`: each
names its own cause, or its operation and status). Not part of the test suite.

Footing: p111 gets what `p111 fuzz` takes from the target and the driver (harness.fuzz.state.footing: the citizen's
and the officer's sessions, a real dossier, the declared procedures and agencies, the payment callback's
declaration). Schemathesis gets, on the reference system, the officer's session (the one role that can submit, act
and export); on demo 3, where officers may not submit, the officer's key for every operation and the citizen's
session for the two a citizen makes (its `[[operations]]` headers); on both the same real dossier code for the
dossier parameter (its `[parameters]` configuration), every check (`--checks all`) and every phase.

Schemathesis lives in its own virtual environment, so that its pins never touch p111's:

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install schemathesis
    python benchmarks/fuzz_vs_schemathesis.py [--st /tmp/stvenv/bin/st] [--examples 3] [--st-examples 20]
        [--system reference|demo3|both]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
from harness.sut.drivers.http import HttpDriver
from harness.sut.drivers.reference_api import ReferenceApiDriver
from mocks.reference.defects import registry
from mocks.serve import free_port
from mocks.wiring import serve_counterparts

ACTIONS = "POST /api/dossiers/{code}/actions/{action}"
STEP = "POST /mc/ho-so/{so}/{buoc}"  # demo 3's lifecycle steps
ROOT = Path(__file__).resolve().parents[1]
DEMO3_TARGET = ROOT / "examples" / "demo3.target.yaml"
DEMO3_ENV = {  # throwaway secrets for the benchmark's own demo 3
    "P111_DEMO3_PAYMENT_SECRET": "bench-payment-key-5c1f",
    "P111_DEMO3_OFFICER_KEY": "bench-officer-key-a93e",
    "P111_DEMO3_SECOND_PASSWORD": "bench-second-pw-77d0",
}


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


DEMO3_DEFECTS: dict[str, Callable[[Reported], bool]] = {
    "demo3-fuzz-agency-list": lambda r: r.operation == STEP and r.status >= 500,
    "demo3-fuzz-missing-body": lambda r: (
        r.operation == STEP and 200 <= r.status < 300 and ("body-absent" in r.kind or "Missing request body" in r.text)
    ),
    "demo3-fuzz-undocumented-status": lambda r: r.operation == "GET /mc/ket-xuat/{loai}" and r.status == 400,
    "demo3-fuzz-surrogate-summary": lambda r: r.operation == "POST /mc/ho-so" and r.status >= 500,
    "demo3-fuzz-pay-past-state": lambda r: r.operation == "POST /mc/ho-so/{so}/nop-phi" and r.status >= 500,
}



def p111_findings(result: fuzz.FuzzResult) -> list[Reported]:
    found = []
    for f in result.findings:
        sent = (f.response.request.content or b"").decode("utf-8", "replace")
        found.append(
            Reported(str(f.operation), f"{f.problem} ({f.case.rule})", f.response.status_code, f.response.text + sent)
        )
    return found


def driver_for(target, sut: httpx.Client, sso: httpx.Client):
    """The driver the target names: the reference API's, or the declarative http driver (demo 3)."""
    if target.sut.driver == "http":
        secrets = {path: secret.reveal() for path, secret in target.sut.driver_secrets.items()}
        return HttpDriver(dict(target.sut.driver_options), sut, sso, secrets)
    return ReferenceApiDriver(sut, sso)


def run_p111(base: str, target, examples: int, sso_url: str | None = None) -> tuple[int, float, list[Reported]]:
    with httpx.Client(base_url=base, timeout=30) as sut, httpx.Client(base_url=sso_url or "", timeout=30) as sso:
        driver = driver_for(target, sut, sso)
        services = driver.services()
        procedures = [s.code for s in services]
        paying = next((s.code for s in services if s.fee_bearing), None)
        started = time.monotonic()
        given = footing(target, driver, load_lifecycle(), procedures, paying)
        given["budget"] = replace(target.fuzz, max_examples=examples, generated_examples=examples * 3)
        document = sut.get(target.sut.openapi_path or "/openapi.json").json()
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


def run_schemathesis(
    st: str, base: str, config: str, examples: int, document: str = "/openapi.json", extra: tuple[str, ...] = ()
) -> tuple[int, float, list[Reported]]:
    """Schemathesis with `config` (schemathesis.toml: the dossier parameter) and `extra` options (the session's
    headers, which operations) on `base`."""
    work = Path(tempfile.mkdtemp(prefix="p111-st-"))
    (work / "schemathesis.toml").write_text(config, encoding="utf-8")
    command = [
        st, "--config-file", str(work / "schemathesis.toml"), "run", f"{base}{document}", *extra,
        "--max-examples", str(examples), "--seed", "1", "--checks", "all",
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
    urls = {app.name: app.url for app in served}
    return target, served, urls["reference"], urls["sso"]


def serve_demo3(defects: tuple[str, ...], work: Path):
    """Demo 3 and its counterparts on free ports, with the target that describes it (examples/demo3.target.yaml:
    its own OpenAPI document, its dossier parameter)."""
    from mocks.demo3.wiring import serve_example_on_free_ports

    served = serve_example_on_free_ports(DEMO3_TARGET, work, {**os.environ, **DEMO3_ENV}, frozenset(defects))
    return served.target, served.apps, served.urls["demo3"], served.urls["sso"]


CITIZENS_OWN = ("POST /mc/ho-so", "POST /mc/ho-so/{so}/nop-phi")  # demo 3's operations only a citizen may make


def demo3_schemathesis(st: str, base: str, driver, code: str, examples: int) -> tuple[int, float, list[Reported]]:
    """Two Schemathesis runs, summed: the officer's key for every operation but the two a citizen makes (officers
    may not submit, nor open a payment), the citizen's session for those two; the real dossier for {so}."""
    config = f'[parameters]\nso = "{code}"\n'
    runs = []
    for role, choose in (("officer", "--exclude-name"), ("citizen", "--include-name")):
        headers = [part for k, v in driver.session(role).headers.items() for part in ("--header", f"{k}: {v}")]
        names = [part for name in CITIZENS_OWN for part in (choose, name)]
        runs.append(run_schemathesis(st, base, config, examples, "/mc/openapi.json", (*headers, *names)))
    return sum(r[0] for r in runs), sum(r[1] for r in runs), [f for r in runs for f in r[2]]


def one_round(
    system: str, tool: str, args: argparse.Namespace, defects: tuple[str, ...]
) -> tuple[int, float, list[Reported]]:
    work = Path(tempfile.mkdtemp(prefix="p111-bench-"))
    if system == "demo3":
        target, served, base, sso_url = serve_demo3(defects, work)
    else:
        target, served, base, sso_url = serve(defects)
    try:
        if tool == "p111 fuzz":
            return run_p111(base, target, args.examples, sso_url)
        with httpx.Client(base_url=base, timeout=30) as sut, httpx.Client(base_url=sso_url or "", timeout=30) as sso:
            driver = driver_for(target, sut, sso)
            code = driver.submit(driver.services()[0].code).code
            if system == "demo3":
                return demo3_schemathesis(args.st, base, driver, code, args.st_examples)
            cookie = driver.session("officer").headers["cookie"]
        config = f'[parameters]\ncode = "{code}"\n'
        return run_schemathesis(args.st, base, config, args.st_examples, extra=("--header", f"Cookie: {cookie}"))
    finally:
        for app in served:
            app.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--st", default=os.environ.get("P111_SCHEMATHESIS") or shutil.which("st"))
    parser.add_argument("--examples", type=int, default=3, help="p111: examples per kind of input (x3 free ones)")
    parser.add_argument("--st-examples", type=int, default=20, help="Schemathesis: --max-examples per operation")
    parser.add_argument("--system", choices=("reference", "demo3", "both"), default="both")
    parser.add_argument("--tools", default="p111 fuzz,schemathesis", help="which tools, comma-separated")
    args = parser.parse_args()
    if not args.st or not Path(args.st).exists():
        print("Schemathesis not found. Install it apart from p111:\n"
              "  python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install schemathesis\n"
              "then pass --st /tmp/stvenv/bin/st or set P111_SCHEMATHESIS.", file=sys.stderr)  # fmt: skip
        return 2
    for system in ("reference", "demo3") if args.system == "both" else (args.system,):
        compare(system, args)
    return 0


def compare(system: str, args: argparse.Namespace) -> None:
    """Both tools on one system, with its robustness defects and clean; the table and what each found or missed."""
    known = DEMO3_DEFECTS if system == "demo3" else DEFECTS
    planted = tuple(name for name in known if system == "demo3" or name in registry())
    rows = []
    for tool in args.tools.split(","):
        requests, seconds, found = one_round(system, tool, args, planted)
        real = sorted(name for name in planted if any(known[name](r) for r in found))
        clean_requests, clean_seconds, false = one_round(system, tool, args, ())
        unique = {r.key(): r for r in false}
        # Reported on the defective system, matching no planted defect nor anything reported on the clean one.
        other = {r.key(): r for r in found if r.key() not in unique and not any(known[n](r) for n in planted)}
        rows.append((tool, requests, seconds, real, clean_requests, clean_seconds, [unique[k] for k in sorted(unique)],
                     [other[k] for k in sorted(other)]))
    print(f"\n{system} system, {len(planted)} planted robustness defects; p111 --examples {args.examples}, "
          f"schemathesis --max-examples {args.st_examples}")  # fmt: skip
    print(f"{'tool':<13} {'requests':>8} {'seconds':>8} {'real':>5} {'false':>6}   (clean run: requests, seconds)")
    for tool, requests, seconds, real, clean_requests, clean_seconds, false, _ in rows:
        print(f"{tool:<13} {requests:>8} {seconds:>8.1f} {len(real):>5} {len(false):>6}   "
              f"({clean_requests}, {clean_seconds:.1f})")  # fmt: skip
    for tool, *_, real, _cr, _cs, false, other in rows:
        print(f"\n{tool}: found {', '.join(real) or '—'}; missed {', '.join(sorted(set(planted) - set(real))) or '—'}")
        for label, reported in (("false (on the clean system)", false), ("other (on the defective system)", other)):
            for r in reported:
                answer = next((line.strip() for line in r.text.splitlines() if line.strip().startswith("`")), "")
                print(f"  {label}: {r.key()} → HTTP {r.status} {answer[:150]}")


if __name__ == "__main__":
    sys.exit(main())
