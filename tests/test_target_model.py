"""The target schema (the public contract vendors validate against) is generated from the typed model, so each
field is defined once: these tests keep the committed file equal to what the model makes, and the model honest."""

from __future__ import annotations

import json
from typing import Any

from harness.config import schema
from harness.config.target import Capabilities, embedded_target
from harness.core.resources import schema_dir

REGENERATE = "python -m harness.config.schema"


def committed(text: str | None = None) -> dict[str, Any]:
    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}"
        return dict(pairs)

    text = text if text is not None else (schema_dir() / "target.schema.json").read_text(encoding="utf-8")
    return json.loads(text, object_pairs_hook=refuse_duplicates)


def test_the_committed_schema_is_the_one_the_model_generates() -> None:
    assert committed() == schema.generate(), f"the model and schemas/target.schema.json differ: run {REGENERATE}"
    assert (schema_dir() / "target.schema.json").read_text(encoding="utf-8") == schema.text()


def test_the_schema_keeps_the_shapes_vendors_rely_on() -> None:
    document = committed()
    sut = document["properties"]["sut"]
    assert sut["then"] == {"properties": {"base_url": {"not": {}}}}  # embedded: no base_url
    assert {r["then"]["properties"]["driver_options"]["$ref"] for r in sut["allOf"]} == {
        "drivers/reference-api.schema.json", "drivers/http.schema.json", "drivers/operator.schema.json"
    }
    portal = document["properties"]["counterparts"]["properties"]["portal"]
    assert portal["then"] == {"required": ["url"]} and portal["additionalProperties"] is False
    secret = sut["properties"]["api_key"]
    assert secret["pattern"] == r"^\$\{[A-Z_][A-Z0-9_]*\}$" and "$ref" not in json.dumps(document["properties"]["sync"])
    assert document["properties"]["timeouts"]["default"] == {} and "default" not in sut["properties"]["base_url"]


def test_the_schema_defaults_are_the_model_defaults() -> None:
    # The embedded target leaves politeness and fuzz to their defaults: the document (schema defaults filled in)
    # and the typed object (model defaults) agree.
    target = embedded_target()
    document = target.public_dict()
    assert document["politeness"]["max_concurrency"] == target.politeness.max_concurrency == 4
    assert document["fuzz"]["undocumented_status"] == target.fuzz.undocumented_status == "lenient"
    assert document["capabilities"]["sign_on"] == list(Capabilities().sign_on)


def test_duplicate_keys_in_a_schema_are_caught() -> None:
    # json.loads keeps the last of two equal keys silently: a field written twice is one field and one dead text.
    try:
        committed('{"properties": {"a": {}, "a": {}}}')
    except AssertionError as exc:
        assert "duplicate keys ['a']" in str(exc)
    else:
        raise AssertionError("a duplicate key passed")


def test_a_value_the_typed_model_refuses_is_named_without_echoing_it() -> None:
    # Only a bug lets a document the schema accepted reach this; the words still name the field, never the value.
    from harness.config.building import build_target
    from harness.config.target import TargetError

    canary = "CANARY-literal-s3cr3t-77"
    try:
        build_target({"name": "x", "sut": {"embedded": True, "api_key": canary}}, {}, None, "digest")
    except TargetError as exc:
        assert [p.path for p in exc.problems] == ["sut.api_key"] and canary not in str(exc)
    else:
        raise AssertionError("a literal secret was built")


def test_the_public_face_keeps_every_name_the_harness_imports() -> None:
    from harness.config import target

    imported = {  # what other modules, the suite and the mocks import from harness.config.target
        "Agency", "ENV_REFERENCE", "FuzzBudget", "Politeness", "Problem", "Secret", "SyncConfig", "Target",
        "TargetError", "Timeouts", "embedded_target", "is_loopback", "load_target", "load_target_text",
    }
    assert imported <= set(target.__all__) and all(hasattr(target, name) for name in target.__all__)
    loaded = embedded_target()
    assert (loaded.province_code, loaded.safety_mode, loaded.sync.auth_path) == ("H40", "full", "/api/adapter/auth")
    assert loaded.portal is loaded.counterparts.portal and loaded.payment_rules.checksum == "sha256-pipe"
