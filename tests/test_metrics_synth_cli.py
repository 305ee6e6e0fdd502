"""Synthetic histories (reproducible, exact ratios, boundary cases) and the kpi / score766 / synth commands."""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import pytest

from harness.cli.metrics import add_commands
from harness.core.verdicts import Verdict
from harness.metrics import evaluate, load_datasets, synth

REPLY = Path(__file__).parent / "data" / "metrics" / "formality-online-payment-tree.year-all.json"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="p111")
    add_commands(parser.add_subparsers(required=True))
    args = parser.parse_args(list(argv))
    return int(args.handler(args))


def test_same_seed_same_bytes(tmp_path):
    first = synth.write_history(tmp_path / "a" / "h.ndjson", dossiers=500, year=2023, seed=5)
    second = synth.write_history(tmp_path / "b" / "h.ndjson", dossiers=500, year=2023, seed=5)
    for one, two in zip(first.paths(), second.paths(), strict=True):
        assert one.read_bytes() == two.read_bytes()
    other = synth.write_history(tmp_path / "c" / "h.ndjson", dossiers=500, year=2023, seed=6)
    assert other.dossiers.read_bytes() != first.dossiers.read_bytes()


@pytest.mark.parametrize(("percent", "verdict"), [(55.0, Verdict.PASSED), (54.0, Verdict.FAILED)])
def test_exact_commune_digitisation_at_and_below_the_2023_threshold(tmp_path, percent, verdict):
    summary = synth.write_history(tmp_path / "h.ndjson", dossiers=2000, year=2023, seed=1,
                                  overrides={"digitisation@commune": percent})
    assert summary.ratio("digitisation@commune") == Fraction(str(percent))
    results = evaluate(load_datasets(summary.paths()), year=2023)
    commune = next(r for r in results if r.definition == "digitisation.results-by-level" and r.level == "commune")
    assert commune.ratio == percent and commune.verdict == verdict
    assert (commune.numerator, commune.denominator) == summary.counts[("digitisation.results-by-level", "commune")]


def test_every_true_ratio_is_what_the_engine_measures(tmp_path):
    summary = synth.write_history(tmp_path / "h.ndjson", dossiers=1500, year=2024, seed=9,
                                  overrides={"online-dossiers": 59.5, "auth": 100, "portal": 97.5})
    assert summary.ratio("online-dossiers") == Fraction("59.5") and summary.ratio("auth") == 100
    datasets = load_datasets(summary.paths(), eager=False)
    results = evaluate(datasets, year=2024)
    assert datasets.bad_rows == []
    for r in results:
        assert (r.numerator, r.denominator) == summary.counts[(r.definition, r.level)], r.definition


def test_an_unreachable_exact_ratio_is_refused(tmp_path):
    with pytest.raises(synth.SynthError):
        synth.write_history(tmp_path / "h.ndjson", dossiers=10, year=2023, seed=1, overrides={"portal": 33.3})
    with pytest.raises(synth.SynthError, match="unknown synth target"):
        synth.write_history(tmp_path / "h.ndjson", dossiers=10, year=2023, seed=1, overrides={"speed": 1})


def test_kpi_command_exit_codes_languages_and_report(tmp_path, capsys):
    assert run("synth", "--dossiers", "800", "--year", "2023", "--seed", "2", "--output",
               str(tmp_path / "h.ndjson"), "--set", "digitisation@commune=50") == 0
    files = [str(p) for p in synth.SynthSummary(tmp_path / "h.ndjson", *synth.sidecar_paths(tmp_path / "h.ndjson"),
                                                2023, 2, 800).paths()]
    capsys.readouterr()
    assert run("kpi", "--data", *files, "--year", "2023") == 1  # commune digitisation 50% < 55%
    out = capsys.readouterr().out
    assert "KHÔNG ĐẠT" in out and "hồ sơ có kết quả chưa số hóa" in out
    assert run("kpi", "--data", *files, "--year", "2023", "--lang", "en", "--output", str(tmp_path / "r.json")) == 1
    out = capsys.readouterr().out
    assert "PASSED" in out and "FAILED" in out and "dossiers with a result not digitised" in out
    assert run("kpi", "--data", *files, "--year", "2021") == 0  # no target failed that year
    written = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {r["requirement"] for r in written["results"]} >= {"P111-KPI-PAYMENT", "P111-KPI-AUTH"}
    assert run("kpi", "--data", str(tmp_path / "missing.ndjson"), "--year", "2023") == 2


def test_kpi_names_the_files_of_a_directory_it_did_not_read(tmp_path, capsys):
    """A compressed export or a misnamed file in the directory given is left out of the figures: said, never silent."""
    folder = tmp_path / "export"
    assert run("synth", "--dossiers", "300", "--year", "2023", "--seed", "3", "--output",
               str(folder / "history.ndjson")) == 0
    (folder / "more-dossiers.ndjson.gz").write_bytes(b"\x1f\x8b")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")  # a job's marker: neither data nor a surprise
    capsys.readouterr()
    run("kpi", "--data", str(folder), "--year", "2023", "--json")
    captured = capsys.readouterr()
    assert json.loads(captured.out)["unread_files"] == [str(folder / "more-dossiers.ndjson.gz")]
    assert "files not read" in captured.err and "more-dossiers.ndjson.gz" in captured.err
    assert "_SUCCESS" not in captured.err


@pytest.mark.parametrize(("name", "file_format", "written"), [
    ("history", "ndjson", "history.ndjson"),  # no extension: the format's is added
    ("history", "parquet", "history.parquet"),
    ("history.jsonl", "ndjson", "history.jsonl"),  # an extension kpi reads as that format: kept
    (None, "ndjson", "history.ndjson"),  # the default name, in either format
    (None, "parquet", "history.parquet"),
])
def test_synth_writes_a_name_that_kpi_then_reads(tmp_path, monkeypatch, capsys, name, file_format, written):
    monkeypatch.chdir(tmp_path)
    output = [] if name is None else ["--output", str(tmp_path / name)]
    assert run("synth", "--dossiers", "300", "--year", "2023", "--format", file_format, *output) == 0
    assert (tmp_path / written).is_file()
    assert name in (None, written) or not (tmp_path / name).exists()
    capsys.readouterr()
    assert run("kpi", "--data", str(tmp_path), "--year", "2023", "--json") in (0, 1)
    document = json.loads(capsys.readouterr().out)
    online = next(r for r in document["results"] if r["requirement"] == "P111-KPI-ONLINE-DOSSIERS")
    assert online["denominator"] == 300 and document["bad_rows"] == []


@pytest.mark.parametrize(("name", "file_format"), [
    ("history.csv", "ndjson"), ("history.txt", "ndjson"), ("history.parquet", "ndjson"), ("history.2023", "ndjson"),
    ("history.ndjson", "parquet"),
])
def test_synth_refuses_a_name_whose_extension_kpi_would_read_otherwise(tmp_path, capsys, name, file_format):
    assert run("synth", "--dossiers", "300", "--year", "2023", "--format", file_format,
               "--output", str(tmp_path / name)) == 2
    error = capsys.readouterr().err
    expected = ".parquet" if file_format == "parquet" else ".ndjson"
    assert name in error and expected in error and "/" in error and "đuôi" in error  # Vietnamese, then English
    assert list(tmp_path.iterdir()) == []


def test_score766_command_shows_computed_and_portal_points(capsys):
    assert run("score766", str(REPLY), "--json") == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 164
    assert all(r["computed"] == r["portal"] for r in rows)
    assert {"departmentId", "departmentCode", "computed", "portal"} <= rows[1].keys()
    assert all(r["departmentId"] for r in rows)
    assert run("score766", str(REPLY)) == 0
    out = capsys.readouterr().out
    assert "H44.03" in out and "019d2be3-6a88-732b-8b17-b68020c8553a" in out and "exact: 164" in out


def test_score766_ends_quietly_when_the_reader_closes_the_pipe():
    import subprocess
    import sys

    command = [sys.executable, "-m", "harness.cli", "score766", "--json", str(REPLY)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()  # `| head -1`
        process.stdout.close()
        error = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0
    assert "Traceback" not in error and "BrokenPipe" not in error


def test_score766_refuses_what_is_not_a_reply(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"data": {}}', encoding="utf-8")
    assert run("score766", str(path)) == 2
