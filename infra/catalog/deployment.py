"""A deployment: one stack's settings and the catalog it uses, checked as a whole by `load_deployment`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from infra.catalog import adoption
from infra.catalog.models import Catalog
from infra.catalog.settings import StackSettings
from infra.core.problems import Problem


@dataclass(frozen=True)
class Deployment:
    """Everything one stack declares, checked as a whole."""

    stack: str
    settings: StackSettings
    catalog: Catalog
    adopted: adoption.Adopted = dataclasses.field(default_factory=dict)
    """Existing Stripe objects and host values the program adopts (`billing:adopt`), by (type, name)."""
    notices: tuple[Problem, ...] = ()
    """Warnings: what a test stack may do but a live one may not (the repository's examples)."""

    @property
    def mode(self) -> str:
        return self.settings.mode
