"""The dossier lifecycle (statuses and lawful transitions) as data, and the words failure messages cite."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.core import resources, schemas

LIFECYCLE_FILE = "lifecycle.yaml"
RESUMABLE = ("2", "4", "6")  # where a supplement resumes handling: received, processing, payment


@dataclass(frozen=True)
class Action:
    name: str
    to: str  # a status, or "resume"
    actor: str


@dataclass(frozen=True)
class CoreMove:
    """An action every system must offer: from each status of `every`, or from at least one of `any_of`."""

    action: str
    every: frozenset[str]
    any_of: frozenset[str]
    offered: str | None  # the capability without which it is not demanded
    basis: str


@dataclass(frozen=True)
class OptionalMove:
    action: str
    sources: frozenset[str]
    why: str


@dataclass(frozen=True)
class Lifecycle:
    statuses: dict[str, tuple[str, str]]  # status -> (vi, en)
    end_states: frozenset[str]
    transitions: dict[str, frozenset[str]]
    actions: dict[str, Action]
    core: dict[str, CoreMove] = field(default_factory=dict)
    optional: tuple[OptionalMove, ...] = ()

    def leads_to(self, current: str, action: str, resume: str | None = None) -> str | None:
        """The status `action` lawfully leads to from `current`, or None when no lawful flow makes that move."""
        known = self.actions.get(action)
        if known is None:
            return None
        new = (resume or "2") if known.to == "resume" else known.to
        if known.to == "resume" and current != "5":
            return None
        return new if self.allows(current, new) else None

    def demands(self, action: str, current: str, offers: Callable[[str], bool] = lambda _: True) -> bool:
        """Whether every system must accept `action` from `current` (a core move); `offers` says which capabilities
        the target declares. A move of an `any_of` group is demanded only as a group (see `demanded_somewhere`)."""
        move = self.core.get(action)
        if move is None or (move.offered and not offers(move.offered)):
            return False
        return current in move.every

    def why_optional(self, action: str, current: str) -> str:
        """Why refusing a lawful, not demanded move is lawful: the reason lifecycle.yaml gives, else the rule."""
        for move in self.optional:
            if move.action == action and current in move.sources:
                return f"{LIFECYCLE_FILE} optional: {move.why}"
        group = self.core.get(action)
        if group is not None and current in group.any_of:
            places = ", ".join(self.name(s) for s in sorted(group.any_of, key=int))
            return f"{LIFECYCLE_FILE} core: {action} is demanded from at least one of {places}, not from each"
        return f"{LIFECYCLE_FILE}: the widest lawful set is an upper bound; only the core moves are demanded"

    def core_rule(self, action: str) -> str:
        move = self.core[action]
        where = move.every or move.any_of
        how = "every one of" if move.every else "at least one of"
        places = ", ".join(self.name(s) for s in sorted(where, key=int))
        return f"{LIFECYCLE_FILE} core: {action} accepted from {how} {places} — {move.basis}"

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

    def actors_of(self, previous: str, new: str) -> frozenset[str]:
        """The roles (each action's `actor`) whose action lawfully moves a dossier from `previous` to `new`: who made a
        step that names no action. More than one role means the move alone does not say (5 -> 2: the applicant's
        supplement, or an officer receiving the dossier again)."""
        roles = set()
        for action in self.actions.values():
            resume = new if action.to == "resume" and new in RESUMABLE else None
            if self.leads_to(previous, action.name, resume) == new:
                roles.add(action.actor)
        return frozenset(roles)

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
                resume = status if status in RESUMABLE else "2"
            status = resume if to == "resume" else to
        return status


@functools.cache
def load_lifecycle(path: Path | None = None) -> Lifecycle:
    document = resources.read_yaml(path or resources.data_file(LIFECYCLE_FILE))
    error = schemas.first_error("lifecycle", document)
    if error is not None:
        raise ValueError(f"{LIFECYCLE_FILE} is invalid: {schemas.describe(error)}")
    lifecycle = Lifecycle(
        statuses={k: (v["vi"], v["en"]) for k, v in document["statuses"].items()},
        end_states=frozenset(document["end_states"]),
        transitions={k: frozenset(v) for k, v in document["transitions"].items()},
        actions={k: Action(k, v["to"], v["actor"]) for k, v in document["actions"].items()},
        core={
            k: CoreMove(k, frozenset(v.get("from", ())), frozenset(v.get("any_of", ())), v.get("offered"), v["basis"])
            for k, v in document["core"].items()
        },
        optional=tuple(OptionalMove(o["action"], frozenset(o["from"]), o["why"]) for o in document["optional"]),
    )
    problem = _inconsistency(lifecycle)
    if problem:
        raise ValueError(f"{LIFECYCLE_FILE} is inconsistent: {problem}")
    return lifecycle


def _inconsistency(lifecycle: Lifecycle) -> str | None:
    """A core or optional move must be a lawful move of a known action, and no move both demanded and optional."""
    moves = [(m.action, s, "core") for m in lifecycle.core.values() for s in m.every | m.any_of]
    moves += [(m.action, s, "optional") for m in lifecycle.optional for s in m.sources]
    for action, source, where in moves:
        if action not in lifecycle.actions:
            return f"{where}: unknown action {action!r}"
        if lifecycle.leads_to(source, action, resume="2") is None:
            return f"{where}: {action} from {source} is not a lawful move"
        if where == "optional" and lifecycle.demands(action, source):
            return f"{action} from {source} is both core and optional"
    return None
