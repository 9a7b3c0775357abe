"""ddbkit schema | stats on the engine: a skewed, mixed-type table of 2,000 items."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ddbkit.errors import TableNotFoundError, ValidationError
from ddbkit.jobs.anatomy import table_schema, table_stats
from ddbkit.table import Table
from ddbkit.values.itemsize import item_size
from ddbkit.values.serialize import to_item
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

Items = list[dict[str, Any]]


def order(n: int, rng: random.Random) -> dict[str, Any]:
    """Order n: 900 orders of c-hot, 300 of c-warm, 5 each for 160 more customers."""
    customer = "c-hot" if n < 900 else "c-warm" if n < 1200 else f"c{n % 160:03d}"
    item: dict[str, Any] = {
        "customer": customer,
        "order": n,
        "total": Decimal(rng.randint(1, 99999)) / 100,
        "status": rng.choice(["new", "paid", "shipped"]),
    }
    if n % 10 == 0:
        item["total"] = f"{n}.00 EUR"  # a type conflict: S among N
    if n % 7 == 0:
        item["note"] = None
    elif n % 3 == 0:
        item["note"] = "call first " * rng.randint(1, 30)
    if n % 4 == 0:
        item["tags"] = {"gift", f"t{n % 5}"}
    if n % 5 == 0:
        item["address"] = {"city": "Oslo", "lines": ["Karl Johans gate 1"]}
    if n % 6 == 0:
        item["sizes"] = {38, 40 + n % 3}
    if n % 8 == 0:
        item["thumbs"] = {bytes([n % 256]), b"\xff"}
    if n % 9 == 0:
        item["flags"] = [True, n]
    if n % 2 == 0:
        item["vip"] = n % 4 == 0
    if n % 100 == 0:
        item["photo"] = rng.randbytes(rng.choice([3000, 20000, 90000]))
    return item


@pytest.fixture
def orders(make_table: Callable[..., Table]) -> tuple[Table, Items]:
    t = make_table(partition_key=("customer", "S"), sort_key=("order", "N"))
    rng = random.Random(11)
    items = [order(n, rng) for n in range(2000)]
    summary = t.put_many(items)
    assert summary.written == 2000 and summary.complete
    return t, items


def type_counts(items: Items) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for item in items:
        for name, value in to_item(item).items():
            (tag,) = value
            counts.setdefault(name, Counter())[tag] += 1
    return counts


# -- library ----------------------------------------------------------------------------------


def test_full_schema_counts_every_attribute_and_type(orders: tuple[Table, Items]) -> None:
    t, items = orders
    report = table_schema(t, sample=None)
    assert report.complete
    assert report.items == 2000
    assert report.scope == "all 2,000 items"
    expected = type_counts(items)
    assert {a.name: dict(a.types) for a in report.attributes} == {
        name: dict(c) for name, c in expected.items()
    }
    assert [a.name for a in report.attributes[:2]] == ["customer", "order"]
    assert report.attributes[0].key == ("PK",)
    assert report.attributes[1].key == ("SK",)
    kinds = {kind for a in report.attributes for kind in a.types}
    assert kinds == {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}
    assert [a.name for a in report.conflicts] == ["total"]
    note = report.attribute("note")
    assert note is not None
    assert not note.conflict  # S and NULL
    assert note.fill_rate == pytest.approx(sum("note" in i for i in items) / 2000)
    total = report.attribute("total")
    assert total is not None
    assert total.examples["S"].endswith(' EUR"')


def test_schema_reads_a_sample_of_1000_by_default(orders: tuple[Table, Items]) -> None:
    t, _ = orders
    seen: list[int] = []
    report = table_schema(t, progress=seen.append)
    assert report.items == 1000
    assert sum(seen) == 1000
    assert not report.complete
    assert report.sample == 1000
    assert report.scope == (
        "a sample of the first 1,000 items in scan order (about 2,000 in the table)"
    )
    assert all(a.count <= 1000 for a in report.attributes)
    assert report.attribute("customer") is not None


def test_a_sample_larger_than_the_table_is_the_whole_table(
    make_table: Callable[..., Table],
) -> None:
    t = make_table()
    t.put_many([{"id": f"i{n}", "n": n} for n in range(25)])
    report = table_schema(t)
    assert report.complete
    assert report.scope == "all 25 items"
    stats = table_stats(t, sample=25)
    assert stats.complete
    assert stats.items == 25


def test_sample_across_parallel_segments(orders: tuple[Table, Items]) -> None:
    t, _ = orders
    report = table_stats(t, sample=300, segments=3)
    assert report.items == 300
    assert not report.complete


def test_full_stats_measure_every_item(orders: tuple[Table, Items]) -> None:
    t, items = orders
    report = table_stats(t, sample=None)
    sizes = {(i["customer"], i["order"]): item_size(to_item(i)) for i in items}
    assert report.complete
    assert report.items == 2000
    assert report.bytes == sum(sizes.values())
    assert report.max_size == max(sizes.values())
    assert report.min_size == min(sizes.values())
    assert sum(b.items for b in report.histogram) == 2000
    assert sum(b.bytes for b in report.histogram) == report.bytes
    biggest = sorted(sizes.items(), key=lambda kv: -kv[1])[:10]
    assert [i.size for i in report.largest] == [size for _, size in biggest]
    first = report.largest[0]
    assert sizes[(first.key["customer"], first.key["order"])] == first.size

    hot = report.top_by_items[0]
    assert (hot.value, hot.items) == ("c-hot", 900)
    assert hot.item_share == pytest.approx(0.45)
    assert (report.top_by_items[1].value, report.top_by_items[1].items) == ("c-warm", 300)
    per_customer: Counter[str] = Counter()
    for (customer, _), size in sizes.items():
        per_customer[customer] += size
    assert [(k.value, k.bytes) for k in report.top_by_bytes[:3]] == per_customer.most_common(3)
    spread = report.spread
    assert spread.distinct == 162
    assert (spread.min, spread.median, spread.p90, spread.max) == (5, 5, 5, 900)


def test_parallel_full_stats_and_schema_measure_every_source_item(
    orders: tuple[Table, Items],
) -> None:
    t, items = orders
    sizes = sorted((item_size(to_item(i)) for i in items), reverse=True)
    report = table_stats(t, sample=None, segments=4)
    assert report.complete and report.items == len(items)
    assert report.bytes == sum(sizes) and report.max_size == sizes[0]
    assert [i.size for i in report.largest] == sizes[:10]
    assert [(k.value, k.items) for k in report.top_by_items[:2]] == [
        ("c-hot", 900),
        ("c-warm", 300),
    ]
    assert sum(b.items for b in report.histogram) == len(items)
    schema = table_schema(t, sample=None, segments=4)
    assert {a.name: dict(a.types) for a in schema.attributes} == {
        name: dict(c) for name, c in type_counts(items).items()
    }


def test_index_keys_are_marked(make_table: Callable[..., Table]) -> None:
    from ddbkit.jobs.tables import IndexSpec

    t = make_table(indexes=[IndexSpec.parse("by_status:status:S")])
    t.put({"id": "a", "status": "new", "x": 1})
    report = table_schema(t)
    assert [(a.name, a.key) for a in report.attributes] == [
        ("id", ("PK",)),
        ("status", ("by_status PK",)),
        ("x", ()),
    ]


def test_bad_sample_and_missing_table(orders: tuple[Table, Items]) -> None:
    t, _ = orders
    with pytest.raises(ValidationError, match="sample must be 1 or more"):
        table_schema(t, sample=0)
    with pytest.raises(TableNotFoundError):
        table_stats(t.db.table("no-such-table-anatomy"))


# -- command line: the installed ``ddbkit`` console script, as a user runs it ----------------------


def test_schema_command_prints_a_table_and_says_it_sampled(
    cli: CliRunner, orders: tuple[Table, Items]
) -> None:
    t, _ = orders
    result = cli("schema", t.name, "-o", "table")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{t.name}: a sample of the first 1,000 items in scan order (about 2,000 in the table)"
    )
    header = next(line for line in lines if "attribute" in line)
    assert header.split() == ["attribute", "key", "types", "fill", "example", "note"]
    customer = next(line for line in lines if line.lstrip().startswith("customer "))
    assert customer.split()[:5] == ["customer", "PK", "S", "1,000", "100%"]
    total = next(line for line in lines if line.lstrip().startswith("total "))
    assert "conflict" in total
    assert "1 type conflict" in result.stdout
    assert "--full reads them all" in result.stdout


def test_schema_command_json(cli: CliRunner, orders: tuple[Table, Items]) -> None:
    t, items = orders
    result = cli("schema", t.name, "--full", "--output", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["complete"] is True
    assert data["items_read"] == len(items)
    assert data["conflicts"] == ["total"]
    assert data["attributes"][0]["name"] == "customer"
    expected = type_counts(items)
    assert {a["name"]: a["types"] for a in data["attributes"]} == {
        name: dict(c) for name, c in expected.items()
    }
    global_option = cli("--output", "json", "schema", t.name, "--sample", "10")
    assert json.loads(global_option.stdout)["items_read"] == 10


def test_stats_command_prints_histogram_largest_and_skew(
    cli: CliRunner, orders: tuple[Table, Items]
) -> None:
    t, _ = orders
    result = cli("stats", t.name, "--full", "-o", "table")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"{t.name}: all 2,000 items, ")
    for label in ("0–256 B", "256 B–1 KB", "1–4 KB", "4–16 KB", "16–64 KB", "64–400 KB"):  # noqa: RUF001
        assert label in out
    assert "█" in out
    assert "largest items (top 10)" in out
    assert "customer=c" in out
    assert "partition key customer: 162 distinct values" in out
    assert "median 5, p90 5, max 900" in out
    hot = next(line for line in out.splitlines() if line.lstrip().startswith("c-hot "))
    assert hot.split()[:2] == ["c-hot", "900"]
    assert "45.0%" in hot


def test_stats_command_json_and_plot(
    cli: CliRunner, orders: tuple[Table, Items], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    t, items = orders
    sizes = [(i["customer"], item_size(to_item(i))) for i in items]
    total = sum(size for _, size in sizes)
    hot = sum(size for customer, size in sizes if customer == "c-hot")
    picture = tmp_path / "stats.png"
    result = cli("stats", t.name, "--full", "-o", "json", "--plot", str(picture))
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["top_by_items"][0] == {
        "value": "c-hot",
        "items": 900,
        "bytes": hot,
        "item_share": 0.45,
        "byte_share": round(hot / total, 6),
    }
    assert f"wrote {picture}" in result.stderr
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_stats_command_refuses_sample_with_full_and_bad_plot_names(
    cli: CliRunner, orders: tuple[Table, Items], tmp_path: Path
) -> None:
    t, _ = orders
    both = cli("stats", t.name, "--sample", "5", "--full")
    assert both.code == 2
    assert "--sample N or --full, not both" in both.stderr
    bad = cli("stats", t.name, "--plot", str(tmp_path / "stats.gif"))
    assert bad.code == 1 and bad.stderr.startswith("error: "), bad.stderr
    assert ".png, .svg or .pdf" in bad.stderr
    assert not (tmp_path / "stats.gif").exists()
    nowhere = cli("stats", t.name, "--full", "--plot", str(tmp_path / "no" / "stats.png"))
    assert nowhere.code == 1 and nowhere.stderr.startswith("error: "), nowhere.stderr
    assert "does not exist" in nowhere.stderr
    assert "Traceback" not in bad.stderr + nowhere.stderr


def test_real_entry_point_runs_schema_and_stats(
    cli: CliRunner, orders: tuple[Table, Items]
) -> None:
    t, _ = orders
    schema = cli("schema", t.name, "--sample", "50", "-o", "json")
    assert schema.code == 0, schema.stderr
    assert json.loads(schema.stdout)["items_read"] == 50
    stats = cli("stats", t.name, "--full")
    assert stats.code == 0, stats.stderr
    assert "partition key customer" in stats.stdout
    missing = cli("stats", "no-such-table-anatomy")
    assert missing.code == 1
    assert missing.stderr.startswith("error: table 'no-such-table-anatomy' not found")
