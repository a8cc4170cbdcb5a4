"""The one reader for every file the project reads: bounded before a byte is parsed.

Catalogs, stack files, the adopt file and the diff's base revision are read
here (a command's project files through its `snapshot`, once each): files
above a size cap, devices and pipes are refused before they are read, YAML
goes through `strict_yaml` (strict forms, depth cap, node budget
after aliases and merge keys), and JSON (the engine's PULUMI_CONFIG,
structured settings, the adopt file) through `parse_json` with the same caps.
Every failure is a problem, never an exception.
"""

from __future__ import annotations

import json
import os
import re
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra.core import strict_yaml
from infra.core.document import Document, Path_, dotted
from infra.core.problems import Problem
from infra.core.strict_yaml import MAX_DEPTH, MAX_NODES, too_deep

# What callers have always found here.
__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "Document", "Path_", "dotted", "parse", "parse_json",
           "read", "read_json", "read_text"]

MAX_BYTES = 1 << 20  # a pulled catalog of thousands of prices is far below it


def parse(text: str, file: str) -> Document:
    """Parse one YAML document of at most MAX_BYTES; every failure becomes a problem."""
    if len(text) > MAX_BYTES:
        return Document(file, None, problems=[_too_large(file)])
    return strict_yaml.parse(text, file)


def _too_large(file: str) -> Problem:
    return Problem(file, None, "(file)", f"larger than {MAX_BYTES // 1024} KiB; no billing file is that "
                   "big: check the path")


def read_text(path: Path, display: str | None = None) -> tuple[str | None, list[Problem]]:
    """A regular file's text, refused above MAX_BYTES before it is read (a device or pipe never is)."""
    name = display or str(path)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, [Problem(name, None, "(file)", "file not found; create it or pass the right path")]
    except OSError as error:
        return None, [Problem(name, None, "(file)", f"cannot read the file: {error.__class__.__name__}")]
    except ValueError:
        return None, [Problem(name, None, "(file)", "not a file name (it holds a NUL character)")]
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, [Problem(name, None, "(file)", "not a regular file (a device, pipe or directory); "
                                  "pass the path of the file itself")]
        data = b""
        while len(data) <= MAX_BYTES and (chunk := os.read(fd, MAX_BYTES + 1 - len(data))):
            data += chunk
    except OSError as error:
        return None, [Problem(name, None, "(file)", f"cannot read the file: {error.__class__.__name__}")]
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        return None, [_too_large(name)]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        return None, [Problem(name, line, "(file)", "not UTF-8 text; save the file as UTF-8")]


def read(path: Path, display: str | None = None) -> Document:
    """Read and parse a YAML file; a missing, oversized or unreadable file is a problem too."""
    name = display or str(path)
    text, problems = read_text(path, name)
    if text is None:
        return Document(name, None, problems=problems)
    return parse(text, name)


class _Duplicate(ValueError):
    pass


def parse_json(text: str) -> tuple[Any, str | None]:
    """JSON with the YAML reader's rules: exact decimals, no NaN, no duplicate keys, bounded.

    Returns the value, or None and why it was refused (never quoting the text:
    the engine's config carries secrets).
    """
    if len(text) > MAX_BYTES:
        return None, f"longer than {MAX_BYTES // 1024} KiB"

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            raise _Duplicate
        return out

    def constant(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as error:
        return None, f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
    except _Duplicate:
        return None, "a JSON object has the same key twice; keep one"
    except RecursionError:
        return None, too_deep()
    except ValueError:
        # NaN/Infinity, or an integer too long for Python to convert.
        return None, "holds a number that is not finite or far too long"
    if not _within_bounds(value):
        return None, too_deep()
    return (None, _unfit) if (_unfit := unfit_text(value)) else (value, None)


def _within_bounds(value: Any) -> bool:
    """Depth at most MAX_DEPTH; walked without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


_UNFIT = re.compile("[\x00\ud800-\udfff]")


def unfit_text(value: Any, where: str = "") -> str | None:
    """Why parsed data cannot be used as text, naming where (never quoting the value): a NUL
    (which no file name, header or argument may hold) or a lone surrogate (half a UTF-16 pair,
    which JSON's \\u escapes allow and no UTF-8 output can encode). None when all is well."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, place = stack.pop()
        if isinstance(item, str) and (found := _UNFIT.search(item)):
            what = "a NUL character" if found.group(0) == "\x00" else "a lone surrogate (half a UTF-16 pair)"
            return (f"{place or 'the value'} holds {what}, which no text the program sends or prints may "
                    "hold; remove it")
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _UNFIT.search(key):
                    return f"a key in {place or 'the value'} holds a NUL or a lone surrogate; remove it"
                stack.append((child, f"{place}.{key}" if place else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{place}[{index}]") for index, child in enumerate(item))
    return None


def read_json(path: Path, display: str | None = None) -> tuple[Any, list[Problem]]:
    """Read and parse a JSON file with the same caps as YAML files."""
    name = display or str(path)
    text, problems = read_text(path, name)
    if text is None:
        return None, problems
    value, error = parse_json(text)
    if error:
        return None, [Problem(name, None, "(file)", error)]
    return value, []
