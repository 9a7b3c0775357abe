"""Schema and stats aggregation on hand-made raw wire items; rendering; the plot file."""

# Size ranges are written with an en dash, as the reports print them.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import io
import json
import random
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ddbkit.cli.anatomy_cmd import bar, render_schema, render_stats
from ddbkit.errors import MissingExtraError, ValidationError
from ddbkit.jobs.anatomy import (
    SIZE_BUCKETS,
    AttributeSummary,
    SchemaCollector,
    SchemaReport,
    StatsCollector,
    StatsReport,
    check_plot_path,
    example,
    format_bytes,
    key_marks,
    plot_stats,
    require_plot,
    size_range,
    walk,
)
from ddbkit.models import KeyAttribute, KeySchema, TableInfo
from ddbkit.read.paginate import RawPage
from ddbkit.values.itemsize import MAX_ITEM_SIZE, item_size
from ddbkit.values.jsonvalues import dumps_plain

Wire = dict[str, dict[str, Any]]
KEYS = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))


def s(text: str) -> dict[str, Any]:
    return {"S": text}


def n(text: str) -> dict[str, Any]:
    return {"N": text}


def schema_of(items: Sequence[Wire], **marks: tuple[str, ...]) -> SchemaReport:
    collector = SchemaCollector()
    collector.add(items)
    return collector.report(table="t", key_marks=marks)


def attribute(report: SchemaReport, name: str) -> AttributeSummary:
    found = report.attribute(name)
    assert found is not None, f"no attribute {name!r}"
    return found


# -- schema -----------------------------------------------------------------------------------


def test_schema_counts_types_fill_and_keeps_one_example_per_type() -> None:
    items: list[Wire] = [
        {"pk": s("a"), "age": n("30"), "tags": {"SS": ["y", "x"]}},
        {"pk": s("b"), "age": n("41"), "data": {"B": base64.b64encode(b"\x00\x01").decode()}},
        {"pk": s("c"), "age": s("unknown"), "ok": {"BOOL": True}},
        {"pk": s("d"), "gone": {"NULL": True}, "doc": {"M": {"k": n("1")}}, "l": {"L": []}},
    ]
    report = schema_of(items, pk=("PK",))
    assert report.items == 4
    age = report.attribute("age")
    assert age is not None
    assert dict(age.types) == {"N": 2, "S": 1}
    assert list(age.types) == ["N", "S"]  # most frequent first
    assert age.count == 3
    assert age.fill_rate == pytest.approx(0.75)
    assert age.examples == {"N": "30", "S": '"unknown"'}
    assert age.example == "30"
    tags = report.attribute("tags")
    assert tags is not None
    assert tags.example == '["x","y"]'  # a set prints as a sorted list
    data = report.attribute("data")
    assert data is not None
    assert data.example == '"AAE="'  # binary as base64
    assert report.attribute("gone") is not None
    assert attribute(report, "gone").example == "null"
    assert attribute(report, "doc").example == '{"k":1}'
    assert attribute(report, "l").example == "[]"


def test_every_dynamodb_type_is_counted() -> None:
    item: Wire = {
        "s": s("x"),
        "n": n("1"),
        "b": {"B": "AA=="},
        "bool": {"BOOL": False},
        "null": {"NULL": True},
        "m": {"M": {}},
        "l": {"L": [n("1")]},
        "ss": {"SS": ["a"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": ["AA=="]},
    }
    report = schema_of([item])
    seen = {a.name: next(iter(a.types)) for a in report.attributes}
    assert seen == {
        "s": "S",
        "n": "N",
        "b": "B",
        "bool": "BOOL",
        "null": "NULL",
        "m": "M",
        "l": "L",
        "ss": "SS",
        "ns": "NS",
        "bs": "BS",
    }
    assert all(a.fill_rate == 1.0 for a in report.attributes)
    assert report.conflicts == ()


def test_null_next_to_one_type_is_not_a_conflict_but_two_types_are() -> None:
    items: list[Wire] = [
        {"note": s("hi"), "age": n("1"), "tags": s("a")},
        {"note": {"NULL": True}, "age": s("one"), "tags": {"SS": ["a"]}},
        {"note": {"NULL": True}, "age": {"NULL": True}},
    ]
    report = schema_of(items)
    note = report.attribute("note")
    assert note is not None
    assert dict(note.types) == {"NULL": 2, "S": 1}
    assert not note.conflict
    assert note.example == '"hi"'  # a real value is preferred to null as the example
    assert [a.name for a in report.conflicts] == ["age", "tags"]
    assert report.to_dict()["conflicts"] == ["age", "tags"]


def test_key_attributes_come_first_then_by_how_many_items_hold_them() -> None:
    items: list[Wire] = [
        {"zeta": s("z"), "sk": n("1"), "pk": s("a"), "rare": s("r"), "status": s("s")},
        {"zeta": s("z"), "sk": n("2"), "pk": s("b"), "status": s("s")},
    ]
    report = schema_of(items, pk=("PK",), sk=("SK",), status=("by_status PK",))
    assert [a.name for a in report.attributes] == ["pk", "sk", "status", "zeta", "rare"]
    assert attribute(report, "status").key == ("by_status PK",)


def test_key_marks_name_table_and_index_keys() -> None:
    info = TableInfo.from_describe(
        {
            "TableName": "t",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "status", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_status",
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        }
    )
    assert key_marks(info) == {
        "pk": ("PK",),
        "sk": ("SK", "by_status SK"),
        "status": ("by_status PK",),
    }


def test_examples_are_short_plain_json() -> None:
    assert example(s("x" * 500)) == '"' + "x" * 58 + "…"
    assert len(example(s("x" * 500))) == 60
    assert example(n("12345678901234567890123456789012345678")) == (
        "12345678901234567890123456789012345678"
    )
    assert example(n("0.1")) == "0.1"
    assert example({"NS": ["3", "1"]}) == "[1,3]"


def test_schema_report_to_dict_is_json() -> None:
    report = schema_of([{"pk": s("a"), "v": n("1.5")}], pk=("PK",))
    data = json.loads(dumps_plain(report.to_dict()))
    assert data["items_read"] == 1
    assert data["complete"] is True
    assert data["attributes"][0] == {
        "name": "pk",
        "key": ["PK"],
        "count": 1,
        "fill_rate": 1.0,
        "types": {"S": 1},
        "conflict": False,
        "example": '"a"',
        "examples": {"S": '"a"'},
    }


# -- stats ------------------------------------------------------------------------------------


def sized(size: int, pk: str = "p", sk: int = 0) -> Wire:
    """An item of exactly ``size`` bytes (as DynamoDB counts them)."""
    item: Wire = {"pk": s(pk), "sk": n(str(sk))}
    base = item_size(item) + len("f")
    if size < base:
        raise ValueError(f"{size} is smaller than the key alone")
    item["f"] = s("x" * (size - base))
    assert item_size(item) == size
    return item


def stats_of(items: Sequence[Wire], keys: KeySchema = KEYS, top: int = 10) -> StatsReport:
    collector = StatsCollector(keys, top=top)
    collector.add(items)
    return collector.report(table="t")


def test_size_buckets_take_each_size_at_its_edges() -> None:
    sizes = [10, 255, 256, 1023, 1024, 4095, 4096, 16383, 16384, 65535, 65536, MAX_ITEM_SIZE]
    report = stats_of([sized(size, sk=i) for i, size in enumerate(sizes)])
    assert [b.items for b in report.histogram] == [2, 2, 2, 2, 2, 2]
    assert [b.bytes for b in report.histogram] == [
        sizes[0] + sizes[1],
        sizes[2] + sizes[3],
        sizes[4] + sizes[5],
        sizes[6] + sizes[7],
        sizes[8] + sizes[9],
        sizes[10] + sizes[11],
    ]
    assert [b.label for b in report.histogram] == [
        "0–256 B",
        "256 B–1 KB",
        "1–4 KB",
        "4–16 KB",
        "16–64 KB",
        "64–400 KB",
    ]
    assert [(b.low, b.high) for b in report.histogram] == list(SIZE_BUCKETS)
    assert report.min_size == 10
    assert report.max_size == MAX_ITEM_SIZE
    assert report.bytes == sum(sizes)
    assert report.mean_size == pytest.approx(sum(sizes) / len(sizes))


def test_largest_items_are_the_top_ten_in_a_bounded_heap() -> None:
    rng = random.Random(3)
    sizes = [rng.randint(40, 5000) for _ in range(2000)]
    collector = StatsCollector(KEYS)
    for i, size in enumerate(sizes):
        collector.add([sized(size, pk=f"p{i % 7}", sk=i)])
        assert len(collector._largest) <= 10
    report = collector.report(table="t")
    expected = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))[:10]
    assert [item.size for item in report.largest] == [sizes[i] for i in expected]
    assert [item.key for item in report.largest] == [{"pk": f"p{i % 7}", "sk": i} for i in expected]


def test_equal_sizes_keep_the_earliest_items() -> None:
    report = stats_of([sized(100, sk=i) for i in range(5)], top=3)
    assert [item.key["sk"] for item in report.largest] == [0, 1, 2]


def test_skew_finds_hot_keys_by_items_and_by_bytes() -> None:
    items = [sized(50, pk="hot", sk=i) for i in range(60)]
    items += [sized(5000, pk="fat", sk=i) for i in range(4)]
    items += [sized(50, pk=f"k{i}", sk=i) for i in range(36)]
    report = stats_of(items)
    assert report.items == 100
    assert report.top_by_items[0].value == "hot"
    assert report.top_by_items[0].items == 60
    assert report.top_by_items[0].item_share == pytest.approx(0.6)
    assert report.top_by_items[1].value == "fat"
    assert report.top_by_bytes[0].value == "fat"
    assert report.top_by_bytes[0].bytes == 20000
    assert report.top_by_bytes[0].byte_share == pytest.approx(20000 / report.bytes)
    assert report.top_by_bytes[1].value == "hot"
    assert len(report.top_by_items) == len(report.top_by_bytes) == 10
    spread = report.spread
    assert spread.distinct == 38
    assert (spread.min, spread.median, spread.p90, spread.max) == (1, 1, 1, 60)
    assert spread.mean == pytest.approx(100 / 38)


def test_items_per_key_percentiles_are_nearest_rank() -> None:
    # 10 keys holding 1..10 items: median (5th of 10) 5, p90 (9th) 9.
    items = [sized(40, pk=f"k{k}", sk=i) for k in range(1, 11) for i in range(k)]
    spread = stats_of(items).spread
    assert (spread.distinct, spread.min, spread.median, spread.p90, spread.max) == (
        10,
        1,
        5,
        9,
        10,
    )
    assert [(b.label, b.keys) for b in spread.buckets] == [
        ("1", 1),
        ("2–3", 2),
        ("4–7", 4),
        ("8–15", 3),
    ]


def test_hot_key_values_come_back_as_their_type() -> None:
    numbers = KeySchema(KeyAttribute("id", "N"))
    report = stats_of([{"id": n("7")}, {"id": n("7")}, {"id": n("0.5")}], keys=numbers)
    assert report.top_by_items[0].value == 7
    assert report.sort_key is None
    binary = KeySchema(KeyAttribute("id", "B"))
    report = stats_of([{"id": {"B": "AAE="}}], keys=binary)
    assert report.top_by_items[0].value == b"\x00\x01"
    assert report.largest[0].key == {"id": b"\x00\x01"}


def test_stats_of_nothing_is_empty_not_an_error() -> None:
    report = stats_of([])
    assert report.items == 0
    assert report.mean_size == 0
    assert report.largest == ()
    assert report.spread.distinct == 0
    assert json.loads(dumps_plain(report.to_dict()))["items_read"] == 0


def test_stats_to_dict_is_json() -> None:
    report = stats_of([sized(300, pk="a", sk=1), sized(100, pk="a", sk=2)])
    data = json.loads(dumps_plain(report.to_dict()))
    assert data["bytes"] == 400
    assert data["item_size"] == {"min": 100, "mean": 200.0, "max": 300}
    assert data["largest"][0] == {"key": {"pk": "a", "sk": 1}, "size": 300}
    assert data["top_by_items"][0]["value"] == "a"
    assert data["top_by_items"][0]["item_share"] == 1.0
    assert data["items_per_partition_key"]["distinct"] == 1


# -- walking pages and the sample -------------------------------------------------------------


class FakeSource:
    """Pages of ``sizes`` items; ``cursor`` is None once the last page was handed out."""

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = sizes
        self.handed = 0
        self.closed = False

    def raw_pages(self) -> Iterator[RawPage]:
        try:
            for number, size in enumerate(self.sizes):
                self.handed = number + 1
                items = [{"pk": s(f"{number}-{i}")} for i in range(size)]
                last = None if number == len(self.sizes) - 1 else {"pk": s("x")}
                yield RawPage(0, items, size, last, 0.0)
        finally:
            self.closed = True

    @property
    def cursor(self) -> str | None:
        return None if self.handed == len(self.sizes) else "more"


def walked(sizes: Sequence[int], sample: int | None) -> tuple[list[int], bool, FakeSource]:
    source = FakeSource(sizes)
    fed: list[int] = []
    progress: list[int] = []
    complete = walk(
        source, lambda items: fed.append(len(items)), sample=sample, progress=progress.append
    )
    assert progress == [f for f in fed if f]
    return fed, complete, source


@pytest.mark.parametrize(
    ("sizes", "sample", "fed", "complete"),
    [
        ([100, 100, 50], None, [100, 100, 50], True),
        ([100, 100, 50], 1000, [100, 100, 50], True),
        ([100, 100, 50], 150, [100, 50], False),  # stops inside page 2
        ([100, 100, 50], 200, [100, 100], False),  # stops at a page end, more pages follow
        ([100, 100, 50], 250, [100, 100, 50], True),  # exactly every item
        ([100, 0, 50], 120, [100, 0, 20], False),  # an empty page does not end the walk
        ([30], 1, [1], False),
    ],
)
def test_walk_stops_after_the_sample(
    sizes: list[int], sample: int | None, fed: list[int], complete: bool
) -> None:
    got, was_complete, source = walked(sizes, sample)
    assert got == fed
    assert sum(got) == min(sum(sizes), sample or sum(sizes))
    assert was_complete is complete
    assert source.closed  # closed at once: a parallel scan's threads stop here


def test_walk_reads_no_page_past_the_sample() -> None:
    _, _, source = walked([100, 100, 100], 100)
    assert source.handed == 1


# -- text -------------------------------------------------------------------------------------


def test_size_labels() -> None:
    assert size_range(0, 256) == "0–256 B"
    assert size_range(256, 1024) == "256 B–1 KB"
    assert size_range(64 * 1024, MAX_ITEM_SIZE) == "64–400 KB"
    assert format_bytes(812) == "812 B"
    assert format_bytes(3.5 * 1024) == "3.5 KB"
    assert format_bytes(5 * 1024**3) == "5.0 GB"


def test_bar_is_a_share_of_its_width_in_eighths() -> None:
    assert bar(1.0, 10) == "█" * 10
    assert bar(0.5, 10) == "█" * 5
    assert bar(0.0, 10) == ""
    assert bar(0.0001, 10) == "▏"  # something there shows as a sliver
    assert bar(0.55, 10) == "█████▌"
    assert bar(2.0, 4) == "████"


def render(report: Any, renderer: Any) -> str:
    out = io.StringIO()
    renderer(report, Console(file=out, width=120, color_system=None))
    return out.getvalue()


def test_schema_renders_types_fill_keys_and_conflicts() -> None:
    items: list[Wire] = [
        {"pk": s("a"), "age": n("30")},
        {"pk": s("b"), "age": s("old"), "note": {"NULL": True}},
    ]
    text = render(schema_of(items, pk=("PK",)), render_schema)
    lines = text.splitlines()
    assert lines[0] == "t: all 2 items"
    pk_row = next(line for line in lines if line.lstrip().startswith("pk "))
    assert "PK" in pk_row
    assert "100%" in pk_row
    age_row = next(line for line in lines if line.lstrip().startswith("age "))
    assert "S 1, N 1" in age_row  # equal counts: in DynamoDB's type order
    assert "conflict" in age_row
    assert "50.0%" in next(line for line in lines if line.lstrip().startswith("note "))
    assert '  age: S 1 (e.g. "old"), N 1 (e.g. 30)' in text
    assert "1 type conflict" in text


def test_stats_renders_histogram_largest_and_hot_keys() -> None:
    items = [sized(100, pk="hot", sk=i) for i in range(3)] + [sized(2000, pk="cold", sk=9)]
    text = render(stats_of(items), render_stats)
    assert text.startswith("t: all 4 items, 2.2 KB (item size min 100 B, mean 575 B, max 2.0 KB)")
    row = next(line for line in text.splitlines() if line.lstrip().startswith("0–256 B"))
    assert "3" in row
    assert "█" * 22 in row  # 75% of 30 blocks
    assert "75.0%" in row
    assert "2.0 KB   pk=cold, sk=9" in text
    assert "partition key pk: 2 distinct values" in text
    hot = text[text.index("hottest partition keys by items") :]
    first = next(line for line in hot.splitlines() if line.lstrip().startswith("hot "))
    assert first.split()[:5] == ["hot", "3", "300", "B", "75.0%"]


def test_names_and_values_are_printed_as_they_are_not_as_markup() -> None:
    items: list[Wire] = [{"pk": s("[b]key[/b]"), "[red]name": s("[bold]value")}]
    text = render(schema_of(items, pk=("PK",)), render_schema)
    assert "[red]name" in text
    assert '"[bold]value"' in text
    text = render(stats_of([{"pk": s("[b]key[/b]"), "sk": n("1")}]), render_stats)
    assert "pk=[b]key[/b], sk=1" in text
    assert text.count("[b]key[/b]") == 3  # largest items, hottest by items and by bytes


def test_scope_says_sample_or_all_and_trusts_no_stale_count() -> None:
    collector = SchemaCollector()
    collector.add([{"pk": s("a")}] * 5)
    assert collector.report(table="t").scope == "all 5 items"
    sample = collector.report(table="t", complete=False, sample=5, table_items_estimate=90)
    assert sample.scope == "a sample of the first 5 items in scan order (about 90 in the table)"
    stale = collector.report(table="t", complete=False, sample=5, table_items_estimate=0)
    assert stale.scope == "a sample of the first 5 items in scan order"


def test_stats_without_sort_key_says_one_item_per_key() -> None:
    report = stats_of([{"id": s("a")}], keys=KeySchema(KeyAttribute("id", "S")))
    text = render(report, render_stats)
    assert "no sort key: every partition key holds exactly one item" in text
    assert "hottest partition keys by items" not in text
    assert "hottest partition keys by bytes" in text


# -- the plot ---------------------------------------------------------------------------------


def sample_report() -> StatsReport:
    items = [sized(100 + 37 * i, pk=f"k{i % 13}", sk=i) for i in range(300)]
    items += [sized(70000, pk="big", sk=1)]
    return stats_of(items)


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "stats.png"
    assert plot_stats(sample_report(), target) == target
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable like any new file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.png"]  # no partial left


def test_plot_draws_an_empty_report(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plot_stats(stats_of([]), tmp_path / "empty.svg")
    assert (tmp_path / "empty.svg").read_text().lstrip().startswith("<?xml")


def test_plot_refuses_an_unknown_picture_format_or_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"\.png, \.svg or \.pdf, not 'stats.gif'"):
        plot_stats(sample_report(), tmp_path / "stats.gif")
    with pytest.raises(ValidationError, match="folder .*nowhere does not exist"):
        check_plot_path(tmp_path / "nowhere" / "stats.png")
    assert check_plot_path(str(tmp_path / "s.PNG")) == tmp_path / "s.PNG"
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'ddbkit\[plot\]'"):
        require_plot()
    with pytest.raises(MissingExtraError, match="matplotlib"):
        plot_stats(sample_report(), tmp_path / "stats.png")
    assert not (tmp_path / "stats.png").exists()
