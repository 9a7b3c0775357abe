"""ddbkit schema | stats on the engine: a skewed, mixed-type table of 2,000 items."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from ddbkit.anatomy import table_schema, table_stats
from ddbkit.cli import main
from ddbkit.cli.anatomy_cmd import COMMANDS
from ddbkit.errors import TableNotFoundError, ValidationError
from ddbkit.itemsize import item_size
from ddbkit.serialize import to_item
from ddbkit.table import Table
from tests.conftest import CliRunner as RealCli

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


def test_parallel_full_stats_equal_a_single_segment_scan(orders: tuple[Table, Items]) -> None:
    t, _ = orders
    one = table_stats(t, sample=None, segments=1).to_dict()
    four = table_stats(t, sample=None, segments=4).to_dict()
    for part in ("items_read", "bytes", "item_size", "histogram", "items_per_partition_key"):
        assert one[part] == four[part]
    assert one["top_by_items"][:2] == four["top_by_items"][:2]
    assert [i["size"] for i in one["largest"]] == [i["size"] for i in four["largest"]]
    schema_one = table_schema(t, sample=None, segments=1).to_dict()["attributes"]
    schema_four = table_schema(t, sample=None, segments=4).to_dict()["attributes"]
    assert [(a["name"], a["types"]) for a in schema_one] == [
        (a["name"], a["types"]) for a in schema_four
    ]


def test_index_keys_are_marked(make_table: Callable[..., Table]) -> None:
    from ddbkit.tables import IndexSpec

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


# -- command line -----------------------------------------------------------------------------


def anatomy_group() -> click.Group:
    """ddbkit's own top-level group (global options and all) with schema and stats added."""
    group = click.Group(
        "ddbkit",
        params=list(main.cli.params),
        callback=main.cli.callback,
        context_settings=main.cli.context_settings,
    )
    for command in COMMANDS:
        group.add_command(command)
    return group


@pytest.fixture
def run(endpoint: str) -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(
            anatomy_group(),
            ["--endpoint-url", endpoint, *args],
            env={
                "AWS_ACCESS_KEY_ID": "ddbkit",
                "AWS_SECRET_ACCESS_KEY": "ddbkit",
                "AWS_REGION": "us-east-1",
                "AWS_PROFILE": None,
            },
        )

    return invoke


def test_schema_command_prints_a_table_and_says_it_sampled(
    run: Callable[..., Result], orders: tuple[Table, Items]
) -> None:
    t, _ = orders
    result = run("schema", t.name)
    assert result.exit_code == 0, result.output
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


def test_schema_command_json(run: Callable[..., Result], orders: tuple[Table, Items]) -> None:
    t, _ = orders
    result = run("schema", t.name, "--full", "--output", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["complete"] is True
    assert data["items_read"] == 2000
    assert data["conflicts"] == ["total"]
    assert data["attributes"][0]["name"] == "customer"
    global_option = run("--output", "json", "schema", t.name, "--sample", "10")
    assert json.loads(global_option.stdout)["items_read"] == 10


def test_stats_command_prints_histogram_largest_and_skew(
    run: Callable[..., Result], orders: tuple[Table, Items]
) -> None:
    t, _ = orders
    result = run("stats", t.name, "--full")
    assert result.exit_code == 0, result.output
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
    run: Callable[..., Result], orders: tuple[Table, Items], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    t, _ = orders
    picture = tmp_path / "stats.png"
    result = run("stats", t.name, "--full", "-o", "json", "--plot", str(picture))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["top_by_items"][0] == {
        "value": "c-hot",
        "items": 900,
        "bytes": data["top_by_items"][0]["bytes"],
        "item_share": 0.45,
        "byte_share": data["top_by_items"][0]["byte_share"],
    }
    assert f"wrote {picture}" in result.stderr
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_stats_command_refuses_sample_with_full_and_bad_plot_names(
    run: Callable[..., Result], orders: tuple[Table, Items], tmp_path: Path
) -> None:
    t, _ = orders
    both = run("stats", t.name, "--sample", "5", "--full")
    assert both.exit_code == 2
    assert "--sample N or --full, not both" in both.output
    bad = run("stats", t.name, "--plot", str(tmp_path / "stats.gif"))
    assert isinstance(bad.exception, ValidationError)
    assert not (tmp_path / "stats.gif").exists()
    nowhere = run("stats", t.name, "--full", "--plot", str(tmp_path / "no" / "stats.png"))
    assert isinstance(nowhere.exception, ValidationError)
    assert "does not exist" in str(nowhere.exception)


REGISTERED = {"schema", "stats"} <= set(main.cli.commands)


@pytest.mark.skipif(not REGISTERED, reason="schema/stats are not yet registered in cli/main.py")
def test_real_entry_point_runs_schema_and_stats(cli: RealCli, orders: tuple[Table, Items]) -> None:
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
