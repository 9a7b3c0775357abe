"""Table.to_dask and Table.write_dask on a real distributed.LocalCluster with worker processes.

The engine is the truth: what a frame holds is compared with the items read straight from
DynamoDB Local by a plain boto3 client, and what write_dask wrote, with the frame's rows. Each
row is turned back into an item here by the documented rules (JSON columns hold plain JSON text,
set columns sorted lists, ``_extra`` DynamoDB JSON), not by ddbkit's own code.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import ddbkit  # noqa: E402
from ddbkit.database import Database  # noqa: E402
from ddbkit.integrations import dask as ddbkit_dask  # noqa: E402
from ddbkit.table import Table  # noqa: E402
from tests.conftest import TableFactory  # noqa: E402
from tests.integration.test_jobs_under_faults import faulty, fired  # noqa: E402
from tests.support.recorder import RecordingProxy  # noqa: E402
from tests.support.truth import (  # noqa: E402
    Canon,
    Key,
    assert_same_items,
    by_key,
    canon,
    canon_typed_item,
    engine_items,
    key_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

JSON_COLUMNS = {"doc", "mixed", "huge", "list"}
SET_COLUMNS = {"tags", "nums", "blobs"}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes of one thread each, as on a small real cluster."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    dask_client = distributed.Client(cluster)
    try:
        yield dask_client
    finally:
        dask_client.close()
        cluster.close()


def mixed_item(n: int, rng: random.Random) -> dict[str, Any]:
    """Every DynamoDB type, nested maps, big numbers, and attributes that come and go."""
    item: dict[str, Any] = {
        "id": f"k{n:05d}",
        "n": n,
        "price": Decimal(rng.randint(0, 99999)) / 100,
    }
    if n % 2:
        item["doc"] = {"city": rng.choice(["Oslo", "Rome"]), "deep": {"list": [n, "x", True]}}
    if n % 3 == 0:
        item["tags"] = {f"t{n % 4}", "all"}
        item["nums"] = {n, n + 1, Decimal("0.5")}
    if n % 5 == 0:
        item["raw"] = bytes([n % 256, 0, 255])
        item["blobs"] = {b"\x00", bytes([n % 256 or 1])}
    item["mixed"] = n if n % 4 else f"text {n}"
    if n % 7 == 0:
        item["huge"] = Decimal("1.2345678901234567890123456789012345678E+50")
        item["flag"] = n % 2 == 0
        item["nothing"] = None
        item["list"] = [Decimal("1.5"), "two", {"three": 3}]
    if n % 11 == 0:
        item["big"] = Decimal("1E+100")
    return item


def frame_items(frame: Any) -> list[dict[str, Canon]]:
    """Canonical items from a computed frame, by the documented rules."""
    items: list[dict[str, Canon]] = []
    for row in frame.to_dict("records"):
        item: dict[str, Canon] = {}
        for name, value in row.items():
            if value is None or value is pd.NA:
                continue
            if name == "_extra":
                item.update(canon_typed_item(json.loads(value)))
            elif name in JSON_COLUMNS:
                item[name] = canon(json.loads(value, parse_float=Decimal, parse_int=Decimal))
            elif name in SET_COLUMNS:
                item[name] = canon(set(value))
            else:
                item[name] = canon(value)
        items.append(item)
    return items


def keyed(items: list[dict[str, Canon]], names: tuple[str, ...]) -> dict[Key, dict[str, Canon]]:
    out: dict[Key, dict[str, Canon]] = {}
    for item in items:
        key = key_of(item, names)
        assert key not in out, f"key {key} appears twice in the frame"
        out[key] = item
    return out


def without_nulls(items: dict[Key, dict[str, Canon]]) -> dict[Key, dict[str, Canon]]:
    """A DynamoDB NULL is a missing value in a frame, as in SQL."""
    return {k: {a: v for a, v in item.items() if v != ("NULL", True)} for k, item in items.items()}


@pytest.fixture
def mixed(make_table: TableFactory) -> Table:
    t = make_table()
    rng = random.Random(9)
    t.put_many(mixed_item(n, rng) for n in range(400))
    return t


def test_to_dask_equals_the_table_item_for_item(client: Any, mixed: Table, endpoint: str) -> None:
    frame = mixed.to_dask(segments=4)
    assert frame.npartitions == 4
    got = frame.compute()
    assert len(got) == 400
    assert got["_extra"].isna().all()  # the sample was the whole table: every value fits
    want = without_nulls(engine_items(endpoint, mixed.name, ["id"]))
    assert_same_items(keyed(frame_items(got), ("id",)), want)


def test_to_dask_has_the_columns_and_types_to_arrow_gives(client: Any, mixed: Table) -> None:
    got = mixed.to_dask(segments=3).compute().sort_values("id").reset_index(drop=True)
    arrow = mixed.to_arrow().to_pandas(types_mapper=pd.ArrowDtype)
    arrow = arrow.sort_values("id").reset_index(drop=True)
    assert set(got.columns) == set(arrow.columns) | {"_extra"}
    for name in arrow.columns:
        if name in JSON_COLUMNS:  # plain JSON text in both; DuckDB's JSON type is a string
            assert [None if v is pd.NA else json.loads(v) for v in got[name]] == [
                None if v is pd.NA or v is None else json.loads(v) for v in arrow[name]
            ], name
            continue
        assert str(got[name].dtype) == str(arrow[name].dtype), name
        assert got[name].tolist() == arrow[name].tolist(), name


def test_values_the_sample_did_not_see_reach_the_user_in_extra(
    client: Any, make_table: TableFactory, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_table()
    t.put_many({"id": f"k{n:04d}", "n": n, "name": f"item {n}"} for n in range(300))
    monkeypatch.setattr(ddbkit_dask, "SAMPLE_ITEMS", 20)  # the client types from 20 items
    sampled = {item["id"] for item in t.scan(limit=20, segments=1)}
    odd = [f"k{n:04d}" for n in range(300) if f"k{n:04d}" not in sampled][:30]
    for i, key in enumerate(odd):
        if i % 3 == 0:
            t.update({"id": key}, set={"n": "not a number"})
        elif i % 3 == 1:
            t.update({"id": key}, set={"rare": {"nested": [1, 2]}, "n": Decimal("2.5")})
        else:
            t.update({"id": key}, set={"name": b"\x01binary"})
    frame = t.to_dask(segments=4)
    assert set(frame.columns) == {"id", "n", "name", "_extra"}
    got = frame.compute()
    assert got["_extra"].notna().sum() == 30
    want = engine_items(endpoint, t.name, ["id"])
    assert_same_items(keyed(frame_items(got), ("id",)), want)


def test_where_and_attributes_go_into_every_segment(client: Any, mixed: Table) -> None:
    where, attributes = "n >= 100 and price < 500", ["id", "n", "doc.city", "tags"]
    frame = mixed.to_dask(where, attributes=attributes, segments=4)
    assert set(frame.columns) == {"id", "n", "doc", "tags", "_extra"}
    got = keyed(frame_items(frame.compute()), ("id",))
    want = by_key(mixed.scan(where, attributes=attributes), ["id"])
    assert want and len(want) < 400
    assert_same_items(got, want)


def test_a_pinned_partition_key_is_one_query_partition(
    client: Any, sorted_table: Table, endpoint: str
) -> None:
    sorted_table.put_many({"pk": f"p{n % 5}", "sk": n, "v": n * 2} for n in range(500))
    frame = sorted_table.to_dask("pk = :p and sk > :s", params={"p": "p3", "s": 100}, segments=8)
    assert frame.npartitions == 1
    got = keyed(frame_items(frame.compute()), ("pk", "sk"))
    want = by_key(sorted_table.query("pk = 'p3' and sk > 100"), ["pk", "sk"])
    assert len(want) == 80
    assert_same_items(got, want)


def test_an_empty_table_is_an_empty_frame_with_its_key_columns(
    client: Any, make_table: TableFactory
) -> None:
    got = make_table().to_dask(segments=2).compute()
    assert len(got) == 0
    assert list(got.columns) == ["id", "_extra"]


# -- write_dask -------------------------------------------------------------------------------


def source_frame(count: int, partitions: int, pad: int = 0) -> tuple[Any, list[dict[str, Any]]]:
    rng = random.Random(3)
    items = [
        {
            "id": f"w{n:05d}",
            "n": rng.randint(-(10**12), 10**12),
            "price": Decimal(rng.randint(0, 10**6)) / 1000,
            "name": f"name {n}" + "x" * pad,
            "raw": bytes([n % 256]) if n % 3 else None,
            "doc": json.dumps({"a": n, "b": [1, "two"]}),
            "tags": ["a", f"t{n % 5}"],
        }
        for n in range(count)
    ]
    frame = pd.DataFrame(items)
    # dask turns object columns into strings (dataframe.convert-string): Decimal, bytes and
    # list columns say what they hold with Arrow types, as the README tells users to
    frame["price"] = frame["price"].astype(pd.ArrowDtype(pa.decimal128(38, 3)))
    frame["raw"] = frame["raw"].astype(pd.ArrowDtype(pa.binary()))
    frame["tags"] = frame["tags"].astype(pd.ArrowDtype(pa.list_(pa.string())))
    return dd.from_pandas(frame, npartitions=partitions), items


def written_as(items: list[dict[str, Any]]) -> dict[Key, dict[str, Canon]]:
    """What write_dask(types={"doc": "M", "tags": "SS"}) makes of the source rows."""
    out = []
    for item in items:
        made = {k: v for k, v in item.items() if v is not None}
        made["doc"] = json.loads(made["doc"], parse_float=Decimal)
        made["tags"] = set(made["tags"])
        out.append(made)
    return by_key(out, ["id"])


def test_write_dask_writes_every_row_as_an_item(client: Any, table: Table, endpoint: str) -> None:
    frame, items = source_frame(1500, 6)
    summary = table.write_dask(frame, types={"doc": "M", "tags": "SS"})
    assert (summary.read, summary.written) == (1500, 1500)
    assert_same_items(engine_items(endpoint, table.name, ["id"]), written_as(items))


def test_to_dask_then_write_dask_copies_a_table_exactly(
    client: Any, mixed: Table, make_table: TableFactory, endpoint: str
) -> None:
    copy = make_table()
    summary = copy.write_dask(
        mixed.to_dask(segments=4),
        types={
            "doc": "M",
            "list": "L",
            "tags": "SS",
            "nums": "NS",
            "blobs": "BS",
            "huge": "N",
            "mixed": "JSON",
        },
    )
    assert summary.written == 400
    want = engine_items(endpoint, mixed.name, ["id"])
    got = engine_items(endpoint, copy.name, ["id"])
    # NULLs are missing values in a frame; everything else comes back as it was.
    for item in want.values():
        item.pop("nothing", None)
    assert_same_items(got, want)


def test_write_dask_through_faults_writes_exactly_every_row(
    client: Any, table: Table, endpoint: str
) -> None:
    frame, items = source_frame(800, 4)
    script = {"BatchWriteItem": ("throttle", "unprocessed", "reset")}
    with faulty(endpoint, 11, script) as proxy:
        proxy.set_rates(throttle=0.3, unprocessed=0.3, reset=0.1)
        through = ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True, read_timeout=2)
        summary = through.table(table.name).write_dask(frame, types={"doc": "M", "tags": "SS"})
        fired(proxy, script)
    assert (summary.read, summary.written) == (800, 800)
    assert summary.retries > 0
    assert_same_items(engine_items(endpoint, table.name, ["id"]), written_as(items))


def test_write_dask_refuses_what_it_cannot_do_safely(client: Any, table: Table) -> None:
    frame, _ = source_frame(10, 2)
    with pytest.raises(ddbkit.ValidationError, match="put and delete only"):
        table.write_dask(frame, action="update")
    with pytest.raises(ddbkit.ValidationError, match="no column 'id'"):
        table.write_dask(frame.drop(columns=["id"]))
    with pytest.raises(ddbkit.ValidationError, match="takes a dask DataFrame"):
        table.write_dask(frame.compute())
    with pytest.raises(ddbkit.ValidationError, match="'nope', which is not a column"):
        table.write_dask(frame, types={"nope": "M"})
    assert table.count() == 0


def test_a_row_that_cannot_be_converted_is_rejected_not_guessed(client: Any, table: Table) -> None:
    frame, _ = source_frame(40, 2)
    broken = frame.assign(doc=frame["doc"].where(frame["id"] != "w00007", "{not json"))
    with pytest.raises(ddbkit.IncompleteWriteError) as stopped:
        table.write_dask(broken, types={"doc": "M"})
    assert stopped.value.summary.rejected == 1
    summary = table.write_dask(broken, types={"doc": "M"}, on_error="skip")
    assert (summary.written, summary.rejected) == (39, 1)
    assert "w00007" in str(summary.rejections[0].item)
    assert table.get({"id": "w00007"}) is None


def test_delete_by_a_frame_of_keys(client: Any, table: Table) -> None:
    frame, items = source_frame(300, 3)
    table.write_dask(frame, types={"doc": "M", "tags": "SS"})
    gone = frame[frame["n"] > 0]
    summary = table.write_dask(gone, action="delete")
    kept = {i["id"] for i in items if i["n"] <= 0}
    assert summary.written == 300 - len(kept)
    assert {i["id"] for i in table.scan()} == kept


# -- workers that die, and the budget -----------------------------------------------------------


def kill_a_busy_worker(client: Any, after: Callable[[], bool]) -> threading.Thread:
    """In the background: once ``after()`` holds, SIGKILL a worker process running a task."""
    killed: dict[str, Any] = {}

    def run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if after():
                busy = {w: tasks for w, tasks in client.processing().items() if tasks}
                if busy:
                    worker = sorted(busy)[0]
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    killed.update(worker=worker, tasks=busy[worker])
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.killed = killed  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_a_worker_killed_mid_read_still_gives_every_item_once(
    client: Any, make_table: TableFactory, endpoint: str
) -> None:
    t = make_table()
    t.put_many({"id": f"r{n:04d}", "pad": "x" * 2000} for n in range(600))
    with RecordingProxy(endpoint) as proxy:
        through = ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)
        # a budget makes every partition many small pages: a kill lands in the middle of one
        frame = through.table(t.name).to_dask(segments=4, rate_limit=60)
        proxy.clear()
        scans = lambda: sum(1 for r in proxy.requests if r.operation == "Scan") >= 6  # noqa: E731
        killer = kill_a_busy_worker(client, scans)
        got = frame.compute()
        killer.join()
    assert killer.killed, "no worker was killed while a partition was running"  # type: ignore[attr-defined]
    assert len(got) == 600 and got["id"].is_unique
    assert set(got["id"]) == {f"r{n:04d}" for n in range(600)}


def test_a_worker_killed_mid_write_still_writes_every_row(
    client: Any, table: Table, endpoint: str
) -> None:
    frame, items = source_frame(1200, 4, pad=1500)
    with RecordingProxy(endpoint) as proxy:
        through = ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)
        batches = lambda: sum(1 for r in proxy.requests if r.operation == "BatchWriteItem") >= 4  # noqa: E731
        killer = kill_a_busy_worker(client, batches)
        summary = through.table(table.name).write_dask(
            frame, wcu=400, types={"doc": "M", "tags": "SS"}
        )
        killer.join()
    assert killer.killed, "no worker was killed while a partition was running"  # type: ignore[attr-defined]
    # The partition that died ran again from its first row: puts are idempotent.
    assert (summary.read, summary.written) == (1200, 1200)  # the lost run never reported
    assert_same_items(engine_items(endpoint, table.name, ["id"]), written_as(items))


def test_a_read_budget_holds_for_the_whole_job(
    client: Any, make_table: TableFactory, endpoint: str
) -> None:
    t = make_table()
    t.put_many({"id": f"c{n:04d}", "pad": "x" * 2000} for n in range(800))
    rate = 20.0
    with RecordingProxy(endpoint) as proxy:
        through = ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)
        frame = through.table(t.name).to_dask(segments=4, rate_limit=rate)
        proxy.clear()  # the sample was read when the frame was made: the job starts now
        began = time.monotonic()
        assert len(frame.compute()) == 800
        replies = [r for r in proxy.replies if r.operation == "Scan"]
    consumed = sum(json.loads(r.body)["ConsumedCapacity"]["CapacityUnits"] for r in replies)
    span = max(r.at for r in replies) - began
    assert consumed > 5 * rate, f"too little read ({consumed} RCU) to test a budget"
    assert consumed / span <= rate * 1.1, f"{consumed} RCU in {span:.1f}s over {rate}/s"


def test_default_partitions_grow_with_the_table() -> None:
    from ddbkit.read.segments import partition_segments

    assert partition_segments(0) == 1
    assert partition_segments(100 * 2**20) == 8
    assert partition_segments(10 * 2**30) == 80


def test_a_database_spec_is_what_a_worker_connects_with(client: Any, db: Database) -> None:
    def endpoint_seen_by_worker(spec: ddbkit.ConnectionSpec) -> str:
        from ddbkit.integrations.dask import connection

        return connection(spec).endpoint_url

    seen = client.run(endpoint_seen_by_worker, db.spec)
    assert set(seen.values()) == {db.endpoint_url}


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda t: t.to_dask(segments=0), "segments (--segments) is a whole number from 1"),
        (lambda t: t.to_dask(segments=2.5), "segments (--segments) is a whole number from 1"),
        (lambda t: t.to_dask(rate_limit=-1), "rate_limit (--rcu) is a number of 0.001 or more"),
        (lambda t: t.to_dask(rate_limit=float("inf")), "rate_limit (--rcu) is a number"),
        (lambda t: t.to_dask("n >>> 1"), "where-clause syntax error at column 3"),
        (
            lambda t: t.write_dask(dd.from_dict({"id": ["a"]}, npartitions=1), wcu=0),
            "(--wcu) is a number",
        ),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    client: Any, table: Table, call: Callable[[Table], Any], said: str
) -> None:
    with pytest.raises(ddbkit.ValidationError) as refused:
        call(table)
    assert said in str(refused.value).splitlines()[0]  # a syntax error adds a caret line
    assert table.count() == 0
