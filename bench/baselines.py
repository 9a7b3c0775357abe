"""What ddbkit is measured against: the seed's boto3 ways and the raw limits.

The seed's ways are the code a boto3 user writes by hand (resource ``Table.scan`` with a
LastEvaluatedKey loop, ``batch_writer``, ``json.dumps(item, default=str)``). The limits use
:mod:`bench.rawhttp` (signed POSTs, no botocore serializer or parser) so that they are what the
engine and the wire allow, whatever any library does.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import orjson
from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.config import Config

from bench.data import Item, Wire, from_wire
from bench.rawhttp import ACCESS_KEY, REGION, SECRET_KEY, RawClient, page_count, page_last_key

BATCH_SIZE = 25
# DynamoDB Local reads every item after the ExclusiveStartKey (of the segment) for each Scan page
# and only then cuts the page at 1 MB, so without a Limit a page costs time in proportion to the
# rest of the table and a whole scan grows with the square of its size. A Limit of about one
# 1 MB page of items keeps each page's cost to its own items. Checking scans here always use it.
PAGE_LIMIT = 1000
# Bounds so that every loop ends even if an engine misbehaves.
MAX_PAGES = 10_000_000
MAX_WRITE_ATTEMPTS = 12


# ---------------------------------------------------------------------------------------------
# boto3 set-up (done once, outside the timed parts)


@dataclass(frozen=True)
class Boto3:
    """One isolated boto3 session's low-level client and resource for one endpoint."""

    client: Any
    resource: Any


def boto3_for(endpoint_url: str) -> Boto3:
    # An isolated session: no profile or config file of the user's leaks into the measurement.
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session = boto3.session.Session(
        botocore_session=core,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    config = Config(max_pool_connections=16, retries={"mode": "standard"})
    return Boto3(
        client=session.client("dynamodb", endpoint_url=endpoint_url, config=config),
        resource=session.resource("dynamodb", endpoint_url=endpoint_url, config=config),
    )


# ---------------------------------------------------------------------------------------------
# Scan


def seed_items(b3: Boto3, table: str) -> Iterator[Item]:
    """The seed's way, yielding the items: resource ``Table.scan`` + a LastEvaluatedKey loop."""
    resource_table = b3.resource.Table(table)
    kwargs: dict[str, Any] = {}
    for _ in range(MAX_PAGES):
        page = resource_table.scan(**kwargs)
        yield from page["Items"]
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last
    raise RuntimeError("seed scan: too many pages")


def seed_scan(b3: Boto3, table: str) -> int:
    """The seed's way: resource ``Table.scan`` + a LastEvaluatedKey loop; Python values."""
    resource_table = b3.resource.Table(table)
    kwargs: dict[str, Any] = {}
    count = 0
    for _ in range(MAX_PAGES):
        page = resource_table.scan(**kwargs)
        count += len(page["Items"])
        last = page.get("LastEvaluatedKey")
        if not last:
            return count
        kwargs["ExclusiveStartKey"] = last
    raise RuntimeError("seed scan: too many pages")


def paginator_scan(b3: Boto3, table: str) -> int:
    """botocore's paginator; every item deserialized with boto3's TypeDeserializer."""
    deserialize = TypeDeserializer().deserialize
    count = 0
    for page in b3.client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            _ = {name: deserialize(value) for name, value in item.items()}
            count += 1
    return count


def _scan_segment(
    raw: RawClient, table: str, segment: int, total: int, decode: bool, page_limit: int | None
) -> int:
    request: dict[str, Any] = {"TableName": table}
    if total > 1:
        request["Segment"] = segment
        request["TotalSegments"] = total
    if page_limit is not None:
        request["Limit"] = page_limit
    conn = raw.connect()
    count = 0
    try:
        for _ in range(MAX_PAGES):
            body = raw.call(conn, "Scan", orjson.dumps(request))
            if decode:
                reply = orjson.loads(body)
                items = [from_wire(wire) for wire in reply["Items"]]
                count += len(items)
                last = reply.get("LastEvaluatedKey")
            else:
                count += page_count(body)
                last = page_last_key(body)
            if not last:
                return count
            request["ExclusiveStartKey"] = last
    finally:
        conn.close()
    raise RuntimeError("raw scan: too many pages")


def raw_scan(
    raw: RawClient, table: str, segments: int, *, decode: bool, page_limit: int | None = None
) -> int:
    """The raw limit: one thread per segment sending signed Scan POSTs.

    ``decode=False`` reads each reply's bytes and finds only Count and LastEvaluatedKey;
    ``decode=True`` also parses the reply with orjson and turns every item into Python values
    with the minimal converter of :mod:`bench.data`. ``page_limit`` is sent as each page's
    ``Limit`` (see PAGE_LIMIT).
    """
    if segments == 1:
        return _scan_segment(raw, table, 0, 1, decode, page_limit)
    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="raw-scan") as pool:
        futures = [
            pool.submit(_scan_segment, raw, table, s, segments, decode, page_limit)
            for s in range(segments)
        ]
        return sum(f.result() for f in futures)


def raw_items(raw: RawClient, table: str, segments: int = 4) -> list[Item]:
    """Every item of ``table`` as Python values (for checking, not timed)."""
    out: list[list[Item]] = [[] for _ in range(segments)]

    def walk(segment: int) -> None:
        request: dict[str, Any] = {
            "TableName": table,
            "Segment": segment,
            "TotalSegments": segments,
            "ConsistentRead": True,
            "Limit": PAGE_LIMIT,
        }
        conn = raw.connect()
        try:
            for _ in range(MAX_PAGES):
                reply = orjson.loads(raw.call(conn, "Scan", orjson.dumps(request)))
                out[segment].extend(from_wire(wire) for wire in reply["Items"])
                last = reply.get("LastEvaluatedKey")
                if not last:
                    return
                request["ExclusiveStartKey"] = last
        finally:
            conn.close()
        raise RuntimeError("raw scan: too many pages")

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="raw-items") as pool:
        for future in [pool.submit(walk, s) for s in range(segments)]:
            future.result()
    return [item for part in out for item in part]


def count_items(raw: RawClient, table: str, segments: int = 4) -> int:
    """``Select=COUNT`` over every segment: how many items the table holds (not timed)."""

    def walk(segment: int) -> int:
        request: dict[str, Any] = {
            "TableName": table,
            "Select": "COUNT",
            "Segment": segment,
            "TotalSegments": segments,
            "ConsistentRead": True,
            "Limit": PAGE_LIMIT,
        }
        conn = raw.connect()
        total = 0
        try:
            for _ in range(MAX_PAGES):
                reply = orjson.loads(raw.call(conn, "Scan", orjson.dumps(request)))
                total += int(reply["Count"])
                last = reply.get("LastEvaluatedKey")
                if not last:
                    return total
                request["ExclusiveStartKey"] = last
        finally:
            conn.close()
        raise RuntimeError("count: too many pages")

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="count") as pool:
        return sum(f.result() for f in [pool.submit(walk, s) for s in range(segments)])


# ---------------------------------------------------------------------------------------------
# Writes


@dataclass(frozen=True)
class WriteStats:
    items: int
    requests: int
    retried_batches: int


def raw_write(
    raw: RawClient, table: str, wire_items: Iterable[Wire], *, threads: int = 8
) -> WriteStats:
    """The raw parallel BatchWriteItem limit (and the data loader).

    ``threads`` threads each take the next 25 pre-built wire items, send them as one signed
    BatchWriteItem POST and re-send the UnprocessedItems (full-jitter backoff) until none are
    left. ``wire_items`` may be a generator: it is drawn under a lock, so 1M items are never
    all in memory.
    """
    source = iter(wire_items)
    lock = threading.Lock()
    failed = threading.Event()

    def next_batch() -> list[Wire]:
        with lock:
            return list(itertools.islice(source, BATCH_SIZE))

    def worker() -> tuple[int, int, int]:
        conn = raw.connect()
        written = requests_sent = retried = 0
        try:
            while not failed.is_set():
                batch = next_batch()
                if not batch:
                    break
                pending: list[dict[str, Any]] = [{"PutRequest": {"Item": w}} for w in batch]
                for attempt in range(MAX_WRITE_ATTEMPTS):
                    body = orjson.dumps({"RequestItems": {table: pending}})
                    reply = orjson.loads(raw.call(conn, "BatchWriteItem", body))
                    requests_sent += 1
                    pending = reply.get("UnprocessedItems", {}).get(table, [])
                    if not pending:
                        break
                    retried += 1
                    time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))
                else:
                    raise RuntimeError(f"{len(pending)} items still unprocessed after retries")
                written += len(batch)
        except BaseException:
            failed.set()  # the other threads stop taking batches
            raise
        finally:
            conn.close()
        return written, requests_sent, retried

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="raw-write") as pool:
        results = [f.result() for f in [pool.submit(worker) for _ in range(threads)]]
    return WriteStats(
        items=sum(r[0] for r in results),
        requests=sum(r[1] for r in results),
        retried_batches=sum(r[2] for r in results),
    )


def seed_import(b3: Boto3, table: str, items: Iterable[Item]) -> int:
    """The seed's way: one thread, boto3 resource ``Table.batch_writer()``, Python items."""
    count = 0
    with b3.resource.Table(table).batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)
            count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Export


def _seed_default(value: Any) -> Any:
    # ``default=str`` as the seed wrote it, plus the one case where it crashes: boto3's Binary
    # returns bytes from __str__ ("TypeError: __str__ returned non-string").
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    return str(value)


def seed_export(b3: Boto3, table: str, path: Path) -> int:
    """The seed's way: resource ``Table.scan`` loop, ``json.dumps(item, default=str)`` per line
    (binary values base64-encoded, see :func:`_seed_default`)."""
    resource_table = b3.resource.Table(table)
    kwargs: dict[str, Any] = {}
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for _ in range(MAX_PAGES):
            page = resource_table.scan(**kwargs)
            for item in page["Items"]:
                out.write(json.dumps(item, default=_seed_default) + "\n")
                count += 1
            last = page.get("LastEvaluatedKey")
            if not last:
                return count
            kwargs["ExclusiveStartKey"] = last
    raise RuntimeError("seed export: too many pages")
