"""Batch writes and reads on an event loop: the rules of write/rules.py, sent by the async
transport, ``workers`` requests in flight as tasks (no threads).

The guarantees are the threaded writer's (write/batch.py): items routed to a worker by a hash
of their key (a later line for a key wins and is never overtaken), every item kept until
DynamoDB acknowledges it, UnprocessedItems retried after a backoff with full jitter, a batch
refused as a whole split to find the item at fault, and every item not written reported in the
summary. Cancelling the task lets the requests in flight finish, reports the rest as not
written, and re-raises the cancellation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, Protocol

from ddbkit import errors
from ddbkit.models import KeySchema
from ddbkit.options import WORKERS, WRITE_RATE, optional
from ddbkit.transport.ratelimit import RateLimiter
from ddbkit.transport.retry import Backoff
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.write.rules import (
    BATCH_LINGER,
    BATCH_WRITE_SIZE,
    BatchGet,
    BatchRules,
    KeyId,
    Pending,
    RoundBudget,
    Wire,
    consumed,
    get_chunks,
    stop_reason,
)
from ddbkit.write.summary import Rejection, WriteSummary

Inbox = asyncio.Queue[tuple[KeyId, Pending] | None]


class AsyncWriteSender(Protocol):
    """What the async batch writer needs of a connection."""

    retry: Backoff

    async def send_once(
        self, method: str, params: Mapping[str, Any], *, table: str | None = None
    ) -> bytes: ...

    async def send(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        idempotent: bool = True,
    ) -> bytes: ...


class AsyncBatchWriter:
    """Write (put or delete) many items with ``workers`` tasks on this event loop."""

    def __init__(
        self,
        sender: AsyncWriteSender,
        table: str,
        keys: KeySchema,
        *,
        action: str = "put",
        workers: int = 8,
        rate_limit: float | None = None,
        on_error: str = "stop",
        progress: Any = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.rules = BatchRules(table, keys, action)
        if on_error not in ("stop", "skip"):
            raise errors.ValidationError("on_error must be 'stop' or 'skip'")
        self.sender = sender
        self.table = table
        self.workers = WORKERS.check(workers)
        rate_limit = optional(WRITE_RATE, rate_limit)
        self.limiter = RateLimiter(rate_limit) if rate_limit else None
        self.on_error = on_error
        self.progress = progress
        self.backoff = backoff or sender.retry
        self._written = self._duplicates = self._retries = 0
        self._failures: list[Rejection] = []
        self._fatal: BaseException | None = None
        self._interrupted = False

    async def write(
        self, items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]
    ) -> WriteSummary:
        """Write every item; the summary says what was not written and why (callers decide
        whether a shortfall raises, see :func:`ddbkit.write.summary.settled`)."""
        began = time.monotonic()
        summary = WriteSummary()
        inboxes: list[Inbox] = [asyncio.Queue(maxsize=1000) for _ in range(self.workers)]
        tasks = [asyncio.create_task(self._worker(inbox)) for inbox in inboxes]
        cancelled: asyncio.CancelledError | None = None
        try:
            await self._feed(items, inboxes, summary)
        except asyncio.CancelledError as exc:
            summary.interrupted = self._interrupted = True
            cancelled = exc
        except errors.DdbkitError as exc:  # the input failed part-way: settle what was read
            summary.error = str(exc)
        except OSError as exc:
            summary.error = f"reading the input failed: {exc}"
        # Whatever stopped the input, every item already handed to a worker is settled.
        for inbox in inboxes:
            await inbox.put(None)
        await asyncio.gather(*tasks, return_exceptions=True)
        summary.settle(
            written=self._written,
            duplicates=self._duplicates,
            retries=self._retries,
            failures=self._failures,
            on_reject=None,
            elapsed=time.monotonic() - began,
            fatal=self._fatal is not None,
        )
        if cancelled is not None:
            raise cancelled
        return summary

    async def _feed(
        self,
        items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        inboxes: list[Inbox],
        summary: WriteSummary,
    ) -> None:
        line = 0
        async for item in _each(items):
            if self._fatal is not None:
                return
            line += 1
            summary.read += 1
            prepared = self.rules.prepare(line, item)
            if isinstance(prepared, Rejection):
                summary.rejected += 1
                summary.rejections.append(prepared)
                if self.on_error == "stop":
                    summary.stopped = True
                    summary.stopped_at = f"line {prepared.line}: {prepared.reason}"
                    return
                continue
            key, pending = prepared
            inbox = inboxes[hash(key) % len(inboxes)]
            try:
                inbox.put_nowait((key, pending))
            except asyncio.QueueFull:
                await inbox.put((key, pending))

    async def _worker(self, inbox: Inbox) -> None:
        pending: dict[KeyId, Pending] = {}
        closed = False
        budget = RoundBudget(self.backoff, self.table)
        try:
            while not closed or pending:
                if self._fatal is not None or self._interrupted:
                    break
                idle = not pending
                closed = await self._fill(inbox, pending, closed)
                if not pending:
                    continue
                if idle:
                    budget.idle()
                batch = dict(list(pending.items())[:BATCH_WRITE_SIZE])
                written, error = await self._send(batch, pending)
                try:
                    delay = budget.after(written, all(k not in pending for k in batch), error)
                except errors.DdbkitError as exc:
                    self._fatal = exc  # nothing accepted for the whole budget: stop the job
                    break
                if delay is None:
                    continue
                self._retries += 1
                await asyncio.sleep(delay)
        except Exception as exc:  # a bug or a fatal service error: report, never drop
            self._fatal = self._fatal or exc
        if self._fatal is not None or self._interrupted:
            reason = stop_reason(self._fatal)
            self._failures.extend(Rejection(p.line, reason, p.item) for p in pending.values())
            pending.clear()
            while not closed:
                entry = await inbox.get()
                if entry is None:
                    return
                self._failures.append(Rejection(entry[1].line, reason, entry[1].item))

    async def _fill(self, inbox: Inbox, pending: dict[KeyId, Pending], closed: bool) -> bool:
        """Top up ``pending``; a partial batch waits up to BATCH_LINGER for more items."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while not closed and len(pending) < BATCH_WRITE_SIZE:
            try:
                entry = inbox.get_nowait()  # the common case: no timer, no suspension
            except asyncio.QueueEmpty:
                if not pending:
                    entry = await inbox.get()
                else:
                    if deadline is None:
                        deadline = loop.time() + BATCH_LINGER
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    try:
                        entry = await asyncio.wait_for(inbox.get(), left)
                    except asyncio.TimeoutError:
                        break
            if entry is None:
                return True
            key, item = entry
            if key in pending:
                # A later line for the same key: it wins, and the earlier one is never written.
                self._duplicates += 1
            pending[key] = item
        return closed

    async def _send(
        self, batch: dict[KeyId, Pending], pending: dict[KeyId, Pending]
    ) -> tuple[int, errors.DdbkitError | None]:
        """Send one batch; drop acknowledged (or rejected) items from ``pending``."""
        if self.limiter is not None:
            await asyncio.sleep(self.limiter.debt_wait())
        request = self.rules.request(batch, want_capacity=self.limiter is not None)
        try:
            body = await self.sender.send_once("batch_write_item", request, table=self.table)
            reply = decode_reply(body, self.table)
        except errors.ValidationError as exc:
            if len(batch) == 1:
                key, item = next(iter(batch.items()))
                del pending[key]
                self._failures.append(Rejection(item.line, str(exc), item.item))
                return 0, None
            # DynamoDB refused the batch as a whole: find the item at fault one by one.
            results = [await self._send({k: item}, pending) for k, item in batch.items()]
            return sum(written for written, _ in results), None
        except errors.DdbkitError as exc:
            if exc.retryable:
                return 0, exc
            raise  # the table is gone, access denied...: fatal for every item
        if self.limiter is not None:
            self.limiter.consume(consumed(reply))
        done = self.rules.settle(batch, pending, reply)
        self._written += done
        if done and self.progress is not None:
            self.progress(done)
        return done, None


async def _each(items: Any) -> AsyncIterator[Any]:
    if hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def get_many_async(
    sender: AsyncWriteSender,
    table: str,
    keys: Iterable[Wire],
    schema: KeySchema,
    *,
    consistent: bool = False,
    projection: Mapping[str, Any] | None = None,
    backoff: Backoff | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Items for wire keys, 100 keys a BatchGetItem; each distinct key's item once, any order."""
    for chunk in get_chunks(keys, schema):
        rounds = BatchGet(table, chunk, consistent, projection, backoff or sender.retry)
        while not rounds.done:
            body = await sender.send("batch_get_item", rounds.params(), table=table)
            items, delay = rounds.take(body)
            for item in items:
                yield item
            if delay:
                await asyncio.sleep(delay)
