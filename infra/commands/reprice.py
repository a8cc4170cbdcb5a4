"""`billing reprice PLAN.PRICE AMOUNT`: write the safe edit for a new price.

A Stripe price's terms never change (provider_table: a new amount replaces the
price, which live refuses, and leaves the old one active). The safe edit keeps
the old price declared with `archived: true` and adds a new price key with the
new amount that takes the lookup key over. This command writes exactly that
into the catalog, and only after the edited catalog validates: ruamel.yaml makes
the edit, and only the edited price's lines (and the new price's) reach the
file, so every other line keeps its bytes, comments, alignment and quoting.
"""

from __future__ import annotations

import argparse
import copy
import io
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from infra.catalog import (
    amount_text,
    check_catalog,
    from_minor_units,
    lookup_key_for,
    parse_amount,
    to_minor_units,
)
from infra.core import exits, sources, writer
from infra.core.escape import terminal
from infra.core.layout import DEFAULT_CATALOG
from infra.core.problems import did_you_mean
from infra.core.redact import mask


def main(args: argparse.Namespace, out: TextIO) -> int:
    path: Path = args.catalog or args.project / DEFAULT_CATALOG
    try:
        # A --catalog the user named is written where it is; the default, inside the project.
        inside = path.parent if args.catalog else args.project
        message = reprice(path, args.price, args.amount, args.key, inside)
    except RepriceError as error:
        # It quotes PLAN.PRICE as typed and the catalog's keys (a did-you-mean), both someone else's text.
        print(mask(terminal(f"{path}: {error}; the catalog was not changed")), file=sys.stderr)
        return exits.REFUSED
    except writer.WriteRefused as error:
        print(mask(terminal(str(error))), file=sys.stderr)
        return exits.REFUSED
    print(message, file=out)
    return exits.OK


class RepriceError(Exception):
    pass


def reprice(path: Path, target: str, given: str, new_key: str | None, inside: Path) -> str:
    plan_key, _, price_key = target.partition(".")
    if not plan_key or not price_key:
        raise RepriceError(f"{target!r} is not PLAN.PRICE, e.g. pro.monthly")
    amount = _amount(given)
    bom, text, crlf = _read(path)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never wrap a line the user wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)  # the catalog's own `  - item` style
    try:
        document = yaml.load(text)
    except YAMLError:
        raise RepriceError("is not valid YAML; fix it first (`billing validate`)") from None
    try:
        prices = document["plans"][plan_key]["prices"]
        old = prices[price_key]
    except (KeyError, TypeError):
        raise RepriceError(f"has no price {plan_key}.{price_key}"
                           + did_you_mean(target, _active(document))) from None
    _own_mapping(f"{plan_key}.{price_key}", document["plans"][plan_key], prices, old)
    lookup = lookup_key_for(plan_key, price_key, old.get("lookup_key") if isinstance(old, dict) else None)
    if not isinstance(old, CommentedMap) or old.get("archived") is True:
        raise RepriceError(f"{plan_key}.{price_key} is already archived" + _holder(plan_key, prices, lookup))
    currency = str(old.get("currency"))
    try:
        # Written with the currency's own decimals (39 -> "39.00" in usd), as the catalog writes amounts.
        amount = from_minor_units(to_minor_units(amount, currency), currency)
    except ValueError as error:
        raise RepriceError(str(error)) from None
    if old.get("amount") is not None and _amount(str(old["amount"])) == amount:
        raise RepriceError(f"{plan_key}.{price_key} already sells at {amount}; nothing to do")
    stem = re.sub(r"_v[0-9]+$", "", price_key)  # monthly_v2 -> monthly_v3, not monthly_v2_v2
    key = new_key or next(f"{stem}_v{n}" for n in range(2, 1000) if f"{stem}_v{n}" not in prices)
    if key in prices:
        raise RepriceError(f"{plan_key}.{key} exists already; pass another --key")
    # Copies: a nested mapping (metadata) shared by both prices would be dumped as an anchor on the old
    # price and an alias on the new, and only the new price's lines are spliced into the file.
    new = CommentedMap((name, _bare(value)) for name, value in old.items()
                       if name not in ("lookup_key", "archived"))
    new["amount"] = DoubleQuotedScalarString(amount_text(amount))
    new["lookup_key"] = lookup
    if old.fa.flow_style():
        new.fa.set_flow_style()
    old["archived"] = True
    prices.insert(list(prices).index(price_key) + 1, key, new)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    body = _splice(yaml, text.replace("\r\n", "\n"), buffer.getvalue(), (plan_key, price_key, key))
    # What is validated is what is written: the spliced text, not the dump it took lines from.
    problems = _validate(body, str(path))
    if problems:
        raise RepriceError("the edit would not validate: " + "; ".join(str(p) for p in problems))
    edited = bom + (body.replace("\n", "\r\n") if crlf else body)
    writer.write(writer.Target(path, edited.encode("utf-8"), replaceable=lambda _: True), inside)
    return (f"{plan_key}.{price_key} is archived (existing subscribers keep it); {plan_key}.{key} sells at "
            f"{amount} {currency.upper()} and takes lookup key {lookup!r} over. Review with `git diff` and "
            "`billing diff --base HEAD`, then deploy test before live.")


def _bare(value: Any) -> Any:
    """A copy of a nested value with its flow style and without its comments: ruamel keeps a comment
    that follows a mapping's last line on that mapping, and a copy would carry it into the new price."""
    if isinstance(value, CommentedMap):
        copied: Any = CommentedMap((key, _bare(item)) for key, item in value.items())
    elif isinstance(value, CommentedSeq):
        copied = CommentedSeq(_bare(item) for item in value)
    else:
        return copy.copy(value)
    if value.fa.flow_style():
        copied.fa.set_flow_style()
    return copied


def _active(document: Any) -> list[str]:
    """Every `plan.price` that can be repriced (declared and not archived): what a typo may mean."""
    plans = document.get("plans") if isinstance(document, dict) else None
    return [f"{plan}.{price}" for plan, body in (plans or {}).items() if isinstance(body, dict)
            for price, terms in (body.get("prices") or {}).items()
            if isinstance(terms, dict) and terms.get("archived") is not True]


def _holder(plan_key: str, prices: Any, lookup: str) -> str:
    """Which active price holds an archived one's lookup key now: the one to reprice instead."""
    for key, terms in prices.items():
        if isinstance(terms, dict) and terms.get("archived") is not True \
                and lookup_key_for(plan_key, key, terms.get("lookup_key")) == lookup:
            return (f"; {plan_key}.{key} holds its lookup key {lookup!r} now: reprice that one "
                    f"(`billing reprice {plan_key}.{key} AMOUNT`)")
    return "; reprice an active price of the plan"


def _splice(yaml: YAML, original: str, dumped: str, keys: tuple[str, str, str]) -> str:
    """`original` with only the edited price's lines taken from `dumped`, and the new price's lines
    added after them: every other line stays byte for byte (aligned flow mappings, spacing, quoting),
    which a whole dump would reflow. A `prices:` written as one flow mapping is dumped whole."""
    plan_key, price_key, new_key = keys
    before = yaml.load(original)["plans"][plan_key]["prices"]
    after = yaml.load(dumped)["plans"][plan_key]["prices"]
    if before.fa.flow_style():
        return dumped
    ends = original.endswith("\n")  # a last line without one still ends where it did
    lines = (original + ("" if ends else "\n")).splitlines(keepends=True)
    made = dumped.splitlines(keepends=True)
    start, end = _span(lines, before.lc.key(price_key))
    old, new = (made[slice(*_span(made, after.lc.key(k)))] for k in (price_key, new_key))
    if not before[price_key].fa.flow_style() and "archived" not in before[price_key]:
        # A block mapping keeps its own lines; `archived: true` is one more, as ruamel wrote it.
        old = [*lines[start:end], made[after[price_key].lc.key("archived")[0]]]
    spliced = "".join([*lines[:start], *old, *new, *lines[end:]])
    return spliced if ends else spliced.removesuffix("\n")


def _span(lines: list[str], at: tuple[int, int]) -> tuple[int, int]:
    """The lines of the mapping entry whose key is at (line, column): its key's line and every line
    indented deeper after it, up to the last that is not blank or a comment."""
    start, column = at
    last = start
    for index in range(start + 1, len(lines)):
        text = lines[index].strip()
        if not text or text.startswith("#"):
            continue
        if len(lines[index]) - len(lines[index].lstrip(" ")) <= column:
            break
        last = index
    return start, last + 1


def _read(path: Path) -> tuple[str, str, bool]:
    """The catalog's text without its byte order mark, the mark, and whether lines end in CRLF."""
    text, unreadable = sources.read_text(path)
    # The strict reader first: it bounds what ruamel will be given (size, depth, aliases).
    read = sources.parse(text, str(path)) if text is not None else None
    if text is None or read is None or read.data is None:
        problems = unreadable or (read.problems if read else [])
        raise RepriceError("; ".join(p.message for p in problems) or "cannot be read")
    # Kept as found: ruamel reads and writes "\n" only, and drops a byte order mark.
    bom, text = ("\ufeff", text[1:]) if text.startswith("\ufeff") else ("", text)
    crlf = text.count("\r\n")
    if crlf and crlf != text.count("\n"):
        raise RepriceError("mixes CRLF and LF line endings; save it with one kind first")
    return bom, text, bool(crlf)


def _own_mapping(name: str, *nodes: Any) -> None:
    """Refuse to edit a node other places share: an anchor (`&std`, read by `*std` or `<<: *std`)
    or a merge (`<<:`). Archiving it would archive, or repeat, the price wherever it is shared."""
    for node in nodes:
        anchor = getattr(getattr(node, "anchor", None), "value", None)
        if anchor or getattr(node, "merge", None):
            shared = f"is the anchor &{anchor}, which aliases may share" if anchor else "merges keys with <<:"
            raise RepriceError(f"{name} (or the mapping holding it) {shared}; reprice edits one price "
                               "only: give the price its own mapping first (write its keys out in full)")


def _amount(text: str) -> Decimal:
    try:
        return parse_amount(text)  # the catalog's own reader of amounts, with its message
    except ValueError as error:
        raise RepriceError(str(error)) from None


def _validate(text: str, file: str) -> list[Any]:
    doc = sources.parse(text, file)
    if doc.problems:
        return list(doc.problems)
    _, problems = check_catalog(doc)
    return problems
