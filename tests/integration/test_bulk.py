"""Parallel scan, export, import, batch operations, copy, truncate, delete --where: no faults."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit import maintenance
from ddbkit.jsonvalues import dumps_plain
from ddbkit.paginate import raw_pages
from ddbkit.serialize import from_item
from ddbkit.table import Table
from ddbkit.tables import IndexSpec
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration


def mixed_item(n: int, rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": f"p{n % 37}",
        "sk": n,
        "name": f"item {n}",
        "price": Decimal(n) / 100,
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
def filled(make_table: Callable[..., Table]) -> tuple[Table, list[dict[str, Any]]]:
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    rng = random.Random(42)
    items = [mixed_item(n, rng) for n in range(1500)]
    summary = t.put_many(items)
    assert summary.written == 1500 and summary.complete
    return t, items


@pytest.mark.parametrize("segments", [1, 2, 4, 7])
def test_parallel_scan_yields_every_item_exactly_once(
    filled: tuple[Table, list[dict[str, Any]]], segments: int
) -> None:
    t, items = filled
    got = [(i["pk"], i["sk"]) for i in t.scan(segments=segments)]
    assert len(got) == len(items) == len(set(got))


def test_parallel_scan_with_filter_limit_and_projection(
    filled: tuple[Table, list[dict[str, Any]]],
) -> None:
    t, _ = filled
    got = list(t.scan("sk < 100", segments=3, attributes=["sk"]))
    assert sorted(i["sk"] for i in got) == list(range(100))
    assert len(list(t.scan(segments=3, limit=17))) == 17


def test_parallel_scan_resumes_from_its_cursor_exactly_once(
    filled: tuple[Table, list[dict[str, Any]]],
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


def test_fast_path_equals_botocore_parser_on_the_engine(
    filled: tuple[Table, list[dict[str, Any]]],
) -> None:
    t, _ = filled
    params = {"TableName": t.name}
    fast = [from_item(r) for p in raw_pages(t.db, "scan", params, table=t.name) for r in p["Items"]]
    slow = [
        from_item(r)
        for p in raw_pages(t.db, "scan", params, table=t.name, fast=False)
        for r in p["Items"]
    ]
    assert fast == slow and len(fast) == 1500


def test_scan_with_a_rate_limit_reads_every_item(
    filled: tuple[Table, list[dict[str, Any]]],
) -> None:
    t, _ = filled
    scan = t.scan(segments=2, rate_limit=100_000)
    assert sum(1 for _ in scan) == 1500


def test_count_in_parallel(filled: tuple[Table, list[dict[str, Any]]]) -> None:
    t, _ = filled
    assert t.count(segments=4) == 1500
    assert t.count("sk >= 1000", segments=3) == 500


def test_get_many_and_delete_many(filled: tuple[Table, list[dict[str, Any]]]) -> None:
    t, items = filled
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items[:250]]
    got = sorted(t.get_many([*keys, keys[0], {"pk": "none", "sk": -1}]), key=lambda i: i["sk"])
    assert [i["sk"] for i in got] == list(range(250))
    assert got[5] == t.get(keys[5])
    summary = t.delete_many(keys)
    assert summary.written == 250
    assert t.count() == 1250


@pytest.mark.parametrize("fmt", ["jsonl", "ddb-json", "csv"])
def test_export_then_import_round_trip(
    filled: tuple[Table, list[dict[str, Any]]],
    make_table: Callable[..., Table],
    tmp_path: Path,
    fmt: str,
) -> None:
    t, _ = filled
    target = tmp_path / f"out.{fmt}"
    result = t.export(target, format=fmt, segments=3)
    assert result.items == 1500 and target.exists()
    assert not list(tmp_path.glob(".out*"))  # no partial or checkpoint left behind
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    types = {"sk": "N"} if fmt == "csv" else None
    summary = copy.import_file(target, format=fmt, types=types)
    assert summary.written == 1500 and summary.rejected == 0
    if fmt == "ddb-json":  # the lossless one
        assert sorted(copy.scan(), key=lambda i: i["sk"]) == sorted(t.scan(), key=lambda i: i["sk"])
    elif fmt == "jsonl":
        # Without types, sets come back as lists and binary as base64 text; all else exact.
        back = {i["sk"]: i for i in copy.scan()}
        for item in t.scan():
            expected = json.loads(dumps_plain(item), parse_float=Decimal)
            assert back[item["sk"]] == expected


def test_export_refuses_to_overwrite_without_force(
    filled: tuple[Table, list[dict[str, Any]]], tmp_path: Path
) -> None:
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


def test_copy_creates_the_target_with_the_same_schema(
    db: ddbkit.Database, make_table: Callable[..., Table]
) -> None:
    src = make_table(
        partition_key=("pk", "S"),
        sort_key=("sk", "N"),
        indexes=[IndexSpec("by_name", ("name", "S"))],
    )
    src.put_many({"pk": "a", "sk": n, "name": f"n{n}"} for n in range(300))
    target = f"{src.name}-copy"
    try:
        summary = maintenance.copy_table(src, db, target)
        assert summary.written == 300
        copied = db.table(target)
        info = copied.info()
        assert info.index("by_name") is not None and info.sort_key is not None
        assert copied.count() == 300
    finally:
        db.delete_table(target)


def test_truncate_keeps_the_table(filled: tuple[Table, list[dict[str, Any]]]) -> None:
    t, _ = filled
    summary = maintenance.truncate(t, segments=2)
    assert summary.written == 1500
    assert t.count() == 0 and t.info().status == "ACTIVE"


def test_delete_where_saves_an_undo_file_that_brings_items_back(
    filled: tuple[Table, list[dict[str, Any]]], tmp_path: Path
) -> None:
    t, _ = filled
    before = {i["sk"]: i for i in t.scan("sk < 200")}
    preview = maintenance.preview_delete(t, "sk < 200")
    assert preview.count == 200 and len(preview.sample_keys) == 10
    undo = tmp_path / "undo.jsonl"
    summary = maintenance.delete_where(t, "sk < 200", undo_path=undo)
    assert summary.written == 200
    assert t.count() == 1300
    t.import_file(undo, format="ddb-json")
    assert {i["sk"]: i for i in t.scan("sk < 200")} == before


def test_cli_export_import_and_summary(
    cli: CliRunner,
    filled: tuple[Table, list[dict[str, Any]]],
    make_table: Callable[..., Table],
    tmp_path: Path,
) -> None:
    t, _ = filled
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
    piped = cli("export", t.name, "--format", "jsonl", "--where", "sk < 5")
    assert len(piped.stdout.splitlines()) == 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"pk": "x", "sk": 1}\n{"sk": 2}\n')
    failed = cli("import", copy.name, str(bad))
    assert failed.code == 1 and "rejected    1" in failed.stderr
    skipped = cli(
        "import", copy.name, str(bad), "--on-error", "skip", "--rejects", str(tmp_path / "r.jsonl")
    )
    assert skipped.code == 0


def test_cli_delete_where_dry_run_and_undo(
    cli: CliRunner, filled: tuple[Table, list[dict[str, Any]]], tmp_path: Path
) -> None:
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
    cli: CliRunner, filled: tuple[Table, list[dict[str, Any]]], db: ddbkit.Database
) -> None:
    t, _ = filled
    target = f"{t.name}-c"
    try:
        copied = cli("copy", t.name, target)
        assert copied.code == 0, copied.stderr
        assert db.table(target).count() == 1500
        assert cli("truncate", target).code == 1
        assert cli("truncate", target, "--yes").code == 0
        assert db.table(target).count() == 0
    finally:
        db.delete_table(target)
