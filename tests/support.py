"""Helpers for the harness's own tests: running `p111` as a user would, reading its reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.core.catalog import load_catalog

P111 = [sys.executable, "-m", "harness.cli"]


def run_p111(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Runs the `p111` command in a fresh process, as a user would, from `cwd`."""
    return subprocess.run(
        [*P111, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def run_p111_here(args: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    """Runs `p111` inside this process, as `run_p111` does in a fresh one: for a pool worker that imported the harness
    once and runs many cases (the self-test matrix), so that each case does not pay for the start-up again."""
    import contextlib
    import io

    from harness import cli

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess([*P111, *args], code, out.getvalue(), err.getvalue())


def read_report(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "report.json").read_text(encoding="utf-8"))


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in report["requirements"]}


def sign_in(sut: Any, sso: Any, account: str = "officer-1") -> dict[str, str]:
    """Signs a test account on through the SUT's sign-on flow by hand (two httpx.Clients that follow no redirects);
    returns the headers that carry the session."""
    from urllib.parse import urlencode, urlsplit

    authorize = sut.get("/auth/login").headers["location"]
    back = urlsplit(sso.get(f"{authorize}&{urlencode({'login_hint': account})}").headers["location"])
    answer = sut.get(f"{back.path}?{back.query}")
    sut.cookies.clear()
    return {"cookie": f"p111_session={answer.cookies['p111_session']}"}


def plan_requirement_count() -> int:
    """How many requirements the plan has: read from the catalog, so that adding one touches no test."""
    return len(load_catalog())


def vendor_target_file(path: Path, system: str, counterparts: dict[str, dict[str, Any]]) -> Path:
    """A target file for a vendor's system at `system` (not embedded), with its counterparts (portal, payment, sso)
    as given."""
    document = {
        "name": "Hệ thống của nhà cung cấp",
        "province": {"code": "H40", "name": "Nam Định"},
        "agencies": [{"code": "000.00.00.H40", "name": "UBND tỉnh Nam Định", "level": "province"}],
        "sut": {"embedded": False, "base_url": system},
        "counterparts": counterparts,
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path
