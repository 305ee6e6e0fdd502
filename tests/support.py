"""Helpers for the harness's own tests: running `p111` as a user would, reading its reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

P111 = [sys.executable, "-m", "harness.cli"]


def run_p111(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Runs the `p111` command in a fresh process, as a user would, from `cwd`."""
    return subprocess.run(
        [*P111, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def read_report(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "report.json").read_text(encoding="utf-8"))


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in report["requirements"]}
