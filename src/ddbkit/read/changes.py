"""Following a table's stream: every change, across every shard, in order per item.

A DynamoDB stream is a tree of shards: a shard is open for about four hours (or until the
table's partitions split), then closes and its children take over. Records within a shard are
in order, and every change to one item lands in one shard at a time, so reading each shard in
order and a child only once its parent is exhausted keeps each item's changes in order.

The follower reads the shards round-robin (a GetRecords each), polls again after
``poll_interval`` when a round brought nothing, and reads the shard list again every
``SHARDS_EVERY`` seconds or when a shard closes, to find children. An iterator that expired
(15 minutes unused) or points at trimmed data (over 24 hours old) is replaced from the last
sequence number read. The DynamoDB Streams API is its own service on the same endpoint:
:meth:`Connection.call_streams`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.values.serialize import from_item

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection

STARTS = ("latest", "trim-horizon")
SHARDS_EVERY = 10.0
RECORDS_PER_CALL = 1000
# The principal of a REMOVE that DynamoDB's TTL made (instead of a caller).
TTL_PRINCIPAL = "dynamodb.amazonaws.com"

WireItem = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """One change to one item: ``event`` is INSERT, MODIFY or REMOVE; ``keys``, ``old`` and
    ``new`` are plain Python values (``old``/``new`` None when the stream's view type leaves
    them out, or for an INSERT's old and a REMOVE's new). ``expired`` marks a REMOVE by TTL."""

    event: str
    keys: dict[str, Any]
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    sequence: str
    shard: str
    time: datetime | None = None
    expired: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The change as ``ddbkit watch`` prints it (one JSON line)."""
        out: dict[str, Any] = {"event": self.event, "keys": self.keys}
        if self.old is not None:
            out["old"] = self.old
        if self.new is not None:
            out["new"] = self.new
        out["sequence"] = self.sequence
        out["time"] = self.time.isoformat() if self.time else None
        if self.expired:
            out["expired"] = True
        return out


def stream_arn(db: Connection, table: str) -> str:
    """The ARN of ``table``'s enabled stream, or a one-line error saying how to turn one on."""
    described = db.call("describe_table", table=table, TableName=table)["Table"]
    enabled = (described.get("StreamSpecification") or {}).get("StreamEnabled", False)
    arn = described.get("LatestStreamArn")
    if not enabled or not arn:
        raise errors.ValidationError(
            f"table {table!r} has no stream: turn one on with "
            f"'ddbkit alter {table} --stream new-and-old' (Table.alter(stream='new-and-old'))"
        )
    return str(arn)


@dataclass
class _Shard:
    id: str
    parent: str | None
    closed: bool
    iterator: str | None = None
    last: str | None = None  # the last sequence number read
    done: bool = False
    fresh: bool = field(default=True)  # found after the start: read from its beginning


class ChangeFollower:
    """The changes of one stream as they happen; iterate it. Stops when ``stop`` is set (within
    one poll or request) or, after the stream was turned off, once every shard is read."""

    def __init__(
        self,
        db: Connection,
        table: str,
        *,
        start: str = "latest",
        keep: Callable[[str, WireItem], bool] | None = None,
        poll_interval: float = 1.0,
        stop: threading.Event | None = None,
        clock: Any = time,
    ) -> None:
        if start not in STARTS:
            raise errors.ValidationError(
                f"start {start!r} unknown: use 'latest' (changes from now on) or "
                "'trim-horizon' (every change the stream still holds, up to 24 hours)"
            )
        if poll_interval <= 0:
            raise errors.ValidationError("poll_interval must be above 0 seconds")
        self.db = db
        self.table = table
        self.arn = stream_arn(db, table)
        self.start = start
        self.keep = keep
        self.poll_interval = poll_interval
        self.stop = stop or threading.Event()
        self.clock = clock
        self.shards: dict[str, _Shard] = {}
        self.ended = False  # the stream was turned off and every shard is read
        self._listed_at = -SHARDS_EVERY
        self._list_shards(first=True)

    def __iter__(self) -> Iterator[Change]:
        while not self.stop.is_set() and not self.ended:
            if self.clock.monotonic() - self._listed_at >= SHARDS_EVERY:
                self._list_shards(first=False)
            got_any = False
            for shard in self._ready():
                if self.stop.is_set():
                    return
                records = self._read(shard)
                got_any = got_any or bool(records)
                yield from self._changes(shard, records)
            if not got_any:
                self.stop.wait(self.poll_interval)

    # -- shards -------------------------------------------------------------------------------

    def _list_shards(self, *, first: bool) -> None:
        params: dict[str, Any] = {"StreamArn": self.arn}
        status = "ENABLED"
        while True:
            page = self.db.call_streams(
                "describe_stream", table=self.table, stop=self.stop, **params
            )["StreamDescription"]
            status = page.get("StreamStatus", status)
            for raw in page.get("Shards", []):
                self._note(raw, first)
            last = page.get("LastEvaluatedShardId")
            if not last:
                break
            params["ExclusiveStartShardId"] = last
        self._listed_at = self.clock.monotonic()
        if status in ("DISABLED", "DISABLING") and all(s.done for s in self.shards.values()):
            self.ended = True

    def _note(self, raw: Mapping[str, Any], first: bool) -> None:
        closed = "EndingSequenceNumber" in raw.get("SequenceNumberRange", {})
        known = self.shards.get(raw["ShardId"])
        if known is not None:
            known.closed = closed
            return
        shard = _Shard(raw["ShardId"], raw.get("ParentShardId"), closed, fresh=not first)
        if first and self.start == "latest" and closed:
            shard.done = True  # its changes are all older than "now"
        self.shards[shard.id] = shard

    def _ready(self) -> list[_Shard]:
        """Shards to read now: not exhausted, and their parent (if still listed) exhausted."""
        ready = []
        for shard in self.shards.values():
            parent = self.shards.get(shard.parent) if shard.parent else None
            if not shard.done and (parent is None or parent.done):
                ready.append(shard)
        return ready

    # -- records ------------------------------------------------------------------------------

    def _iterator(self, shard: _Shard) -> str:
        params: dict[str, Any] = {"StreamArn": self.arn, "ShardId": shard.id}
        if shard.last is not None:
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last)
        elif self.start == "latest" and not shard.fresh:
            params["ShardIteratorType"] = "LATEST"
        else:
            # trim-horizon, or a shard born after the start: none of its changes may be missed
            params["ShardIteratorType"] = "TRIM_HORIZON"
        reply = self.db.call_streams(
            "get_shard_iterator", table=self.table, stop=self.stop, **params
        )
        return str(reply["ShardIterator"])

    def _read(self, shard: _Shard) -> list[dict[str, Any]]:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            reply = self.db.call_streams(
                "get_records", table=self.table, stop=self.stop,
                ShardIterator=shard.iterator, Limit=RECORDS_PER_CALL,
            )  # fmt: skip
        except errors.DdbkitError as exc:
            if exc.code not in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                raise
            if exc.code == "TrimmedDataAccessException":
                shard.last = None  # what follows it is gone: read what the stream still holds
                shard.fresh = True
            shard.iterator = None  # a new one on the next round, from the last record read
            return []
        records: list[dict[str, Any]] = reply.get("Records", [])
        shard.iterator = reply.get("NextShardIterator")
        if records:
            shard.last = records[-1]["dynamodb"]["SequenceNumber"]
        if shard.iterator is None:
            shard.done = True  # closed and read to its end: its children may start
            self._listed_at = -SHARDS_EVERY
        return records

    def _changes(self, shard: _Shard, records: list[dict[str, Any]]) -> Iterator[Change]:
        for record in records:
            body = record["dynamodb"]
            event = record["eventName"]
            old = body.get("OldImage")
            new = body.get("NewImage")
            keys = body.get("Keys", {})
            if self.keep is not None and not self.keep(event, new or old or keys):
                continue
            identity = record.get("userIdentity") or {}
            yield Change(
                event=event,
                keys=from_item(keys),
                old=from_item(old) if old is not None else None,
                new=from_item(new) if new is not None else None,
                sequence=body["SequenceNumber"],
                shard=shard.id,
                time=body.get("ApproximateCreationDateTime"),
                expired=identity.get("PrincipalId") == TTL_PRINCIPAL,
            )
