"""YAML read strictly: only the forms YAML 1.1 and 1.2 agree on, with a depth cap and a node budget.

PyYAML keeps the last of two duplicate keys without a word, turns `29.90`
into a float, `010` into 8, `1:30` into 90 and `on:` into True, expands merge
keys before anything can count them, and recurses until Python gives up on a
deep or self-referencing document. So the document is composed into nodes
here, with a depth cap, and built here: mapping keys stay text, numbers with
a fraction become exact Decimals, forms YAML 1.1 reads differently from what
they look like are refused with the fix, duplicates become problems, and
every node counts against a budget, aliases and merge keys included.
Callers go through `infra.core.sources`, which bounds the size first.

PyYAML's own scanner and parser, in Python, decide what is read. libyaml's (the C
library PyYAML wraps) are about seven times cheaper and read the plain forms a catalog
is written in the same way, but not every form: a tab after a quoted scalar, `[\\?]` or
a byte-order mark at the start of a line are read by one and refused or read otherwise
by the other. So libyaml only feeds the same composer and builder, for a document
written with none of the characters such forms need, and any failure there reads the
document again with PyYAML's scanner, whose messages are the ones reported. Whichever
reads it, a document gives the same data, lines and problems
(tests/unit/core/test_strict_yaml_paths.py compares them).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver, Resolver
from yaml.scanner import Scanner

try:
    from yaml._yaml import CParser  # libyaml, in PyYAML's wheels
    _LIBYAML = True
except ImportError:  # a PyYAML built without it: PyYAML's scanner reads everything
    _LIBYAML = False

from infra.core.document import Document, Path_, dotted
from infra.core.problems import Problem

# A hand-written (or pulled) catalog is far below each cap; above them is a mistake or an
# attack (an alias or merge-key bomb).
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


# What a document may hold to be read by libyaml: printable characters and newlines, with
# no tab, carriage return, byte-order mark, other line break or backslash (escapes) anywhere,
# and outside comments none of the indicators of the forms the two scanners have been seen
# to read apart or that a catalog has no use for (complex keys, directives, tags, anchors
# and aliases, block scalars, reserved ones). A comment runs from a `#` at the start of a
# line or after a space, on a line with no quote before it, to the end of the line.
_LIBYAML_CHARS = re.compile(
    "[\n" + re.escape("".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "\\"))
    + "\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)
_COMMENT = re.compile(r"""(?m)^([^'"\n]*?)(?<![^ \n])#[^\n]*""")
_INDICATORS = re.compile("[?%!&*|>@`]")


def _libyaml_reads_alike(text: str) -> bool:
    return bool(_LIBYAML_CHARS.fullmatch(text)) and not _INDICATORS.search(_COMMENT.sub(r"\1", text))


def _yaml11_tag(text: str) -> str:
    return str(_YAML11.resolve(yaml.ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


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


class _Capped(Composer):
    """PyYAML's composer with a depth cap (it recurses once per level) and a node budget."""

    depth = 0
    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH or self.nodes > MAX_NODES:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _Refused(mark.line + 1, "(document)",
                               too_deep() if self.depth > MAX_DEPTH else _too_many())
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Loader(Reader, Scanner, Parser, _Capped, _PlainResolver):
    """PyYAML's scanner and parser, in Python: the reading every document is held to."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _PlainResolver.__init__(self)


if _LIBYAML:
    class _LibyamlLoader(_Capped, CParser, _PlainResolver):
        """libyaml's scanner and parser (its events only) under the same composer."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            _PlainResolver.__init__(self)

        # Composer's, not libyaml's own composer in C (no depth cap, no node budget).
        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document


def too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep, deeper than anything billing reads: flatten it"


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
            raise _Refused(line, dotted(path), too_deep())
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
    if _LIBYAML and _libyaml_reads_alike(text):
        doc = _by_libyaml(text, file)
        if doc is not None:
            return doc
    return _parse(text, file)


def _by_libyaml(text: str, file: str) -> Document | None:
    """The document read by libyaml, or None for any failure: PyYAML's scanner then reads it
    again and says what is wrong (libyaml's messages differ, and a node budget or depth cap
    is met the same way there)."""
    doc = Document(file=file, data=None)
    loader: _LibyamlLoader | None = None
    try:
        loader = _LibyamlLoader(text)  # a lone surrogate cannot even be encoded for it
        node = loader.get_single_node()
        if node is None:
            doc.data = {}
            return doc
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            # Not a file billing reads; and libyaml places an empty document's node a line
            # lower than PyYAML does (`---` and nothing after it).
            return None
        doc.lines[()] = node.start_mark.line + 1
        doc.data = _Builder(doc).build(node, ())
        return doc
    except Exception:  # every failure is read again, and reported, by _parse
        return None
    finally:
        if loader is not None:
            loader.dispose()


def _parse(text: str, file: str) -> Document:
    doc = Document(file=file, data=None)
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
