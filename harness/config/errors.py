"""A target's problems as the user reads them: the path of the field and what was expected, never a secret."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.core.errors import P111Error

FILE = "(file)"  # the path of problems that concern the file as a whole


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class TargetError(P111Error):
    """Every problem found in one target file; never carries a secret's value."""

    def __init__(self, problems: Sequence[Problem], source: str = "target") -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__("\n".join([f"{source}:", *(f"  {p}" for p in self.problems)]))


def dotted(parts: Sequence[str | int]) -> str:
    """The path of a field as problems name it: `sut.transactions[0].path`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or FILE
