"""The self-test matrix: the reference system passes every built requirement; each defect fails exactly its own.

Every case is a real `p111 run`; the cases run in two worker processes (this machine has two cores), each of which
imports the harness once and runs its share of the cases one after the other.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml

from harness.config.target import embedded_target
from harness.core import schemas
from harness.core.catalog import load_catalog
from harness.sut.checking import BLOCKED_PREFIX
from mocks.reference.defects import registry
from mocks.reference.variations import registry as variation_registry
from tests.support import read_report, run_p111_here, verdicts

# The .NET client's direct transport (insert, update on "đã tồn tại", progress in chunks) under the same checks.
DIRECT_DEFECTS = (None, "sync-never-sent", "progress-out-of-order")
# The payment checksum's other variant (domain.md section 4): clean, and the defects that concern the checksum.
HMAC_DEFECTS = (None, "pay-init-wrong-order")
# Defects outside the plan (input robustness) are proven by `p111 fuzz`; one `p111 run` with all of them shows that
# they leave every plan verdict alone.
ROBUSTNESS = set(load_catalog(scope="robustness").ids)
FUZZ_DEFECTS = tuple(sorted(d.name for d in registry().values() if set(d.requirements) <= ROBUSTNESS))
PLAN_DEFECTS = tuple(sorted(set(registry()) - set(FUZZ_DEFECTS)))
# Lawful variations (mocks/reference/variations.yaml), in groups of variations independent of one another (each
# touches its own part of the contract): one clean run per group, which must keep every clean verdict, and a few
# defects under the group holding the variation that touches what they break, which must still be caught. Grouped,
# not run one by one, for the matrix's time; refusals-422 and refusals-400 are alternatives, and
# optional-transitions-refused turns optional steps NOT-APPLICABLE, where it could hide what another variation does
# to them: it runs alone. A variation no group names (a new one) runs alone too, so adding one needs no edit here.
VARIATIONS = tuple(variation_registry())
GROUPED = (
    ("refusals-422", "inbox-now-only", "exports-cursor", "sso-no-pkce", "officers-basic-auth", "documents-unlisted"),
    (
        "refusals-400",
        "api-dates-ddmmyyyy",
        "citizen-opens-payment",
        "public-calls-declared",
        "sso-kid-absent-try-each",
        "sso-no-nonce",
        "progress-without-unit",
    ),
    ("optional-transitions-refused",),
)
VARIATION_GROUPS = GROUPED + tuple((v,) for v in VARIATIONS if not any(v in group for group in GROUPED))


def group_of(variation: str) -> tuple[str, ...]:
    return next(group for group in VARIATION_GROUPS if variation in group)


DEFECTS_UNDER_VARIATIONS = (
    ("illegal-transition-accepted", "optional-transitions-refused"),
    ("transfer-drops-files", "inbox-now-only"),
    ("dossier-code-wrong-date", "api-dates-ddmmyyyy"),
    ("pay-accepts-bad-checksum", "citizen-opens-payment"),
    ("txn-supplement-anonymous", "public-calls-declared"),
    ("txn-officer-action-by-citizen", "officers-basic-auth"),
    ("txn-supplement-anonymous", "anonymous-to-login-page"),
    ("handoff-ignores-session", "anonymous-to-login-page"),
)


@dataclass(frozen=True)
class Case:
    defect: str | None
    transport: str  # adapter (the embedded default) | direct
    year: int | None = None  # the evaluation year; None: the current one
    checksum: str = "sha256-pipe"  # the payment checksum variant (the embedded default: sha256-pipe)
    command: str = "run"  # run (the plan's requirements) | fuzz (the robustness checks outside the plan)
    also: tuple[str, ...] = ()  # defects switched on besides `defect`, none of which may change a verdict
    variations: tuple[str, ...] = ()  # lawful variations of the reference system switched on

    @property
    def name(self) -> str:
        variant = "" if self.checksum == "sha256-pipe" else f"-{self.checksum}"
        command = "" if self.command == "run" else f"{self.command}-"
        also = "+fuzz-defects" if self.also else ""
        lawful = "".join(f"+{v}" for v in self.variations)
        name = f"{command}{self.transport}{variant}-{self.defect or 'clean'}{also}{lawful}"
        return name + (f"-{self.year}" if self.year else "")

    @property
    def clean(self) -> Case:
        """The same setting with no defect: what every requirement a defect does not name must still give."""
        return Case(None, self.transport, self.year, self.checksum, self.command, variations=self.variations)


# 2023 is the issue's own example of a boundary: commune digitisation at 55% passes, 54% fails.
CASES = (
    [Case(d, "adapter") for d in (None, *PLAN_DEFECTS)]
    + [Case(d, "adapter", command="fuzz") for d in (None, *FUZZ_DEFECTS)]
    + [Case(None, "adapter", also=FUZZ_DEFECTS)]
    + [Case(d, "direct") for d in DIRECT_DEFECTS]
    + [Case(d, "adapter", checksum="hmac-sha256") for d in HMAC_DEFECTS]
    + [Case(None, "adapter", 2023), Case("kpi-digitisation-commune-below", "adapter", 2023)]
    + [Case(None, "adapter", variations=group) for group in VARIATION_GROUPS]
    + [Case(d, "adapter", variations=group_of(v)) for d, v in DEFECTS_UNDER_VARIATIONS]
)


@dataclass(frozen=True)
class Outcome:
    result: CompletedProcess[str]
    report: dict[str, Any]
    directory: Path


def case_target(path: Path, case: Case) -> Path:
    """The embedded target with the case's transport and checksum variant."""
    document = embedded_target().public_dict()
    document["sync"] = {"transport": case.transport}
    document["payment"] = {**document.get("payment", {}), "checksum": case.checksum}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def case_args(case: Case, directory: Path) -> list[str]:
    args = [case.command, "--report", str(directory / "out")]
    if (case.transport, case.checksum) != ("adapter", "sha256-pipe"):
        args += ["--target", str(case_target(directory / "case.target.yaml", case))]
    for defect in filter(None, (case.defect, *case.also)):
        args += ["--defect", defect]
    for variation in case.variations:
        args += ["--variation", variation]
    if case.year:
        args += ["--year", str(case.year)]
    return args


def needed(items: list[pytest.Item]) -> list[Case]:
    """The cases the selected tests of this module read: every case, unless each selected test is about one case, one
    fuzz defect or one variation (`-k`), when only those runs and the clean runs they compare with are made."""
    wanted: set[Case] = set()
    for item in (i for i in items if i.path == Path(__file__)):
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if "case" in params:
            wanted |= {params["case"], params["case"].clean}
        elif "defect" in params:
            wanted.add(Case(params["defect"], "adapter", command="fuzz"))
        elif "variation" in params:
            wanted |= {Case(None, "adapter"), Case(None, "adapter", variations=group_of(params["variation"]))}
        else:
            return list(CASES)
    return [case for case in CASES if case in wanted]


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, Outcome]:
    cases = needed(request.session.items)
    directories = {case.name: tmp_path_factory.mktemp(case.name) for case in cases}
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: this one holds threads and servers
    with ProcessPoolExecutor(max_workers=max(2, os.cpu_count() or 2), mp_context=spawn) as pool:
        runs = {
            case.name: pool.submit(run_p111_here, case_args(case, directories[case.name]), str(directories[case.name]))
            for case in cases
        }
        return {
            name: Outcome(run.result(), read_report(directories[name] / "out"), directories[name] / "out")
            for name, run in runs.items()
        }


def check_outcomes(report) -> dict[str, str]:
    return {c["nodeid"]: c["outcome"] for r in report["requirements"] for c in r["checks"]}


def built(report) -> set[str]:
    """Requirements that have checks: the ones the matrix holds to account."""
    return {r["id"] for r in report["requirements"] if r["checks"]}


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.defect and not c.also and c.command == "run"], ids=lambda c: c.name
)
def test_reference_system_passes_every_built_requirement(outcomes, case):
    outcome = outcomes[case.name]
    report = outcome.report
    assert schemas.first_error("report", report) is None
    assert built(report) >= {
        "P111-SYNC-DOSSIER",
        "P111-SYNC-PROGRESS",
        "P111-CODES",
        "P111-LIFECYCLE",
        "P111-CATALOG",
        "P111-TRANSFER",
    }
    # Before 2025 most ratio targets have no threshold yet: NOT-APPLICABLE, never a failure.
    lawful = {"PASSED", "NOT-APPLICABLE"} if case.year else {"PASSED"}
    failing = {rid: v for rid, v in verdicts(report).items() if rid in built(report) and v not in lawful}
    assert failing == {}, outcome.result.stdout[-3000:]
    assert outcome.result.returncode == 0, outcome.result.stdout[-3000:] + outcome.result.stderr[-2000:]
    assert report["summary"]["verdict"] == "PASSED"
    # The driver's test citizens carry id numbers 0000nnnnnnnn: none may reach a file the harness wrote.
    for written in outcome.directory.iterdir():
        assert not re.search(r"\b0000[0-9]{8}\b", written.read_text(encoding="utf-8")), written.name


def test_the_direct_transport_really_carried_the_sync(outcomes):
    # The portal's item log, fetched by the checks, says which transport carried each item.
    evidence = (outcomes[Case(None, "direct").name].directory / "evidence.ndjson").read_text(encoding="utf-8")
    assert '"channel": "direct"' in evidence and '"channel": "adapter"' not in evidence


def test_requirements_without_checks_are_not_tested(outcomes):
    for requirement in outcomes[Case(None, "adapter").name].report["requirements"]:
        if not requirement["checks"]:
            assert requirement["verdict"] == "NOT-TESTED"
            assert requirement["reason"]


@pytest.mark.parametrize("case", [c for c in CASES if c.defect], ids=lambda c: c.name)
def test_defect_fails_exactly_its_requirements(case, outcomes):
    outcome = outcomes[case.name]
    report, result = outcome.report, outcome.result
    assert report["defects"] == [case.defect]
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    got = verdicts(report)
    expected_failed = set(registry()[case.defect].requirements)
    failed = {rid for rid, v in got.items() if v == "FAILED"}
    assert failed == expected_failed, result.stdout[-4000:]
    clean = verdicts(outcomes[case.clean.name].report)
    clean_checks = check_outcomes(outcomes[case.clean.name].report)
    for requirement in report["requirements"]:
        rid = requirement["id"]
        if rid in expected_failed or rid not in built(outcomes[case.clean.name].report) or got[rid] == clean[rid]:
            continue
        # A requirement the defect does not name may only turn NOT-TESTED, each changed check blocked by a
        # requirement that did fail in this run: a check whose precondition failed says so, it does not pass.
        assert got[rid] == "NOT-TESTED", f"{case.defect} disturbed {rid}: {clean[rid]} became {got[rid]}"
        for check in requirement["checks"]:
            if check["outcome"] == clean_checks.get(check["nodeid"]):
                continue
            message = check["message"] or ""
            assert check["outcome"] == "NOT-TESTED" and message.startswith(BLOCKED_PREFIX), (case.defect, check)
            assert any(f in message for f in failed), f"{check['nodeid']} is blocked by no failed requirement"
    # Every failed check says what was expected and what came back.
    for requirement in report["requirements"]:
        for check in requirement["checks"]:
            if check["outcome"] == "FAILED":
                assert check["failure"]["expected"] and check["failure"]["received"], check


def test_every_defect_names_requirements_of_the_catalog():
    catalog = load_catalog(scope=None)  # the plan's requirements and the robustness check outside it
    for defect in registry().values():
        assert set(defect.requirements) <= set(catalog.ids), defect


def test_every_built_requirement_has_a_defect_that_bites(outcomes):
    """No requirement is built without a defect proving its checks can fail."""
    bitten = {rid for defect in registry().values() for rid in defect.requirements}
    for clean in (Case(None, "adapter"), Case(None, "adapter", command="fuzz")):
        assert built(outcomes[clean.name].report) <= bitten


def test_fuzz_reports_only_the_robustness_check_and_the_reference_system_passes_it(outcomes):
    outcome = outcomes[Case(None, "adapter", command="fuzz").name]
    assert schemas.first_error("report", outcome.report) is None
    assert verdicts(outcome.report) == {"P111-ROBUST-INPUT": "PASSED"}, outcome.result.stdout[-3000:]
    assert outcome.result.returncode == 0
    # What it sent, how long, per operation how many inputs got past state checks (the pool keeps them all past)
    assert re.search(r"p111 fuzz: \d+ yêu cầu / requests .* in [0-9.]+ s", outcome.result.stdout)
    assert "POST /api/dossiers/{code}/actions/{action} (receive): " in outcome.result.stdout  # told per action
    # The plan's own run reports the plan's requirements and never the robustness check.
    plan = outcomes[Case(None, "adapter").name].report
    assert len(plan["requirements"]) == len(load_catalog()) and not ROBUSTNESS & set(verdicts(plan))
    for written in outcome.directory.iterdir():  # fuzzed id numbers are redacted like the driver's
        if written.is_file():
            assert not re.search(r"\b0000[0-9]{8}\b", written.read_text(encoding="utf-8")), written.name


@pytest.mark.parametrize("defect", FUZZ_DEFECTS)
def test_fuzz_defect_is_caught_with_its_shrunk_counterexample(outcomes, defect):
    check = outcomes[Case(defect, "adapter", command="fuzz").name].report["requirements"][0]["checks"][0]
    failure = check["failure"]
    assert "shrunk counterexamples" in failure["evidence"] and "evidence #" in failure["evidence"]
    # What was answered, and the counterexample: the document's example with just the one thing that breaks the SUT.
    received, shown = {
        "fuzz-long-summary": ("POST /api/dossiers", "[2001 ký tự / characters]"),  # maxLength 2000, plus one
        "fuzz-astral-name": ("POST /api/dossiers", '"name": "\U00010000"'),  # the first letter beyond the basic plane
        "fuzz-missing-files": ("POST /api/dossiers", "an optional property left out (body.files)"),
        "fuzz-undocumented-status": ("GET /api/dossiers", "→ HTTP 400: mã trạng thái tài liệu không mô tả"),
        "fuzz-missing-body-accepted": ("/actions/{action}", "a required request body missing (body) → HTTP 200"),
        "fuzz-procedure-component": ("POST /api/dossiers", '"procedure_code": "1.004227"'),  # a seeded real code
        "fuzz-surrogate-read": ("→ HTTP 201, GET /api/dossiers/", '"summary": "\\\\ud800"'),  # the write, then the read
    }[defect]
    assert received in failure["received"], failure["received"]
    assert shown in failure["evidence"], failure["evidence"]
    if defect in ("fuzz-long-summary", "fuzz-astral-name", "fuzz-missing-files", "fuzz-procedure-component"):
        assert "HTTP 500" in failure["received"]


def test_fuzz_defects_leave_every_plan_verdict_alone(outcomes):
    outcome = outcomes[Case(None, "adapter", also=FUZZ_DEFECTS).name]
    assert sorted(outcome.report["defects"]) == list(FUZZ_DEFECTS)
    assert verdicts(outcome.report) == verdicts(outcomes[Case(None, "adapter").name].report)
    assert outcome.result.returncode == 0, outcome.result.stdout[-3000:]


def test_the_2023_boundary_is_the_plans(outcomes):
    """At exactly 55% commune digitisation 2023 passes; at 54% it fails, and the failure names both figures."""

    def commune(name):
        figures = outcomes[name].report.get("metrics", [])
        return next(
            (m for m in figures if m["requirement"] == "P111-KPI-DIGITISATION" and m["level"] == "commune"), None
        )

    at = commune(Case(None, "adapter", 2023).name)
    under = commune(Case("kpi-digitisation-commune-below", "adapter", 2023).name)
    assert at is not None and under is not None, "report.json carries no figure of commune digitisation"
    assert (at["ratio"], at["threshold"], at["verdict"]) == (55.0, 55.0, "PASSED")
    assert (under["ratio"], under["threshold"], under["verdict"]) == (54.0, 55.0, "FAILED")


# Checks no defect of the reference system can turn FAILED, each with the reason (tests/data/unbitten-checks.yaml).
UNBITTEN = yaml.safe_load((Path(__file__).parent / "data" / "unbitten-checks.yaml").read_text(encoding="utf-8"))


def test_every_check_is_failed_by_some_defect(outcomes):
    """Proof per check, not only per requirement: every check the clean runs pass is turned FAILED by at least one
    defect, or is listed, with the reason it cannot be, in tests/data/unbitten-checks.yaml."""
    bitten: dict[str, set[str]] = {}
    for case in CASES:
        if case.defect:
            for nodeid, outcome in check_outcomes(outcomes[case.name].report).items():
                if outcome == "FAILED":
                    bitten.setdefault(nodeid, set()).add(case.defect)
    ran = {
        nodeid
        for case in CASES
        if not case.defect and not case.also
        for nodeid, outcome in check_outcomes(outcomes[case.name].report).items()
        if outcome == "PASSED"
    }
    listed = {entry["check"]: entry["reason"] for entry in UNBITTEN}
    assert all(reason.strip() for reason in listed.values())
    unproven = sorted(ran - set(bitten) - set(listed))
    assert unproven == [], "checks no defect turns FAILED (add a defect, or list them with the reason): " + ", ".join(
        unproven
    )
    assert sorted(set(listed) & set(bitten)) == [], "listed as unbitten, yet some defect fails them"


@pytest.mark.parametrize("variation", VARIATIONS)
def test_a_lawful_variation_keeps_every_clean_verdict(outcomes, variation):
    """No false alarm: under each lawful variation (with the others of its group) every requirement has the verdict it
    has on the plain reference system (the settings the variation carries are what a vendor with that behaviour writes
    in its target)."""
    plain = verdicts(outcomes[Case(None, "adapter").name].report)
    varied = outcomes[Case(None, "adapter", variations=group_of(variation)).name]
    assert varied.report["target"]["document"]["sut"]["variations"] == list(group_of(variation))
    assert verdicts(varied.report) == plain, varied.result.stdout[-3000:]
    assert varied.result.returncode == 0


def test_the_combinations_name_known_defects_and_variations():
    """The combinations above name real defects and variations, and every variation is in exactly one group."""
    for defect, variation in DEFECTS_UNDER_VARIATIONS:
        assert defect in registry() and variation in variation_registry()
    assert sorted(v for group in VARIATION_GROUPS for v in group) == sorted(VARIATIONS)
