"""The base of every catalog and settings model: strict, closed and frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    # strict: YAML's `yes` is not a bool here and "5" is not a number; extra="forbid": a
    # misspelt field is an error, not a silent default; frozen: the catalog validated is the
    # catalog used.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
