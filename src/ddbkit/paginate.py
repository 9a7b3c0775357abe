"""The one page loop: query, scan, count (and later parallel scan and export) all walk pages here.

Every page is sent with the same parameters (filter, projection, index, consistency): the
hand-written loop this replaces tends to drop the filter after page one. An empty page that still
carries a LastEvaluatedKey does not end the walk. ``limit`` counts items handed to the caller after
filtering, not DynamoDB's per-page ``Limit``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.jsonvalues import dumps_typed, loads_typed
from ddbkit.serialize import from_item, to_item

if TYPE_CHECKING:
    from ddbkit.client import Database

Wire = dict[str, Any]
Item = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of results: the items, DynamoDB's counts, and where to continue from."""

    items: list[Item]
    count: int
    scanned_count: int
    cursor: str | None


def encode_cursor(key: Mapping[str, Mapping[str, Any]]) -> str:
    """An opaque, URL-safe string for a LastEvaluatedKey."""
    text = dumps_typed(from_item(key))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Wire:
    """The LastEvaluatedKey behind a cursor made by :func:`encode_cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        key = loads_typed(text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise errors.ValidationError(
            "invalid cursor: pass the exact string printed by --cursor (or Page.cursor)"
        ) from exc
    if not isinstance(key, dict) or not key:
        raise errors.ValidationError(
            "invalid cursor: pass the exact string printed by --cursor (or Page.cursor)"
        )
    return to_item(key)


def raw_pages(
    db: Database,
    operation: str,
    params: Mapping[str, Any],
    *,
    table: str,
    start: Wire | None = None,
    page_limit: Callable[[], int | None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Send ``operation`` page after page with the same ``params``; yield each raw reply.

    ``page_limit`` is asked before each request for DynamoDB's per-page ``Limit`` (None: none).
    """
    request = dict(params)
    if start is not None:
        request["ExclusiveStartKey"] = start
    while True:
        if page_limit is not None:
            limit = page_limit()
            if limit is None:
                request.pop("Limit", None)
            else:
                request["Limit"] = limit
        reply = db.call(operation, table=table, **request)
        yield reply
        last = reply.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


def count_items(db: Database, operation: str, params: Mapping[str, Any], *, table: str) -> int:
    """Exact count: Select=COUNT over every page."""
    counted = {**params, "Select": "COUNT"}
    return sum(int(page.get("Count", 0)) for page in raw_pages(db, operation, counted, table=table))


class ItemIterator:
    """Lazy items across ALL pages; ``.pages()`` gives the pages with counts and cursors.

    ``key_names`` are the attributes that make up a LastEvaluatedKey (table keys plus index keys),
    used to build a cursor when ``limit`` stops the walk in the middle of a page. ``hidden`` are
    attributes requested only for that purpose and removed before items are handed out.
    """

    def __init__(
        self,
        db: Database,
        operation: str,
        params: Mapping[str, Any],
        *,
        table: str,
        key_names: tuple[str, ...],
        limit: int | None = None,
        start: str | None = None,
        hidden: frozenset[str] = frozenset(),
        has_filter: bool = False,
    ) -> None:
        if limit is not None and limit < 0:
            raise errors.ValidationError("limit must be 0 or more")
        self._db = db
        self._operation = operation
        self._params = dict(params)
        self._table = table
        self._key_names = key_names
        self._limit = limit
        self._start = decode_cursor(start) if start else None
        self._hidden = hidden
        self._has_filter = has_filter
        self._item_iter: Iterator[Item] | None = None
        self.cursor: str | None = None
        self.count = 0
        self.scanned_count = 0

    @property
    def params(self) -> dict[str, Any]:
        """The request parameters sent with every page (for --explain and tests)."""
        return dict(self._params)

    def __iter__(self) -> Iterator[Item]:
        return self

    def __next__(self) -> Item:
        if self._item_iter is None:
            self._item_iter = (item for page in self.pages() for item in page.items)
        return next(self._item_iter)

    def pages(self) -> Iterator[Page]:
        """Yield pages; after a ``limit`` stop the last cursor points just past the last item."""
        remaining = self._limit
        if remaining == 0:
            return

        def page_limit() -> int | None:
            # Without a filter every evaluated item is returned, so asking DynamoDB for exactly
            # what is still wanted ends the page at the limit and reads nothing more.
            if remaining is None or self._has_filter:
                return None
            return remaining

        for reply in raw_pages(
            self._db,
            self._operation,
            self._params,
            table=self._table,
            start=self._start,
            page_limit=page_limit,
        ):
            raw_items: list[Wire] = reply.get("Items", [])
            self.scanned_count += int(reply.get("ScannedCount", 0))
            last_key = reply.get("LastEvaluatedKey")
            if remaining is not None and len(raw_items) >= remaining:
                cut = raw_items[:remaining]
                more = len(raw_items) > remaining or bool(last_key)
                cursor = self._cursor_after(
                    cut[-1], last_key, cut_mid_page=len(raw_items) > remaining
                )
                page = self._page(cut, reply, cursor if more else None)
                self.cursor = page.cursor
                yield page
                return
            page = self._page(raw_items, reply, encode_cursor(last_key) if last_key else None)
            self.cursor = page.cursor
            if remaining is not None:
                remaining -= len(raw_items)
            yield page

    def _cursor_after(self, item: Wire, last_key: Wire | None, *, cut_mid_page: bool) -> str | None:
        if not cut_mid_page:
            return encode_cursor(last_key) if last_key else None
        key = {name: item[name] for name in self._key_names if name in item}
        return encode_cursor(key)

    def _page(self, raw_items: list[Wire], reply: Mapping[str, Any], cursor: str | None) -> Page:
        items = [from_item(raw) for raw in raw_items]
        if self._hidden:
            for item in items:
                for name in self._hidden:
                    item.pop(name, None)
        self.count += len(items)
        return Page(
            items=items,
            count=len(items),
            scanned_count=int(reply.get("ScannedCount", 0)),
            cursor=cursor,
        )
