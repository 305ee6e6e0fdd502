"""schemas/target.schema.json, generated from the typed model (harness.config.model) by pydantic, tidied to read as
a hand-written schema would: sections inline, no titles, no `null` defaults. `python -m harness.config.schema`
writes the file; tests/test_target_model.py fails when the committed file differs from what this makes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from harness.config.fields import EXTERNAL_REF, words
from harness.config.model import Target

HEADER = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://p111.example/schemas/target.schema.json",
    "title": "Cấu hình hệ thống được kiểm thử (target.yaml) / Target configuration",
    "description": words(
        "Hệ thống một cửa điện tử được kiểm thử, các hệ thống đối tác mà nó gọi tới, và cách chạy bộ kiểm thử. Bí "
        "mật chỉ được ghi dưới dạng tham chiếu biến môi trường ${TEN_BIEN}.",
        "The one-stop system under test, the counterparts it calls, and how the harness runs. Secrets are written "
        "only as environment-variable references ${NAME}.",
    ),
}


def generate() -> dict[str, Any]:
    generated = TypeAdapter(Target).json_schema(by_alias=True, mode="validation")
    definitions = generated.pop("$defs", {})
    body = _tidy(_inlined(generated, definitions))
    return HEADER | {k: v for k, v in body.items() if k not in ("title", "description")}


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """Every `#/$defs/…` reference (one per section class) replaced by the section, its own words kept."""
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref", "")
    if reference.startswith("#/$defs/"):
        section = definitions[reference.removeprefix("#/$defs/")]
        node = {k: v for k, v in section.items() if k != "description"} | {k: v for k, v in node.items() if k != "$ref"}
    return {key: _inlined(value, definitions) for key, value in node.items()}


def _tidy(node: Any, in_properties: bool = False) -> Any:
    """Without pydantic's titles, `null` defaults (a field that may be left out has none) and the `true` that
    `additionalProperties` means anyway."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {name: _tidy(schema) for name, schema in node.items()}
    dropped = {"title"} | ({"default"} if node.get("default", 0) is None else set())
    if node.get("additionalProperties") is True:
        dropped.add("additionalProperties")
    if "enum" in node:  # the values say their kind; a separate `type` would be a second problem for one mistake
        dropped.add("type")
    return {
        "$ref" if key == EXTERNAL_REF else key: _tidy(value, key == "properties")
        for key, value in node.items()
        if key not in dropped
    }


def text() -> str:
    return json.dumps(generate(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Write the schema to the path given (the repository's schemas/target.schema.json by default)."""
    path = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "schemas" / "target.schema.json"
    path.write_text(text(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
