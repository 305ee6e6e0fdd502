"""Where the harness finds its schemas, data files and conformance suite, installed or in a checkout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the harness package (core/ sits one level down)


def schema_dir() -> Path:
    """The folder of JSON Schemas: inside the installed package, or the checkout's top-level `schemas/`."""
    installed = _PACKAGE / "_schemas"
    return installed if installed.is_dir() else _PACKAGE.parent / "schemas"


def data_file(name: str) -> Path:
    """A data file shipped with the harness (catalog, transitions, embedded target)."""
    return _PACKAGE / "data" / name


def suite_dir() -> Path:
    """The folder of the conformance suite, wherever `conformance_tests` is importable from."""
    spec = importlib.util.find_spec("conformance_tests")
    if spec is None or spec.origin is None:
        raise RuntimeError("the conformance suite (package conformance_tests) is not installed")
    return Path(spec.origin).resolve().parent
