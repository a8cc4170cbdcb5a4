"""What `pull` reports besides the catalog: what does not fit, what the first `up` changes in place, notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["misfit", "in place", "note"]


@dataclass(frozen=True)
class Finding:
    kind: Kind
    subject: str
    message: str
