"""One driver registry (harness.sut.drivers.DRIVERS): the target schema names exactly its drivers, each built-in one
has its options schema and declares on its class what it is (harness.sut.drivers.base.Driver)."""

from __future__ import annotations

import json
import re

from harness.core import resources
from harness.sut import drivers
from harness.sut.drivers import DRIVERS

DECLARED = ("asks_a_person", "shows_steps", "build", "sensitive_names", "offered_exports", "close")


def _schema_driver_names() -> set[str]:
    schema = json.loads((resources.schema_dir() / "target.schema.json").read_text(encoding="utf-8"))
    pattern = schema["properties"]["sut"]["properties"]["driver"]["pattern"]
    alternatives = re.fullmatch(r"\^\((.*)\)\$", pattern).group(1).split("|")  # type: ignore[union-attr]
    return {name for name in alternatives if re.fullmatch(r"[a-z][a-z-]*", name)}  # built-ins, not module:Class


def test_the_target_schema_names_exactly_the_registered_drivers():
    assert _schema_driver_names() == set(DRIVERS)


def test_each_built_in_driver_has_an_options_schema_and_declares_what_it_is():
    for name, cls in DRIVERS.items():
        assert (resources.schema_dir() / "drivers" / f"{name}.schema.json").is_file(), name
        missing = [member for member in DECLARED if member not in vars(cls)]
        assert missing == [], f"{name} ({cls.__name__}) does not declare {missing}"
    assert [name for name in DRIVERS if drivers.asks_a_person(DRIVERS[name])] == ["operator"]
    assert [name for name in DRIVERS if drivers.shows_steps(DRIVERS[name])] == ["operator"]
    assert drivers.person_driven("operator") and not drivers.person_driven("vendor_module:Driver")


def test_a_vendor_class_that_declares_nothing_gets_the_defaults():
    class Bare:
        pass

    bare = Bare()
    assert not drivers.asks_a_person(bare) and not drivers.shows_steps(bare)
    assert drivers.offered_exports(bare) is None
    drivers.close(bare)  # nothing to close: no error
