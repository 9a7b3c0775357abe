"""The page loop on an event loop: the same walk as read/paginate.py, sent by the async transport.

What a page request is and what a reply means (limits, cursors, decoding, hidden key
attributes) is :class:`~ddbkit.read.paginate.PageRequests` and :class:`~ddbkit.read.paginate.Pager`,
shared with the sync loop; only the sending differs. A parallel scan runs its segments as tasks
on the one loop (at most MAX_SEGMENT_THREADS at once), pages arriving as they come.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from ddbkit.read.paginate import (
    MAX_SEGMENT_THREADS,
    Item,
    Page,
    Pager,
    PageRequests,
    RawPage,
    Walk,
    consumed_units,
)


class AsyncSender(Protocol):
    """What the async page loop needs of a connection: send one operation, retried."""

    async def send(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        idempotent: bool = True,
    ) -> bytes: ...


class AsyncItemIterator:
    """Items across ALL pages, ``async for item in table.scan()``; ``.pages()`` for pages."""

    def __init__(self, sender: AsyncSender, walk: Walk | Callable[[], Awaitable[Walk]]) -> None:
        # A walk may need the table's description first (an await): then it is made when the
        # iteration starts, so ``table.scan()`` itself needs no await.
        self._sender = sender
        self._make_walk = walk
        self._started: tuple[Walk, Pager] | None = None
        self._items: AsyncIterator[Item] | None = None

    async def _start(self) -> tuple[Walk, Pager]:
        if self._started is None:
            made = self._make_walk
            walk = made if isinstance(made, Walk) else await made()
            self._started = (walk, Pager(walk))
        return self._started

    @property
    def cursor(self) -> str | None:
        """Where the items handed out so far end; None when nothing is left (or not started)."""
        return None if self._started is None else self._started[1].cursor

    @property
    def count(self) -> int:
        return 0 if self._started is None else self._started[1].count

    @property
    def scanned_count(self) -> int:
        return 0 if self._started is None else self._started[1].scanned_count

    def __aiter__(self) -> AsyncItemIterator:
        return self

    async def __anext__(self) -> Item:
        if self._items is None:
            self._items = self._each_item()
        return await self._items.__anext__()

    async def _each_item(self) -> AsyncIterator[Item]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def pages(self) -> AsyncIterator[Page]:
        """Decoded pages; after a ``limit`` stop the last cursor points just past the last item."""
        _, pager = await self._start()
        if pager.limit_reached:
            return
        async for segment, reply in self._replies(pager.page_limit()):
            page, finished = pager.take(segment, reply)
            yield page
            if finished:
                return

    async def raw_pages(self) -> AsyncIterator[RawPage]:
        """Undecoded pages, for writers that never need Python values. No limit applies."""
        _, pager = await self._start()
        async for segment, reply in self._replies(pager.fixed_page_limit()):
            yield pager.take_raw(segment, reply)

    async def _replies(
        self, page_limit: Callable[[], int | None] | None
    ) -> AsyncIterator[tuple[int, dict[str, Any]]]:
        _, pager = await self._start()
        segments = pager.pending_segments()
        if len(segments) == 1:
            async for reply in self._segment(segments[0], page_limit):
                yield segments[0], reply
            return
        async for pair in _merge_tasks(
            [self._tagged(s, page_limit) for s in segments], MAX_SEGMENT_THREADS
        ):
            yield pair

    async def _tagged(
        self, segment: int, page_limit: Callable[[], int | None] | None
    ) -> AsyncIterator[tuple[int, dict[str, Any]]]:
        async for reply in self._segment(segment, page_limit):
            yield segment, reply

    async def _segment(
        self, segment: int, page_limit: Callable[[], int | None] | None
    ) -> AsyncIterator[dict[str, Any]]:
        walk, pager = await self._start()
        requests = PageRequests(
            walk.operation,
            pager.segment_params(segment),
            table=walk.table,
            start=pager.start_key(segment),
            page_limit=page_limit,
            want_capacity=walk.limiter is not None,
        )
        limiter = walk.limiter
        while not requests.done:
            request = requests.next_request()
            if limiter is not None:
                await asyncio.sleep(limiter.debt_wait())
            body = await self._sender.send(walk.operation, request, table=walk.table)
            reply = requests.take(body)
            if limiter is not None:
                limiter.consume(consumed_units(reply))
            yield reply


async def count_items_async(sender: AsyncSender, walk: Walk) -> int:
    """Exact count: Select=COUNT over every page (of every segment)."""
    iterator = AsyncItemIterator(sender, walk)
    total = 0
    async for _, reply in iterator._replies(None):
        total += int(reply.get("Count", 0))
    return total


async def _merge_tasks(
    sources: list[AsyncIterator[tuple[int, dict[str, Any]]]], concurrency: int
) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """Replies of all sources as they arrive; at most ``concurrency`` walked at once, each
    at most two pages ahead of the consumer (memory stays flat, as in the threaded merge)."""
    todo = list(reversed(sources))
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=2 * min(len(sources), concurrency))
    end = object()

    async def work() -> None:
        try:
            while todo:
                source = todo.pop()
                async for pair in source:
                    await queue.put(pair)
        except Exception as exc:  # handed to the consumer, who re-raises it
            await queue.put(exc)
            return
        await queue.put(end)

    tasks = [asyncio.create_task(work()) for _ in range(min(len(sources), concurrency))]
    running = len(tasks)
    try:
        while running:
            value = await queue.get()
            if value is end:
                running -= 1
            elif isinstance(value, BaseException):
                raise value
            else:
                yield value  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
