"""The dossier lifecycle (statuses and lawful transitions) as data, and the words failure messages cite."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness import resources, schemas

LIFECYCLE_FILE = "lifecycle.yaml"


@dataclass(frozen=True)
class Action:
    name: str
    to: str  # a status, or "resume"
    actor: str


@dataclass(frozen=True)
class Lifecycle:
    statuses: dict[str, tuple[str, str]]  # status -> (vi, en)
    end_states: frozenset[str]
    transitions: dict[str, frozenset[str]]
    actions: dict[str, Action]

    def allows(self, current: str, new: str) -> bool:
        return new in self.transitions.get(current, frozenset())

    def name(self, status: str) -> str:
        vi, _ = self.statuses.get(status, ("trạng thái không xác định", "unknown status"))
        return f"{status} ({vi})"

    def rule(self, current: str) -> str:
        """The sentence a failure message cites: what lifecycle.yaml allows from `current`."""
        allowed = sorted(self.transitions.get(current, frozenset()), key=int)
        moves = ", ".join(self.name(s) for s in allowed) if allowed else "none (end state)"
        return f"{LIFECYCLE_FILE}: from {self.name(current)} the lawful moves are: {moves}"

    def is_lawful_path(self, statuses: list[str]) -> bool:
        """A history the lifecycle allows: not empty, and every move one of `transitions` (a status kept from one step
        to the next only where lifecycle.yaml allows it, e.g. 4 -> 4)."""
        return bool(statuses) and all(self.allows(a, b) for a, b in zip(statuses, statuses[1:], strict=False))

    def status_after(self, actions: tuple[str, ...] | list[str], start: str = "1") -> str:
        """The status lawful `actions` lead a dossier to from `start`; `supplement` resumes the status held before
        the supplement was requested (received, processing or payment; received otherwise)."""
        status, resume = start, "2"
        for action in actions:
            to = self.actions[action].to
            if to == "5":
                resume = status if status in ("2", "4", "6") else "2"
            status = resume if to == "resume" else to
        return status


@functools.cache
def load_lifecycle(path: Path | None = None) -> Lifecycle:
    document = yaml.safe_load((path or resources.data_file(LIFECYCLE_FILE)).read_text(encoding="utf-8"))
    error = schemas.first_error("lifecycle", document)
    if error is not None:
        raise ValueError(f"{LIFECYCLE_FILE} is invalid: {schemas.describe(error)}")
    return Lifecycle(
        statuses={k: (v["vi"], v["en"]) for k, v in document["statuses"].items()},
        end_states=frozenset(document["end_states"]),
        transitions={k: frozenset(v) for k, v in document["transitions"].items()},
        actions={k: Action(k, v["to"], v["actor"]) for k, v in document["actions"].items()},
    )
