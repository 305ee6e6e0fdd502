"""Values an OpenAPI document cannot teach, from what the target already knows (for harness.fuzz.fuzzer).

A procedure code field often has a pattern, no enum and no example: nothing generated from it ever names a procedure
the SUT holds, so every generated dossier stops at "no such procedure" and whatever lies behind that check is never
reached. The target knows real values: the procedures it declares (or the catalog the SUT returned), the agencies of
its registry, the dossier codes the SUT gave. A field takes the values of a kind when its name says that kind
(`HINTS`, read without case, "_" or "-") and the value is valid against the field's schema; the fuzzer mixes them
into what it generates and, for valid input, tries each of them once in the document's own example.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

# What a field's name says it holds, in English and in the portal's Vietnamese (MaTTHC, MaCoQuan, MaHoSo …).
HINTS: dict[str, re.Pattern[str]] = {
    "procedure": re.compile(r"procedure|thutuc|tthc"),
    "agency": re.compile(r"agency|coquan|donvi"),
    "dossier": re.compile(r"dossier|hoso"),
}
DROPPED = ("examples", "example", "description", "default", "format")  # what says nothing about validity here


@dataclass(frozen=True)
class Seeds:
    """Real values by kind (procedure, agency, dossier)."""

    by_kind: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def for_field(self, name: str, schema: Any) -> tuple[str, ...]:
        """The real values a field named `name` with `schema` may take: those of the kinds its name says, valid."""
        if not isinstance(schema, dict) or "enum" in schema or "const" in schema:
            return ()
        declared = schema.get("type", "string")
        if "string" not in ([declared] if isinstance(declared, str) else declared):
            return ()
        spoken = re.sub(r"[_\-\s]", "", name.lower())
        pool = [v for kind, hint in HINTS.items() if hint.search(spoken) for v in self.by_kind.get(kind, ())]
        if not pool:
            return ()
        validator = Draft202012Validator({k: v for k, v in schema.items() if k not in DROPPED})
        return tuple(dict.fromkeys(v for v in pool if validator.is_valid(v)))

    def in_body(self, schema: Any, where: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Each place in a JSON body (object properties, nested objects) that takes real values, with them."""
        if not isinstance(schema, dict):
            return
        for name, sub in (schema.get("properties") or {}).items():
            found = self.for_field(name, sub)
            if found:
                yield (*where, name), found
            yield from self.in_body(sub, (*where, name))


def placed(body: Any, where: tuple[str, ...], value: str) -> Any:
    """A copy of `body` with `value` at `where`, creating the objects on the way."""
    top: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    holder = top
    for step in where[:-1]:
        inner = holder.get(step)
        holder[step] = dict(inner) if isinstance(inner, dict) else {}
        holder = holder[step]
    holder[where[-1]] = value
    return top
