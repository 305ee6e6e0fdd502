"""Where `p111` starts: the metric commands (`kpi`, `score766`, `synth`) parse with a parser of their own and run
without importing the rest of the command (pytest, the configuration's pydantic models, the reports): the imports
of `p111 kpi` take half the CPU time they did (0.18 s). Every other command goes to harness.cli.commands, whose
parser has them all."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.cli import metrics
from harness.cli.guard import guarded, inert_output
from harness.core.lasting import built_to_last


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in metrics.COMMANDS:
        return guarded(lambda: _run_metric_command(words))
    # The harness and its libraries, imported once for the process's life.
    with built_to_last(once_per_process="harness.cli.commands"):
        from harness.cli import commands

    return commands.main(argv)


def parser() -> argparse.ArgumentParser:
    """The whole command tree (every command, the metric ones among them)."""
    from harness.cli import commands

    return commands.parser()


def _run_metric_command(words: list[str]) -> int:
    top = argparse.ArgumentParser(prog="p111")
    metrics.add_commands(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(words)
    with inert_output():  # as harness.cli.commands runs every command but `run` and `fuzz`
        return int(args.handler(args))
