"""Every bulk read and write path through the fault proxy, each item checked on the engine.

get_many (UnprocessedKeys), Query, delete_many, copy, truncate and delete --where meet throttling,
5xx, resets and partial batches; the batch writer's last-resort guarantees (a batch refused as a
whole, a fatal error mid-run, endless throttling) are proven on DynamoDB Local, not only on the
scripted stand-in of tests/unit/test_batch.py. Results are read straight from the engine with a
plain boto3 client and compared with the items each test generated.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.database import Database
from ddbkit.jobs.tables import IndexSpec
from ddbkit.table import Table
from ddbkit.workflows import maintenance
from tests.support.faultproxy import FaultProxy
from tests.support.truth import (
    assert_same_items,
    by_key,
    ddb_json_lines,
    engine_items,
)

pytestmark = pytest.mark.integration

KEY = ("pk", "sk")
ERRORS = ("throttle", "error_500", "error_503", "reset")
BATCH = (*ERRORS, "unprocessed")
# Each operation's first requests get every kind of fault for sure (the proxy's script); then
# these rates go on faulting, low enough that the backoff stays short.
READS: dict[str, float] = {"throttle": 0.1, "error_500": 0.03, "error_503": 0.03, "reset": 0.03}
WRITES: dict[str, float] = {**READS, "unprocessed": 0.1}
Items = list[dict[str, Any]]
Script = Mapping[str, Sequence[str]]


def item(n: int, rng: random.Random) -> dict[str, Any]:
    made: dict[str, Any] = {"pk": f"p{n % 7}", "sk": n, "n": Decimal(rng.randint(0, 10**6)) / 1000}
    roll = rng.random()
    if roll < 0.3:
        made["doc"] = {"list": [n, "x", {"deep": True}], "none": None}
    elif roll < 0.6:
        made["tags"] = {f"t{n % 5}", "all"}
        made["raw"] = n.to_bytes(3, "big")
    return made


def fill(t: Table, count: int, seed: int) -> Items:
    rng = random.Random(seed)
    items = [item(n, rng) for n in range(count)]
    t.put_many(items)  # directly, no proxy: the faults are for the path under test
    return items


def through(proxy: FaultProxy, **kwargs: Any) -> Database:
    return ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True, **kwargs)


def faulty(endpoint: str, seed: int, script: Script) -> FaultProxy:
    """A proxy faulting the operations of ``script``: its faults first, then the rates."""
    batch = any(operation.startswith("Batch") for operation in script)
    rates = WRITES if batch else READS
    proxy = FaultProxy(endpoint, seed=seed, operations=set(script), script=script)
    proxy.set_rates(**rates)
    return proxy


def fired(proxy: FaultProxy, script: Script) -> None:
    """Every fault of the script reached ddbkit, per operation."""
    stats = proxy.stats
    for operation, faults in script.items():
        counts = {fault: stats.get(f"{fault}:{operation}", 0) for fault in faults}
        assert all(counts.values()), f"{operation}: a fault kind never fired: {counts}"


@pytest.fixture
def keyed(make_table: Callable[..., Table]) -> Table:
    return make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))


# -- reads ----------------------------------------------------------------------------------------


def test_get_many_through_faults_returns_each_asked_item_once(endpoint: str, keyed: Table) -> None:
    items = fill(keyed, 600, seed=1)
    wanted = items[::2]
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in wanted]
    missing = [{"pk": "p0", "sk": -n} for n in range(1, 40)]
    script = {"BatchGetItem": BATCH}
    with faulty(endpoint, 4, script) as proxy:
        got = list(through(proxy).table(keyed.name).get_many([*keys, *missing, *keys[:30]]))
        fired(proxy, script)
    assert_same_items(by_key(got, KEY), by_key(wanted, KEY))


def test_query_through_faults_returns_the_partition_in_order(endpoint: str, keyed: Table) -> None:
    rng = random.Random(2)
    # 2,500 items in one partition: three 1,000-item pages each way.
    items = [{**item(n, rng), "pk": "q"} for n in range(2500)]
    keyed.put_many(items)
    script = {"Query": ERRORS}
    with faulty(endpoint, 3, script) as proxy:
        t = through(proxy).table(keyed.name)
        forward = list(t.query("pk = 'q'"))
        backward = list(t.query("pk = :p AND sk >= :n", params={"p": "q", "n": 0}, reverse=True))
        counted = t.count("pk = 'q' AND sk < 1200")
        fired(proxy, script)
    assert [i["sk"] for i in forward] == list(range(2500))
    assert_same_items(by_key(forward, KEY), by_key(items, KEY))
    assert [i["sk"] for i in backward] == list(reversed(range(2500)))
    assert_same_items(by_key(backward, KEY), by_key(items, KEY))
    assert counted == 1200


# -- whole-table writes ---------------------------------------------------------------------------


def test_delete_many_through_faults_deletes_exactly_the_keys_given(
    endpoint: str, keyed: Table
) -> None:
    items = fill(keyed, 600, seed=5)
    doomed = [i for i in items if i["sk"] % 3]
    kept = [i for i in items if not i["sk"] % 3]
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in doomed]
    script = {"BatchWriteItem": BATCH}
    with faulty(endpoint, 6, script) as proxy:
        summary = through(proxy).table(keyed.name).delete_many(keys)
        fired(proxy, script)
    assert summary.written == len(doomed) and summary.failed == 0
    assert_same_items(engine_items(endpoint, keyed.name, KEY), by_key(kept, KEY))


def test_copy_through_faults_copies_every_source_item(endpoint: str, keyed: Table) -> None:
    items = fill(keyed, 600, seed=7)
    target = f"{keyed.name}-copy"
    script = {"Scan": ERRORS, "BatchWriteItem": BATCH}
    with faulty(endpoint, 8, script) as proxy:
        db = through(proxy)
        try:
            summary = maintenance.copy_table(db.table(keyed.name), db, target, segments=3)
            fired(proxy, script)
            assert summary.written == len(items)
            assert_same_items(engine_items(endpoint, target, KEY), by_key(items, KEY))
        finally:
            db.delete_table(target)


def test_truncate_through_faults_leaves_the_table_empty(endpoint: str, keyed: Table) -> None:
    items = fill(keyed, 600, seed=9)
    script = {"Scan": ERRORS, "BatchWriteItem": BATCH}
    with faulty(endpoint, 10, script) as proxy:
        summary = maintenance.truncate(through(proxy).table(keyed.name), segments=3)
        fired(proxy, script)
    assert summary.written == len(items)
    assert engine_items(endpoint, keyed.name, KEY) == {}


def test_delete_where_through_faults_deletes_and_saves_exactly_the_matching_items(
    endpoint: str, keyed: Table, tmp_path: Path
) -> None:
    items = fill(keyed, 600, seed=11)
    gone = [i for i in items if "tags" in i]
    kept = [i for i in items if "tags" not in i]
    undo = tmp_path / "undo.json"
    script = {"Scan": ERRORS, "BatchWriteItem": BATCH}
    with faulty(endpoint, 12, script) as proxy:
        t = through(proxy).table(keyed.name)
        summary = maintenance.delete_where(t, "attribute_exists(tags)", undo_path=undo)
        fired(proxy, script)
    assert summary.written == len(gone)
    assert_same_items(ddb_json_lines(undo.read_bytes(), KEY), by_key(gone, KEY))
    assert_same_items(engine_items(endpoint, keyed.name, KEY), by_key(kept, KEY))


# -- the batch writer's last resorts, on the engine -----------------------------------------------


def test_a_batch_the_engine_refuses_whole_is_split_so_only_the_culprits_fail(
    endpoint: str, make_table: Callable[..., Table]
) -> None:
    # ddbkit checks the table's keys before sending, not an index's: an index key of the wrong
    # type reaches DynamoDB, which refuses the whole batch it is in (ValidationException).
    t = make_table(indexes=[IndexSpec("by_status", ("status", "S"))])
    items: Items = [{"id": f"i{n:03d}", "status": f"s{n % 4}", "n": n} for n in range(80)]
    culprits = {7, 33, 34, 71}
    for n in culprits:
        items[n]["status"] = n  # N where the index wants S
    script = {"BatchWriteItem": BATCH}
    with faulty(endpoint, 13, script) as proxy:
        with pytest.raises(ddbkit.IncompleteWriteError) as raised:
            through(proxy).table(t.name).put_many(items, on_error="skip", workers=2)
        fired(proxy, script)
    summary = raised.value.summary
    assert summary.failed == len(culprits) and summary.written == len(items) - len(culprits)
    assert sorted(r.line for r in summary.rejections) == sorted(n + 1 for n in culprits)
    assert all("Type mismatch" in r.reason for r in summary.rejections)
    want = by_key((i for n, i in enumerate(items) if n not in culprits), ("id",))
    assert_same_items(engine_items(endpoint, t.name, ("id",)), want)


def test_a_fatal_error_mid_run_reports_every_item_not_written(
    endpoint: str, make_table: Callable[..., Table]
) -> None:
    t = make_table()
    items: Items = [{"id": f"i{n:05d}", "n": n} for n in range(3000)]
    with FaultProxy(endpoint, operations={"BatchWriteItem"}) as proxy:
        written = 0

        def table_gone_after_500(count: int) -> None:
            nonlocal written
            written += count
            if written >= 500:  # from now on every write hits "table not found"
                proxy.set_rates(not_found=1.0)

        with pytest.raises(ddbkit.IncompleteWriteError) as raised:
            through(proxy).table(t.name).put_many(items, progress=table_gone_after_500)
        assert proxy.stats["not_found"] > 0
    summary = raised.value.summary
    assert summary.stopped and 500 <= summary.written < summary.read <= len(items)
    failed = {r.line for r in summary.rejections}
    assert len(failed) == summary.failed == summary.read - summary.written
    # One plain reason per item, whether it was pending in a worker or still queued for one.
    reasons = {r.reason for r in summary.rejections}
    assert len(reasons) == 1 and reasons.pop().startswith("not written: table "), reasons
    # What the engine holds is exactly what was read and not reported as failed.
    want = by_key((i for n, i in enumerate(items[: summary.read], 1) if n not in failed), ("id",))
    assert_same_items(engine_items(endpoint, t.name, ("id",)), want)


@pytest.mark.parametrize("fault", ["throttle", "error_503"])
def test_endless_faults_on_the_engine_end_the_write_and_report_every_item(
    endpoint: str, make_table: Callable[..., Table], fault: str
) -> None:
    # The budget: throttling for 1.5 s (time), other errors 3 times (attempts).
    t = make_table()
    items: Items = [{"id": f"i{n:03d}"} for n in range(120)]
    proxy = FaultProxy(endpoint, operations={"BatchWriteItem"})
    proxy.set_rates(**{fault: 1.0})
    with proxy:
        db = through(proxy, max_attempts=3)
        db.retry = dataclasses.replace(db.retry, max_seconds=1.5)
        with pytest.raises(ddbkit.IncompleteWriteError) as raised:
            db.table(t.name).put_many(items, workers=2)
        stats = proxy.stats
    assert stats[fault] == stats["requests:BatchWriteItem"] > 0
    summary = raised.value.summary
    assert summary.written == 0 and summary.failed == summary.read == len(items)
    assert sorted(r.line for r in summary.rejections) == list(range(1, len(items) + 1))
    assert engine_items(endpoint, t.name, ("id",)) == {}
