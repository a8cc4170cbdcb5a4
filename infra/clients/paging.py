"""Walk a cursor-paged list, bounded: a page cap and a repeated-cursor check.

A server that always says there is more (a bug, a loop in a gateway, or an
attacker) must not keep a command reading forever: a cursor seen before ends
the walk at once, and so does the page cap, with an error naming the list.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

from infra.clients.errors import ApiError

MAX_PAGES = 100
"""100 pages of 100 Stripe objects: far beyond any catalog this project manages."""

Item = TypeVar("Item")
Cursor = TypeVar("Cursor", bound=Hashable)
# cursor (None for the first page) -> (items, the next page's cursor or None at the end)
Page = Callable[[Cursor | None], tuple[list[Item], Cursor | None]]


def follow(page: Page[Cursor, Item], what: str, max_pages: int = MAX_PAGES) -> Iterator[Item]:
    """Every item of every page, or ApiError("paging") when the list repeats or runs past the cap."""
    cursor: Cursor | None = None
    seen: set[Cursor] = set()
    for _ in range(max_pages):
        items, cursor = page(cursor)
        yield from items
        if cursor is None:
            return
        if cursor in seen:
            raise ApiError("paging", f"{what}: the server sent a page cursor it had already sent; stopped "
                           "reading (it would loop forever)")
        seen.add(cursor)
    raise ApiError("paging", f"{what}: still more after {max_pages} pages; stopped reading (a list that "
                   "never ends is not one this command can use)")
