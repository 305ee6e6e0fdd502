"""The one table of the run's options: `p111 run` / `p111 fuzz` (argparse), the plugin's pytest options, and the
passing of the one to the other are all built from OPTIONS, so an option is written once.

`p111 run --year 2025` becomes `--p111-year 2025` for pytest: the pytest name is the command's with `p111-` in front.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.core.catalog import SCOPES
from harness.core.i18n import LANGUAGES

if TYPE_CHECKING:  # `p111 kpi` and the other light commands build their parser without importing pytest
    import pytest


@dataclass(frozen=True)
class Option:
    name: str  # the command's flag without dashes: `year` is `p111 run --year` and `pytest --p111-year`
    help: str  # Vietnamese first, English second
    kind: str = "value"  # "value", "append" (repeatable), "flag" (store_true)
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    choices: Sequence[str] | None = None
    default: Any = None
    on_command: bool = True  # False: the plugin's only (the command sets it itself, e.g. `p111 fuzz` the scope)
    exclusive: str | None = None  # options sharing a group name exclude each other on the command

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def pytest_flag(self) -> str:
        return f"--p111-{self.name}"

    def keywords(self) -> dict[str, Any]:
        """argparse / pytest addoption keywords (both take argparse's)."""
        keywords: dict[str, Any] = {"help": self.help}
        if self.kind == "flag":
            return {**keywords, "action": "store_true"}
        if self.kind == "append":
            keywords |= {"action": "append", "default": list(self.default or [])}
        elif self.default is not None:
            keywords["default"] = self.default
        for key in ("metavar", "type", "choices"):
            if getattr(self, key) is not None:
                keywords[key] = getattr(self, key)
        return keywords


OPTIONS = (
    Option("target", "target.yaml của hệ thống (mặc định: hệ thống tham chiếu nhúng) / target.yaml (default: embedded)",
           metavar="FILE"),
    Option("report", "thư mục báo cáo: report.json, bằng chứng, junit.xml / report directory", metavar="DIR"),
    Option("year", "năm đánh giá (mặc định: của cấu hình) / evaluation year (default: the target's)", type=int,
           metavar="YEAR"),
    Option("defect", "bật lỗi cố ý của hệ thống tham chiếu (lặp lại được) / switch on a reference defect (repeatable)",
           kind="append", metavar="NAME"),
    Option("variation", "bật biến thể hợp lệ của hệ thống tham chiếu (lặp lại được; p111 variations) / switch on a "
           "lawful variation of the reference system (repeatable)", kind="append", metavar="NAME"),
    Option("sign", "ký manifest.json bằng khóa riêng Ed25519 (PEM) / sign the manifest (Ed25519)", metavar="KEYFILE"),
    Option("lang", "ngôn ngữ của report.html và summary.md / report language", choices=LANGUAGES, default="vi"),
    Option("allow-not-tested", "chạy một phần có chủ ý (-k): yêu cầu CHƯA KIỂM TRA không làm lần chạy CHƯA ĐẦY ĐỦ (có "
           "ghi lại) / a subset on purpose: NOT-TESTED does not make the run INCOMPLETE (recorded)", kind="flag"),
    Option("record", "ghi mọi trao đổi (mã hóa) vào DIR / record every exchange, encrypted, in DIR", metavar="DIR",
           exclusive="tap"),
    Option("replay", "đánh giá lại bản ghi trong DIR, không gửi gì / re-evaluate the run recorded in DIR offline",
           metavar="DIR", exclusive="tap"),
    Option("scope", "các yêu cầu của Kế hoạch (mặc định) hay phép kiểm tra độ bền ngoài Kế hoạch (p111 fuzz) / the "
           "plan's requirements (default) or the robustness checks outside the plan", choices=SCOPES, default="plan",
           on_command=False),
)


def add_pytest_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("p111", "P111 conformance (Kế hoạch 111/KH-UBND)")
    for option in OPTIONS:
        group.addoption(option.pytest_flag, **option.keywords())


def add_command_options(
    command: argparse.ArgumentParser, *, defaults: dict[str, Any], types: dict[str, Callable[[str], Any]]
) -> None:
    """The options of `p111 run` / `p111 fuzz`; `defaults` and `types` are the command's own (its report folder, a
    signing key checked before the run)."""
    groups: dict[str, Any] = {}
    for option in OPTIONS:
        if not option.on_command:
            continue
        where: Any = command
        if option.exclusive:
            if option.exclusive not in groups:
                groups[option.exclusive] = command.add_mutually_exclusive_group()
            where = groups[option.exclusive]
        keywords = option.keywords()
        if option.name in defaults:
            keywords["default"] = defaults[option.name]
        if option.name in types:
            keywords["type"] = types[option.name]
        where.add_argument(f"--{option.name}", **keywords)


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The command's options as the plugin's: each one given (or with a default) becomes its `--p111-` form."""
    passed: list[str] = []
    for option in OPTIONS:
        value = getattr(args, option.dest, None)
        if value is None or value is False or value == []:
            continue
        if option.kind == "flag":
            passed.append(option.pytest_flag)
        elif option.kind == "append":
            for each in value:
                passed += [option.pytest_flag, str(each)]
        else:
            passed += [option.pytest_flag, str(value)]
    return passed
