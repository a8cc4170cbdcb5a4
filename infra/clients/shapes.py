"""Check a decoded JSON answer against the shape the code reads, before the code reads it.

A spec is a Python type (`str`, `int`, `bool`), `NUMBER`, `STRINGS` (an
object of string values, like Stripe metadata), `URL`, `Opt(spec)` (null or
absent allowed), a dict (an object with those fields; others are ignored) or
a one-element list (a list of that). `problem` returns the first mismatch as
`path: what it is, what was expected`, so an answer of the wrong shape becomes
one clear error instead of a KeyError or TypeError deep in a command.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Opt:
    spec: Spec


@dataclass(frozen=True)
class _Named:
    name: str


NUMBER = _Named("a number")
STRINGS = _Named("an object of strings")
URL = _Named("a URL")
Spec: TypeAlias = "type | Opt | _Named | Mapping[str, Spec] | list[Spec]"


def problem(value: object, spec: Spec, path: str = "answer") -> str | None:
    if isinstance(spec, Opt):
        return None if value is None else problem(value, spec.spec, path)
    if isinstance(spec, Mapping):
        if not isinstance(value, dict):
            return _mismatch(path, value, spec)
        for key, field in spec.items():
            found = problem(value.get(key), field, f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return _mismatch(path, value, spec)
        for index, item in enumerate(value):
            found = problem(item, spec[0], f"{path}[{index}]")
            if found:
                return found
        return None
    return None if _fits(value, spec) else _mismatch(path, value, spec)


def _fits(value: object, spec: type | _Named) -> bool:
    if spec is NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if spec is STRINGS:
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in value.items())
    if spec is URL:
        try:
            return isinstance(value, str) and urlsplit(value).hostname is not None
        except ValueError:  # e.g. an unclosed IPv6 bracket
            return False
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(spec, type) and isinstance(value, spec)


def _mismatch(path: str, value: object, spec: Spec) -> str:
    return f"{path} is {_kind(value)}, expected {_expected(spec)}"


def _kind(value: object) -> str:
    if value is None:
        return "missing"
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "an object"}
    return names.get(type(value), "something else")


def _expected(spec: Spec) -> str:
    if isinstance(spec, _Named):
        return spec.name
    if isinstance(spec, Mapping):
        return "an object"
    if isinstance(spec, list):
        return "a list"
    if isinstance(spec, Opt):
        return _expected(spec.spec)
    return {str: "a string", int: "an integer", bool: "true or false"}.get(spec, spec.__name__)
