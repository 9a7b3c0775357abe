"""The one page loop: query, scan, parallel scan, count and export all walk pages here.

Every page is sent with the same parameters (filter, projection, index, consistency): the
hand-written loop this replaces tends to drop the filter after page one. An empty page that still
carries a LastEvaluatedKey does not end the walk. ``limit`` counts items handed to the caller after
filtering, not DynamoDB's per-page ``Limit``.

Pages come through the fast path (:meth:`Connection.call_raw` + orjson): items stay in raw wire
form (B as base64 text) until the consumer decodes them, or never, for an export. Each request is
retried with backoff on throttling, 5xx and broken connections. With ``segments > 1`` one thread
per segment runs the same loop (a parallel Scan) and pages arrive in whatever order they come.

A cursor records, per segment, where the pages handed out so far end, so a walk can resume
exactly there (``start=``), whether it stopped by ``limit``, by a crash or by choice.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.read.cursors import SegmentCursors, wire_key
from ddbkit.transport.ratelimit import RateLimiter
from ddbkit.transport.retry import Stopped
from ddbkit.values.jsonvalues import CHANGED_ITEMS, decode_reply
from ddbkit.values.serialize import from_item

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection

Wire = dict[str, Any]
Item = dict[str, Any]
SCAN_THREAD = "ddbkit-segment"  # name prefix of a parallel walk's threads
MAX_SEGMENT_THREADS = 64


@dataclass(frozen=True)
class Page:
    """One page of results: the items, DynamoDB's counts, and where to continue from."""

    items: list[Item]
    count: int
    scanned_count: int
    cursor: str | None
    segment: int = 0


@dataclass(frozen=True)
class RawPage:
    """A page as DynamoDB sent it: raw wire items (B as base64 text), undecoded."""

    segment: int
    items: list[Wire]
    scanned_count: int
    last_key: Wire | None  # LastEvaluatedKey in request form, None on the segment's last page
    consumed: float
    changed: frozenset[int] = frozenset()  # items whose strings were not valid Unicode (below)


# -- the loop -------------------------------------------------------------------------------------


class PageRequests:
    """One segment's walk apart from sending: the next page's request, and what its reply means.

    Shared by the sync loop (:func:`raw_pages`) and the async one (read/aio.py). ``page_limit``
    is asked before each request for DynamoDB's per-page ``Limit`` (None: none). ``decode=False``
    makes :meth:`take` return ``{"body": <the page's JSON bytes>, "LastEvaluatedKey": <key or
    None>}`` without decoding the items in Python (sql hands the bytes to DuckDB as they are).
    """

    def __init__(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        table: str,
        start: Wire | None = None,
        page_limit: Callable[[], int | None] | None = None,
        want_capacity: bool = False,
        decode: bool = True,
    ) -> None:
        self.operation = operation
        self.table = table
        self.request = dict(params)
        self._page_limit = page_limit
        self._want_capacity = want_capacity
        self._decode = decode
        if want_capacity:
            self.request["ReturnConsumedCapacity"] = "TOTAL"
        if start is not None:
            self.request["ExclusiveStartKey"] = start
        self.done = False

    def next_request(self) -> dict[str, Any]:
        """The parameters of the next page (the same every time, but for where it starts)."""
        if self._page_limit is not None:
            limit = self._page_limit()
            if limit is None:
                self.request.pop("Limit", None)
            else:
                self.request["Limit"] = limit
        return self.request

    def take(self, body: bytes) -> dict[str, Any]:
        """The reply to the last request, decoded; the walk moves on to its LastEvaluatedKey."""
        if not self._decode:
            reply = _undecoded(body, self._want_capacity)
        else:
            reply = decode_reply(body, self.table)
        return self.take_parsed(reply, raw=True)

    def take_parsed(self, reply: dict[str, Any], *, raw: bool = False) -> dict[str, Any]:
        """:meth:`take` for a reply already parsed (``raw``: from ddbkit's JSON, B as base64
        text; else from botocore's parser, B as bytes)."""
        last = reply.get("LastEvaluatedKey")
        if last and raw:
            last = wire_key(last)
            reply["LastEvaluatedKey"] = last
        if last:
            self.request["ExclusiveStartKey"] = last
        else:
            self.done = True
        return reply


def raw_pages(
    db: Connection,
    operation: str,
    params: Mapping[str, Any],
    *,
    table: str,
    start: Wire | None = None,
    page_limit: Callable[[], int | None] | None = None,
    fast: bool = True,
    limiter: RateLimiter | None = None,
    stop: threading.Event | None = None,
    decode: bool = True,
) -> Iterator[dict[str, Any]]:
    """Send ``operation`` page after page with the same ``params``; yield each decoded reply.

    See :class:`PageRequests` for ``page_limit`` and ``decode``; ``fast=False`` takes botocore's
    own parser instead (kept to prove both agree). Each request is retried within the
    connection's budget; a set ``stop`` ends the walk, also in the middle of a wait between
    attempts.
    """
    walk = PageRequests(
        operation,
        params,
        table=table,
        start=start,
        page_limit=page_limit,
        want_capacity=limiter is not None,
        decode=decode,
    )
    while not walk.done and (stop is None or not stop.is_set()):
        request = walk.next_request()
        if limiter is not None:
            limiter.acquire(stop)
            if stop is not None and stop.is_set():
                return
        try:
            if fast or not decode:
                reply = walk.take(db.call_raw(operation, table=table, stop=stop, **request))
            else:
                reply = walk.take_parsed(db.call(operation, table=table, stop=stop, **request))
        except Stopped:
            return
        if limiter is not None:
            limiter.consume(consumed_units(reply))
        yield reply


_LAST_KEY = b'"LastEvaluatedKey":'
_JSON = json.JSONDecoder()
# What may follow the top-level LastEvaluatedKey up to the reply's end: the scalar counts and a
# ConsumedCapacity in TOTAL form (a flat object). Anything else means the match was not top-level.
_TAIL = re.compile(rb'\s*(,\s*"[A-Za-z]+"\s*:\s*([0-9.]+|\{[^{}]*\})\s*)*\}\s*')


def _undecoded(body: bytes, want_capacity: bool) -> dict[str, Any]:
    """A reply whose items stay as bytes: only the LastEvaluatedKey is read, from the page tail.

    DynamoDB (AWS and Local) writes LastEvaluatedKey after Items, so the last occurrence of the
    key is the top-level one when what follows it is only the reply's closing counts; if that
    check fails (an attribute of that name, another server's order) the page is fully decoded.
    """
    reply: dict[str, Any] = {"body": body, "LastEvaluatedKey": None}
    if want_capacity:  # the rate limiter needs ConsumedCapacity: rare, so take the slow way
        full = decode_reply(body)
        reply["LastEvaluatedKey"] = full.get("LastEvaluatedKey")
        reply["ConsumedCapacity"] = full.get("ConsumedCapacity")
        return reply
    at = body.rfind(_LAST_KEY)
    if at < 0:
        return reply
    try:
        text = body[at + len(_LAST_KEY) :].decode()
        key, end = _JSON.raw_decode(text.lstrip())
        end += len(text) - len(text.lstrip())
        if isinstance(key, dict) and _TAIL.fullmatch(text[end:].encode()):
            reply["LastEvaluatedKey"] = key or None
            return reply
    except ValueError:
        pass
    reply["LastEvaluatedKey"] = decode_reply(body).get("LastEvaluatedKey")
    return reply


def consumed_units(reply: Mapping[str, Any]) -> float:
    capacity = reply.get("ConsumedCapacity") or {}
    if isinstance(capacity, list):  # BatchGetItem reports one entry per table
        return sum(float(c.get("CapacityUnits", 0)) for c in capacity)
    return float(capacity.get("CapacityUnits", 0))


def count_items(db: Connection, walk: Walk) -> int:
    """Exact count: Select=COUNT over every page (of every segment)."""
    cursors = SegmentCursors(walk.segments)
    source = _segment_sources(db, walk.operation, walk.params, walk.table, cursors, walk.limiter)
    return sum(int(reply.get("Count", 0)) for _, reply in _merge(source, walk.segments))


def _segment_sources(
    db: Connection,
    operation: str,
    params: Mapping[str, Any],
    table: str,
    cursors: SegmentCursors,
    limiter: RateLimiter | None,
    page_limit: Callable[[], int | None] | None = None,
    decode: bool = True,
) -> list[Callable[[threading.Event | None], Iterator[dict[str, Any]]]]:
    """One page generator factory per segment that is not finished yet."""

    def source(segment: int) -> Callable[[threading.Event | None], Iterator[dict[str, Any]]]:
        segment_params = dict(params)
        if cursors.segments > 1:
            segment_params.update(Segment=segment, TotalSegments=cursors.segments)

        def pages(stop: threading.Event | None) -> Iterator[dict[str, Any]]:
            for reply in raw_pages(
                db,
                operation,
                segment_params,
                table=table,
                start=cursors.start_key(segment),
                page_limit=page_limit,
                limiter=limiter,
                stop=stop,
                decode=decode,
            ):
                reply["ddbkit.segment"] = segment
                yield reply

        return pages

    return [source(s) for s in range(cursors.segments) if not cursors.finished(s)]


def _merge(
    sources: list[Callable[[threading.Event | None], Iterator[dict[str, Any]]]], segments: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Pages of all sources as they arrive: in this thread for one, from a thread each for more."""
    if segments == 1 or len(sources) <= 1:
        for make in sources:
            for reply in make(None):
                yield int(reply["ddbkit.segment"]), reply
        return
    yield from _merge_threads(sources)


_END = object()


def _merge_threads(
    sources: list[Callable[[threading.Event | None], Iterator[dict[str, Any]]]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    # A small bounded queue: workers run at most two pages ahead of the consumer, so memory
    # stays flat however large the table, and a slow writer slows the scan instead of piling up.
    # At most MAX_SEGMENT_THREADS segments are walked at once; each thread takes the next
    # segment when its own is done, so a million segments never mean a million threads.
    todo: queue.SimpleQueue[Callable[[threading.Event | None], Iterator[dict[str, Any]]]] = (
        queue.SimpleQueue()
    )
    for make in sources:
        todo.put(make)
    count = min(len(sources), MAX_SEGMENT_THREADS)
    pending: queue.Queue[object] = queue.Queue(maxsize=2 * count)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                pending.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    make = todo.get_nowait()
                except queue.Empty:
                    break
                for reply in make(stop):
                    if not put(reply):
                        return
        except BaseException as exc:  # handed to the consumer, who re-raises it
            put(exc)
            return
        put(_END)

    threads = [
        threading.Thread(target=work, daemon=True, name=f"{SCAN_THREAD}-{n}") for n in range(count)
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            value = pending.get()
            if value is _END:
                running -= 1
            elif isinstance(value, BaseException):
                raise value
            else:
                reply: dict[str, Any] = value  # type: ignore[assignment]
                yield int(reply["ddbkit.segment"]), reply
    finally:
        stop.set()
        deadline = time.monotonic() + 30
        for thread in threads:
            # A walk dropped mid-way is finalized by the garbage collector, which may run in
            # one of these very threads: it ends by itself once it sees ``stop``.
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))


@dataclass(frozen=True)
class Walk:
    """Everything a walk over pages needs (built by expr/requests.py, run by either loop).

    ``key_names`` are the attributes that make up a LastEvaluatedKey (table keys plus index
    keys), used to build a cursor when ``limit`` stops the walk in the middle of a page.
    ``hidden`` are attributes requested only for that purpose, removed before items are handed
    out.
    """

    operation: str
    params: Mapping[str, Any]
    table: str
    key_names: tuple[str, ...]
    limit: int | None = None
    start: str | None = None
    hidden: frozenset[str] = frozenset()
    has_filter: bool = False
    segments: int = 1
    limiter: RateLimiter | None = None
    page_size: int | None = None


class Pager:
    """What the pages of one walk mean, apart from sending: the limit, the cursors, decoding.

    Shared by :class:`ItemIterator` and the async iterator (read/aio.py).
    """

    def __init__(self, walk: Walk) -> None:
        if walk.limit is not None and walk.limit < 0:
            raise errors.ValidationError("limit must be 0 or more")
        if walk.segments < 1:
            raise errors.ValidationError("segments must be 1 or more")
        self.walk = walk
        self.cursors = SegmentCursors.decode(walk.start, walk.segments)
        self.remaining = walk.limit
        self.count = 0
        self.scanned_count = 0

    @property
    def cursor(self) -> str | None:
        return self.cursors.encode()

    @property
    def limit_reached(self) -> bool:
        return self.remaining == 0

    def pending_segments(self) -> list[int]:
        return [s for s in range(self.cursors.segments) if not self.cursors.finished(s)]

    def segment_params(self, segment: int) -> dict[str, Any]:
        params = dict(self.walk.params)
        if self.cursors.segments > 1:
            params.update(Segment=segment, TotalSegments=self.cursors.segments)
        return params

    def start_key(self, segment: int) -> Wire | None:
        return self.cursors.start_key(segment)

    def page_limit(self) -> Callable[[], int | None]:
        """DynamoDB's per-page Limit for a walk handing out items (see :meth:`take`)."""
        if self.cursors.segments != 1 or self.walk.has_filter:
            return self.fixed_page_limit()
        size = self.walk.page_size

        def exact() -> int | None:
            # Without a filter every evaluated item is returned, so asking DynamoDB for exactly
            # what is still wanted ends the page at the limit and reads nothing more.
            remaining = self.remaining
            if remaining is None:
                return size
            return remaining if size is None else min(remaining, size)

        return exact

    def fixed_page_limit(self) -> Callable[[], int | None]:
        size = self.walk.page_size
        # A plain function, not a method: worker threads must not hold the pager (through the
        # closure): a caller who stops early drops the iterator, and only then does the walk's
        # cleanup stop the threads.
        return lambda: size

    def take(self, segment: int, reply: Mapping[str, Any]) -> tuple[Page, bool]:
        """The page a reply makes, and whether the walk is finished (its limit reached)."""
        raw_items: list[Wire] = reply.get("Items", [])
        scanned = int(reply.get("ScannedCount", 0))
        self.scanned_count += scanned
        last_key = reply.get("LastEvaluatedKey")
        remaining = self.remaining
        if remaining is not None and len(raw_items) >= remaining:
            cut = raw_items[:remaining]
            if len(raw_items) > remaining:
                last_key = self._key_of(cut[-1])
            self.cursors.advance(segment, last_key)
            self.remaining = 0
            return self._page(cut, scanned, segment), True
        self.cursors.advance(segment, last_key)
        if remaining is not None:
            self.remaining = remaining - len(raw_items)
        return self._page(raw_items, scanned, segment), False

    def take_raw(self, segment: int, reply: Mapping[str, Any]) -> RawPage:
        """The undecoded page a reply makes (no limit applies)."""
        raw_items: list[Wire] = reply.get("Items", [])
        last_key = reply.get("LastEvaluatedKey")
        self.cursors.advance(segment, last_key)
        scanned = int(reply.get("ScannedCount", 0))
        self.scanned_count += scanned
        self.count += len(raw_items)
        changed = frozenset(reply.get(CHANGED_ITEMS, ()))
        return RawPage(segment, raw_items, scanned, last_key, consumed_units(reply), changed)

    def _key_of(self, item: Wire) -> Wire:
        missing = [name for name in self.walk.key_names if name not in item]
        if missing:  # a cursor without the full key would end the walk early: never guess
            raise errors.DdbkitError(
                f"cannot make a cursor: the items lack key attribute(s) {', '.join(missing)}"
            )
        return wire_key({name: item[name] for name in self.walk.key_names})

    def _page(self, raw_items: list[Wire], scanned: int, segment: int) -> Page:
        items = [from_item(raw) for raw in raw_items]
        if self.walk.hidden:
            for item in items:
                for name in self.walk.hidden:
                    item.pop(name, None)
        self.count += len(items)
        return Page(
            items=items,
            count=len(items),
            scanned_count=scanned,
            cursor=self.cursors.encode(),
            segment=segment,
        )


class ItemIterator:
    """Lazy items across ALL pages; ``.pages()`` gives the pages with counts and cursors."""

    def __init__(self, db: Connection, walk: Walk) -> None:
        self._db = db
        self._walk = walk
        self._pager = Pager(walk)
        self._item_iter: Iterator[Item] | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The request parameters sent with every page (for --explain and tests)."""
        return dict(self._walk.params)

    @property
    def segments(self) -> int:
        return self._walk.segments

    @property
    def cursor(self) -> str | None:
        """Where the items handed out so far end; None when nothing is left."""
        return self._pager.cursor

    @property
    def count(self) -> int:
        return self._pager.count

    @property
    def scanned_count(self) -> int:
        return self._pager.scanned_count

    def __iter__(self) -> Iterator[Item]:
        return self

    def close(self) -> None:
        """Stop the walk now (a parallel scan's threads end); iterating again yields nothing."""
        if self._item_iter is not None:
            self._item_iter.close()  # type: ignore[attr-defined]
        self._item_iter = iter(())

    def __enter__(self) -> ItemIterator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __next__(self) -> Item:
        if self._item_iter is None:
            self._item_iter = (item for page in self.pages() for item in page.items)
        return next(self._item_iter)

    def _replies(
        self, page_limit: Callable[[], int | None]
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        walk = self._walk
        sources = _segment_sources(
            self._db,
            walk.operation,
            walk.params,
            walk.table,
            self._pager.cursors,
            walk.limiter,
            page_limit=page_limit,
        )
        return _merge(sources, self._pager.cursors.segments)

    def raw_pages(self) -> Iterator[RawPage]:
        """Undecoded pages, for writers that never need Python values (export). No limit applies."""
        for segment, reply in self._replies(self._pager.fixed_page_limit()):
            yield self._pager.take_raw(segment, reply)

    def pages(self) -> Iterator[Page]:
        """Decoded pages; after a ``limit`` stop the last cursor points just past the last item."""
        pager = self._pager
        if pager.limit_reached:
            return
        for segment, reply in self._replies(pager.page_limit()):
            page, finished = pager.take(segment, reply)
            yield page
            if finished:
                return
