"""`python -m harness.cli`: the same as the `p111` console script."""

import sys

from harness.cli.commands import main

sys.exit(main())
