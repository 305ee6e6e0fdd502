"""The vi/en words of verdicts and of the human-readable reports, read from data/labels.yaml (Vietnamese first): the one
source of every label a user reads."""

from __future__ import annotations

from functools import cache
from typing import Any

from harness.core.resources import data_file, read_yaml

LANGUAGES = ("vi", "en")
DEFAULT = "vi"


@cache
def _all() -> dict[str, dict[str, str]]:
    loaded: Any = read_yaml(data_file("labels.yaml"))
    return {lang: {str(k): str(v) for k, v in loaded[lang].items()} for lang in LANGUAGES}


def labels(lang: str = DEFAULT) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return _all()[lang]


def verdict_label(verdict: str, lang: str = DEFAULT) -> str:
    return labels(lang).get(f"verdict_{verdict}", verdict)


def family_label(family: str, lang: str = DEFAULT) -> str:
    return labels(lang).get(f"family_{family}", family)


def level_label(level: str, lang: str = DEFAULT) -> str:
    return labels(lang).get(f"level_{level}", level)
