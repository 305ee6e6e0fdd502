"""What the operator driver shows a person and starts from: its settings (sut.driver_options) and the procedures they
list, the words for each action and channel, and where its numbered steps are written (the terminal, a prompt file a
program playing the person reads)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from harness.sut.drivers.base import DriverError, Fee, Service

STEP_LINE = "p111-step: "  # the prefix of the line a program playing the person reads

MODE = "chế độ người thao tác (sut.driver: operator) / operator mode"

CHANNEL_WORDS = {
    "online": ("nộp trực tuyến", "online"),
    "counter": ("tiếp nhận trực tiếp tại quầy một cửa", "at the one-stop counter"),
    "post": ("tiếp nhận qua bưu chính", "by post"),
}

# How each action reads to a person (Vietnamese, English): the button or menu they look for.
ACTION_WORDS = {
    "receive": ("Tiếp nhận hồ sơ", "receive the dossier"),
    "refuse": ("Từ chối tiếp nhận", "refuse the dossier"),
    "process": ("Chuyển xử lý", "start processing"),
    "request-supplement": ("Yêu cầu bổ sung giấy tờ", "ask for a supplement"),
    "supplement": ("Bổ sung giấy tờ", "supplement the dossier"),
    "request-payment": ("Yêu cầu thực hiện nghĩa vụ tài chính", "ask for payment"),
    "withdraw": ("Rút hồ sơ", "withdraw the dossier"),
    "stop": ("Dừng xử lý", "stop processing"),
    "finish": ("Hoàn thành xử lý", "finish processing"),
    "return": ("Trả kết quả", "return the result"),
    "transfer": ("Chuyển liên thông", "transfer the dossier"),
}


class StepTimedOut(DriverError):
    """The step's message never reached its counterpart: the person did not perform it, or the SUT did not act or
    sync. The harness cannot tell which, so the check is ERROR, not FAILED."""


@dataclass(frozen=True)
class OperatorOptions:
    """sut.driver_options of the operator driver (schemas/drivers/operator.schema.json), defaults filled in."""

    step_seconds: float
    terminal: bool
    prompt_file: Path | None
    files_dir: Path
    citizen: str
    officer: str
    procedures: tuple[dict[str, Any], ...]

    @classmethod
    def from_target(cls, options: dict[str, Any]) -> OperatorOptions:
        # The target loader fills defaults of its own schema only, not of the driver's: filled here.
        prompt, accounts = options.get("prompt") or {}, options.get("accounts") or {}
        return cls(
            step_seconds=float(options.get("step_seconds", 300)),
            terminal=bool(prompt.get("terminal", True)),
            prompt_file=Path(prompt["file"]) if prompt.get("file") else None,
            files_dir=Path(options.get("files_dir") or "p111-operator-files"),
            citizen=str(accounts.get("citizen", "citizen-1")),
            officer=str(accounts.get("officer", "officer-1")),
            procedures=tuple(options.get("procedures") or ()),
        )


class Prompter:
    """Writes steps where a person (or a program playing one) reads them. pytest captures the process's stdout and
    stderr at the file descriptor, so the terminal is reached through /dev/tty, and a prompt file is appended to."""

    def __init__(self, options: OperatorOptions) -> None:
        self._outputs: list[TextIO] = []
        if options.terminal:
            # No terminal (CI, a subprocess): the prompt file is the only channel.
            with contextlib.suppress(OSError):
                self._outputs.append(open("/dev/tty", "w", encoding="utf-8"))  # noqa: SIM115 - kept for the run
        if options.prompt_file is not None:
            options.prompt_file.parent.mkdir(parents=True, exist_ok=True)
            self._outputs.append(open(options.prompt_file, "a", encoding="utf-8"))  # noqa: SIM115

    def write(self, text: str) -> None:
        for output in self._outputs:
            output.write(text + "\n")
            output.flush()

    def close(self) -> None:
        for output in self._outputs:
            output.close()


def _check_name() -> str:
    """The check being run (pytest sets it), so that the person knows what a step is for."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


def listed_service(p: dict[str, Any], entry: dict[str, Any]) -> Service:
    """A procedure the target lists for the person (sut.driver_options.procedures), completed from its entry in the
    portal's national catalog (`entry`, empty when the portal has none)."""
    fees = tuple(
        Fee(str(f.get("LoaiPhiLePhi", "1")), str(f["MaPhiLePhi"]), str(f.get("TenPhiLePhi", "")), int(f["SoTien"]))
        for f in p.get("fees") or ()
    )
    return Service(
        code=p["code"],
        local_code=p.get("local_code", p["code"]),
        service_id=p.get("service_id", p["code"]),
        name=p.get("name", str(entry.get("tenTTHC", p["code"]))),
        agency_code=p["agency_code"],
        level=p.get("level", str(entry.get("mucDo", ""))),
        fee_bearing=bool(fees),
        second_agency_code=p.get("second_agency_code"),
        fees=fees,
    )
