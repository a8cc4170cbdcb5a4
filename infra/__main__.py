"""`python -m infra`: the same entry as the `billing` command."""

from infra.cli import run

run()
