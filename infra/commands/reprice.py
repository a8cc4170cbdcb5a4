"""`billing reprice PLAN.PRICE AMOUNT`: write the safe edit for a new price.

A Stripe price's terms never change (provider_table: a new amount replaces the
price, which live refuses, and leaves the old one active). The safe edit keeps
the old price declared with `archived: true` and adds a new price key with the
new amount that takes the lookup key over. This command writes exactly that
into the catalog, keeping its comments and layout (ruamel.yaml round-trip),
and only after the edited catalog validates.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from infra.catalog import amount_text, check_catalog, lookup_key_for, parse_amount, to_minor_units
from infra.core import exits, sources, writer
from infra.core.layout import DEFAULT_CATALOG


def main(args: argparse.Namespace, out: TextIO) -> int:
    path: Path = args.catalog or args.project / DEFAULT_CATALOG
    try:
        # A --catalog the user named is written where it is; the default, inside the project.
        inside = path.parent if args.catalog else args.project
        message = reprice(path, args.price, args.amount, args.key, inside)
    except RepriceError as error:
        print(f"{path}: {error}; the catalog was not changed", file=sys.stderr)
        return exits.REFUSED
    except writer.WriteRefused as error:
        print(error, file=sys.stderr)
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
        prices = document["plans"][plan_key]["prices"]
        old = prices[price_key]
    except YAMLError:
        raise RepriceError("is not valid YAML; fix it first (`billing validate`)") from None
    except (KeyError, TypeError):
        raise RepriceError(f"has no price {plan_key}.{price_key}") from None
    _own_mapping(f"{plan_key}.{price_key}", document["plans"][plan_key], prices, old)
    if not isinstance(old, CommentedMap) or old.get("archived") is True:
        raise RepriceError(f"{plan_key}.{price_key} is already archived; reprice the active price")
    currency = str(old.get("currency"))
    try:
        to_minor_units(amount, currency)
    except ValueError as error:
        raise RepriceError(str(error)) from None
    if old.get("amount") is not None and _amount(str(old["amount"])) == amount:
        raise RepriceError(f"{plan_key}.{price_key} already sells at {amount}; nothing to do")
    stem = re.sub(r"_v[0-9]+$", "", price_key)  # monthly_v2 -> monthly_v3, not monthly_v2_v2
    key = new_key or next(f"{stem}_v{n}" for n in range(2, 1000) if f"{stem}_v{n}" not in prices)
    if key in prices:
        raise RepriceError(f"{plan_key}.{key} exists already; pass another --key")
    lookup = lookup_key_for(plan_key, price_key, old.get("lookup_key"))
    new = CommentedMap((name, value) for name, value in old.items() if name not in ("lookup_key", "archived"))
    new["amount"] = DoubleQuotedScalarString(amount_text(amount))
    new["lookup_key"] = lookup
    if old.fa.flow_style():
        new.fa.set_flow_style()
    old["archived"] = True
    prices.insert(list(prices).index(price_key) + 1, key, new)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    problems = _validate(buffer.getvalue(), str(path))
    if problems:
        raise RepriceError("the edit would not validate: " + "; ".join(str(p) for p in problems))
    edited = bom + (buffer.getvalue().replace("\n", "\r\n") if crlf else buffer.getvalue())
    writer.write(writer.Target(path, edited.encode("utf-8"), replaceable=lambda _: True), inside)
    return (f"{plan_key}.{price_key} is archived (existing subscribers keep it); {plan_key}.{key} sells at "
            f"{amount} {currency.upper()} and takes lookup key {lookup!r} over. Review with `git diff` and "
            "`billing diff --base HEAD`, then deploy test before live.")


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
