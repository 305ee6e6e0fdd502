"""The self-test matrix: the reference system passes every built requirement; each defect fails exactly its own."""

from __future__ import annotations

import json

import pytest

from harness import schemas
from mocks.reference.defects import registry
from tests.support import read_report, run_p111, verdicts


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("clean")
    result = run_p111("run", "--report", str(directory), cwd=directory)
    return result, read_report(directory)


def built(report) -> set[str]:
    """Requirements that have checks: the ones the matrix holds to account."""
    return {r["id"] for r in report["requirements"] if r["checks"]}


def test_reference_system_passes_every_built_requirement(clean_run):
    result, report = clean_run
    assert schemas.first_error("report", report) is None
    assert built(report) >= {"P111-SYNC-DOSSIER", "P111-SYNC-PROGRESS", "P111-CODES", "P111-LIFECYCLE"}
    failing = {rid: v for rid, v in verdicts(report).items() if rid in built(report) and v != "PASSED"}
    assert failing == {}, result.stdout[-3000:]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert report["summary"]["verdict"] == "PASSED"


def test_requirements_without_checks_are_not_tested(clean_run):
    _, report = clean_run
    for requirement in report["requirements"]:
        if not requirement["checks"]:
            assert requirement["verdict"] == "NOT-TESTED"
            assert requirement["reason"]


@pytest.mark.parametrize("defect", sorted(registry()))
def test_defect_fails_exactly_its_requirements(defect, tmp_path, clean_run):
    result = run_p111("run", "--defect", defect, "--report", str(tmp_path), cwd=tmp_path)
    report = read_report(tmp_path)
    assert report["defects"] == [defect]
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    got = verdicts(report)
    expected_failed = set(registry()[defect].requirements)
    failed = {rid for rid, v in got.items() if v == "FAILED"}
    assert failed == expected_failed, result.stdout[-4000:]
    for rid in built(clean_run[1]) - expected_failed:
        assert got[rid] == "PASSED", f"{defect} disturbed {rid}: {got[rid]}"
    # Every failed check says what was expected and what came back.
    for requirement in report["requirements"]:
        for check in requirement["checks"]:
            if check["outcome"] == "FAILED":
                assert check["failure"]["expected"] and check["failure"]["received"], check


def test_every_defect_names_requirements_of_the_catalog():
    from harness.catalog import load_catalog

    catalog = load_catalog()
    for defect in registry().values():
        assert set(defect.requirements) <= set(catalog.ids), defect


DIRECT_CASES = {None: set(), "sync-never-sent": {"P111-SYNC-DOSSIER"}, "progress-out-of-order": {"P111-SYNC-PROGRESS"}}


@pytest.mark.parametrize("defect", DIRECT_CASES, ids=lambda d: d or "clean")
def test_direct_transport_is_judged_the_same(defect, tmp_path, clean_run):
    """The .NET client's direct transport (insert, update on "đã tồn tại", progress in chunks) under the same checks."""
    target = tmp_path / "direct.target.yaml"
    target.write_text(
        json.dumps(
            {
                "name": "Hệ thống tham chiếu nhúng, đồng bộ trực tiếp",
                "sut": {"embedded": True},
                "sync": {"transport": "direct"},
                "safety": {"mode": "full", "environment": "test"},
                "timeouts": {"connect_seconds": 5, "request_seconds": 15, "sync_seconds": 1.5},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    args = ["run", "--target", str(target), "--report", str(tmp_path / "out")]
    result = run_p111(*args, *(["--defect", defect] if defect else []), cwd=tmp_path)
    report = read_report(tmp_path / "out")
    failed = {rid for rid, v in verdicts(report).items() if v == "FAILED"}
    assert failed == DIRECT_CASES[defect], result.stdout[-3000:]
    for rid in built(clean_run[1]) - failed:
        assert verdicts(report)[rid] == "PASSED"
    if defect is None:  # the portal's request log, fetched by the checks, shows which transport carried the sync
        assert '"channel": "direct"' in (tmp_path / "out" / "evidence.ndjson").read_text(encoding="utf-8")
