"""The `p111` command: one module per command group. May import every other package of harness.

`main` (the console script) and `parser` (its argparse tree, read by the docs' tests) are the public face."""

from harness.core.lasting import built_to_last

with built_to_last(once_per_process=True):  # the harness and its libraries, imported for the process's life
    from harness.cli.commands import main, parser

__all__ = ["main", "parser"]
