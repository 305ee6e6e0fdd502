"""Real runs of `p111 run`: every output written, junit.xml covered by the signed manifest, verify and diff as CI uses
them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness.reporting import manifest
from tests.support import run_p111

OUTPUTS = {"report.json", "report.html", "junit.xml", "evidence.ndjson", "evidence.har", "manifest.json",
           "summary.md", "redactions.json"}
# One requirement's checks keep the runs short; the others are then NOT-TESTED in both runs.
ONLY = ("--allow-not-tested", "--", "-k", "test_sync_dossier")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    private, public = manifest.generate_keys(root / "keys")
    clean = run_p111("run", "--report", str(root / "clean"), *ONLY, cwd=root)
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]
    broken = run_p111("run", "--report", str(root / "broken"), "--defect", "sync-never-sent", "--sign", str(private),
                      "--lang", "en", *ONLY, cwd=root)
    assert broken.returncode == 1, broken.stdout[-3000:] + broken.stderr[-3000:]
    return {"root": root, "clean": root / "clean", "broken": root / "broken", "public": public}


def test_a_run_writes_every_output(runs):
    for name in ("clean", "broken"):
        assert {p.name for p in runs[name].iterdir()} >= OUTPUTS, name
    assert (runs["broken"] / "manifest.json.sig").is_file() and not (runs["clean"] / "manifest.json.sig").exists()
    report = json.loads((runs["broken"] / "report.json").read_text(encoding="utf-8"))
    assert report["lang"] == "en" and report["outputs"]["junit"] == "junit.xml"
    assert '<html lang="en">' in (runs["broken"] / "report.html").read_text(encoding="utf-8")


def test_the_manifest_covers_junit_as_pytest_finally_wrote_it(runs):
    listed = json.loads((runs["broken"] / "manifest.json").read_text(encoding="utf-8"))["files"]
    junit = (runs["broken"] / "junit.xml").read_bytes()
    assert b"<testsuites" in junit and b"requirement" in junit
    assert listed["junit.xml"]["sha256"] == hashlib.sha256(junit).hexdigest()


def test_verify_and_a_one_byte_change(runs):
    ok = run_p111("verify", str(runs["broken"]), "--key", str(runs["public"]), cwd=runs["root"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    junit = runs["broken"] / "junit.xml"
    original = junit.read_bytes()
    try:
        junit.write_bytes(original.replace(b"<testsuites", b"<testsuiteZ", 1))
        bad = run_p111("verify", str(runs["broken"]), "--key", str(runs["public"]), cwd=runs["root"])
    finally:
        junit.write_bytes(original)
    assert bad.returncode == 1 and "junit.xml" in bad.stdout


def test_diff_between_a_clean_and_a_defect_run_is_a_regression(runs):
    result = run_p111("diff", str(runs["clean"]), str(runs["broken"]), cwd=runs["root"])
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("P111-SYNC-DOSSIER"))
    assert "regressed" in line
    assert run_p111("diff", str(runs["clean"]), str(runs["clean"]), cwd=runs["root"]).returncode == 0
