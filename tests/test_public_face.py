"""The public face of `harness` and the direction of its imports.

The face is small on purpose: `harness.__version__`; the `p111` command's `main` and `parser`; the metrics' reading
and measuring; the drivers' protocol, registry and views. Every other name is reached by its module's path, and
each package's docstring says what lives there. Changing the face is a decision: this test names it.

The packages' arrows point one way: core ← config ← http ← sut ← fuzz/reporting ← pytest ← cli, and metrics
reads only core and config. Checked on the source (every import, lazy ones in functions too), not by importing.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import harness

HARNESS = Path(harness.__file__).parent

PUBLIC_FACE = {
    "harness": {"__version__"},
    "harness.core": set(),
    "harness.config": set(),
    "harness.http": set(),
    "harness.sut": set(),
    "harness.fuzz": set(),
    "harness.reporting": set(),
    "harness.pytest": set(),
    "harness.cli": {"main", "parser"},
    "harness.metrics": {
        "BadRow", "DatasetError", "Datasets", "MetricResult", "Measurements", "Source", "evaluate", "load_datasets",
        "load_rows", "measure", "requirement_verdicts",
    },
    "harness.sut.drivers": {
        "DRIVERS", "ActionResult", "DossierView", "Driver", "DriverError", "Fee", "FileView", "HttpDriver", "InboxItem",
        "Login", "NoSignOnOffered", "OperatorDriver", "PaymentView", "ReferenceApiDriver", "Service", "Session",
        "StepView", "asks_a_person", "build_driver", "close", "load_driver", "offered_exports", "person_driven",
        "sensitive_names", "shows_steps",
    },
}

LOWER = {"core": set(), "config": {"core"}, "http": {"core", "config"}}
LOWER["sut"] = LOWER["http"] | {"http"}
LOWER["fuzz"] = LOWER["sut"] | {"sut"}
LOWER["reporting"] = LOWER["sut"] | {"sut"}
LOWER["metrics"] = {"core", "config"}
LOWER["pytest"] = LOWER["fuzz"] | {"fuzz", "reporting", "metrics"}
LOWER["cli"] = LOWER["pytest"] | {"pytest"}


def _public_names(module: types.ModuleType) -> set[str]:
    names = set(getattr(module, "__all__", ()))
    if not names:
        names = {
            name for name, value in vars(module).items()
            if not name.startswith("_") and name != "annotations" and not isinstance(value, types.ModuleType)
        }
    return names | ({"__version__"} if hasattr(module, "__version__") else set())


def test_the_public_face_is_the_one_decided():
    faces = {name: _public_names(importlib.import_module(name)) for name in PUBLIC_FACE}
    assert faces == PUBLIC_FACE


def test_every_package_says_what_lives_there():
    for init in HARNESS.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init} has no docstring"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {name for name in found if name.startswith("harness.")}


def test_imports_point_one_way_between_packages():
    against: list[str] = []
    for path in sorted(HARNESS.rglob("*.py")):
        parts = path.relative_to(HARNESS).parts
        if len(parts) == 1:
            assert not _imports(path), f"{path}: harness/{parts[0]} imports harness modules"
            continue
        package = parts[0]
        for name in _imports(path):
            target = name.split(".")[1]
            if target != package and target not in LOWER[package] and (HARNESS / target).is_dir():
                against.append(f"harness/{'/'.join(parts)} imports {name} ({package} → {target})")
    assert against == [], "\n".join(against)
