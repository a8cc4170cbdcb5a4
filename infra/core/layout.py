"""Where a project keeps its files, stated once: the program, the commands and the policy pack read it here.

Standard library only: the policy pack loads it in its own virtualenv.
"""

from __future__ import annotations

DEFAULT_CATALOG = "stacks/catalog.yaml"
"""The catalog both stacks share, relative to the project, where a stack sets no `billing:catalog`
(Pulumi.yaml declares the same default; tests/unit/test_one_place.py holds them together)."""

STACK_TYPE = "pulumi:pulumi:Stack"
"""The type of the root resource Pulumi registers for every stack: the engine's own, never one the
program declares (the offline plan leaves it out, and so does go-live's count of a preview)."""
