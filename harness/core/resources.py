"""Where the harness finds its schemas, data files and conformance suite, installed or in a checkout."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

_PACKAGE = Path(__file__).resolve().parent.parent  # the harness package (core/ sits one level down)


# libyaml's parser when PyYAML was built with it (the wheels are): the data files are read at every run's start, and
# the pure-Python parser cost a tenth of a second of each. Both are safe loaders: no arbitrary objects.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """A YAML file of the harness's own (data files, the counterparts' and systems' definitions), safely loaded."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)


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
