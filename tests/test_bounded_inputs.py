"""Bounded parsing, and no traceback ever: every input the `p111` command reads is capped by size and nesting, and
whatever goes wrong ends in one line and exit 2 (a bug of the harness too, with its trace in a file)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import commands as cli
from harness.cli.guard import BROKEN_PIPE

DEPTH = 100_000
RUN_SECONDS = 120


def p111(
    *args: str, env: dict[str, str] | None = None, timeout: float = RUN_SECONDS
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def deep_json(path: Path) -> Path:
    path.write_text("[" * DEPTH + "]" * DEPTH, encoding="utf-8")
    return path


def deep_object(path: Path) -> Path:
    path.write_text('{"a":' * DEPTH + "1" + "}" * DEPTH, encoding="utf-8")
    return path


def deep_yaml(path: Path) -> Path:
    path.write_text("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 2000)), encoding="utf-8")
    return path


def alias_bomb(path: Path) -> Path:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\nsut: *l9\n", encoding="utf-8")
    return path


def assert_one_clean_line(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr and "RecursionError" not in done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if line.strip()]
    assert 1 <= len(said) <= 3, said  # one line (a target's refusal: its header, the file, the problem)


# (name, how to build the input in tmp_path, the command)
DEEP: list[tuple[str, Callable[[Path], Path], Callable[[Path, Path], list[str]]]] = [
    ("validate-config-json", lambda d: deep_json(d / "t.json"), lambda f, d: ["validate-config", str(f)]),
    ("validate-config-yaml", lambda d: deep_yaml(d / "t.yaml"), lambda f, d: ["validate-config", str(f)]),
    ("validate-message", lambda d: deep_object(d / "m.json"), lambda f, d: ["validate-message", "dossier", str(f)]),
    ("kpi-json", lambda d: deep_json(d / "dossiers.json"), lambda f, d: ["kpi", "--data", str(f), "--year", "2025"]),
    ("kpi-ndjson", lambda d: deep_object(d / "dossiers.ndjson"),
     lambda f, d: ["kpi", "--data", str(f), "--year", "2025"]),
    ("score766", lambda d: deep_object(d / "reply.json"), lambda f, d: ["score766", str(f)]),
    ("diff", lambda d: deep_json(d / "report.json"), lambda f, d: ["diff", str(f), str(f)]),
    ("run", lambda d: deep_json(d / "t.json"), lambda f, d: ["run", "--target", str(f), "--report", str(d / "out")]),
    ("verify", lambda d: deep_json(d / "manifest.json"), lambda f, d: ["verify", str(d)]),
]


@pytest.mark.parametrize("make, command", [(m, c) for _, m, c in DEEP], ids=[n for n, _, _ in DEEP])
def test_deep_input_is_one_line_and_exit_2(tmp_path, make, command):
    assert_one_clean_line(p111(*command(make(tmp_path), tmp_path)))


@pytest.mark.parametrize("command", ["validate-config", "run"])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, command):
    bomb = alias_bomb(tmp_path / "bomb.yaml")
    args = ["validate-config", str(bomb)] if command == "validate-config" else [
        "run", "--target", str(bomb), "--report", str(tmp_path / "out")]
    started = time.monotonic()
    done = p111(*args, timeout=60)
    assert_one_clean_line(done)
    assert "aliases" in done.stderr
    print(f"alias bomb refused by {command} in {time.monotonic() - started:.2f} s")


def test_a_200_mb_target_is_refused_by_its_size(tmp_path):
    huge = tmp_path / "huge.target.yaml"
    with huge.open("wb") as file:
        file.truncate(200 * 1024 * 1024)  # sparse: costs no disk, but its size is what is checked
    done = p111("validate-config", str(huge), timeout=60)
    assert_one_clean_line(done)
    assert "P111_MAX_TARGET_MB" in done.stderr and "1048576" in done.stderr and "209715200" in done.stderr


@pytest.mark.parametrize("kind, variable, command", [
    ("message", "P111_MAX_MESSAGE_MB", lambda f: ["validate-message", "dossier", str(f)]),
    ("reply", "P111_MAX_REPLY_MB", lambda f: ["score766", str(f)]),
    ("report", "P111_MAX_REPORT_MB", lambda f: ["diff", str(f), str(f)]),
    ("export", "P111_MAX_EXPORT_MB", lambda f: ["kpi", "--data", str(f), "--year", "2025"]),
])
def test_every_input_has_a_cap_that_names_how_to_raise_it(tmp_path, kind, variable, command):
    data = tmp_path / "dossiers.json"
    data.write_text(json.dumps([{"x": "y" * 5000}]), encoding="utf-8")
    done = p111(*command(data), env={variable: "0.001"})
    assert_one_clean_line(done)
    assert variable in done.stderr and "too large" in done.stderr


def test_an_internal_error_is_one_line_and_a_trace_file(monkeypatch, capsys):
    def broken(args):
        raise ZeroDivisionError("a bug of the harness")

    monkeypatch.setattr(cli, "cmd_requirements", broken)
    assert cli.main(["requirements"]) == 2
    said = capsys.readouterr()
    lines = [line for line in said.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "ZeroDivisionError" in lines[0] and "Traceback" not in said.err
    trace = Path(lines[0].rsplit(": ", 1)[1])
    assert "Traceback" in trace.read_text(encoding="utf-8") and "a bug of the harness" in trace.read_text()
    assert trace.stat().st_mode & 0o777 == 0o600
    trace.unlink()


def test_an_interrupt_outside_a_run_is_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_defects", interrupted)
    assert cli.main(["defects"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_broken_pipe_ends_quietly(tmp_path):
    wide = tmp_path / "wide.json"  # 5000 warnings: far more than a pipe holds before `head` has gone
    wide.write_text(json.dumps({f"Extra{i:05d}": "x" for i in range(5000)}), encoding="utf-8")
    err = tmp_path / "err.txt"
    script = f'"{sys.executable}" -m harness.cli validate-message dossier "{wide}" 2>"{err}" | head -1; ' \
             'exit ${PIPESTATUS[0]}'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.count("\n") == 1
    assert err.read_text() == ""  # no traceback, no "Exception ignored"
    assert done.returncode == BROKEN_PIPE


def test_a_sut_answer_nested_too_deeply_is_not_json_to_the_driver():
    """The SUT's answers are bounded like every input: nesting past MAX_DEPTH is an answer that is not the JSON the
    driver needs (a DriverError naming it, the check ERROR), never a RecursionError."""
    import httpx

    from harness.core import limits
    from harness.sut.drivers import DriverError, ReferenceApiDriver

    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValueError, match="nested too deeply"):
        limits.json_of(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        limits.json_of("[" * 150 + "]" * 150)  # parses, but deeper than any message of the contract
    json_type = {"content-type": "application/json"}
    answer = httpx.MockTransport(lambda request: httpx.Response(200, text=deep, headers=json_type))
    driver = ReferenceApiDriver(httpx.Client(base_url="http://sut.test", transport=answer))
    with pytest.raises(DriverError, match="not JSON"):
        driver.services()
