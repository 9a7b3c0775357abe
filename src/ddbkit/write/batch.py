"""Batch writes and reads that never lose an item.

Writing: items are checked and converted before batching; one DynamoDB can never accept (bad
value, missing or mistyped key, over 400 KB) is rejected alone, with its line number, and the rest
go on. Items are routed to workers by a hash of their key, so one key is always written by one
worker, in input order: a later line with the same key replaces an earlier one that is not yet
written (the two never reach DynamoDB in one batch, which it would refuse) and can never be
overtaken by it. Each worker keeps an item in its pending map until DynamoDB has acknowledged it:
UnprocessedItems stay there, a throttled or failed call keeps the whole batch there, and the next
attempt waits with exponential backoff and full jitter. A batch DynamoDB refuses as a whole is
split, so only the item at fault is rejected. If DynamoDB accepts nothing for the connection's
whole retry budget (transport/retry.py: errors at most ``max_attempts`` times, throttling and
unprocessed items for ``max_seconds``), the job stops reading and every item still pending or
queued is reported as failed, never dropped; Ctrl-C does the same after the requests in flight.
(boto3's batch_writer, by contrast, drops a batch whose send raises and resends unprocessed items
without backoff.)

Reading: BatchGetItem 100 keys a call, UnprocessedKeys resent with backoff until answered.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

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
from ddbkit.write.summary import Rejection, Unaddressable, WriteSummary, settled

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection

__all__ = ["BatchWriter", "Rejection", "Unaddressable", "WriteSummary", "get_many", "settled"]


class _Stats:
    """Counters shared by the workers."""

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.lock = threading.Lock()
        self.written = 0
        self.duplicates = 0
        self.retries = 0
        self.progress = progress

    def add(self, *, written: int = 0, duplicates: int = 0, retries: int = 0) -> None:
        with self.lock:
            self.written += written
            self.duplicates += duplicates
            self.retries += retries
        if written and self.progress is not None:
            self.progress(written)


class BatchWriter:
    """Write (put or delete) many items with N workers; see the module docstring for guarantees."""

    def __init__(
        self,
        db: Connection,
        table: str,
        keys: KeySchema,
        *,
        action: str = "put",
        workers: int = 8,
        rate_limit: float | RateLimiter | None = None,
        on_error: str = "stop",
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Callable[[int], None] | None = None,
        backoff: Callable[[], Backoff] | None = None,
    ) -> None:
        self.rules = BatchRules(table, keys, action)
        if on_error not in ("stop", "skip"):
            raise errors.ValidationError("on_error must be 'stop' or 'skip'")
        workers = WORKERS.check(workers)
        # A RateLimiter is a budget shared beyond this writer (a Dask worker thread's slot).
        shared = rate_limit if isinstance(rate_limit, RateLimiter) else None
        rate_limit = None if shared is not None else optional(WRITE_RATE, rate_limit)
        self.db = db
        self.table = table
        self.keys = keys
        self.action = action
        self.workers = workers
        self.limiter = shared or (RateLimiter(rate_limit) if rate_limit else None)
        self.on_error = on_error
        self.on_reject = on_reject
        # Each worker gets its own copy of the connection's retry budget, its waits cut short by
        # Ctrl-C (the replaceable clock and sleep of a given backoff are kept for tests).
        self._interrupted = threading.Event()
        self._backoff = backoff or (
            lambda: dataclasses.replace(db.retry, sleep=self._interrupted.wait)
        )
        self._stats = _Stats(progress)
        self._failures: list[Rejection] = []
        self._failures_lock = threading.Lock()
        self._fatal: BaseException | None = None

    def prepare(self, line: int, item: Any) -> tuple[KeyId, Pending] | Rejection:
        """Convert and check one input item (see :meth:`BatchRules.prepare`)."""
        return self.rules.prepare(line, item)

    # -- the run ------------------------------------------------------------------------------

    def write(self, records: Iterable[tuple[int, Any]]) -> WriteSummary:
        """Write ``(line, item)`` records; return the summary once everything has settled.

        The summary says what was not written and why (:meth:`WriteSummary.shortfall`): an
        input that fails part-way (a file cut short) stops the reading, and Ctrl-C stops the
        workers after their request in flight; either way every item handed over is accounted
        for. Callers decide whether a shortfall raises.
        """
        began = time.monotonic()
        summary = WriteSummary()
        inboxes: list[queue.Queue[tuple[KeyId, Pending] | None]] = [
            queue.Queue(maxsize=1000) for _ in range(self.workers)
        ]
        done = [threading.Event() for _ in inboxes]
        threads = [
            threading.Thread(target=self._work, args=(inbox, event), daemon=True)
            for inbox, event in zip(inboxes, done, strict=True)
        ]
        for thread in threads:
            thread.start()
        try:
            self._feed(records, inboxes, summary)
        except KeyboardInterrupt:
            self._stop_on_interrupt(summary)
        except errors.DdbkitError as exc:  # the input failed part-way: settle what was read
            summary.error = str(exc)
        except OSError as exc:
            summary.error = f"reading the input failed: {exc}"
        finally:
            # Whatever stopped the input, every item already handed to a worker is settled.
            self._close(inboxes, summary)
            self._join(done, summary)
        summary.settle(
            written=self._stats.written,
            duplicates=self._stats.duplicates,
            retries=self._stats.retries,
            failures=self._failures,
            on_reject=self.on_reject,
            elapsed=time.monotonic() - began,
            fatal=self._fatal is not None,
        )
        return summary

    def _close(
        self, inboxes: list[queue.Queue[tuple[KeyId, Pending] | None]], summary: WriteSummary
    ) -> None:
        """Hand every worker its closing None; a full inbox is waited on, Ctrl-C or not."""
        for inbox in inboxes:
            while True:
                try:
                    inbox.put(None, timeout=0.2)
                    break
                except queue.Full:
                    continue
                except KeyboardInterrupt:
                    self._stop_on_interrupt(summary)

    def _join(self, done: list[threading.Event], summary: WriteSummary) -> None:
        """Wait until every worker has settled its items; Ctrl-C meanwhile stops them after
        their request in flight. (Waits on events: a Ctrl-C inside Thread.join can leave
        is_alive() False for a thread still running, on CPython 3.11.)"""
        for event in done:
            while True:
                try:
                    if event.wait(0.2):
                        break
                except KeyboardInterrupt:
                    self._stop_on_interrupt(summary)

    def _stop_on_interrupt(self, summary: WriteSummary) -> None:
        summary.interrupted = True
        self._interrupted.set()

    def _feed(
        self,
        records: Iterable[tuple[int, Any]],
        inboxes: list[queue.Queue[tuple[KeyId, Pending] | None]],
        summary: WriteSummary,
    ) -> None:
        for line, item in records:
            if self._fatal is not None:
                return
            summary.read += 1
            prepared = self.prepare(line, item)
            if isinstance(prepared, Rejection):
                summary.rejected += 1
                summary.rejections.append(prepared)
                if self.on_reject is not None:
                    self.on_reject(prepared)
                if self.on_error == "stop":
                    summary.stopped = True
                    summary.stopped_at = f"line {prepared.line}: {prepared.reason}"
                    return
                continue
            key_id, pending = prepared
            self._route(inboxes, key_id, pending)

    def _route(
        self,
        inboxes: list[queue.Queue[tuple[KeyId, Pending] | None]],
        key_id: KeyId,
        pending: Pending,
    ) -> None:
        self._put(inboxes[hash(key_id) % len(inboxes)], (key_id, pending))

    @staticmethod
    def _put(inbox: queue.Queue[Any], value: Any) -> None:
        # Blocking is safe: every worker reads its inbox until the closing None, normally or,
        # after a fatal error, in _drain (which reports each item as failed).
        inbox.put(value)

    def _work(
        self, inbox: queue.Queue[tuple[KeyId, Pending] | None], done: threading.Event
    ) -> None:
        try:
            self._worker(inbox)
        finally:
            done.set()

    def _worker(self, inbox: queue.Queue[tuple[KeyId, Pending] | None]) -> None:
        pending: dict[KeyId, Pending] = {}
        closed = False
        budget = RoundBudget(self._backoff(), self.table)
        try:
            while not closed or pending:
                if self._fatal is not None or self._interrupted.is_set():
                    break
                idle = not pending
                closed = self._fill(inbox, pending, closed)
                if not pending:
                    continue
                if idle:
                    budget.idle()
                batch = dict(list(pending.items())[:BATCH_WRITE_SIZE])
                written, error = self._send(batch, pending)
                try:
                    delay = budget.after(written, all(k not in pending for k in batch), error)
                except errors.DdbkitError as exc:
                    # DynamoDB accepted nothing for the whole retry budget: stop the job, so
                    # nothing more is read, and report every item not written.
                    self._fatal = exc
                    break
                if delay is None:
                    continue
                self._stats.add(retries=1)
                budget.backoff.sleep(delay)
        except BaseException as exc:  # a bug or a fatal service error: report, never drop
            self._fatal = self._fatal or exc
        if self._fatal is not None or self._interrupted.is_set():
            reason = stop_reason(self._fatal)
            self._fail(pending, reason)
            self._drain(inbox, closed, reason)

    def _fill(
        self,
        inbox: queue.Queue[tuple[KeyId, Pending] | None],
        pending: dict[KeyId, Pending],
        closed: bool,
    ) -> bool:
        """Top up ``pending`` from the inbox; return whether the inbox is closed.

        A partial batch waits up to BATCH_LINGER for more items: the reader feeds all workers,
        so each one's inbox fills a little at a time, and sending every fragment at once would
        mean many more, smaller requests (measured: a third of the throughput).
        """
        deadline: float | None = None
        while not closed and len(pending) < BATCH_WRITE_SIZE:
            if pending and deadline is None:
                deadline = time.monotonic() + BATCH_LINGER
            wait = 0.05 if deadline is None else deadline - time.monotonic()
            try:
                entry = inbox.get(timeout=wait) if wait > 0 else inbox.get_nowait()
            except queue.Empty:
                if pending:
                    break
                continue
            if entry is None:
                return True
            key_id, item = entry
            if key_id in pending:
                # A later line for the same key: it wins, and the earlier one is never written.
                self._stats.add(duplicates=1)
            pending[key_id] = item
        return closed

    def _send(
        self, batch: dict[KeyId, Pending], pending: dict[KeyId, Pending]
    ) -> tuple[int, errors.DdbkitError | None]:
        """Send one batch; drop acknowledged (or rejected) items from ``pending``.

        Returns how many were written, and the retryable error that kept the batch, if any.
        """
        if self.limiter is not None:
            self.limiter.acquire(self._interrupted)
            if self._interrupted.is_set():
                return 0, None  # the worker's loop sees the interrupt and reports the batch
        request = self.rules.request(batch, want_capacity=self.limiter is not None)
        try:
            reply = decode_reply(
                self.db.send_once("batch_write_item", request, table=self.table), self.table
            )
        except errors.ValidationError as exc:
            if len(batch) == 1:
                one, item = next(iter(batch.items()))
                del pending[one]
                self._reject_after_send(item, str(exc))
                return 0, None
            # DynamoDB refused the batch as a whole: find the item at fault one by one.
            written = sum(self._send({k: item}, pending)[0] for k, item in batch.items())
            return written, None
        except errors.DdbkitError as exc:
            if exc.retryable:
                return 0, exc
            raise  # the table is gone, access denied...: fatal for every item
        if self.limiter is not None:
            self.limiter.consume(consumed(reply))
        done = self.rules.settle(batch, pending, reply)
        self._stats.add(written=done)
        return done, None

    def _reject_after_send(self, item: Pending, reason: str) -> None:
        with self._failures_lock:
            self._failures.append(Rejection(item.line, reason, item.item))

    def _fail(self, pending: dict[KeyId, Pending], reason: str) -> None:
        with self._failures_lock:
            self._failures.extend(Rejection(p.line, reason, p.item) for p in pending.values())
        pending.clear()

    def _drain(
        self, inbox: queue.Queue[tuple[KeyId, Pending] | None], closed: bool, reason: str
    ) -> None:
        while not closed:
            entry = inbox.get()
            if entry is None:
                return
            self._reject_after_send(entry[1], reason)  # already "not written: ..."


def get_many(
    db: Connection,
    table: str,
    keys: Iterable[Wire],
    schema: KeySchema,
    *,
    consistent: bool = False,
    projection: Mapping[str, Any] | None = None,
    backoff: Backoff | None = None,
) -> Iterator[dict[str, Any]]:
    """Items for wire keys, 100 keys a BatchGetItem; each distinct key's item once, any order.

    Missing keys yield nothing. Repeated keys are asked for once (DynamoDB refuses duplicates
    within one call, and a caller wants one item per key).
    """
    for chunk in get_chunks(keys, schema):
        yield from _get_chunk(db, table, chunk, consistent, projection, backoff)


def _get_chunk(
    db: Connection,
    table: str,
    keys: list[Wire],
    consistent: bool,
    projection: Mapping[str, Any] | None,
    backoff: Backoff | None,
) -> Iterator[dict[str, Any]]:
    rounds = BatchGet(table, keys, consistent, projection, backoff or db.retry)
    while not rounds.done:
        items, delay = rounds.take(db.call_raw("batch_get_item", table=table, **rounds.params()))
        yield from items
        if delay:
            rounds.policy.sleep(delay)
