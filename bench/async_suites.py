"""Bench sections of the transport seam (issue 8): the async API against the threaded one, and
the transport candidates for the hot path, all on the run's own DynamoDB Local.

- ``async``: a scan of the main table with 8 segments as tasks on one event loop against the same
  scan on 8 threads; ``put_many`` of the data set with 8 requests in flight as tasks against 8
  threads. Targets: both >= 1.0x.
- ``transport``: the data set written as 25-item BatchWriteItem requests, 8 at a time, through
  each candidate sender: botocore's generic client (what ddbkit used before), ddbkit's lean
  sync sender (botocore's SigV4Auth and urllib3 pool, ddbkit's body and checks), ddbkit's
  lean async sender (aiohttp), and the raw http.client floor. Printed with client CPU per
  request, which is what the choice is about on a busy client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from bench import baselines
from bench.measure import Result, Variant, run_interleaved
from bench.suites import Context, Row, Section, Target, _fmt_ratio, _FreshTable, ratio

SEGMENTS = 8
WORKERS = 8
BATCH = 25


def async_section(ctx: Context) -> Section:
    import ddbkit
    from ddbkit.aio import AsyncDatabase, connect_async

    threaded_table = _FreshTable(ctx, "put-threads")
    async_table = _FreshTable(ctx, "put-async")

    def threaded_scan() -> int:
        return sum(1 for _ in ctx.db.table(ctx.main_table).scan(segments=SEGMENTS))

    def async_scan() -> int:
        async def count() -> int:
            # The twin of the threaded run's connection: neither pays for a new session.
            async with AsyncDatabase(ctx.db) as db:
                n = 0
                async for _ in db.table(ctx.main_table).scan(segments=SEGMENTS):
                    n += 1
                return n

        return asyncio.run(count())

    def threaded_put() -> tuple[int, dict[str, Any]]:
        table = ddbkit.connect(ctx.db.spec).table(threaded_table.name)
        summary = table.put_many(ctx.items, workers=WORKERS)
        return int(summary.written), {"retries": summary.retries}

    def async_put() -> tuple[int, dict[str, Any]]:
        async def put() -> Any:
            async with connect_async(ctx.db.spec) as db:
                return await db.table(async_table.name).put_many(ctx.items, workers=WORKERS)

        summary = asyncio.run(put())
        return int(summary.written), {"retries": summary.retries}

    def fresh(key: str, label: str, holder: _FreshTable, run: Callable[[], Any]) -> Variant:
        return Variant(key, label, run, ctx.n, holder.setup, holder.teardown, holder.check)

    variants = [
        Variant("scan.threads", f"scan, {SEGMENTS} segments on threads", threaded_scan, ctx.n),
        Variant("scan.async", f"scan, {SEGMENTS} segments as tasks", async_scan, ctx.n),
        fresh("put.threads", f"put_many, {WORKERS} threads", threaded_table, threaded_put),
        fresh("put.async", f"put_many, {WORKERS} tasks", async_table, async_put),
    ]
    results = run_interleaved(variants, ctx.reps)
    section = Section("async", f"async API: {ctx.n:,} items, one event loop", results)
    section.rows = [Row(f"    {r.label}", r) for r in results.values()]
    section.targets = [
        Target(
            f"async scan ({SEGMENTS} tasks) / threaded scan ({SEGMENTS} threads)",
            ratio(results["scan.async"], results["scan.threads"]),
            1.0,
            detail=results["scan.async"].error or "",
        ),
        Target(
            f"async put_many ({WORKERS} tasks) / threaded put_many ({WORKERS} threads)",
            ratio(results["put.async"], results["put.threads"]),
            1.0,
            detail=results["put.async"].error or "",
        ),
    ]
    return section


def _batches(ctx: Context) -> list[list[dict[str, Any]]]:
    requests = [{"PutRequest": {"Item": item}} for item in ctx.wire]
    return [requests[i : i + BATCH] for i in range(0, len(requests), BATCH)]


def _on_threads(batches: list[Any], send: Callable[[Any], None]) -> int:
    """Send every batch from WORKERS threads; how many items went."""
    todo: Iterator[Any] = iter(batches)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                batch = next(todo, None)
            if batch is None:
                return
            try:
                send(batch)
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(len(b) for b in batches)


def _unprocessed(reply: dict[str, Any]) -> None:
    if reply.get("UnprocessedItems"):
        raise RuntimeError("unprocessed items: the candidates are timed without throttling")


def transport_section(ctx: Context) -> Section:
    import ddbkit
    from ddbkit.transport.aio import AsyncTransport

    batches = _batches(ctx)
    db = ddbkit.connect(ctx.db.spec)  # its own pools, so no candidate warms another's
    holders = {name: _FreshTable(ctx, f"tx-{name}") for name in ("botocore", "lean", "aio", "raw")}

    def botocore_client() -> int:
        client = db.transport.client
        table = holders["botocore"].name
        return _on_threads(
            batches,
            lambda b: _unprocessed(client.batch_write_item(RequestItems={table: b})),
        )

    def lean_sync() -> int:
        table = holders["lean"].name
        send = db.transport.send_once
        return _on_threads(
            batches,
            lambda b: _unprocessed(
                orjson.loads(send("batch_write_item", {"RequestItems": {table: b}}, table=table))
            ),
        )

    def lean_async() -> int:
        table = holders["aio"].name

        async def run() -> int:
            transport = AsyncTransport(ddbkit.connect(ctx.db.spec).transport)
            todo = iter(batches)

            async def work() -> None:
                for batch in todo:
                    body = await transport.send_once(
                        "batch_write_item", {"RequestItems": {table: batch}}, table=table
                    )
                    _unprocessed(orjson.loads(body))

            try:
                await asyncio.gather(*(work() for _ in range(WORKERS)))
            finally:
                await transport.close()
            return sum(len(b) for b in batches)

        return asyncio.run(run())

    def raw_floor() -> int:
        stats = baselines.raw_write(ctx.raw, holders["raw"].name, ctx.wire, threads=WORKERS)
        return stats.items

    def variant(name: str, label: str, run: Callable[[], int]) -> Variant:
        holder = holders[name]
        return Variant(name, label, run, ctx.n, holder.setup, holder.teardown, holder.check)

    variants = [
        variant("botocore", "botocore client.batch_write_item (generic)", botocore_client),
        variant("lean", "ddbkit lean sync (SigV4Auth + urllib3 pool)", lean_sync),
        variant("aio", "ddbkit lean async (SigV4Auth + aiohttp)", lean_async),
        variant("raw", "raw floor: SigV4Auth + http.client", raw_floor),
    ]
    results = run_interleaved(variants, ctx.reps)
    section = Section(
        "transport",
        f"transport candidates: {ctx.n:,} items as 25-item BatchWriteItem, {WORKERS} in flight",
        results,
    )
    section.rows = [Row(f"    {r.label}{_cpu(r)}", r) for r in results.values()]
    raw = results["raw"]
    for name in ("botocore", "lean", "aio"):
        section.notes.append(
            f"{results[name].label}: {_fmt_ratio(ratio(results[name], raw))} of the raw floor"
        )
    return section


def _cpu(result: Result) -> str:
    per_item = result.cpu_us_per_item
    return "" if per_item is None else f" [client CPU {per_item * BATCH:,.0f} us/request]"
