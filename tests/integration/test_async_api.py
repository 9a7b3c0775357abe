"""The async API (ddbkit.aio) on DynamoDB Local: each AsyncTable method gives what Table gives.

Coroutines run under ``asyncio.run`` inside plain tests. Reads are compared with the sync Table's
on the same table; writes are made by each API on a twin table and both tables are compared with
the engine itself (a plain boto3 client, tests/support/truth.py) and with the items the test made.
"""

from __future__ import annotations

import asyncio
import functools
import random
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

import ddbkit
from ddbkit.aio import AsyncDatabase, AsyncTable, connect_async
from ddbkit.database import Database
from ddbkit.jobs.tables import IndexSpec
from ddbkit.table import Table
from ddbkit.write.summary import Rejection, WriteSummary
from tests.conftest import TableFactory
from tests.support.truth import (
    assert_same_items,
    by_key,
    canon,
    canon_item,
    ddb_json_lines,
    engine_items,
)

pytestmark = pytest.mark.integration

T = TypeVar("T")
Item = dict[str, Any]
KEY = ("pk", "sk")
N_SHARED = 2400
BIG = "big"  # the partition holding 2,100 items: three pages of a query on the local engine
INDEX = IndexSpec("by_kind", ("kind", "S"), ("sk", "N"))


def run(endpoint: str, body: Callable[[AsyncDatabase], Awaitable[T]]) -> T:
    """``body(db)`` on a fresh event loop, with an async connection closed afterwards."""

    async def main() -> T:
        async with connect_async(endpoint_url=endpoint, local=True) as adb:
            return await body(adb)

    return asyncio.run(main())


async def collect(items: AsyncIterable[Item]) -> list[Item]:
    return [item async for item in items]


def canon_list(items: list[Item]) -> list[dict[str, Any]]:
    return [canon_item(item) for item in items]


def sorted_canon(items: list[Item]) -> list[dict[str, Any]]:
    return sorted(canon_list(items), key=repr)


def value(n: int, rng: random.Random) -> Item:
    """Attributes of every kind: binary, sets, nested, big and exact numbers, unicode."""
    roll = n % 5
    if roll == 0:
        return {"bin": n.to_bytes(3, "big") + b"\x00\xff", "bins": {b"\x00", bytes([n % 256, 1])}}
    if roll == 1:
        return {"tags": {f"t{n % 7}", "all", "日本"}, "nums": {n, Decimal("0.5")}}
    if roll == 2:
        return {"doc": {"list": [n, "x", {"deep": [True, None]}], "empty": {}, "e": []}}
    if roll == 3:
        return {"big": Decimal(f"{rng.randint(1, 9)}.{'9' * 36}E+125"), "tiny": Decimal("1E-130")}
    return {"text": "héllo ✓ 𝄞 \u2028 " + "x" * rng.randint(0, 40), "flag": n % 2 == 0}


def shared_item(n: int, rng: random.Random) -> Item:
    pk = BIG if n < 2100 else f"p{n % 3}"
    return {"pk": pk, "sk": n, "kind": f"k{n % 4}", "n": rng.randint(0, 1000), **value(n, rng)}


Shared = tuple[Table, list[Item]]


@pytest.fixture(scope="module")
def shared(endpoint: str) -> Iterator[Shared]:
    """A table (pk S, sk N, index by_kind) of 2,400 items of every type, read by many tests."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    name = f"aio-{uuid.uuid4().hex[:12]}"
    table = db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N"), indexes=[INDEX])
    try:
        rng = random.Random(1)
        items = [shared_item(n, rng) for n in range(N_SHARED)]
        assert table.put_many(items).written == N_SHARED
        yield table, items
    finally:
        db.delete_table(name, wait=False)


def twins(make_table: TableFactory, **kwargs: Any) -> tuple[Table, Table]:
    """Two empty tables of the same schema: one written by the sync API, one by the async."""
    return make_table(**kwargs), make_table(**kwargs)


def assert_same_tables(endpoint: str, first: Table, second: Table, names: tuple[str, ...]) -> None:
    assert_same_items(
        engine_items(endpoint, first.name, names), engine_items(endpoint, second.name, names)
    )


# -- single items ---------------------------------------------------------------------------------

Call = tuple[str, tuple[Any, ...], dict[str, Any]]

SINGLE_ITEM_CALLS: list[Call] = [
    ("put", ({"pk": "a", "sk": 1, "bin": b"\x00\x01", "tags": {"x", "y"}, "n": 10**37},), {}),
    ("put", ({"pk": "a", "sk": 2, "doc": {"l": [1, "二", None]}, "v": 1},), {}),
    ("get", ({"pk": "a", "sk": 1},), {"consistent": True}),
    ("get", ({"pk": "a", "sk": 2},), {"attributes": ["doc.l[1]", "v"]}),
    ("get", ({"pk": "a", "sk": 99},), {}),
    (
        "put",
        ({"pk": "a", "sk": 2, "v": 2},),
        {"condition": "v = :old AND attribute_exists(doc)", "params": {"old": 1}},
    ),
    (
        "update",
        ({"pk": "a", "sk": 1},),
        {
            "set": {"seen": True, "note": "ünï"},
            "add": {"n": 1, "more": {"z"}},
            "remove": ["bin"],
            "delete": {"tags": {"x"}},
            "condition": "n > :floor",
            "params": {"floor": 5},
        },
    ),
    (
        "update",
        ({"pk": "a", "sk": 2},),
        {
            "set": "v = v + :step, l = list_append(if_not_exists(l, :empty), :more)",
            "params": {"step": 3, "empty": [], "more": [b"\x01", {"k"}]},
        },
    ),
    ("update", ({"pk": "a", "sk": 3},), {"add": "hits = :one", "params": {"one": 1}}),
    ("delete", ({"pk": "a", "sk": 3},), {"return_old": True}),
    ("delete", ({"pk": "a", "sk": 3},), {"return_old": True}),
    ("delete", ({"pk": "a", "sk": 2},), {"condition": "v = :v", "params": {"v": 5}}),
    ("get", ({"pk": "a", "sk": 2},), {}),
]


def test_async_single_item_calls_return_what_sync_calls_return(
    endpoint: str, make_table: TableFactory
) -> None:
    sync_table, async_table = twins(make_table, partition_key=("pk", "S"), sort_key=("sk", "N"))
    want = [getattr(sync_table, m)(*args, **kwargs) for m, args, kwargs in SINGLE_ITEM_CALLS]

    async def calls(adb: AsyncDatabase) -> list[Any]:
        table = adb.table(async_table.name)
        return [await getattr(table, m)(*args, **kwargs) for m, args, kwargs in SINGLE_ITEM_CALLS]

    got = run(endpoint, calls)
    assert [canon(result) for result in got] == [canon(result) for result in want]
    assert got[2] == SINGLE_ITEM_CALLS[0][1][0]
    assert got[4] is None and got[10] is None and got[12] is None  # what was never there
    updated = {"pk": "a", "sk": 1, "tags": {"y"}, "more": {"z"}, "n": 10**37 + 1, "seen": True}
    assert got[6] == {**updated, "note": "ünï"}
    assert_same_tables(endpoint, sync_table, async_table, KEY)


# -- reads ----------------------------------------------------------------------------------------

READS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("query", ("pk = :p AND sk BETWEEN :lo AND :hi",), {"params": {"p": BIG, "lo": 5, "hi": 60}}),
    ("query", ("pk = 'p1' AND sk > 2100",), {"reverse": True, "attributes": ["sk", "doc.list[0]"]}),
    ("query", ("pk = :p AND kind = :k",), {"params": {"p": BIG, "k": "k2"}, "consistent": True}),
    ("query", ("kind = 'k3' AND sk < 400",), {"index": "by_kind"}),
    ("scan", ("n < :n AND attribute_exists(tags)",), {"params": {"n": 300}}),
    ("scan", (), {"attributes": ["pk", "sk", "bins"], "consistent": True}),
    ("scan", ("contains(tags, '日本')",), {"index": "by_kind"}),
    ("find", ("kind = :k AND sk >= 2000",), {"params": {"k": "k1"}}),
    ("find", ("pk = 'p2'",), {}),
    ("find", ("flag = true",), {"limit": 30}),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs"), READS, ids=[f"{r[0]}-{n}" for n, r in enumerate(READS)]
)
def test_async_reads_return_what_sync_reads_return_in_the_same_order(
    endpoint: str, shared: Shared, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    table, _ = shared
    want = list(getattr(table, method)(*args, **kwargs))

    async def read(adb: AsyncDatabase) -> list[Item]:
        return await collect(getattr(adb.table(table.name), method)(*args, **kwargs))

    got = run(endpoint, read)
    assert want, "the read should find something"
    assert canon_list(got) == canon_list(want)


def test_async_explain_count_info_and_keys_equal_sync(
    endpoint: str, db: Database, shared: Shared
) -> None:
    shared_table, items = shared
    table = db.table(shared_table.name)  # a fresh Table: its size, read now, feeds the estimate
    wheres: list[tuple[str | None, dict[str, Any] | None]] = [
        (None, None),
        ("pk = :p", {"p": BIG}),
        ("kind = 'k1' AND n >= :n", {"n": 500}),
        ("attribute_exists(doc) OR flag = false", None),
    ]

    async def read(adb: AsyncDatabase) -> tuple[Any, ...]:
        t = adb.table(table.name)
        plans = [await t.explain(w, params=p) for w, p in wheres]
        plans += [await t.explain(w, index=INDEX.name, params=p) for w, p in wheres]
        counts = [await t.count(w, params=p) for w, p in wheres]
        in_segments = await t.count("n < 500", segments=4)
        return plans, counts, in_segments, await t.info(), await t.keys()

    plans, counts, in_segments, info, keys = run(endpoint, read)
    assert plans == [table.explain(w, params=p) for w, p in wheres] + [
        table.explain(w, index=INDEX.name, params=p) for w, p in wheres
    ]
    assert {p.operation for p in plans[len(wheres) :]} == {"Query", "Scan"}
    assert counts == [table.count(w, params=p) for w, p in wheres]
    assert counts[0] == N_SHARED and counts[1] == 2100
    assert in_segments == sum(1 for i in items if i["n"] < 500) == table.count("n < 500")
    assert info == table.info() and keys == table.keys


def test_async_pages_carry_the_sync_pages_items_counts_and_cursors(
    endpoint: str, shared: Shared
) -> None:
    table, _ = shared
    want = list(table.query("pk = :p AND n > 100", params={"p": BIG}).pages())

    async def read(adb: AsyncDatabase) -> list[ddbkit.Page]:
        pages = adb.table(table.name).query("pk = :p AND n > 100", params={"p": BIG}).pages()
        return [page async for page in pages]

    got = run(endpoint, read)
    assert len(want) == 3  # 1,000 items evaluated per page on the local engine
    assert [(p.count, p.scanned_count, p.cursor, p.segment) for p in got] == [
        (p.count, p.scanned_count, p.cursor, p.segment) for p in want
    ]
    assert [canon_list(p.items) for p in got] == [canon_list(p.items) for p in want]
    assert got[-1].cursor is None


@pytest.mark.parametrize(("where", "segments"), [("pk = 'big'", None), (None, None), (None, 4)])
def test_async_limit_and_cursor_resume_hand_out_every_item_once_like_sync(
    endpoint: str, shared: Shared, where: str | None, segments: int | None
) -> None:
    table, items = shared
    method = "query" if where else "scan"
    args = (where,) if where else ()
    options: dict[str, Any] = {"segments": segments} if segments else {}
    sync_it = getattr(table, method)(*args, limit=7, **options)
    sync_first = list(sync_it)

    async def walk(adb: AsyncDatabase) -> tuple[list[Item], str | None, list[Item]]:
        t = adb.table(table.name)
        first_it = getattr(t, method)(*args, limit=7, **options)
        first = await collect(first_it)
        cursor = first_it.cursor
        rest: list[Item] = []
        start = cursor
        while start is not None:  # resume by cursor, 500 at a time, to the end
            more = getattr(t, method)(*args, limit=500, start=start, **options)
            rest += await collect(more)
            start = more.cursor
        return first, cursor, rest

    first, cursor, rest = run(endpoint, walk)
    assert len(first) == 7 and cursor is not None
    if segments is None:  # one segment: the very same items and cursor as the sync walk
        assert canon_list(first) == canon_list(sync_first) and cursor == sync_it.cursor
    expected = [i for i in items if i["pk"] == BIG] if where else items
    # by_key fails on a key handed out twice: every item exactly once across the resumes
    assert_same_items(by_key(first + rest, KEY), by_key(expected, KEY))


def test_async_scan_in_4_segments_sees_every_item_exactly_once(
    endpoint: str, shared: Shared
) -> None:
    table, _ = shared

    async def read(adb: AsyncDatabase) -> tuple[list[Item], set[int]]:
        iterator = adb.table(table.name).scan(segments=4)
        items: list[Item] = []
        segments: set[int] = set()
        async for page in iterator.pages():
            items += page.items
            segments.add(page.segment)
        return items, segments

    got, segments = run(endpoint, read)
    assert segments == {0, 1, 2, 3}
    truth = engine_items(endpoint, table.name, KEY)
    assert_same_items(by_key(got, KEY), truth)
    assert_same_items(by_key(table.scan(segments=4), KEY), truth)


def test_async_get_many_returns_each_found_item_once_like_sync(
    endpoint: str, shared: Shared
) -> None:
    table, items = shared
    wanted = items[::9]  # 267 keys: three BatchGetItem calls
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in wanted]
    missing = [{"pk": "nowhere", "sk": n} for n in range(25)]
    asked = [*keys[:100], *missing, *keys[100:], *keys[:40], *keys[-3:]]
    want = list(table.get_many(asked, attributes=["pk", "sk", "kind", "bin", "tags"]))

    async def read(adb: AsyncDatabase) -> list[Item]:
        t = adb.table(table.name)
        return await collect(t.get_many(asked, attributes=["pk", "sk", "kind", "bin", "tags"]))

    got = run(endpoint, read)
    assert sorted_canon(got) == sorted_canon(want)
    projected = [
        {k: v for k, v in i.items() if k in ("pk", "sk", "kind", "bin", "tags")} for i in wanted
    ]
    assert_same_items(by_key(got, KEY), by_key(projected, KEY))


# -- bulk writes ----------------------------------------------------------------------------------


def bulk_items(count: int, seed: int) -> list[Item]:
    """``count`` items of every type; every 10th repeats an earlier key with new values."""
    rng = random.Random(seed)
    made: list[Item] = []
    for n in range(count):
        sk = rng.randrange(n) if n and n % 10 == 0 else n
        made.append({"pk": f"p{sk % 13}", "sk": sk, "line": n, **value(n, rng)})
    return made


def last_wins(items: list[Item]) -> list[Item]:
    kept: dict[tuple[str, int], Item] = {}
    for item in items:
        kept[(item["pk"], item["sk"])] = item
    return list(kept.values())


async def aiter_of(items: list[Item]) -> AsyncIterator[Item]:
    for item in items:
        yield item


def settled_fields(summary: WriteSummary) -> tuple[int, int, int, bool]:
    # How ``written`` and ``duplicates`` split depends on timing (a later line for a key that is
    # still pending replaces it; one already sent is written again); their sum does not.
    return summary.read, summary.written + summary.duplicates, summary.rejected, summary.complete


def test_async_put_many_writes_what_sync_put_many_writes_later_line_wins(
    endpoint: str, make_table: TableFactory
) -> None:
    sync_table, async_table = twins(make_table, partition_key=("pk", "S"), sort_key=("sk", "N"))
    items = bulk_items(3000, seed=2)
    want = sync_table.put_many(items)

    async def write(adb: AsyncDatabase) -> WriteSummary:
        return await adb.table(async_table.name).put_many(items, workers=4)

    got = run(endpoint, write)
    assert settled_fields(got) == settled_fields(want) == (3000, 3000, 0, True)
    assert got.failed == 0 and not got.rejections
    expected = by_key(last_wins(items), KEY)
    assert len(expected) < 3000  # the input did repeat keys
    assert_same_items(engine_items(endpoint, async_table.name, KEY), expected)
    assert_same_items(engine_items(endpoint, sync_table.name, KEY), expected)


def test_async_put_many_takes_an_async_iterator(endpoint: str, make_table: TableFactory) -> None:
    table = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    items = bulk_items(600, seed=4)

    async def write(adb: AsyncDatabase) -> WriteSummary:
        return await adb.table(table.name).put_many(aiter_of(items))

    summary = run(endpoint, write)
    assert settled_fields(summary) == (600, 600, 0, True)
    assert_same_items(engine_items(endpoint, table.name, KEY), by_key(last_wins(items), KEY))


def test_async_delete_many_deletes_exactly_the_keys_given_like_sync(
    endpoint: str, make_table: TableFactory
) -> None:
    sync_table, async_table = twins(make_table, partition_key=("pk", "S"), sort_key=("sk", "N"))
    items = last_wins(bulk_items(800, seed=3))
    sync_table.put_many(items)
    async_table.put_many(items)
    doomed = [{"pk": i["pk"], "sk": i["sk"]} for i in items if i["sk"] % 3]
    absent = [{"pk": "none", "sk": n} for n in range(10)]
    keys = [*doomed, *absent, *doomed[:20]]
    want = sync_table.delete_many(keys)

    async def delete(adb: AsyncDatabase) -> WriteSummary:
        return await adb.table(async_table.name).delete_many(keys, workers=3)

    got = run(endpoint, delete)
    assert settled_fields(got) == settled_fields(want)
    kept = by_key([i for i in items if not i["sk"] % 3], KEY)
    assert_same_items(engine_items(endpoint, async_table.name, KEY), kept)
    assert_same_items(engine_items(endpoint, sync_table.name, KEY), kept)


def test_async_export_then_import_file_round_trips_every_item(
    endpoint: str, shared: Shared, make_table: TableFactory, tmp_path: Path
) -> None:
    table, items = shared
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    sync_file, async_file = tmp_path / "sync.json", tmp_path / "async.json"
    table.export(sync_file, format="ddb-json", segments=3)

    async def round_trip(adb: AsyncDatabase) -> tuple[int, WriteSummary]:
        exported = await adb.table(table.name).export(async_file, format="ddb-json", segments=3)
        imported = await adb.table(copy.name).import_file(async_file, format="ddb-json")
        return exported.items, imported

    exported, imported = run(endpoint, round_trip)
    assert exported == N_SHARED and imported.written == N_SHARED and imported.complete
    want = by_key(items, KEY)
    assert_same_items(ddb_json_lines(async_file.read_bytes(), KEY), want)
    assert sorted(async_file.read_bytes().splitlines()) == sorted(
        sync_file.read_bytes().splitlines()
    )
    assert_same_items(engine_items(endpoint, copy.name, KEY), want)


# -- on_error="skip" ------------------------------------------------------------------------------


def flawed_items() -> list[Any]:
    """Good items with, among them, items DynamoDB can never take, and one it refuses itself."""
    items: list[Any] = [{"id": f"i{n:03d}", "status": f"s{n % 3}"} for n in range(120)]
    items[5] = {"status": "no key"}
    items[17] = {"id": 17}  # the key of the wrong type
    items[40] = "not an item"
    items[41] = {"id": "huge", "blob": "x" * (401 * 1024)}
    items[77] = {"id": "bad-index", "status": 77}  # N where the index wants S: the engine refuses
    return items


def rejected(summary: WriteSummary, table: Table) -> list[tuple[int, str]]:
    """Each rejection's line and reason, the table's name (which twins do not share) blanked."""
    return sorted((r.line, anonymous(r.reason, table)) for r in summary.rejections)


def anonymous(text: str, table: Table) -> str:
    assert text.count(table.name) <= 1
    return text.replace(table.name, "<table>")


def test_async_put_many_on_error_skip_reports_every_rejection_like_sync(
    endpoint: str, make_table: TableFactory
) -> None:
    indexed = {"indexes": [IndexSpec("by_status", ("status", "S"))]}
    sync_table, async_table = twins(make_table, **indexed)
    items = flawed_items()
    with pytest.raises(ddbkit.IncompleteWriteError) as sync_raised:
        sync_table.put_many(items, on_error="skip", workers=2)

    async def write(adb: AsyncDatabase) -> ddbkit.IncompleteWriteError:
        with pytest.raises(ddbkit.IncompleteWriteError) as raised:
            await adb.table(async_table.name).put_many(items, on_error="skip", workers=2)
        return raised.value

    error = run(endpoint, write)
    got, want = error.summary, sync_raised.value.summary
    assert rejected(got, async_table) == rejected(want, sync_table)
    assert [line for line, _ in rejected(got, async_table)] == [6, 18, 41, 42, 78]
    assert (got.rejected, got.failed, got.written) == (4, 1, 115)
    assert (want.rejected, want.failed, want.written) == (4, 1, 115)
    assert "Type mismatch" in dict(rejected(got, async_table))[78]
    assert anonymous(str(error), async_table) == anonymous(str(sync_raised.value), sync_table)
    good = [i for n, i in enumerate(items, 1) if n not in (6, 18, 41, 42, 78)]
    assert_same_items(engine_items(endpoint, async_table.name, ("id",)), by_key(good, ("id",)))
    assert_same_tables(endpoint, sync_table, async_table, ("id",))


def test_async_put_many_skips_items_it_cannot_send_and_returns_the_summary(
    endpoint: str, make_table: TableFactory
) -> None:
    sync_table, async_table = twins(make_table)
    items = [i for n, i in enumerate(flawed_items()) if n != 77]  # no refusal by the engine
    want = sync_table.put_many(items, on_error="skip")

    async def write(adb: AsyncDatabase) -> WriteSummary:
        return await adb.table(async_table.name).put_many(items, on_error="skip")

    got = run(endpoint, write)
    assert rejected(got, async_table) == rejected(want, sync_table)
    assert len(got.rejections) == 4
    assert all(isinstance(r, Rejection) and r.reason for r in got.rejections)
    assert (got.read, got.written, got.rejected, got.failed) == (119, 115, 4, 0)
    assert_same_tables(endpoint, sync_table, async_table, ("id",))


def test_async_put_many_stops_at_the_first_bad_item_like_sync(
    endpoint: str, make_table: TableFactory
) -> None:
    sync_table, async_table = twins(make_table)
    items = [i for n, i in enumerate(flawed_items()) if n != 77]
    with pytest.raises(ddbkit.IncompleteWriteError) as sync_raised:
        sync_table.put_many(items)

    async def write(adb: AsyncDatabase) -> ddbkit.IncompleteWriteError:
        with pytest.raises(ddbkit.IncompleteWriteError) as raised:
            await adb.table(async_table.name).put_many(items)
        return raised.value

    error, sync_error = run(endpoint, write), sync_raised.value
    assert anonymous(str(error), async_table) == anonymous(str(sync_error), sync_table)
    assert error.summary.stopped and error.summary.stopped_at is not None
    assert sync_error.summary.stopped_at is not None
    stopped_at = anonymous(error.summary.stopped_at, async_table)
    assert stopped_at == anonymous(sync_error.summary.stopped_at, sync_table)
    assert stopped_at.startswith("line 6: ")
    assert_same_tables(endpoint, sync_table, async_table, ("id",))
    assert {i["id"] for i in async_table.scan()} == {f"i{n:03d}" for n in range(5)}


# -- errors ---------------------------------------------------------------------------------------


async def error_of(call: Awaitable[Any]) -> ddbkit.DdbkitError:
    with pytest.raises(ddbkit.DdbkitError) as raised:
        await call
    return raised.value


def sync_error_of(call: Callable[[], Any]) -> ddbkit.DdbkitError:
    with pytest.raises(ddbkit.DdbkitError) as raised:
        call()
    return raised.value


def same_error(
    got: ddbkit.DdbkitError, want: ddbkit.DdbkitError, cls: type[ddbkit.DdbkitError]
) -> None:
    assert type(got) is type(want), (got, want)
    assert isinstance(got, cls) and str(got) == str(want)


def test_async_errors_are_the_sync_error_classes_and_messages(
    endpoint: str, db: Database, make_table: TableFactory
) -> None:
    table = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    table.put({"pk": "a", "sk": 1, "v": 1})
    missing = db.table("no-such-table")
    bad_keys: list[Any] = [{"pk": 1, "sk": 1}, {"pk": "a"}, {"pk": "a", "sk": 1, "x": 2}, "a"]
    key = {"pk": "a", "sk": 1}
    exists = "attribute_not_exists(pk)"
    update: dict[str, Any] = {"set": {"v": 2}, "condition": "v = :v", "params": {"v": 9}}
    delete: dict[str, Any] = {"condition": "v > :v", "params": {"v": 1}}
    sync_errors = [
        sync_error_of(lambda: missing.get({"id": "x"})),
        sync_error_of(lambda: list(missing.scan())),
        sync_error_of(lambda: missing.put_many([{"id": "x"}])),
        sync_error_of(lambda: table.put(key, condition=exists)),
        sync_error_of(lambda: table.update(key, **update)),
        sync_error_of(lambda: table.delete(key, **delete)),
        *[sync_error_of(functools.partial(table.get, bad)) for bad in bad_keys],
        sync_error_of(lambda: list(table.get_many([{"pk": "a", "sk": "1"}]))),
        sync_error_of(lambda: list(table.query("pk = 'a' AND sk = '1'"))),
    ]

    async def errors(adb: AsyncDatabase) -> list[ddbkit.DdbkitError]:
        gone, t = adb.table("no-such-table"), adb.table(table.name)
        return [
            await error_of(gone.get({"id": "x"})),
            await error_of(collect(gone.scan())),
            await error_of(gone.put_many([{"id": "x"}])),
            await error_of(t.put(key, condition=exists)),
            await error_of(t.update(key, **update)),
            await error_of(t.delete(key, **delete)),
            *[await error_of(t.get(bad)) for bad in bad_keys],
            await error_of(collect(t.get_many([{"pk": "a", "sk": "1"}]))),
            await error_of(collect(t.query("pk = 'a' AND sk = '1'"))),
        ]

    got = run(endpoint, errors)
    classes: list[type[ddbkit.DdbkitError]] = [ddbkit.TableNotFoundError] * 3
    classes += [ddbkit.ConditionFailedError] * 3
    classes += [ddbkit.InvalidKeyError] * (len(bad_keys) + 1) + [ddbkit.PlanError]
    assert len(got) == len(sync_errors) == len(classes)
    for async_error, sync_error, cls in zip(got, sync_errors, classes, strict=True):
        same_error(async_error, sync_error, cls)
    assert table.get({"pk": "a", "sk": 1}) == {"pk": "a", "sk": 1, "v": 1}


def test_a_table_deleted_under_the_async_api_is_table_not_found_on_every_hot_call(
    endpoint: str, db: Database, make_table: TableFactory
) -> None:
    table = make_table()
    table.put({"id": "a"})
    sync_view = db.table(table.name)
    assert sync_view.keys  # read before the table goes: the calls below reach DynamoDB

    async def calls(adb: AsyncDatabase) -> list[ddbkit.DdbkitError]:
        t = adb.table(table.name)
        await t.keys()
        await asyncio.to_thread(db.delete_table, table.name)
        return [
            await error_of(t.get({"id": "a"})),
            await error_of(t.put({"id": "b"})),
            await error_of(t.update({"id": "a"}, set={"v": 1})),
            await error_of(t.delete({"id": "a"})),
            await error_of(collect(t.scan())),
            await error_of(collect(t.get_many([{"id": "a"}]))),
        ]

    got = run(endpoint, calls)
    want = [
        sync_error_of(lambda: sync_view.get({"id": "a"})),
        sync_error_of(lambda: sync_view.put({"id": "b"})),
        sync_error_of(lambda: sync_view.update({"id": "a"}, set={"v": 1})),
        sync_error_of(lambda: sync_view.delete({"id": "a"})),
        sync_error_of(lambda: list(sync_view.scan())),
        sync_error_of(lambda: list(sync_view.get_many([{"id": "a"}]))),
    ]
    for async_error, sync_error in zip(got, want, strict=True):
        same_error(async_error, sync_error, ddbkit.TableNotFoundError)
        assert repr(table.name) in str(async_error)


# -- connecting -----------------------------------------------------------------------------------


def test_connect_async_from_a_spec_reaches_the_same_engine(
    endpoint: str, db: Database, table: Table
) -> None:
    table.put({"id": "spec", "v": b"\x01"})

    async def use() -> tuple[Any, ...]:
        async with connect_async(db.spec) as adb:
            first = await adb.table(table.name).get({"id": "spec"})
            async with connect_async(adb.spec) as again:
                await again.table(table.name).put({"id": "again"})
                names = await again.tables()
            return adb.spec, first, names, adb.local, adb.endpoint

    spec, first, names, is_local, shown = asyncio.run(use())
    assert spec == db.spec and is_local and shown == db.endpoint
    assert first == {"id": "spec", "v": b"\x01"}
    assert table.name in names
    assert table.get({"id": "again"}) == {"id": "again"}


def test_async_tables_are_created_and_deleted_like_sync(endpoint: str, db: Database) -> None:
    name = f"aio-{uuid.uuid4().hex[:12]}"

    async def lifecycle(adb: AsyncDatabase) -> tuple[AsyncTable, list[str], list[str]]:
        made = await adb.create_table(name, partition_key=("k", "N"), indexes=[INDEX])
        listed = await adb.tables()
        await made.put({"k": 1, "kind": "a", "sk": 2})
        await adb.delete_table(name)
        return made, listed, await adb.tables()

    made, listed, after = run(endpoint, lifecycle)
    assert made.name == name and name in listed and name not in after
    assert name not in db.tables()


def test_an_async_item_iterator_needs_no_await_until_it_is_iterated(
    endpoint: str, shared: Shared
) -> None:
    table, _ = shared

    async def lazy(adb: AsyncDatabase) -> tuple[str | None, int, int, str | None]:
        iterator = adb.table(table.name).query("pk = 'p0'", limit=3)
        before = iterator.cursor  # nothing was sent yet
        items = await collect(iterator)
        return before, len(items), iterator.count, iterator.cursor

    before, got, counted, after = run(endpoint, lazy)
    assert before is None and got == counted == 3 and after is not None
