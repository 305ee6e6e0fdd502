"""A hostile SUT, one misbehaviour per mode, under a real `p111 run`: the run ends, judges and reports.

The hostile servers run in this process (threads); the runs go two at a time to spawn workers, as the self-test
matrix does. Only the catalog checks run: their first request (the SUT's service list) meets the misbehaviour.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from harness.config.target import embedded_target
from mocks.hostile import ELSEWHERE, MODES, HostileServer, serve_hostile
from tests.support import read_report, run_p111_here, verdicts

pytestmark = pytest.mark.slow

REQUIREMENT = "P111-CATALOG"
TIMEOUTS = {"connect_seconds": 1, "request_seconds": 2, "sync_seconds": 0.2}
POLITENESS = {"max_retries": 1, "retry_after_max_seconds": 2}
RUN_SECONDS = 60  # a run still going after this has hung
# What each check message must say, in plain words, about what the SUT did.
SAYS = {
    "timeout": "ReadTimeout: no answer within the request timeout (2.0 s",
    "slow-drip": "longer than the request timeout",
    "reset": "Connection reset",
    "malformed-json": "not JSON",
    "wrong-content-type": "not JSON (Content-Type text/html",
    "huge-body": "response body too large: Content-Length 12582912",
    "huge-body-chunked": "response body too large: more than 10485760 bytes read",
    "redirect-elsewhere": "got 302 (a redirect to http://127.0.0.2",
    "redirect-loop": "got 302 (a redirect to",
    "5xx-burst": "got 503",
    "invalid-utf8": "not JSON",
    "tls-failure": "CERTIFICATE_VERIFY_FAILED",
}
BREAKER = "circuit-breaker"  # the SUT and its counterparts on a port where nothing listens


def write_target(path: Path, sut_url: str, counterparts: str | None = None, **politeness: Any) -> Path:
    document: dict[str, Any] = {
        "name": f"Hệ thống thù địch ({path.stem})",
        "agencies": embedded_target().public_dict()["agencies"],
        "sut": {"embedded": False, "base_url": sut_url},
        "safety": {"mode": "full", "environment": "staging"},
        "timeouts": TIMEOUTS,
        "politeness": POLITENESS | politeness,
    }
    if counterparts:
        document["counterparts"] = {name: {"url": counterparts, "serve": False} for name in ("portal", "sso")}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Outcome:
    result: CompletedProcess[str]
    directory: Path
    hits: int  # requests the hostile server received

    @property
    def report(self) -> dict[str, Any]:
        return read_report(self.directory)

    def checks(self) -> list[dict[str, Any]]:
        """The requirement's checks that ran (-k deselects the rest: NOT-TESTED)."""
        checks = next(r["checks"] for r in self.report["requirements"] if r["id"] == REQUIREMENT)
        return [c for c in checks if c["outcome"] != "NOT-TESTED"]

    def exchanges(self) -> list[dict[str, Any]]:
        lines = (self.directory / "evidence.ndjson").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


def dead_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # free once closed: nothing listens there


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    servers: dict[str, HostileServer] = {}
    jobs: dict[str, tuple[list[str], Path]] = {}
    try:
        for mode in MODES:
            servers[mode] = serve_hostile(mode)
            directory = tmp_path_factory.mktemp(mode)
            target = write_target(directory / "hostile.target.json", servers[mode].url)
            jobs[mode] = (["run", "--target", str(target), "--report", str(directory / "out"), "--", "-k", "catalog"],
                          directory)
        directory = tmp_path_factory.mktemp(BREAKER)
        dead = dead_url()
        target = write_target(directory / "dead.target.json", dead, dead, circuit_breaker_failures=2, max_retries=2)
        jobs[BREAKER] = (["run", "--target", str(target), "--report", str(directory / "out")], directory)
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: this one holds threads and servers
        with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
            runs = {name: pool.submit(run_p111_here, args, str(directory)) for name, (args, directory) in jobs.items()}
            results = {name: run.result(timeout=RUN_SECONDS * len(jobs) / 2) for name, run in runs.items()}
    finally:
        for server in servers.values():
            server.stop()
    return {
        name: Outcome(results[name], directory / "out", servers[name].hit_count if name in servers else 0)
        for name, (_, directory) in jobs.items()
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_sut_gets_a_judged_report(outcomes, mode):
    outcome = outcomes[mode]
    result = outcome.result
    assert result.returncode in (1, 2), result.stdout[-3000:] + result.stderr[-2000:]
    for written in ("report.json", "report.html", "evidence.ndjson"):
        assert (outcome.directory / written).is_file(), written
    assert verdicts(outcome.report)[REQUIREMENT] in ("FAILED", "ERROR")
    checks = outcome.checks()
    assert checks and all(c["outcome"] in ("FAILED", "ERROR") for c in checks)
    for check in checks:
        assert SAYS[mode] in check["message"], check["message"]


def test_a_slow_answer_is_cut_at_the_request_timeout_in_total(outcomes):
    # A byte every 0.3 s beats any per-read timeout; the whole answer still gets request_seconds (2 s), no more.
    assert "bytes of the body had arrived" in outcomes["slow-drip"].checks()[0]["message"]


def test_a_redirect_elsewhere_is_not_followed(outcomes):
    exchanges = outcomes["redirect-elsewhere"].exchanges()
    assert exchanges and all(not e["url"].startswith(ELSEWHERE) for e in exchanges)
    assert {e["status"] for e in exchanges} == {302}


def test_a_redirect_loop_is_not_followed(outcomes):
    assert outcomes["redirect-loop"].hits == 1


def test_a_503_burst_is_retried_once_after_retry_after_then_judged(outcomes):
    outcome = outcomes["5xx-burst"]
    assert outcome.hits == 2  # the request and politeness.max_retries (1) retry; the burst lasts 3
    assert [e["status"] for e in outcome.exchanges()] == [503]  # evidence holds the answer the check judged
    # … and the attempt retried before it, with the wait the server asked for
    assert outcome.exchanges()[0]["retried"] == [{"status": 503, "retry_after": "1", "waited_seconds": 1.0}]


def test_a_reset_is_retried_once_for_a_get(outcomes):
    assert outcomes["reset"].hits == 2


def test_a_self_signed_certificate_is_refused_before_anything_is_sent(outcomes):
    outcome = outcomes["tls-failure"]
    assert outcome.hits == 0
    assert all(e["status"] == 0 and "CERTIFICATE_VERIFY_FAILED" in e["error"] for e in outcome.exchanges())


def test_the_circuit_breaker_stops_a_run_against_a_dead_system(outcomes):
    outcome = outcomes[BREAKER]
    assert outcome.result.returncode == 2
    for written in ("report.json", "report.html", "evidence.ndjson"):
        assert (outcome.directory / written).is_file(), written
    messages = [c["message"] for r in outcome.report["requirements"] for c in r["checks"] if c["outcome"] == "ERROR"]
    network = [m for m in messages if "Connection refused" in m or "circuit breaker" in m]
    assert network, messages
    # Every check that needed the dead server was stopped by the breaker, which names the cause and the count.
    for message in network:
        assert "circuit breaker open after 2 consecutive connection failures: ConnectError" in message, message
    # Nothing was ever answered: the evidence holds the attempts, the first with the refused connections retried
    # before the breaker opened, the rest refused by the breaker without sending.
    first, *rest = outcome.exchanges()
    assert [r["error"].split(":")[0] for r in first["retried"]] == ["ConnectError", "ConnectError"]
    assert first["error"].startswith("CircuitOpen") and all(e["error"].startswith("CircuitOpen") for e in rest)
    assert {e["status"] for e in outcome.exchanges()} == {0}


@pytest.mark.parametrize("mode", [*MODES, BREAKER])
def test_the_judged_checks_point_at_their_evidence(outcomes, mode):
    # Checks that share a fixture which failed point at the exchange recorded under the first of them (the others
    # meet the fixture's error again, sending nothing).
    exchanges = {e["seq"] for e in outcomes[mode].exchanges()}
    report = outcomes[mode].report
    judged = [c for r in report["requirements"] for c in r["checks"] if c["outcome"] in ("FAILED", "ERROR")]
    assert any(c["evidence"] for c in judged) and all(set(c["evidence"]) <= exchanges for c in judged)


# Modes where the SUT gives no usable answer: the evidence is the request, status 0 and what happened instead.
NO_ANSWER = {
    "timeout": "ReadTimeout",
    "slow-drip": "ReadTimeout",
    "reset": "Connection reset",
    "huge-body": "ResponseTooLarge",
    "huge-body-chunked": "ResponseTooLarge",
    "tls-failure": "CERTIFICATE_VERIFY_FAILED",
}


@pytest.mark.parametrize("mode", NO_ANSWER)
def test_a_request_without_an_answer_is_evidence_with_its_error(outcomes, mode):
    failed = [e for e in outcomes[mode].exchanges() if e["status"] == 0]
    assert failed and all(NO_ANSWER[mode] in e["error"] for e in failed), failed
    assert NO_ANSWER[mode] in (outcomes[mode].directory / "report.html").read_text(encoding="utf-8")
