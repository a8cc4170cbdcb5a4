"""Pulumi entry point: the program is `infra.program`; this file only names the project's folder."""

from pathlib import Path

from infra.program import run

run(Path(__file__).parent)
