"""`python -m harness.cli`: the same as the `p111` console script."""

import sys

from harness.cli.entry import main

sys.exit(main())
