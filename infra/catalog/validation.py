"""Pydantic's validation errors as problems: `file:line: field: what is wrong and the fix`.

A message never quotes a value that may be a secret (see `redact`), and names
the field the way the user wrote it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infra.core.problems import Problem, did_you_mean
from infra.core.redact import shown as shown_value
from infra.core.sources import Document, Path_, dotted

M = TypeVar("M", bound=BaseModel)


UNION_TAGS = ("[text]", "[entry]")
"""Tags of a field that is either text or a mapping (catalog.py): not part of where a problem is."""


def validate(
    model: type[M], raw: Any, doc: Document, path: Path_, required: bool = False, shown: int = 0,
) -> tuple[M | None, list[Problem]]:
    """Validate `raw` found at `path`; problems name the field from `path[shown:]` on."""
    if raw is None and required:
        return None, [doc.problem(path, f"required section is missing; add `{path[-1]}:`")]
    if raw is None:
        raw = {}
    try:
        return model.model_validate(raw), []
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            loc = tuple(part for part in item["loc"] if part not in ("[key]", *UNION_TAGS))
            full: Path_ = (*path, *loc)
            problems.append(doc.problem(full, _message(item, model, loc), dotted(full[shown:])))
        return None, problems


def _message(item: Mapping[str, Any], model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"required field is missing; add `{name}:`"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        return "unknown field" + suggest(name, allowed)
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", item["msg"]))
    if kind == "literal_error":
        return f"{shown_value(value)} is not allowed; use one of {ctx.get('expected')}"
    expected = {
        "string_type": "text", "int_type": "a whole number", "bool_type": "true or false",
        "dict_type": "a mapping of keys to values", "model_type": "a mapping of fields",
        "model_attributes_type": "a mapping of fields", "list_type": "a list",
        "decimal_type": "a decimal number",
    }.get(kind)
    if expected:
        return f"expected {expected}, got {_yaml_type(value)}"
    return f"{item['msg'][0].lower()}{item['msg'][1:]}"


def _yaml_type(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", Decimal: "a number", float: "a number",
             str: "text", list: "a list", dict: "a mapping"}
    quoted = shown_value(value) if isinstance(value, str | int | Decimal | float) else ""
    return f"{names.get(type(value), type(value).__name__)} {quoted}".strip()


def suggest(name: str, allowed: list[str]) -> str:
    hint = did_you_mean(name, allowed)
    listing = ", ".join(allowed)
    return f"{hint} (allowed: {listing})" if allowed else hint


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `loc` from `model`."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and `X | None` down to X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
            continue
        return annotation


def is_structured(model: type[BaseModel], name: str) -> bool:
    return typing.get_origin(_unwrap(model.model_fields[name].annotation)) in (dict, list)


def unknown_keys(
    doc: Document, path: Path_, raw: Mapping[str, Any], model: type[BaseModel]
) -> list[Problem]:
    allowed = list(model.model_fields)
    return [doc.problem((*path, key), "unknown section" + suggest(key, allowed))
            for key in raw if key not in allowed]


def validate_keyed(
    model: type[M], raw: Mapping[str, Any], check_key: Callable[[str], str], doc: Document, path: Path_,
    required: bool = False, shown: int = 0,
) -> tuple[dict[str, M], list[Problem]]:
    """Entries keyed by a stable key (plans, features, coupons), each checked on its own, so one
    mistake hides no other; a bad key is reported instead of its entry."""
    entries: dict[str, M] = {}
    problems: list[Problem] = []
    for key, raw_entry in raw.items():
        at: Path_ = (*path, key)
        try:
            check_key(key)
        except ValueError as error:
            problems.append(doc.problem(at, str(error), dotted(at[shown:])))
            key_ok = False
        else:
            key_ok = True
        # A bad key hides nothing beneath it: its entry is checked all the same, and left out.
        entry, found = validate(model, raw_entry, doc, at, required=required, shown=shown)
        problems += found
        if entry is not None and key_ok:
            entries[key] = entry
    return entries, problems
