"""Small helpers the conformance checks share: schema judgement of what crossed, and evidence references."""

from __future__ import annotations

import warnings
from typing import Any

from harness import schemas
from harness.verdicts import ConformanceWarning, Failure


def received_ref(row: dict[str, Any]) -> str:
    """How a failure message points at one item the portal counterpart received."""
    return f"portal /_p111 item #{row['seq']} (request #{row['request_seq']}, {row['operation']}, {row['received_at']})"


def expect_valid(schema_name: str, rows: list[dict[str, Any]], what: str) -> None:
    """Every received item validates against the real schema; extra fields the portal ignores are one warning."""
    extra: dict[str, int] = {}
    for row in rows:
        error = schemas.first_error(schema_name, row["item"])
        if error is not None:
            raise Failure(
                f"{what} {row['MaHoSo']} does not match {schema_name}",
                expected=f"a message valid against schemas/{schema_name}.schema.json",
                received=schemas.describe(error),
                evidence=received_ref(row),
            )
        for path in schemas.unknown_fields(schema_name, row["item"]):
            extra[path] = extra.get(path, 0) + 1
    if extra:
        listed = ", ".join(f"{path} ({count}×)" for path, count in sorted(extra.items()))
        warnings.warn(ConformanceWarning(f"{what}: fields the portal ignores: {listed}"), stacklevel=2)
