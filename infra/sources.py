"""The one reader for every file the project reads: strict, bounded, with the line of every key.

PyYAML keeps the last of two duplicate keys without a word, turns `29.90`
into a float, `010` into 8, `1:30` into 90 and `on:` into True, expands merge
keys before anything can count them, and recurses until Python gives up on a
deep or self-referencing document. Billing data cannot afford any of that, so
the document is composed into nodes here, with a depth cap, and built here:
mapping keys stay text, numbers with a fraction become exact Decimals, only
the plain forms YAML 1.1 and 1.2 agree on are read as numbers and booleans,
duplicates become problems, and every node counts against a budget, aliases
and merge keys included. Files are refused above a size cap before they are
read. JSON (the engine's PULUMI_CONFIG, structured settings, the adopt file)
goes through `parse_json`, with the same caps.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver, Resolver
from yaml.scanner import Scanner

from infra.problems import Problem

Path_ = tuple[str | int, ...]

# A catalog is hand-written (or pulled from an account): far below each cap.
# Anything above them is a mistake or an attack (an alias or merge-key bomb).
MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NODES = 50_000
_MAX_DIGITS = 18  # beyond any amount, count or limit; PyYAML would build a bignum

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN = "tag:billing,plain"  # an unquoted scalar, classified by `_plain` below

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)", re.ASCII)
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+", re.ASCII)
# What YAML 1.1 (PyYAML) would make of a plain scalar; used only to explain a refusal.
_YAML11 = Resolver()


def _yaml11_tag(text: str) -> str:
    return str(_YAML11.resolve(yaml.ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


@dataclass
class Document:
    """A parsed file: its data, where each key stands, and what was wrong."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    origin: Callable[[str], str | None] | None = None
    """For a stack file: where a config key's value came from instead of this file (`PULUMI_CONFIG`)."""

    def line_of(self, path: Path_) -> int | None:
        """Line of `path`, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: Path_, message: str, field_name: str | None = None) -> Problem:
        """A problem with the value at `path`, placed where that value came from."""
        setting = str(path[1]) if len(path) > 1 and path[0] == "config" else None
        elsewhere = self.origin(setting) if self.origin and setting else None
        if elsewhere:
            return Problem(elsewhere, None, field_name or dotted(path), message)
        return self.in_file(path, message, field_name)

    def in_file(self, path: Path_, message: str, field_name: str | None = None) -> Problem:
        """A problem with what this file holds at `path` (or its nearest ancestor)."""
        return Problem(self.file, self.line_of(path), field_name or dotted(path), message)


def dotted(path: Path_) -> str:
    """`("plans", "pro", "prices", 0)` -> `plans.pro.prices[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"


class _Refused(Exception):
    """The document cannot be read safely at all; carries the one problem to report."""

    def __init__(self, line: int | None, field_name: str, message: str) -> None:
        super().__init__(message)
        self.line, self.field_name, self.message = line, field_name, message


class _PlainResolver(BaseResolver):
    """Leaves every unquoted scalar to `_plain`, so no YAML 1.1 rule applies behind our back."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


class _Loader(Reader, Scanner, Parser, Composer, _PlainResolver):
    """PyYAML's composer with a depth cap (it recurses once per level) and a node budget."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _PlainResolver.__init__(self)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH or self.nodes > MAX_NODES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(mark.line + 1, "(document)",
                               _too_deep() if self.depth > MAX_DEPTH else _too_many())
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; no billing file needs that: flatten it"


def _too_many() -> str:
    return (f"more than {MAX_NODES} values once aliases and merge keys are expanded (an alias bomb?); "
            "write the values out or split the file")


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.nodes = 0
        self.open: set[int] = set()  # nodes being built: meeting one again is an alias loop

    def build(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(None, "(document)", _too_many())
        if depth > MAX_DEPTH:
            raise _Refused(line, dotted(path), _too_deep())
        if id(node) in self.open:
            raise _Refused(line, dotted(path), "an alias refers to a node that contains it, so the value "
                           "would never end; point the alias at something outside itself")
        if not isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            return self._scalar(node, path)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                self._tag(node, _MAP_TAG, path)
                return self._mapping(node, path, depth)
            self._tag(node, _SEQ_TAG, path)
            out: list[Any] = []
            for index, item in enumerate(node.value):
                self.doc.lines.setdefault((*path, index), item.start_mark.line + 1)
                out.append(self.build(item, (*path, index), depth + 1))
            return out
        finally:
            self.open.discard(id(node))

    def _tag(self, node: yaml.Node, expected: str, path: Path_) -> None:
        if node.tag != expected:
            self.doc.problems.append(self.doc.in_file(path, f"unsupported YAML tag {node.tag}; "
                                                      "remove the tag"))

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.doc.problems.append(self.doc.in_file(
                    path, f"line {line} has a key that is not plain text; write keys as plain words"))
                continue
            if key_node.tag == _PLAIN and key_node.value == "<<":
                merged = {**self._merge(value_node, path, depth), **merged}
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                first = self.doc.lines[child]
                self.doc.problems.append(Problem(
                    self.doc.file, line, dotted(child),
                    f"duplicate key (first defined on line {first}); YAML would silently "
                    "keep only the last one: remove or rename one of them",
                ))
                continue
            self.doc.lines[child] = line
            out[key] = self.build(value_node, child, depth + 1)
        # Keys written in the mapping win over merged ones, as YAML's merge key defines.
        return {**merged, **out}

    def _merge(self, node: yaml.Node, path: Path_, depth: int) -> dict[str, Any]:
        """`<<: *base` or `<<: [*a, *b]`: the mappings to merge, earlier ones winning."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.doc.problems.append(Problem(
                    self.doc.file, source.start_mark.line + 1, dotted((*path, "<<")),
                    "a merge key (<<) takes a mapping or a list of mappings, like `<<: *defaults`"))
                continue
            built = self.build(source, path, depth + 1)
            merged = {**built, **merged}
        return merged

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        if node.tag == _PLAIN:
            value, problem = _plain(node.value)
            if problem:
                self.doc.problems.append(self.doc.in_file(path, problem))
            return value
        self.doc.problems.append(self.doc.in_file(
            path, f"unsupported YAML tag {node.tag}; remove the tag (quote text, write numbers plainly)"))
        return None


def _plain(text: str) -> tuple[Any, str | None]:
    """An unquoted scalar: null, true/false, a whole number, a decimal, or text.

    A form YAML 1.1 reads differently from what it looks like (`010` is 8,
    `1:30` is 90, `yes` is true, `1_000`, `0x1F`, `.inf`) is refused with the fix,
    never guessed at.
    """
    if text in _NULL:
        return None, None
    if text in _BOOL:
        return _BOOL[text], None
    digits = len(text.lstrip("+-").replace(".", ""))
    if _INT.fullmatch(text) or _DECIMAL.fullmatch(text):
        if digits > _MAX_DIGITS:
            return None, f"a {digits}-digit number is not a billing value; quote it if it is text"
        return (int(text) if _INT.fullmatch(text) else Decimal(text)), None
    tag = _yaml11_tag(text)
    if tag == "tag:yaml.org,2002:bool":
        meaning = "true" if text.lower() in ("yes", "on") else "false"
        return None, (f"YAML 1.1 reads {text} as {meaning}; write {meaning} for a yes/no setting, "
                      f"or quote it ('{text}') for text")
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        shown = text if len(text) <= 40 else text[:40] + "..."
        if text.lstrip("+-").lower() in (".inf", ".nan"):
            return None, f"{shown} is not a finite number; write the number, or quote it for text"
        return None, (f"YAML 1.1 reads {shown} as {_yaml11_number(text)}, not as written; write numbers as "
                      f"plain decimals (29, 29.00), or quote it ('{shown}') for text")
    # Everything else is text, as written: words, dates, `=`, `<<` as a value.
    return text, None


def _yaml11_number(text: str) -> str:
    """What PyYAML would have made of a numeric-looking scalar, for the message."""
    node = yaml.ScalarNode(_yaml11_tag(text), text)
    try:
        value = yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return "something else"
    shown = repr(value)
    return "a number" if len(shown) > 40 else f"the number {shown}"


def parse(text: str, file: str) -> Document:
    """Parse one YAML document; every failure becomes a problem, never an exception."""
    doc = Document(file=file, data=None)
    if len(text) > MAX_BYTES:
        doc.problems.append(_too_large(file))
        return doc
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # refuses NUL and other unprintable characters here
        node = loader.get_single_node()
        if node is None:
            doc.data = {}
            return doc
        doc.lines[()] = node.start_mark.line + 1
        doc.data = _Builder(doc).build(node, ())
    except _Refused as refused:
        doc.data = None
        doc.problems.append(Problem(file, refused.line, refused.field_name, refused.message))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        what = error.problem or error.context or "invalid YAML"
        doc.data = None
        doc.problems.append(Problem(file, line, "(syntax)", f"{what}; fix the YAML syntax at this line"))
    except yaml.YAMLError as error:
        doc.data = None
        doc.problems.append(Problem(file, None, "(syntax)", f"invalid YAML: {error}"))
    finally:
        if loader is not None:
            loader.dispose()
    return doc


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
        return None, _too_deep()
    except ValueError:
        # NaN/Infinity, or an integer too long for Python to convert.
        return None, "holds a number that is not finite or far too long"
    return (value, None) if _within_bounds(value) else (None, _too_deep())


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
