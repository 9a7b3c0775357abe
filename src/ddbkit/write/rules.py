"""The rules of a batch write, apart from sending: shared by the threaded writer (batch.py) and
the async one (aio.py).

An input item is checked and converted before batching (:meth:`BatchRules.prepare`); a batch
becomes one BatchWriteItem request; its reply says which items DynamoDB acknowledged (everything
not in UnprocessedItems). :class:`RoundBudget` decides, after each round, whether to wait and
try the rest again or to give up: the connection's retry budget counts rounds without progress.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ddbkit import errors
from ddbkit.models import KeySchema
from ddbkit.transport.retry import Backoff, gave_up
from ddbkit.values.itemsize import item_size
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.values.serialize import from_item, to_item
from ddbkit.write.summary import Rejection, Unaddressable, Unconvertible

BATCH_WRITE_SIZE = 25
BATCH_GET_SIZE = 100
BATCH_LINGER = 0.05  # seconds a partial batch waits for more items before it is sent
MAX_ITEM_BYTES = 400 * 1024
Wire = dict[str, Any]
KeyId = tuple[Any, ...]


@dataclass
class Pending:
    line: int
    request: Wire  # {"PutRequest": {...}} or {"DeleteRequest": {...}}
    item: Any  # what to show in a rejection


class BatchRules:
    """How items of one table become batch requests, and what a reply settles."""

    def __init__(self, table: str, keys: KeySchema, action: str = "put") -> None:
        if action not in ("put", "delete"):
            raise errors.ValidationError("action must be 'put' or 'delete'")
        self.table = table
        self.keys = keys
        self.action = action

    def prepare(self, line: int, item: Any) -> tuple[KeyId, Pending] | Rejection:
        """Convert and check one input item; a Rejection says why DynamoDB could never take it."""
        if isinstance(item, Unaddressable):
            return Rejection(
                line,
                "its key holds a string that is not valid Unicode (read with U+FFFD), so ddbkit "
                "cannot address this item: fix or delete it with a tool that can",
                item.item,
            )
        if isinstance(item, Unconvertible):
            return Rejection(line, item.reason, item.item)
        if not isinstance(item, Mapping):
            return Rejection(line, "not a JSON object / dict", item)
        try:
            if self.action == "delete":
                wire = self._key_wire(item, exact=True)
                request: Wire = {"DeleteRequest": {"Key": wire}}
                key_wire = wire
            else:
                self.keys.check(item, table=self.table, what="item")
                wire = to_item(item)
                key_wire = {name: wire[name] for name in self.keys.names}
                size = item_size(wire)
                if size > MAX_ITEM_BYTES:
                    return Rejection(
                        line, f"item is {size:,} bytes; DynamoDB's limit is 400 KB", item
                    )
                request = {"PutRequest": {"Item": wire}}
        except errors.ValidationError as exc:
            return Rejection(line, str(exc), item)
        return key_id(key_wire, self.keys), Pending(line, request, item)

    def _key_wire(self, item: Mapping[str, Any], *, exact: bool) -> Wire:
        return self.keys.to_wire(item, table=self.table, what="key" if exact else "item")

    def request(self, batch: Mapping[KeyId, Pending], *, want_capacity: bool) -> dict[str, Any]:
        """The BatchWriteItem parameters for ``batch``."""
        extra = {"ReturnConsumedCapacity": "TOTAL"} if want_capacity else {}
        return {"RequestItems": {self.table: [p.request for p in batch.values()]}, **extra}

    def settle(
        self,
        batch: Mapping[KeyId, Pending],
        pending: dict[KeyId, Pending],
        reply: Mapping[str, Any],
    ) -> int:
        """Drop what DynamoDB acknowledged from ``pending``; how many that was."""
        unprocessed = reply.get("UnprocessedItems", {}).get(self.table, [])
        left = {key_id(request_key(r, self.keys), self.keys) for r in unprocessed}
        done = [k for k in batch if k not in left]
        for done_key in done:
            del pending[done_key]
        return len(done)


def get_chunks(keys: Iterable[Wire], schema: KeySchema) -> Iterator[list[Wire]]:
    """Wire keys in chunks of up to 100, each distinct key once (DynamoDB refuses duplicates
    within one call, and a caller wants one item per key)."""
    chunk: dict[KeyId, Wire] = {}
    seen: set[KeyId] = set()
    for key in keys:
        identity = key_id(key, schema)
        if identity in seen:
            continue
        seen.add(identity)
        chunk[identity] = key
        if len(chunk) == BATCH_GET_SIZE:
            yield list(chunk.values())
            chunk = {}
    if chunk:
        yield list(chunk.values())


class BatchGet:
    """BatchGetItem rounds for up to 100 keys, apart from sending: UnprocessedKeys are asked
    for again after a backoff, until DynamoDB answers them or the budget's time runs out."""

    def __init__(
        self,
        table: str,
        keys: list[Wire],
        consistent: bool,
        projection: Mapping[str, Any] | None,
        policy: Backoff,
    ) -> None:
        self.table = table
        self.policy = policy
        self.request: dict[str, Any] = {
            "Keys": keys, "ConsistentRead": consistent, **(projection or {})
        }  # fmt: skip
        self.rounds = 0  # rounds since keys were last settled
        self.last_progress = policy.clock()
        self.done = not keys

    def params(self) -> dict[str, Any]:
        return {"RequestItems": {self.table: self.request}}

    def take(self, body: bytes) -> tuple[list[dict[str, Any]], float]:
        """The items of a reply, and how long to wait before asking for the rest (0: done)."""
        reply = decode_reply(body, self.table)
        items = [from_item(raw) for raw in reply.get("Responses", {}).get(self.table, [])]
        unprocessed = reply.get("UnprocessedKeys", {}).get(self.table)
        if not unprocessed:
            self.done = True
            return items, 0.0
        left = [to_item(from_item(k)) for k in unprocessed["Keys"]]
        policy = self.policy
        # Progress is keys settled, found or not: a round may answer only missing keys.
        if len(left) < len(self.request["Keys"]):
            self.rounds, self.last_progress = 0, policy.clock()
        delay = policy.delay(self.rounds)
        # Unprocessed keys are throttling: bounded by the budget's time alone (retry.py).
        if policy.spent(0, self.last_progress, delay):
            raise errors.ThrottledError(
                f"BatchGetItem on {self.table!r} made no progress for "
                f"{policy.clock() - self.last_progress:.0f}s: slow down or raise the table's "
                "read capacity"
            )
        self.request = {**self.request, "Keys": left}
        self.rounds += 1
        return items, delay


def stop_reason(fatal: BaseException | None) -> str:
    """Why the items left were not written: an interrupt, or the error that stopped the job."""
    if fatal is None:
        return "not written: interrupted"
    return f"not written: {fatal if isinstance(fatal, errors.DdbkitError) else repr(fatal)}"


def consumed(reply: Mapping[str, Any]) -> float:
    return sum(float(c.get("CapacityUnits", 0)) for c in reply.get("ConsumedCapacity", []))


class RoundBudget:
    """One worker's retry budget across rounds: the backoff grows while batches come back
    incomplete, and the worker gives up when DynamoDB accepts nothing for the whole budget."""

    def __init__(self, backoff: Backoff, table: str) -> None:
        self.backoff = backoff
        self.table = table
        self.attempt = 0  # grows the backoff while batches come back incomplete
        self.failures = 0  # errors (not throttling) since the last item written
        self.last_progress = backoff.clock()

    def idle(self) -> None:
        """Time spent waiting for input is not time DynamoDB failed to make progress."""
        self.attempt = self.failures = 0
        self.last_progress = self.backoff.clock()

    def after(self, written: int, settled: bool, error: errors.DdbkitError | None) -> float | None:
        """After a round: None if the batch is settled, else how long to wait before the next
        try. Raises (the give-up error, budget noted) when DynamoDB accepted nothing for the
        whole budget."""
        backoff = self.backoff
        if written:
            self.failures = 0
            self.last_progress = backoff.clock()
        if settled:
            self.attempt = 0
            return None
        # Something is left (unprocessed, throttled, 5xx, connection lost): back off.
        if error is not None and not isinstance(error, errors.ThrottledError):
            self.failures += 1
        delay = backoff.delay(self.attempt)
        if backoff.spent(self.failures, self.last_progress, delay):
            seconds = backoff.clock() - self.last_progress
            raise gave_up(error or no_progress(self.table), self.attempt + 1, seconds)
        if error is not None:
            backoff.announce(self.failures + 1, error)
        self.attempt += 1
        return delay


def no_progress(table: str) -> errors.DdbkitError:
    return errors.ThrottledError(
        f"DynamoDB left every item of the batches for {table!r} unprocessed: slow down "
        "(--wcu) or raise the table's write capacity"
    )


def request_key(request: Mapping[str, Any], keys: KeySchema) -> Wire:
    if "PutRequest" in request:
        item = request["PutRequest"]["Item"]
        return {name: item[name] for name in keys.names}
    return dict(request["DeleteRequest"]["Key"])


def key_id(key: Mapping[str, Any], keys: KeySchema) -> KeyId:
    """A hashable identity of a wire key (its type tag and text or bytes per attribute)."""
    parts: list[Any] = []
    for name in keys.names:
        ((tag, value),) = key[name].items()
        if tag == "B":
            # A request holds bytes; a reply (UnprocessedItems) holds the same as base64 text.
            value = base64.b64decode(value) if isinstance(value, str) else bytes(value)
        parts.append((tag, value))
    return tuple(parts)
