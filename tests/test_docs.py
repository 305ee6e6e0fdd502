"""The acceptance guides and the CI examples: they exist, parse, and name only commands and flags the CLI has."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import parser
from harness.core.catalog import load_catalog
from harness.core.verdicts import Verdict

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = {"vi": DOCS / "acceptance-guide.vi.md", "en": DOCS / "acceptance-guide.en.md"}
CI = ROOT / "examples" / "ci"
LABELS = ROOT / "harness" / "data" / "labels.yaml"
VERDICTS = tuple(v.value for v in Verdict)  # every verdict the reports print

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
SHELL_SPLIT = re.compile(r"&&|\|\||;|\|")


def _text(lang: str) -> str:
    return GUIDES[lang].read_text(encoding="utf-8")


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands(text: str) -> list[str]:
    """Every `p111 …` command line of a guide: in fenced blocks (comments dropped, split at shell separators) and in
    inline code spans that start with `p111 `."""
    found: list[str] = []
    blocks = FENCE.findall(text)
    for block in blocks:
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("#"):
                continue
            for part in SHELL_SPLIT.split(line):
                part = part.strip().lstrip("- ").strip()
                if part.startswith("p111 "):
                    found.append(part)
    prose = FENCE.sub("", text)
    found += [span.strip() for span in INLINE.findall(prose) if span.strip().startswith("p111 ")]
    return found


def _resolve(command: str) -> tuple[list[str], argparse.ArgumentParser, list[str]]:
    """The subcommand path, its parser and the tokens after it (up to a bare `--`)."""
    tokens = shlex.split(command.replace("…", "x"))
    assert tokens[0] == "p111"
    current = parser()
    path: list[str] = []
    rest = tokens[1:]
    while rest and (choices := _subparsers(current)) and not rest[0].startswith("-"):
        assert rest[0] in choices, f"`{command}`: {rest[0]!r} is not a subcommand of p111 {' '.join(path)}".strip()
        path.append(rest[0])
        current = choices[rest[0]]
        rest = rest[1:]
    if "--" in rest:
        rest = rest[: rest.index("--")]
    return path, current, rest


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_guide_exists_and_is_focused(lang: str) -> None:
    text = _text(lang)
    assert text.startswith("# ")
    assert 150 <= len(text.splitlines()) <= 380  # grows a line or two with each lawful variation it names


def test_guides_have_the_same_sections() -> None:
    sections = {lang: re.findall(r"^## (\d+)\.", _text(lang), re.MULTILINE) for lang in GUIDES}
    assert sections["vi"] == sections["en"]
    assert len(sections["vi"]) == 5


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_every_command_in_a_guide_is_real(lang: str) -> None:
    commands = _commands(_text(lang))
    used = {c.split()[1] for c in commands if len(c.split()) > 1}
    assert {"run", "validate-config", "mocks", "keygen", "verify", "diff"} <= used
    for command in commands:
        path, sub, rest = _resolve(command)
        assert path or rest == ["--help"], f"`{command}` names no subcommand"
        known = set(sub._option_string_actions)
        for token in rest:
            if token.startswith("-") and token != "-":
                flag = token.split("=", 1)[0]
                assert flag in known, f"`{command}`: {flag} is not an option of p111 {' '.join(path)}"


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_run_flags_are_options_of_p111_run(lang: str) -> None:
    runs = [c for c in _commands(_text(lang)) if c.startswith("p111 run")]
    assert any("--target" in c and "--report" in c for c in runs)
    options = set(_subparsers(parser())["run"]._option_string_actions)
    for command in runs:
        _, _, rest = _resolve(command)
        for flag in (t.split("=", 1)[0] for t in rest if t.startswith("--")):
            assert flag in options, f"`{command}`: {flag} is not an option of p111 run"


def test_the_command_checker_catches_a_wrong_flag() -> None:
    with pytest.raises(AssertionError):
        _resolve("p111 frobnicate --x")
    _, sub, rest = _resolve("p111 run --target t.yaml --reports out -- -k x")
    assert "--reports" in rest and "--reports" not in sub._option_string_actions
    assert "-k" not in rest


def test_vietnamese_guide_uses_the_report_labels() -> None:
    labels = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["vi"]
    text = _text("vi")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    for verdict in VERDICTS:
        label = labels[f"verdict_{verdict}"]
        assert label in text, f"{label!r} (label of {verdict}) is not in the Vietnamese guide"
        row = next((r for r in rows if r.split("|")[1].strip() == verdict), None)
        assert row is not None, f"the verdict table has no row for {verdict}"
        assert row.split("|")[2].strip() == label, f"{verdict} should read {label!r}, as the reports print it"
    for family in {r.family for r in load_catalog()}:
        assert labels[f"family_{family}"] in text


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_a_guide_names_every_requirement_of_the_plan(lang: str) -> None:
    """What p111 proves (section 1) lists every requirement of the catalog: a new one is written into both guides."""
    text = _text(lang)
    assert [i for i in load_catalog().ids if f"`{i}`" not in text] == []


def test_english_guide_names_every_verdict() -> None:
    rows = [line.split("|")[1].strip() for line in _text("en").splitlines() if line.startswith("| ")]
    assert set(VERDICTS) <= set(rows)


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_paths_named_by_a_guide_exist(lang: str) -> None:
    for path in set(re.findall(r"`((?:examples|schemas)/[^`\s]+)`", _text(lang))):
        assert (ROOT / path).exists(), path


def _shell(value: Any) -> str:
    return "\n".join(value) if isinstance(value, list) else str(value or "")


def test_gitlab_ci_example() -> None:
    doc = yaml.safe_load((CI / "gitlab-ci.yml").read_text(encoding="utf-8"))
    jobs = {name: job for name, job in doc.items() if isinstance(job, dict) and "script" in job}
    assert jobs
    job = next(j for j in jobs.values() if "p111 run" in _shell(j["script"]))
    assert "--target ci/staging.target.yaml --report out" in _shell(job["script"])
    assert "pip install" in _shell(job.get("before_script")) + _shell(job["script"])
    artifacts = job["artifacts"]
    assert artifacts["reports"]["junit"] == "out/junit.xml"
    assert "out/" in artifacts["paths"]
    assert artifacts["when"] == "always"


def test_github_actions_example() -> None:
    doc = yaml.safe_load((CI / "github-actions.yml").read_text(encoding="utf-8"))
    assert True in doc or "on" in doc  # PyYAML reads the bare key `on` as a boolean
    steps = [step for job in doc["jobs"].values() for step in job["steps"]]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("p111 run --target ci/staging.target.yaml --report out" in r for r in runs)
    assert any("pip install" in r for r in runs)
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload and upload[0]["with"]["path"] == "out/" and upload[0]["if"] == "always()"
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert tuple(int(x) for x in str(setup["with"]["python-version"]).split(".")) >= (3, 11)


def _balanced(text: str) -> bool:
    """Braces and parentheses balance outside quoted strings and comments (a light check of Groovy)."""
    code = re.sub(r"//[^\n]*", "", text)
    code = re.sub(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"", "''", code)
    stack: list[str] = []
    pairs = {"}": "{", ")": "("}
    for char in code:
        if char in "{(":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


def test_jenkinsfile_example() -> None:
    text = (CI / "Jenkinsfile").read_text(encoding="utf-8")
    assert _balanced(text)
    for needle in ("pipeline {", "stages {", "sh 'p111 run", "junit", "archiveArtifacts", "post {", "always {"):
        assert needle in text, needle
    assert "sh 'p111 run --target ci/staging.target.yaml --report out'" in text
    assert "out/junit.xml" in text
    assert "credentials(" in text


def test_balance_check_bites() -> None:
    assert not _balanced("pipeline { stages { }")
    assert _balanced("pipeline { sh 'echo }' }")
