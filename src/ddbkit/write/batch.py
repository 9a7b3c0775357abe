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

import base64
import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.models import KeySchema
from ddbkit.options import WORKERS, WRITE_RATE, optional
from ddbkit.transport.ratelimit import RateLimiter
from ddbkit.transport.retry import Backoff, gave_up
from ddbkit.values.itemsize import item_size
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.values.serialize import from_item, to_item

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection

BATCH_WRITE_SIZE = 25
BATCH_GET_SIZE = 100
BATCH_LINGER = 0.05  # seconds a partial batch waits for more items before it is sent
MAX_ITEM_BYTES = 400 * 1024
Wire = dict[str, Any]
KeyId = tuple[Any, ...]


@dataclass(frozen=True)
class Rejection:
    """An input item that was not written, and why."""

    line: int
    reason: str
    item: Any


@dataclass(frozen=True)
class Unaddressable:
    """An item read with strings that had to be changed (lone surrogates read as U+FFFD, see
    :func:`ddbkit.values.jsonvalues.decode_reply`): a write or delete by its key would miss the real
    item, so the batch writer rejects it instead of sending it."""

    item: Any


@dataclass
class WriteSummary:
    """What a bulk write did. Every item read is written, a duplicate, rejected or failed."""

    read: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    elapsed: float = 0.0
    stopped: bool = False
    rejections: list[Rejection] = field(default_factory=list)
    rejects_path: str | None = None
    error: str | None = None  # why the run stopped before the end of its input, if it did
    interrupted: bool = False  # Ctrl-C stopped it
    stopped_at: str | None = None  # "line N: reason" of the rejection that stopped the run
    failure: str | None = None  # the reason of the first failed item

    @property
    def items_per_second(self) -> float:
        return self.written / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Every item read was written or superseded by a later duplicate."""
        return self.written + self.duplicates == self.read and not self.stopped

    def shortfall(self, on_error: str = "stop") -> str | None:
        """Why this write did not do everything asked of it (one line), or None if it did.

        Rejected items are a shortfall unless the caller asked to skip them (``on_error="skip"``);
        failed items, a stop and an interrupt always are.
        """
        if not (self.failed or self.error or self.interrupted or self.stopped) and not (
            self.rejected and on_error != "skip"
        ):
            return None
        parts = [f"{self.written:,} of {self.read:,} items read were written"]
        if self.interrupted:
            parts.append("interrupted")
        elif self.error:
            parts.append(f"stopped: {self.error}")
        elif self.stopped and self.rejected:
            where = f" ({self.stopped_at})" if self.stopped_at else ""
            parts.append(
                f"stopped at the first item that cannot be written{where}; "
                "on_error='skip' (--on-error skip) goes on past such items"
            )
        elif self.rejected:
            first = self.rejections[0]  # rejections come first, in reading order
            parts.append(f"{self.rejected:,} rejected (line {first.line}: {first.reason})")
        if self.failed:
            parts.append(f"{self.failed:,} failed ({self.failure})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "written": self.written,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "failed": self.failed,
            "retries": self.retries,
            "elapsed": round(self.elapsed, 3),
            "items_per_second": round(self.items_per_second, 1),
            "stopped": self.stopped,
            "rejects_path": self.rejects_path,
        }


def settled(
    summary: WriteSummary, what: str, on_error: str = "stop", *, resume: str | None = None
) -> WriteSummary:
    """``summary`` if the write did everything asked of it; else raise with it attached.

    Ctrl-C raises :class:`~ddbkit.errors.Interrupted` (a KeyboardInterrupt), any other
    shortfall :class:`~ddbkit.errors.IncompleteWriteError`; ``resume`` says how to finish.
    """
    problem = summary.shortfall(on_error)
    if problem is None:
        return summary
    # Running again helps after an interrupt or a failure, not past an item that can never go in.
    again = summary.interrupted or summary.failed or summary.error
    how = f"; {resume}" if resume and again else ""
    if summary.interrupted:
        raise errors.Interrupted(f"{what} interrupted: {problem}{how}", summary)
    raise errors.IncompleteWriteError(f"{what}: {problem}{how}", summary)


@dataclass
class _Pending:
    line: int
    request: Wire  # {"PutRequest": {...}} or {"DeleteRequest": {...}}
    item: Any  # what to show in a rejection


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
        rate_limit: float | None = None,
        on_error: str = "stop",
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Callable[[int], None] | None = None,
        backoff: Callable[[], Backoff] | None = None,
    ) -> None:
        if action not in ("put", "delete"):
            raise errors.ValidationError("action must be 'put' or 'delete'")
        if on_error not in ("stop", "skip"):
            raise errors.ValidationError("on_error must be 'stop' or 'skip'")
        workers = WORKERS.check(workers)
        rate_limit = optional(WRITE_RATE, rate_limit)
        self.db = db
        self.table = table
        self.keys = keys
        self.action = action
        self.workers = workers
        self.limiter = RateLimiter(rate_limit) if rate_limit else None
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

    # -- checking one input item -----------------------------------------------------------------

    def prepare(self, line: int, item: Any) -> tuple[KeyId, _Pending] | Rejection:
        """Convert and check one input item; a Rejection says why DynamoDB could never take it."""
        if isinstance(item, Unaddressable):
            return Rejection(
                line,
                "its key holds a string that is not valid Unicode (read with U+FFFD), so ddbkit "
                "cannot address this item: fix or delete it with a tool that can",
                item.item,
            )
        if not isinstance(item, Mapping):
            return Rejection(line, "not a JSON object / dict", item)
        try:
            if self.action == "delete":
                wire = self._key_wire(item, exact=True)
                request: Wire = {"DeleteRequest": {"Key": wire}}
                key_wire = wire
            else:
                wire = to_item(item)
                key_wire = self._key_wire(item, exact=False)
                size = item_size(wire)
                if size > MAX_ITEM_BYTES:
                    return Rejection(
                        line, f"item is {size:,} bytes; DynamoDB's limit is 400 KB", item
                    )
                request = {"PutRequest": {"Item": wire}}
        except errors.ValidationError as exc:
            return Rejection(line, str(exc), item)
        return _key_id(key_wire, self.keys), _Pending(line, request, item)

    def _key_wire(self, item: Mapping[str, Any], *, exact: bool) -> Wire:
        return self.keys.to_wire(item, table=self.table, what="key" if exact else "item")

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
        inboxes: list[queue.Queue[tuple[KeyId, _Pending] | None]] = [
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
        summary.written = self._stats.written
        summary.duplicates = self._stats.duplicates
        summary.retries = self._stats.retries
        summary.failed = len(self._failures)
        if self._failures:
            summary.failure = min(self._failures, key=lambda r: r.line).reason
        for failure in self._failures:
            summary.rejections.append(failure)
            if self.on_reject is not None:
                self.on_reject(failure)
        summary.elapsed = time.monotonic() - began
        if self._fatal is not None or summary.error or summary.interrupted:
            summary.stopped = True
        return summary

    def _close(
        self, inboxes: list[queue.Queue[tuple[KeyId, _Pending] | None]], summary: WriteSummary
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
        inboxes: list[queue.Queue[tuple[KeyId, _Pending] | None]],
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
        inboxes: list[queue.Queue[tuple[KeyId, _Pending] | None]],
        key_id: KeyId,
        pending: _Pending,
    ) -> None:
        self._put(inboxes[hash(key_id) % len(inboxes)], (key_id, pending))

    @staticmethod
    def _put(inbox: queue.Queue[Any], value: Any) -> None:
        # Blocking is safe: every worker reads its inbox until the closing None, normally or,
        # after a fatal error, in _drain (which reports each item as failed).
        inbox.put(value)

    def _work(
        self, inbox: queue.Queue[tuple[KeyId, _Pending] | None], done: threading.Event
    ) -> None:
        try:
            self._worker(inbox)
        finally:
            done.set()

    def _worker(self, inbox: queue.Queue[tuple[KeyId, _Pending] | None]) -> None:
        pending: dict[KeyId, _Pending] = {}
        closed = False
        backoff = self._backoff()
        attempt = 0  # grows the backoff while batches come back incomplete
        failures = 0  # errors (not throttling) since the last item written
        last_progress = backoff.clock()
        try:
            while not closed or pending:
                if self._fatal is not None or self._interrupted.is_set():
                    break
                idle = not pending
                closed = self._fill(inbox, pending, closed)
                if not pending:
                    continue
                if idle:
                    # Time spent waiting for input is not time DynamoDB failed to make progress.
                    attempt = failures = 0
                    last_progress = backoff.clock()
                batch = dict(list(pending.items())[:BATCH_WRITE_SIZE])
                written, error = self._send(batch, pending)
                if written:
                    failures = 0
                    last_progress = backoff.clock()
                if all(k not in pending for k in batch):
                    attempt = 0
                    continue
                # Something is left (unprocessed, throttled, 5xx, connection lost): back off.
                if error is not None and not isinstance(error, errors.ThrottledError):
                    failures += 1
                delay = backoff.delay(attempt)
                if backoff.spent(failures, last_progress, delay):
                    # DynamoDB accepted nothing for the whole retry budget: stop the job, so
                    # nothing more is read, and report every item not written.
                    seconds = backoff.clock() - last_progress
                    self._fatal = gave_up(error or _no_progress(self.table), attempt + 1, seconds)
                    break
                if error is not None:
                    backoff.announce(failures + 1, error)
                self._stats.add(retries=1)
                backoff.sleep(delay)
                attempt += 1
        except BaseException as exc:  # a bug or a fatal service error: report, never drop
            self._fatal = self._fatal or exc
        if self._fatal is not None or self._interrupted.is_set():
            reason = self._stop_reason()
            self._fail(pending, reason)
            self._drain(inbox, closed, reason)

    def _stop_reason(self) -> str:
        fatal = self._fatal
        if fatal is None:
            return "not written: interrupted"
        return f"not written: {fatal if isinstance(fatal, errors.DdbkitError) else repr(fatal)}"

    def _fill(
        self,
        inbox: queue.Queue[tuple[KeyId, _Pending] | None],
        pending: dict[KeyId, _Pending],
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
        self, batch: dict[KeyId, _Pending], pending: dict[KeyId, _Pending]
    ) -> tuple[int, errors.DdbkitError | None]:
        """Send one batch; drop acknowledged (or rejected) items from ``pending``.

        Returns how many were written, and the retryable error that kept the batch, if any.
        """
        requests = [p.request for p in batch.values()]
        if self.limiter is not None:
            self.limiter.acquire(self._interrupted)
            if self._interrupted.is_set():
                return 0, None  # the worker's loop sees the interrupt and reports the batch
        extra = {"ReturnConsumedCapacity": "TOTAL"} if self.limiter else {}
        try:
            body = self.db.send_once(
                "batch_write_item",
                {"RequestItems": {self.table: requests}, **extra},
                table=self.table,
            )
            reply = decode_reply(body, self.table)
        except errors.ValidationError as exc:
            if len(batch) == 1:
                key_id, item = next(iter(batch.items()))
                del pending[key_id]
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
            self.limiter.consume(
                sum(float(c.get("CapacityUnits", 0)) for c in reply.get("ConsumedCapacity", []))
            )
        unprocessed = reply.get("UnprocessedItems", {}).get(self.table, [])
        left = {_key_id(_request_key(r, self.keys), self.keys) for r in unprocessed}
        done = [k for k in batch if k not in left]
        for key_id in done:
            del pending[key_id]
        self._stats.add(written=len(done))
        return len(done), None

    def _reject_after_send(self, item: _Pending, reason: str) -> None:
        with self._failures_lock:
            self._failures.append(Rejection(item.line, reason, item.item))

    def _fail(self, pending: dict[KeyId, _Pending], reason: str) -> None:
        with self._failures_lock:
            self._failures.extend(Rejection(p.line, reason, p.item) for p in pending.values())
        pending.clear()

    def _drain(
        self, inbox: queue.Queue[tuple[KeyId, _Pending] | None], closed: bool, reason: str
    ) -> None:
        while not closed:
            entry = inbox.get()
            if entry is None:
                return
            self._reject_after_send(entry[1], reason)  # already "not written: ..."


def _no_progress(table: str) -> errors.DdbkitError:
    return errors.ThrottledError(
        f"DynamoDB left every item of the batches for {table!r} unprocessed: slow down "
        "(--wcu) or raise the table's write capacity"
    )


def _request_key(request: Mapping[str, Any], keys: KeySchema) -> Wire:
    if "PutRequest" in request:
        item = request["PutRequest"]["Item"]
        return {name: item[name] for name in keys.names}
    return dict(request["DeleteRequest"]["Key"])


def _key_id(key: Mapping[str, Any], keys: KeySchema) -> KeyId:
    """A hashable identity of a wire key (its type tag and text or bytes per attribute)."""
    parts: list[Any] = []
    for name in keys.names:
        ((tag, value),) = key[name].items()
        if tag == "B":
            # A request holds bytes; a reply (UnprocessedItems) holds the same as base64 text.
            value = base64.b64decode(value) if isinstance(value, str) else bytes(value)
        parts.append((tag, value))
    return tuple(parts)


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
    chunk: dict[KeyId, Wire] = {}
    seen: set[KeyId] = set()
    for key in keys:
        key_id = _key_id(key, schema)
        if key_id in seen:
            continue
        seen.add(key_id)
        chunk[key_id] = key
        if len(chunk) == BATCH_GET_SIZE:
            yield from _get_chunk(db, table, list(chunk.values()), consistent, projection, backoff)
            chunk = {}
    if chunk:
        yield from _get_chunk(db, table, list(chunk.values()), consistent, projection, backoff)


def _get_chunk(
    db: Connection,
    table: str,
    keys: list[Wire],
    consistent: bool,
    projection: Mapping[str, Any] | None,
    backoff: Backoff | None,
) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"Keys": keys, "ConsistentRead": consistent, **(projection or {})}
    policy = backoff or db.retry
    rounds = 0  # rounds since keys were last settled
    last_progress = policy.clock()
    while request["Keys"]:
        body = db.call_raw("batch_get_item", table=table, RequestItems={table: request})
        reply = decode_reply(body, table)
        for raw in reply.get("Responses", {}).get(table, []):
            yield from_item(raw)
        unprocessed = reply.get("UnprocessedKeys", {}).get(table)
        if not unprocessed:
            return
        left = [to_item(from_item(k)) for k in unprocessed["Keys"]]
        # Progress is keys settled, found or not: a round may answer only missing keys.
        if len(left) < len(request["Keys"]):
            rounds, last_progress = 0, policy.clock()
        delay = policy.delay(rounds)
        # Unprocessed keys are throttling: bounded by the budget's time alone (retry.py).
        if policy.spent(0, last_progress, delay):
            raise errors.ThrottledError(
                f"BatchGetItem on {table!r} made no progress for "
                f"{policy.clock() - last_progress:.0f}s: slow down or raise the table's read "
                "capacity"
            )
        request = {**request, "Keys": left}
        policy.sleep(delay)
        rounds += 1
