"""The `p111` command: one module per command group. May import every other package of harness.

`main` (the console script) and `parser` (its argparse tree, read by the docs' tests) are the public face."""

from harness.cli.entry import main, parser

__all__ = ["main", "parser"]
