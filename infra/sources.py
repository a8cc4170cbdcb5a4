"""Reading YAML with the line of every key, and the mistakes PyYAML lets through.

PyYAML keeps the last of two duplicate keys without a word, turns `29.90`
into a float and `on:` into True. Billing data cannot afford any of those, so
the document is composed into nodes and built here: mapping keys stay text,
numbers with a fraction become exact Decimals, duplicates become problems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from infra.problems import Problem

Path_ = tuple[str | int, ...]

# A catalog is hand-written; a document this large is a mistake or an alias bomb.
MAX_NODES = 200_000

_FLOAT_TAG = "tag:yaml.org,2002:float"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass
class Document:
    """A parsed YAML file: its data, where each key stands, and what was wrong."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """Line of `path`, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: Path_, message: str, field_name: str | None = None) -> Problem:
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


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")
        self.nodes = 0

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            out: list[Any] = []
            for index, item in enumerate(node.value):
                self.doc.lines.setdefault((*path, index), item.start_mark.line + 1)
                out.append(self.build(item, (*path, index)))
            return out
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            self.doc.problems.append(
                self.doc.problem(path, f"unsupported YAML tag {node.tag}; remove the tag")
            )
        self.constructor.flatten_mapping(node)  # resolves `<<:` merge keys
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.doc.problems.append(
                    self.doc.problem(path, f"line {line} has a key that is not plain text; "
                                     "write keys as plain words")
                )
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
            out[key] = self.build(value_node, child)
        return out

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        if node.tag == _FLOAT_TAG:
            text = str(node.value).replace("_", "")
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                self.doc.problems.append(
                    self.doc.problem(path, f"{node.value!r} is not a finite number")
                )
                return None
            return number
        if node.tag.startswith("tag:yaml.org,2002:") and node.tag not in (_MAP_TAG, _SEQ_TAG):
            try:
                value = self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError) as error:
                self.doc.problems.append(
                    self.doc.problem(path, f"cannot read value {node.value!r}: {error}")
                )
                return None
            if isinstance(value, dt.date | bytes | set):
                # Dates and binary are never billing values; keep the text the user wrote.
                return str(node.value)
            return value
        self.doc.problems.append(
            self.doc.problem(path, f"unsupported YAML tag {node.tag}; remove the tag")
        )
        return None


class _TooLarge(Exception):
    pass


def parse(text: str, file: str) -> Document:
    """Parse one YAML document; syntax errors become problems, never exceptions."""
    doc = Document(file=file, data=None)
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        what = error.problem or error.context or "invalid YAML"
        doc.problems.append(
            Problem(file, line, "(syntax)", f"{what}; fix the YAML syntax at this line")
        )
        return doc
    except yaml.YAMLError as error:
        doc.problems.append(Problem(file, None, "(syntax)", f"invalid YAML: {error}"))
        return doc
    if node is None:
        doc.data = {}
        return doc
    doc.lines[()] = node.start_mark.line + 1
    try:
        doc.data = _Builder(doc).build(node, ())
    except _TooLarge:
        doc.data = None
        doc.problems.append(
            Problem(file, None, "(document)",
                    f"more than {MAX_NODES} values (an alias loop?); split or simplify the file")
        )
    return doc


def read(path: Path, display: str | None = None) -> Document:
    """Read and parse a file; a missing or unreadable file is a problem too."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Document(name, None, problems=[
            Problem(name, None, "(file)", "file not found; create it or pass the right path")
        ])
    except (OSError, UnicodeDecodeError) as error:
        return Document(name, None, problems=[
            Problem(name, None, "(file)", f"cannot read the file: {error.__class__.__name__}")
        ])
    return parse(text, name)
