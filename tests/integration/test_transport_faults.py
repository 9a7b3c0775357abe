"""Both transports under injected faults: nothing lost, nothing doubled, each item seen once.

The sync transport (botocore's urllib3 pool, threads) and the async one (aiohttp, tasks) meet
the same faults through tests/support/faultproxy.py: throttling, partial batches
(UnprocessedItems / UnprocessedKeys), 500s and 503s, connection resets, and a connection that
stops answering until the client's read timeout. Each operation's first requests get every one
of those for sure (the proxy's script), then lower rates take over. What was written is read
straight from the engine (a plain boto3 client, never through the proxy) and compared with the
items the test generated; what was read, with the engine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import ddbkit
from ddbkit.aio import AsyncDatabase, connect_async
from ddbkit.database import Database
from ddbkit.transport.retry import Backoff
from ddbkit.values.jsonvalues import dumps_typed
from ddbkit.write.summary import WriteSummary
from tests.conftest import TableFactory
from tests.integration.test_jobs_under_faults import (
    BATCH,
    ERRORS,
    KEY,
    Script,
    faulty,
    fired,
    item,
)
from tests.support.faultproxy import FaultProxy
from tests.support.faultwire import THROTTLE_ERRORS
from tests.support.truth import assert_same_items, by_key, engine_items

pytestmark = pytest.mark.integration

T = TypeVar("T")
TRANSPORTS = ("sync", "async")
# A connection that stops answering costs one read timeout per hung request: keep it short.
READ_TIMEOUT = 0.5
WRITE_SCRIPT = (*BATCH, "hang")
READ_SCRIPT = (*ERRORS, "hang")
# What the retry line (the ddbkit logger at INFO; the CLI's stderr) says for each fault. Every
# script starts with a throttle, and each test's seed makes it the proxy's first draw:
# ProvisionedThroughputExceededException (see faulty_with_ptee).
SAID = {
    "throttle": "while throttled): ProvisionedThroughputExceededException",
    "error_500": "InternalServerError",
    "error_503": "ServiceUnavailable",
    "reset": "broke during {operation}",
    "hang": f"did not answer {{operation}} within {READ_TIMEOUT:g}s",
}
N_WRITE = 500
N_SCAN = 2500  # three 1,000-item pages in one segment on the local engine
Items = list[dict[str, Any]]


def make_items(count: int, seed: int) -> Items:
    rng = random.Random(seed)
    return [item(n, rng) for n in range(count)]


def faulty_with_ptee(endpoint: str, seed: int, script: Script) -> FaultProxy:
    """:func:`faulty`, for a seed whose first draw picks ProvisionedThroughputExceededException
    for the script's first fault, a throttle (nothing else draws before it)."""
    assert all(faults[0] == "throttle" for faults in script.values())
    code = random.Random(seed).choice(THROTTLE_ERRORS)[0]
    assert code.endswith("#ProvisionedThroughputExceededException"), f"pick another seed: {code}"
    return faulty(endpoint, seed, script)


def quick(backoff: Backoff) -> Backoff:
    """The connection's retry budget with short waits: the faults are many, the items few."""
    return dataclasses.replace(backoff, base=0.005, cap=0.1)


def quickly(db: Database) -> Database:
    db.retry = db.transport.retry = quick(db.retry)
    return db


def through(proxy: FaultProxy) -> Database:
    url = proxy.endpoint_url
    return quickly(ddbkit.connect(endpoint_url=url, local=True, read_timeout=READ_TIMEOUT))


def run_async(proxy: FaultProxy, body: Callable[[AsyncDatabase], Awaitable[T]]) -> T:
    async def main() -> T:
        url = proxy.endpoint_url
        async with connect_async(endpoint_url=url, local=True, read_timeout=READ_TIMEOUT) as adb:
            adb.transport.retry = quick(adb.transport.retry)
            quickly(adb.sync)  # the file jobs run the sync code on a worker thread
            return await body(adb)

    return asyncio.run(main())


def retried_for_each_fault(caplog: pytest.LogCaptureFixture, faults: Any, operation: str) -> None:
    """Each error fault of the script reached ddbkit and was retried, as its retry line says."""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    for fault in faults:
        if fault in SAID:
            said = SAID[fault].format(operation=operation)
            assert any(said in line for line in lines), f"no retry after {fault}: {lines}"


@pytest.fixture
def retries(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="ddbkit")
    return caplog


# -- writes ---------------------------------------------------------------------------------------


def put_many(transport: str, proxy: FaultProxy, table: str, items: Items) -> WriteSummary:
    if transport == "sync":
        with through(proxy) as db:
            return db.table(table).put_many(items)

    async def write(adb: AsyncDatabase) -> WriteSummary:
        return await adb.table(table).put_many(items)

    return run_async(proxy, write)


def import_file(transport: str, proxy: FaultProxy, table: str, source: Path) -> WriteSummary:
    if transport == "sync":
        with through(proxy) as db:
            return db.table(table).import_file(source, format="ddb-json")

    async def load(adb: AsyncDatabase) -> WriteSummary:
        return await adb.table(table).import_file(source, format="ddb-json")

    return run_async(proxy, load)


def assert_wrote_each_once(summary: WriteSummary, count: int) -> None:
    assert summary.read == count and summary.written == count
    assert summary.duplicates == summary.rejected == summary.failed == 0
    assert summary.retries > 0 and summary.complete


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_put_many_through_every_fault_writes_each_item_once(
    endpoint: str,
    make_table: TableFactory,
    retries: pytest.LogCaptureFixture,
    transport: str,
) -> None:
    target = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    items = make_items(N_WRITE, seed=21)
    script = {"BatchWriteItem": WRITE_SCRIPT}
    with faulty_with_ptee(endpoint, 22, script) as proxy:
        summary = put_many(transport, proxy, target.name, items)
        fired(proxy, script)
    assert_wrote_each_once(summary, N_WRITE)
    retried_for_each_fault(retries, WRITE_SCRIPT, "BatchWriteItem")
    assert_same_items(engine_items(endpoint, target.name, KEY), by_key(items, KEY))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_import_through_every_fault_writes_each_item_once(
    endpoint: str,
    make_table: TableFactory,
    retries: pytest.LogCaptureFixture,
    tmp_path: Path,
    transport: str,
) -> None:
    target = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    items = make_items(N_WRITE, seed=23)
    source = tmp_path / "in.json"
    source.write_text("".join(f'{{"Item": {dumps_typed(i)}}}\n' for i in items))
    script = {"BatchWriteItem": WRITE_SCRIPT}
    with faulty_with_ptee(endpoint, 28, script) as proxy:
        summary = import_file(transport, proxy, target.name, source)
        fired(proxy, script)
    assert_wrote_each_once(summary, N_WRITE)
    retried_for_each_fault(retries, WRITE_SCRIPT, "BatchWriteItem")
    assert_same_items(engine_items(endpoint, target.name, KEY), by_key(items, KEY))


# -- reads ----------------------------------------------------------------------------------------

Source = tuple[str, Items]


@pytest.fixture(scope="module")
def source(endpoint: str) -> Iterator[Source]:
    """A table of 2,500 items for the reads, written directly (no proxy)."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    name = f"transport-faults-{uuid.uuid4().hex[:12]}"
    table = db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N"))
    try:
        items = make_items(N_SCAN, seed=25)
        assert table.put_many(items).written == N_SCAN
        yield name, items
    finally:
        db.delete_table(name, wait=False)


def scan(transport: str, proxy: FaultProxy, table: str, segments: int) -> Items:
    if transport == "sync":
        with through(proxy) as db:
            return list(db.table(table).scan(segments=segments))

    async def read(adb: AsyncDatabase) -> Items:
        return [i async for i in adb.table(table).scan(segments=segments)]

    return run_async(proxy, read)


def get_many(transport: str, proxy: FaultProxy, table: str, keys: Items) -> Items:
    if transport == "sync":
        with through(proxy) as db:
            return list(db.table(table).get_many(keys))

    async def read(adb: AsyncDatabase) -> Items:
        return [i async for i in adb.table(table).get_many(keys)]

    return run_async(proxy, read)


@pytest.mark.parametrize("segments", [1, 4])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_scan_through_every_fault_returns_each_item_once(
    endpoint: str,
    source: Source,
    retries: pytest.LogCaptureFixture,
    transport: str,
    segments: int,
) -> None:
    table, items = source
    script = {"Scan": READ_SCRIPT}
    with faulty_with_ptee(endpoint, {1: 31, 4: 32}[segments], script) as proxy:
        got = scan(transport, proxy, table, segments)
        fired(proxy, script)
        requests = proxy.stats["requests:Scan"]
    assert requests >= len(READ_SCRIPT) + (3 if segments == 1 else 4)  # every page, and retries
    retried_for_each_fault(retries, READ_SCRIPT, "Scan")
    # by_key fails on a key seen twice: each item exactly once, and each one the engine holds
    assert len(got) == N_SCAN
    assert_same_items(by_key(got, KEY), engine_items(endpoint, table, KEY))
    assert_same_items(by_key(got, KEY), by_key(items, KEY))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_get_many_through_every_fault_returns_each_asked_item_once(
    endpoint: str, source: Source, retries: pytest.LogCaptureFixture, transport: str
) -> None:
    table, items = source
    wanted = items[::5]
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in wanted]
    script = {"BatchGetItem": (*BATCH, "hang")}
    with faulty_with_ptee(endpoint, 39, script) as proxy:
        got = get_many(transport, proxy, table, [*keys, *keys[:50], {"pk": "none", "sk": 0}])
        fired(proxy, script)
    retried_for_each_fault(retries, script["BatchGetItem"], "BatchGetItem")
    assert_same_items(by_key(got, KEY), by_key(wanted, KEY))
