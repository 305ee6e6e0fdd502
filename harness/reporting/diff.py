"""`p111 diff OLD NEW`: per requirement regressed / fixed / unchanged / new between two runs, for CI gates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core import limits

BAD = frozenset({"FAILED", "ERROR"})
ORDER = ("regressed", "fixed", "new", "removed", "unchanged")


@dataclass(frozen=True)
class Change:
    requirement: str
    status: str  # one of ORDER
    old: str | None
    new: str | None


def classify(old: str | None, new: str | None) -> str:
    """regressed: it now fails or errs where it did not, or it no longer passes; fixed: it passes now and did not."""
    if old is None:
        return "new"
    if new is None:
        return "removed"
    if (new in BAD and old not in BAD) or (old == "PASSED" and new != "PASSED"):
        return "regressed"
    if new == "PASSED" and old != "PASSED":
        return "fixed"
    return "unchanged"


def load(path: Path) -> dict[str, Any]:
    """A report.json, or the folder holding one."""
    file = path / "report.json" if path.is_dir() else path
    return dict(limits.load_json(file, "report"))


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    before = {r["id"]: r["verdict"] for r in old["requirements"]}
    after = {r["id"]: r["verdict"] for r in new["requirements"]}
    ids = [*after, *(i for i in before if i not in after)]
    return [Change(i, classify(before.get(i), after.get(i)), before.get(i), after.get(i)) for i in ids]


def exit_code(changes: list[Change]) -> int:
    return 1 if any(c.status == "regressed" for c in changes) else 0
