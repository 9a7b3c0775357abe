"""Parallel scan, export, import, batch operations, copy, truncate, delete --where: no faults."""

from __future__ import annotations

import base64
import csv
import json
import random
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.jobs.tables import IndexSpec
from ddbkit.read.paginate import raw_pages
from ddbkit.table import Table
from ddbkit.values.serialize import from_item
from ddbkit.workflows import maintenance
from tests.conftest import CliRunner
from tests.support.truth import (
    assert_same_items,
    by_key,
    canon,
    ddb_json_lines,
    engine_items,
    plain_json_lines,
    raw_client,
)

pytestmark = pytest.mark.integration

KEY = ("pk", "sk")
Filled = tuple[Table, list[dict[str, Any]]]


def mixed_item(n: int, rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": f"p{n % 37}",
        "sk": n,
        "name": f"item {n}",
        "price": Decimal(n) / 100,
        "active": n % 3 == 0,
    }
    kind = rng.random()
    if kind < 0.3:
        item.update(tags={"a", f"t{n % 5}"}, nums={1, n}, blob=bytes([n % 256]) * 3)
    elif kind < 0.6:
        item.update(nested={"m": {"l": [1, "two", {"three": 3.5}]}, "flag": True}, nothing=None)
    elif kind < 0.65:
        item["text"] = "x" * rng.randint(1000, 5000)
    return item


@pytest.fixture
def filled(make_table: Callable[..., Table]) -> Filled:
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    rng = random.Random(42)
    items = [mixed_item(n, rng) for n in range(1500)]
    summary = t.put_many(items)
    assert summary.written == 1500 and summary.complete
    return t, items


@pytest.mark.parametrize("segments", [1, 2, 4, 7])
def test_parallel_scan_yields_every_item_exactly_once(filled: Filled, segments: int) -> None:
    t, items = filled
    # by_key fails on a key seen twice; assert_same_items on one missing or changed.
    assert_same_items(by_key(t.scan(segments=segments), KEY), by_key(items, KEY))


def test_parallel_scan_with_filter_limit_and_projection(
    filled: Filled,
) -> None:
    t, _ = filled
    got = list(t.scan("sk < 100", segments=3, attributes=["sk"]))
    assert sorted(i["sk"] for i in got) == list(range(100))
    assert len(list(t.scan(segments=3, limit=17))) == 17


def test_parallel_scan_resumes_from_its_cursor_exactly_once(
    filled: Filled,
) -> None:
    t, items = filled
    first = t.scan(segments=3)
    seen: list[int] = []
    pages = first.pages()
    for _ in range(2):
        seen.extend(i["sk"] for i in next(pages).items)
    del pages  # stop the walk here: its worker threads are told to stop
    cursor = first.cursor
    assert cursor is not None and cursor.startswith("P")
    seen.extend(i["sk"] for i in t.scan(segments=3, start=cursor))
    assert sorted(seen) == sorted(i["sk"] for i in items)
    with pytest.raises(ddbkit.ValidationError, match="segments=3"):
        t.scan(segments=2, start=cursor)


def test_fast_path_equals_botocore_parser_on_the_engine(filled: Filled) -> None:
    t, items = filled
    params = {"TableName": t.name}
    fast = [from_item(r) for p in raw_pages(t.db, "scan", params, table=t.name) for r in p["Items"]]
    slow = [
        from_item(r)
        for p in raw_pages(t.db, "scan", params, table=t.name, fast=False)
        for r in p["Items"]
    ]
    assert fast == slow
    assert_same_items(by_key(fast, KEY), by_key(items, KEY))


def test_scan_rate_cap_holds_end_to_end(endpoint: str, make_table: Callable[..., Table]) -> None:
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    t.put_many({"pk": "p", "sk": n, "pad": "x" * 150} for n in range(4000))
    rate = 25.0
    # What the same pages cost, as the engine reports it to a plain client (ddbkit's page size
    # on a local engine is 1,000 items: four pages here).
    client = raw_client(endpoint)
    try:
        pages = client.get_paginator("scan").paginate(
            TableName=t.name, ReturnConsumedCapacity="TOTAL", PaginationConfig={"PageSize": 1000}
        )
        costs = [page["ConsumedCapacity"]["CapacityUnits"] for page in pages]
    finally:
        client.close()
    began = time.monotonic()
    assert sum(1 for _ in t.scan(segments=1, rate_limit=rate)) == 4000
    elapsed = time.monotonic() - began
    # A bucket that starts with one second's worth and lets the last page go into debt: the
    # last request cannot start before everything but it is paid for, less that second.
    floor = (sum(costs) - max(costs) - rate) / rate
    assert len(costs) >= 4 and floor > 1.0
    assert elapsed >= floor, f"{sum(costs)} RCU at {rate}/s took only {elapsed:.2f}s"


def test_write_rate_cap_holds_end_to_end(endpoint: str, make_table: Callable[..., Table]) -> None:
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    items = [{"pk": "p", "sk": n, "pad": "x" * 500} for n in range(120)]
    rate = 40.0
    began = time.monotonic()
    t.put_many(items, rate_limit=rate, workers=1)
    elapsed = time.monotonic() - began
    # The same writes again from a plain client, which reports what each batch cost.
    client = raw_client(endpoint)
    costs = []
    try:
        for at in range(0, len(items), 25):
            batch = [
                {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(n)}, "pad": {"S": pad}}}}
                for n, pad in ((i["sk"], i["pad"]) for i in items[at : at + 25])
            ]
            reply = client.batch_write_item(
                RequestItems={t.name: batch}, ReturnConsumedCapacity="TOTAL"
            )
            assert not reply["UnprocessedItems"]
            costs.append(sum(c["CapacityUnits"] for c in reply["ConsumedCapacity"]))
    finally:
        client.close()
    floor = (sum(costs) - max(costs) - rate) / rate
    assert floor > 1.0
    assert elapsed >= floor, f"{sum(costs)} WCU at {rate}/s took only {elapsed:.2f}s"


def test_count_in_parallel(filled: Filled) -> None:
    t, _ = filled
    assert t.count(segments=4) == 1500
    assert t.count("sk >= 1000", segments=3) == 500


def test_get_many_and_delete_many(endpoint: str, filled: Filled) -> None:
    t, items = filled
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items[:250]]
    got = t.get_many([*keys, keys[0], {"pk": "none", "sk": -1}])
    assert_same_items(by_key(got, KEY), by_key(items[:250], KEY))
    summary = t.delete_many(keys)
    assert summary.written == 250
    assert_same_items(engine_items(endpoint, t.name, KEY), by_key(items[250:], KEY))


def as_plain_json(value: Any) -> Any:
    """What the README says JSON Lines keeps: sets become sorted lists, binary base64 text."""
    if isinstance(value, (set, frozenset)):
        return [as_plain_json(v) for v in sorted(value)]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [as_plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain_json(v) for k, v in value.items()}
    return value


def csv_cell(value: Any) -> str:
    """A top-level value's CSV cell as the csv module doc says (JSON cells: see below)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return format(Decimal(value).normalize(), "f")  # canonical: no exponent, no extra 0s
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    assert isinstance(value, str), value
    return value


def assert_csv_cells(path: Path, items: list[dict[str, Any]]) -> None:
    """Every cell of the file, read by the csv module, is its source value as documented."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = {(row["pk"], int(row["sk"])): row for row in csv.DictReader(handle)}
    assert len(rows) == len(items)
    for item in items:
        row = rows[(item["pk"], item["sk"])]
        assert {name for name, cell in row.items() if cell} == {
            name for name, value in item.items() if value is not None
        }
        for name, value in item.items():
            if isinstance(value, (set, frozenset, list, dict)):  # JSON text, as JSON Lines has it
                got = canon(json.loads(row[name], parse_float=Decimal))
                assert got == canon(as_plain_json(value)), (item, name)
            else:
                assert row[name] == csv_cell(value), (item, name)


# Per case: the file format, the types given to the import, and what the engine should then
# hold, derived from each source item.
ALL_TYPES = {"tags": "SS", "nums": "NS", "blob": "B"}
ROUND_TRIPS: dict[str, tuple[str, dict[str, str] | None, Callable[[dict[str, Any]], Any]]] = {
    # lossless
    "ddb-json": ("ddb-json", None, lambda item: item),
    # sets and binary come back as lists and base64 text without types, exactly with them
    "jsonl": ("jsonl", None, as_plain_json),
    "jsonl-typed": ("jsonl", ALL_TYPES, lambda item: item),
    # with every column typed, CSV loses only nulls (empty cells read as absent)
    "csv-typed": (
        "csv",
        {**ALL_TYPES, "sk": "N", "price": "N", "active": "BOOL", "nested": "M"},
        lambda item: {k: v for k, v in item.items() if v is not None},
    ),
}


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_export_then_import_round_trip_keeps_the_source_items(
    endpoint: str, filled: Filled, make_table: Callable[..., Table], tmp_path: Path, case: str
) -> None:
    t, items = filled
    fmt, types, expect = ROUND_TRIPS[case]
    target = tmp_path / f"out.{fmt}"
    result = t.export(target, format=fmt, segments=3)
    assert result.items == 1500 and target.exists()
    assert not list(tmp_path.glob(".out*"))  # no partial or checkpoint left behind
    if fmt == "ddb-json":
        assert_same_items(ddb_json_lines(target.read_bytes(), KEY), by_key(items, KEY))
    elif fmt == "jsonl":
        want_lines = by_key((as_plain_json(i) for i in items), KEY)
        assert_same_items(plain_json_lines(target.read_bytes(), KEY), want_lines)
    else:
        assert_csv_cells(target, items)
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    summary = copy.import_file(target, format=fmt, types=types)
    assert summary.written == 1500 and summary.rejected == 0
    want = by_key((expect(i) for i in items), KEY)
    assert_same_items(engine_items(endpoint, copy.name, KEY), want)


def test_export_refuses_to_overwrite_without_force(filled: Filled, tmp_path: Path) -> None:
    t, _ = filled
    target = tmp_path / "out.jsonl"
    target.write_text("keep me\n")
    with pytest.raises(ddbkit.ValidationError, match="--force"):
        t.export(target)
    assert target.read_text() == "keep me\n"
    assert t.export(target, force=True).items == 1500


def test_import_rejects_bad_lines_into_a_reject_file(
    make_table: Callable[..., Table], tmp_path: Path
) -> None:
    t = make_table()
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": "a"}\n'
        '{"id": "b", "v": 1}\n'
        "not json\n"
        '{"nope": 1}\n'
        '{"id": "a", "v": 2}\n'
        f'{{"id": "big", "blob": "{"x" * 410_000}"}}\n'
    )
    summary = t.import_file(source, on_error="skip")
    assert summary.read == 6
    assert summary.written + summary.duplicates == 3 and summary.rejected == 3
    assert t.get({"id": "a"}) == {"id": "a", "v": 2}
    assert summary.rejects_path is not None
    rejects = [json.loads(line) for line in Path(summary.rejects_path).read_text().splitlines()]
    assert [r["line"] for r in rejects] == [3, 4, 6]


def test_copy_creates_the_target_with_the_same_schema_and_every_item(
    endpoint: str, db: ddbkit.Database, make_table: Callable[..., Table]
) -> None:
    src = make_table(
        partition_key=("pk", "S"),
        sort_key=("sk", "N"),
        indexes=[IndexSpec("by_name", ("name", "S"))],
    )
    rng = random.Random(8)
    items = [{**mixed_item(n, rng), "pk": "a"} for n in range(300)]
    src.put_many(items)
    target = f"{src.name}-copy"
    try:
        summary = maintenance.copy_table(src, db, target)
        assert summary.written == 300
        info = db.table(target).info()
        assert info.index("by_name") is not None and info.sort_key is not None
        assert_same_items(engine_items(endpoint, target, KEY), by_key(items, KEY))
    finally:
        db.delete_table(target)


def test_truncate_keeps_the_table(endpoint: str, filled: Filled) -> None:
    t, _ = filled
    summary = maintenance.truncate(t, segments=2)
    assert summary.written == 1500
    assert engine_items(endpoint, t.name, KEY) == {}
    assert t.info().status == "ACTIVE"


def test_delete_where_saves_an_undo_file_that_brings_items_back(
    endpoint: str, filled: Filled, tmp_path: Path
) -> None:
    t, items = filled
    gone, kept = [i for i in items if i["sk"] < 200], [i for i in items if i["sk"] >= 200]
    preview = maintenance.preview_delete(t, "sk < 200")
    assert preview.count == 200 and len(preview.sample_keys) == 10
    undo = tmp_path / "undo.jsonl"
    summary = maintenance.delete_where(t, "sk < 200", undo_path=undo)
    assert summary.written == 200
    assert_same_items(ddb_json_lines(undo.read_bytes(), KEY), by_key(gone, KEY))
    assert_same_items(engine_items(endpoint, t.name, KEY), by_key(kept, KEY))
    t.import_file(undo, format="ddb-json")
    assert_same_items(engine_items(endpoint, t.name, KEY), by_key(items, KEY))


def test_cli_export_import_and_summary(
    endpoint: str,
    cli: CliRunner,
    filled: Filled,
    make_table: Callable[..., Table],
    tmp_path: Path,
) -> None:
    t, items = filled
    out = tmp_path / "dump.json"
    done = cli("export", t.name, "-o", str(out), "--format", "ddb-json", "--segments", "2")
    assert done.code == 0, done.stderr
    assert "exported 1,500 items" in done.stderr
    again = cli("export", t.name, "-o", str(out), "--format", "ddb-json")
    assert again.code == 1 and "--force" in again.stderr
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    loaded = cli("import", copy.name, str(out), "--format", "ddb-json")
    assert loaded.code == 0, loaded.stderr
    assert "written     1,500" in loaded.stderr
    assert_same_items(engine_items(endpoint, copy.name, KEY), by_key(items, KEY))
    piped = cli("export", t.name, "--format", "jsonl", "--where", "sk < 5")
    want = by_key((as_plain_json(i) for i in items if i["sk"] < 5), KEY)
    assert_same_items(plain_json_lines(piped.stdout.encode(), KEY), want)


def test_cli_import_exit_code_follows_on_error(
    endpoint: str, cli: CliRunner, make_table: Callable[..., Table], tmp_path: Path
) -> None:
    # README: import exits 0 only when every item read was written or superseded, or, with
    # --on-error skip, rejected into the reject file.
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"pk": "x", "sk": 1}\n{"sk": 2}\n{"pk": "x", "sk": 3}\n')
    stopped = cli("import", t.name, str(bad))
    assert stopped.code == 1 and "rejected    1" in stopped.stderr, stopped.stderr
    rejects = tmp_path / "r.jsonl"
    skipped = cli("import", t.name, str(bad), "--on-error", "skip", "--rejects", str(rejects))
    assert skipped.code == 0, skipped.stderr
    assert "rejected    1" in skipped.stderr
    listed = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in listed] == [2]
    want = by_key([{"pk": "x", "sk": 1}, {"pk": "x", "sk": 3}], KEY)
    assert_same_items(engine_items(endpoint, t.name, KEY), want)


def test_cli_delete_where_dry_run_and_undo(cli: CliRunner, filled: Filled, tmp_path: Path) -> None:
    t, _ = filled
    dry = cli("delete", t.name, "--where", "sk < 30", "--dry-run")
    assert dry.code == 0 and "30 items match" in dry.stderr
    assert t.count() == 1500
    refused = cli("delete", t.name, "--where", "sk < 30")
    assert refused.code == 1 and "--yes" in refused.stderr
    undo = tmp_path / "undo.jsonl"
    done = cli("delete", t.name, "--where", "sk < 30", "--yes", "--undo", str(undo))
    assert done.code == 0, done.stderr
    assert t.count() == 1470 and len(undo.read_text().splitlines()) == 30


def test_cli_truncate_and_copy(
    endpoint: str, cli: CliRunner, filled: Filled, db: ddbkit.Database
) -> None:
    t, items = filled
    target = f"{t.name}-c"
    try:
        copied = cli("copy", t.name, target)
        assert copied.code == 0, copied.stderr
        assert_same_items(engine_items(endpoint, target, KEY), by_key(items, KEY))
        assert cli("truncate", target).code == 1
        assert cli("truncate", target, "--yes").code == 0
        assert engine_items(endpoint, target, KEY) == {}
    finally:
        db.delete_table(target)
