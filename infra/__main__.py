"""`python -m infra`: the same entry as the `billing` command."""

import sys

from infra.cli import run

sys.exit(run())
