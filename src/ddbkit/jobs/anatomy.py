"""A table's anatomy: its attributes and types (schema) and how its items spread (stats).

DynamoDB keeps neither a schema nor a histogram, so both come from reading items: by default the
first ``sample`` items in scan order (a page or two of at most 1 MB, up to 128 read units each),
or every item with ``sample=None``. Pages are read raw (wire JSON): no item is converted to
Python values, only the examples and keys a report shows.

A sample is the first items of a scan, and a scan returns each partition key's items together:
fine for a schema, but skew over a sample covers only the partition keys it reached. With
``segments`` the sample comes from that many parallel scan segments, each starting elsewhere in
the key space (each segment reads at least one page).

Types conflict when an attribute holds more than one type other than NULL. NULL is how many
writers say "no value here", so it is counted and shown but never makes a conflict on its own;
S next to SS, or N next to S, does.

Memory stays bounded however large the table: the schema keeps one counter per attribute name and
type with one short example each; the stats keep fixed-size histograms, a heap of the ``TOP``
largest items' keys, and an item and a byte counter per distinct partition key, which skew cannot
do without: O(distinct partition keys), about 100 bytes each plus the key's own text.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from ddbkit.errors import MissingExtraError, ValidationError
from ddbkit.models import KeySchema, TableInfo, format_bytes
from ddbkit.read.paginate import RawPage
from ddbkit.values.itemsize import MAX_ITEM_SIZE, item_size
from ddbkit.values.jsonvalues import dumps_plain
from ddbkit.values.serialize import from_attribute, from_item

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter

    from ddbkit.jobs.source import TableSource

__all__ = [
    "DEFAULT_SAMPLE",
    "PLOT_FORMATS",
    "SIZE_BUCKETS",
    "AttributeSummary",
    "CountBucket",
    "HotKey",
    "KeySpread",
    "LargeItem",
    "SchemaCollector",
    "SchemaReport",
    "SizeBucket",
    "StatsCollector",
    "StatsReport",
    "check_plot_path",
    "example",
    "format_bytes",
    "key_marks",
    "plot_stats",
    "require_plot",
    "size_range",
    "table_schema",
    "table_stats",
    "walk",
]

Wire = Mapping[str, Mapping[str, Any]]
Progress = Callable[[int], None]

DEFAULT_SAMPLE: Final = 1000
TOP: Final = 10
EXAMPLE_CHARS: Final = 60
TYPES: Final = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
SIZE_BUCKETS: Final = (
    (0, 256),
    (256, 1024),
    (1024, 4 * 1024),
    (4 * 1024, 16 * 1024),
    (16 * 1024, 64 * 1024),
    (64 * 1024, MAX_ITEM_SIZE),
)
"""Item-size buckets in bytes, each ``[low, high)``; the last one also holds ``MAX_ITEM_SIZE``."""
_UPPER_BOUNDS: Final = [high for _, high in SIZE_BUCKETS[:-1]]
PLOT_FORMATS: Final = ("png", "svg", "pdf")
DASH: Final = "\u2013"  # the en dash of ranges such as "256 B-1 KB"


# -- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeSummary:
    """One top-level attribute: the types it was seen with, how often, and an example."""

    name: str
    count: int  # items holding the attribute
    types: Mapping[str, int]  # DynamoDB type -> items, most frequent first
    fill_rate: float  # count / items read
    examples: Mapping[str, str]  # type -> the first value seen of it, as short plain JSON
    key: tuple[str, ...] = ()  # "PK", "SK", "<index> PK", "<index> SK"

    @property
    def conflict(self) -> bool:
        """Seen with more than one type, NULL not counted."""
        return sum(1 for t in self.types if t != "NULL") > 1

    @property
    def example(self) -> str:
        """The example of the most frequent type, preferring any type over NULL."""
        for kind in self.types:
            if kind != "NULL":
                return self.examples[kind]
        return self.examples.get("NULL", "null")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": list(self.key),
            "count": self.count,
            "fill_rate": round(self.fill_rate, 6),
            "types": dict(self.types),
            "conflict": self.conflict,
            "example": self.example,
            "examples": dict(self.examples),
        }


@dataclass(frozen=True)
class _Scope:
    """What was read: how many items, whether that was all of them, and of about how many."""

    table: str
    items: int
    complete: bool  # the scan reached the end of the table
    sample: int | None  # the sample asked for; None: every item
    table_items_estimate: int  # DescribeTable's ItemCount (refreshed about every six hours)

    @property
    def scope(self) -> str:
        """One line saying what the report covers, e.g. "a sample of the first 1,000 items"."""
        if self.complete:
            return f"all {self.items:,} items"
        text = f"a sample of the first {self.items:,} items in scan order"
        if self.table_items_estimate > self.items:
            # DescribeTable's count lags by hours: below what was read, it says nothing.
            text += f" (about {self.table_items_estimate:,} in the table)"
        return text

    def _scope_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "items_read": self.items,
            "complete": self.complete,
            "sample": self.sample,
            "table_items_estimate": self.table_items_estimate,
            "scope": self.scope,
        }


@dataclass(frozen=True)
class SchemaReport(_Scope):
    """Every top-level attribute seen: key attributes first, then by how many items hold it."""

    attributes: tuple[AttributeSummary, ...] = ()

    @property
    def conflicts(self) -> tuple[AttributeSummary, ...]:
        return tuple(a for a in self.attributes if a.conflict)

    def attribute(self, name: str) -> AttributeSummary | None:
        return next((a for a in self.attributes if a.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._scope_dict(),
            "attributes": [a.to_dict() for a in self.attributes],
            "conflicts": [a.name for a in self.conflicts],
        }


@dataclass(frozen=True)
class SizeBucket:
    """Items whose size is in ``[low, high)`` (the last bucket includes 400 KB itself)."""

    low: int
    high: int
    items: int
    bytes: int

    @property
    def label(self) -> str:
        return size_range(self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "low": self.low,
            "high": self.high,
            "items": self.items,
            "bytes": self.bytes,
        }


@dataclass(frozen=True)
class LargeItem:
    """One of the largest items: its key (plain Python values) and its size in bytes."""

    key: Mapping[str, Any]
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": dict(self.key), "size": self.size}


@dataclass(frozen=True)
class HotKey:
    """A partition key value with its items and bytes, and their shares of all read."""

    value: Any
    items: int
    bytes: int
    item_share: float
    byte_share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "items": self.items,
            "bytes": self.bytes,
            "item_share": round(self.item_share, 6),
            "byte_share": round(self.byte_share, 6),
        }


@dataclass(frozen=True)
class CountBucket:
    """Partition keys holding from ``low`` to ``high`` items (both included)."""

    low: int
    high: int
    keys: int

    @property
    def label(self) -> str:
        return f"{self.low:,}" if self.low == self.high else f"{self.low:,}{DASH}{self.high:,}"

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "low": self.low, "high": self.high, "keys": self.keys}


@dataclass(frozen=True)
class KeySpread:
    """How items spread over partition keys: percentiles are nearest-rank over the keys."""

    distinct: int
    min: int
    median: int
    p90: int
    max: int
    mean: float
    buckets: tuple[CountBucket, ...]  # keys holding 1, 2-3, 4-7, 8-15 ... items

    def to_dict(self) -> dict[str, Any]:
        return {
            "distinct": self.distinct,
            "min": self.min,
            "median": self.median,
            "p90": self.p90,
            "max": self.max,
            "mean": round(self.mean, 3),
            "buckets": [b.to_dict() for b in self.buckets],
        }


@dataclass(frozen=True)
class StatsReport(_Scope):
    """Item sizes, the largest items and partition-key skew over the items read."""

    bytes: int = 0
    min_size: int = 0
    max_size: int = 0
    histogram: tuple[SizeBucket, ...] = ()
    largest: tuple[LargeItem, ...] = ()
    partition_key: str = ""
    sort_key: str | None = None
    spread: KeySpread = field(
        default_factory=lambda: KeySpread(0, 0, 0, 0, 0, 0.0, ()),
    )
    top_by_items: tuple[HotKey, ...] = ()
    top_by_bytes: tuple[HotKey, ...] = ()

    @property
    def mean_size(self) -> float:
        return self.bytes / self.items if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._scope_dict(),
            "bytes": self.bytes,
            "item_size": {
                "min": self.min_size,
                "mean": round(self.mean_size, 3),
                "max": self.max_size,
            },
            "histogram": [b.to_dict() for b in self.histogram],
            "largest": [i.to_dict() for i in self.largest],
            "partition_key": self.partition_key,
            "sort_key": self.sort_key,
            "items_per_partition_key": self.spread.to_dict(),
            "top_by_items": [k.to_dict() for k in self.top_by_items],
            "top_by_bytes": [k.to_dict() for k in self.top_by_bytes],
        }


# -- collectors: the aggregation, fed raw wire items ---------------------------------------------


class SchemaCollector:
    """Counts, per top-level attribute, the items holding it by type, and keeps one example each."""

    def __init__(self) -> None:
        self.items = 0
        self._types: dict[str, dict[str, int]] = {}
        self._examples: dict[str, dict[str, str]] = {}

    def add(self, items: Sequence[Wire]) -> None:
        """Count raw wire items (``{"age": {"N": "30"}}``)."""
        types = self._types
        for item in items:
            for name, value in item.items():
                (tag,) = value  # a wire value has exactly one type key
                seen = types.get(name)
                if seen is None:
                    types[name] = {tag: 1}
                    self._examples[name] = {tag: example(value)}
                elif tag in seen:
                    seen[tag] += 1
                else:
                    seen[tag] = 1
                    self._examples[name][tag] = example(value)
        self.items += len(items)

    def report(
        self,
        *,
        table: str,
        key_marks: Mapping[str, tuple[str, ...]] | None = None,
        complete: bool = True,
        sample: int | None = None,
        table_items_estimate: int | None = None,
    ) -> SchemaReport:
        marks = key_marks or {}
        summaries = []
        for name, counts in self._types.items():
            held = sum(counts.values())
            ordered = dict(sorted(counts.items(), key=lambda kv: (-kv[1], TYPES.index(kv[0]))))
            summaries.append(
                AttributeSummary(
                    name=name,
                    count=held,
                    types=ordered,
                    fill_rate=held / self.items if self.items else 0.0,
                    examples={t: self._examples[name][t] for t in ordered},
                    key=marks.get(name, ()),
                )
            )
        rank = {name: i for i, name in enumerate(marks)}
        summaries.sort(key=lambda a: (rank.get(a.name, len(rank)), -a.count, a.name))
        return SchemaReport(
            table=table,
            items=self.items,
            complete=complete,
            sample=sample,
            table_items_estimate=(
                self.items if table_items_estimate is None else table_items_estimate
            ),
            attributes=tuple(summaries),
        )


class StatsCollector:
    """Sizes into buckets, the largest items in a bounded heap, items and bytes per partition key.

    Feed it raw wire items with :meth:`add`; :meth:`report` may be asked at any time.
    """

    def __init__(self, keys: KeySchema, *, top: int = TOP) -> None:
        self.keys = keys
        self.top = top
        self.items = 0
        self.bytes = 0
        self.min_size: int | None = None
        self.max_size = 0
        self._bucket_items = [0] * len(SIZE_BUCKETS)
        self._bucket_bytes = [0] * len(SIZE_BUCKETS)
        # A min-heap of (size, -order, key): the smallest of the largest is evicted first, and
        # of equal sizes the later item goes first, so the earliest seen stay.
        self._largest: list[tuple[int, int, dict[str, Any]]] = []
        # Keyed by the raw value text (S, N as DynamoDB writes it, B as base64): one type per table.
        self._key_items: dict[Any, int] = {}
        self._key_bytes: dict[Any, int] = {}

    def add(self, items: Sequence[Wire]) -> None:
        """Measure raw wire items."""
        pk = self.keys.partition_key.name
        names = self.keys.names
        key_items = self._key_items
        key_bytes = self._key_bytes
        largest = self._largest
        for item in items:
            size = item_size(item)
            self.items += 1
            self.bytes += size
            if self.min_size is None or size < self.min_size:
                self.min_size = size
            if size > self.max_size:
                self.max_size = size
            bucket = bisect.bisect_right(_UPPER_BOUNDS, size)
            self._bucket_items[bucket] += 1
            self._bucket_bytes[bucket] += size
            if len(largest) < self.top:
                heapq.heappush(largest, (size, -self.items, _key_of(item, names)))
            elif largest and size > largest[0][0]:
                heapq.heapreplace(largest, (size, -self.items, _key_of(item, names)))
            value = item.get(pk)
            if value is None:  # a scan of a table always has its keys; be safe anyway
                continue
            (raw,) = value.values()
            key_items[raw] = key_items.get(raw, 0) + 1
            key_bytes[raw] = key_bytes.get(raw, 0) + size

    def report(
        self,
        *,
        table: str,
        complete: bool = True,
        sample: int | None = None,
        table_items_estimate: int | None = None,
    ) -> StatsReport:
        histogram = tuple(
            SizeBucket(low, high, self._bucket_items[i], self._bucket_bytes[i])
            for i, (low, high) in enumerate(SIZE_BUCKETS)
        )
        largest = tuple(
            LargeItem(from_item(key), size)
            for size, _, key in sorted(self._largest, key=lambda e: (-e[0], -e[1]))
        )
        pk = self.keys.partition_key
        return StatsReport(
            table=table,
            items=self.items,
            complete=complete,
            sample=sample,
            table_items_estimate=(
                self.items if table_items_estimate is None else table_items_estimate
            ),
            bytes=self.bytes,
            min_size=self.min_size or 0,
            max_size=self.max_size,
            histogram=histogram,
            largest=largest,
            partition_key=pk.name,
            sort_key=self.keys.sort_key.name if self.keys.sort_key else None,
            spread=_spread(self._key_items),
            top_by_items=self._hottest(self._key_items),
            top_by_bytes=self._hottest(self._key_bytes),
        )

    def _hottest(self, counts: Mapping[Any, int]) -> tuple[HotKey, ...]:
        tag = self.keys.partition_key.type
        top = heapq.nlargest(self.top, counts.items(), key=lambda kv: kv[1])
        return tuple(
            HotKey(
                value=from_attribute({tag: raw}),
                items=self._key_items[raw],
                bytes=self._key_bytes[raw],
                item_share=self._key_items[raw] / self.items if self.items else 0.0,
                byte_share=self._key_bytes[raw] / self.bytes if self.bytes else 0.0,
            )
            for raw, _ in top
        )


def _key_of(item: Wire, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}


def _spread(key_items: Mapping[Any, int]) -> KeySpread:
    counts = sorted(key_items.values())
    if not counts:
        return KeySpread(0, 0, 0, 0, 0, 0.0, ())
    return KeySpread(
        distinct=len(counts),
        min=counts[0],
        median=_nearest_rank(counts, 0.5),
        p90=_nearest_rank(counts, 0.9),
        max=counts[-1],
        mean=sum(counts) / len(counts),
        buckets=_count_buckets(counts),
    )


def _nearest_rank(ordered: Sequence[int], q: float) -> int:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _count_buckets(ordered: Sequence[int]) -> tuple[CountBucket, ...]:
    """Keys by item count in powers of two (1, 2-3, 4-7 ...) up to the largest count."""
    buckets = []
    low = 1
    while low <= ordered[-1]:
        high = 2 * low - 1
        keys = bisect.bisect_right(ordered, high) - bisect.bisect_left(ordered, low)
        buckets.append(CountBucket(low, high, keys))
        low *= 2
    return tuple(buckets)


def example(value: Mapping[str, Any]) -> str:
    """A raw wire value as short plain JSON: ``{"N": "30"}`` -> ``30``, cut at 60 characters."""
    text = dumps_plain(from_attribute(value))
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


# -- reading the table ----------------------------------------------------------------------------


class _PageSource(Protocol):
    """What the walk needs of an ``ItemIterator``: raw pages and whether segments remain."""

    def raw_pages(self) -> Iterator[RawPage]: ...

    @property
    def cursor(self) -> str | None: ...


def walk(
    source: _PageSource,
    consume: Callable[[Sequence[Wire]], None],
    *,
    sample: int | None,
    progress: Progress | None = None,
) -> bool:
    """Feed raw items page by page to ``consume``, stopping after ``sample`` of them.

    Return whether every item was read (the scan reached the table's end).
    """
    taken = 0
    pages = source.raw_pages()
    try:
        for page in pages:
            items: Sequence[Wire] = page.items
            stop = sample is not None and taken + len(items) >= sample
            if stop:
                assert sample is not None
                items = page.items[: sample - taken]
            consume(items)
            taken += len(items)
            if progress is not None and items:
                progress(len(items))
            if stop:
                # Complete only when this page's last item was the table's last item.
                return len(items) == len(page.items) and source.cursor is None
    finally:
        # Closing the generator now (not at garbage collection) stops the segment threads.
        close = getattr(pages, "close", None)
        if close is not None:
            close()
    return True


def _check_sample(sample: int | None) -> None:
    if sample is not None and (isinstance(sample, bool) or sample < 1):
        raise ValidationError("sample must be 1 or more items (or None to read every item)")


def _scan(
    table: TableSource, sample: int | None, segments: int | None, rate_limit: float | None
) -> _PageSource:
    # A sample fits in a page or two: one segment unless asked, since each segment reads at
    # least one page of its own.
    if segments is None and sample is not None:
        segments = 1
    return table.scan(segments=segments, rate_limit=rate_limit)


def key_marks(info: TableInfo) -> dict[str, tuple[str, ...]]:
    """Attribute name -> its key roles: "PK"/"SK" of the table, "<index> PK"/"<index> SK"."""
    marks: dict[str, list[str]] = {}
    marks.setdefault(info.partition_key.name, []).append("PK")
    if info.sort_key is not None:
        marks.setdefault(info.sort_key.name, []).append("SK")
    for index in info.indexes:
        marks.setdefault(index.partition_key.name, []).append(f"{index.name} PK")
        if index.sort_key is not None:
            marks.setdefault(index.sort_key.name, []).append(f"{index.name} SK")
    return {name: tuple(roles) for name, roles in marks.items()}


def table_schema(
    table: TableSource,
    *,
    sample: int | None = DEFAULT_SAMPLE,
    segments: int | None = None,
    rate_limit: float | None = None,
    progress: Progress | None = None,
) -> SchemaReport:
    """Every top-level attribute of the first ``sample`` items (``None``: all), with its types.

    ``progress(n)`` is called with the number of items of each page read.
    """
    _check_sample(sample)
    info = table.info()
    collector = SchemaCollector()
    complete = walk(
        _scan(table, sample, segments, rate_limit),
        collector.add,
        sample=sample,
        progress=progress,
    )
    return collector.report(
        table=table.name,
        key_marks=key_marks(info),
        complete=complete,
        sample=sample,
        table_items_estimate=collector.items if complete else info.item_count,
    )


def table_stats(
    table: TableSource,
    *,
    sample: int | None = DEFAULT_SAMPLE,
    segments: int | None = None,
    rate_limit: float | None = None,
    progress: Progress | None = None,
) -> StatsReport:
    """Item sizes, the largest items and partition-key skew of the first ``sample`` items.

    ``sample=None`` reads every item; memory then grows with the distinct partition keys only.
    """
    _check_sample(sample)
    info = table.info()
    collector = StatsCollector(info.keys)
    complete = walk(
        _scan(table, sample, segments, rate_limit),
        collector.add,
        sample=sample,
        progress=progress,
    )
    return collector.report(
        table=table.name,
        complete=complete,
        sample=sample,
        table_items_estimate=collector.items if complete else info.item_count,
    )


# -- sizes as text --------------------------------------------------------------------------------


def _unit(size: int) -> tuple[str, str]:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return (f"{value:.0f}" if value == int(value) else f"{value:.1f}"), unit
    return str(size), "B"


def size_range(low: int, high: int) -> str:
    """``0-256 B``, ``256 B-1 KB``, ``64-400 KB`` (en dash): one unit where both ends share it."""
    low_text, low_unit = _unit(low)
    high_text, high_unit = _unit(high)
    if low == 0 or low_unit == high_unit:
        return f"{low_text}{DASH}{high_text} {high_unit}"
    return f"{low_text} {low_unit}{DASH}{high_text} {high_unit}"


# -- the picture ----------------------------------------------------------------------------------


def require_plot() -> None:
    """Raise MissingExtraError unless matplotlib (``ddbkit[plot]``) is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "plot") from exc


def check_plot_path(path: str | Path) -> Path:
    """The path as a Path if a plot can be written there (a known suffix, an existing folder)."""
    target = Path(path)
    if target.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise ValidationError(f"a plot file must end in .png, .svg or .pdf, not {target.name!r}")
    if not target.parent.is_dir():
        raise ValidationError(f"cannot write the plot: folder {target.parent} does not exist")
    return target


def plot_stats(report: StatsReport, path: str | Path) -> Path:
    """Draw a stats report (sizes, items per key, hottest keys) to a png, svg or pdf file.

    Uses matplotlib's Agg canvas directly (no pyplot, no display, no global state). The file is
    written under a temporary name and renamed into place.
    """
    target = check_plot_path(path)
    kind = target.suffix.lower().lstrip(".")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "plot") from exc

    figure = Figure(figsize=(13, 12), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(f"{report.table}: {report.scope}, {format_bytes(report.bytes)}", fontsize=13)
    panels = figure.subplot_mosaic(
        [["sizes", "spread"], ["items", "bytes"], ["largest", "largest"]],
        height_ratios=[1, 1, 0.8],
    )
    _plot_sizes(panels["sizes"], report)
    _plot_spread(panels["spread"], report)
    _plot_hot(panels["items"], report.top_by_items, report, by_bytes=False)
    _plot_hot(panels["bytes"], report.top_by_bytes, report, by_bytes=True)
    _plot_largest(panels["largest"], report)

    # Opened like any file (not mkstemp, whose 0600 would outlive the rename).
    partial = target.with_name(f".{target.name}.ddbkit-partial")
    try:
        with partial.open("wb") as out:
            figure.savefig(out, format=kind)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return target


_BAR = "#4878a8"
_HOT = "#c8553d"


def _plot_sizes(axes: Axes, report: StatsReport) -> None:
    labels = [b.label for b in report.histogram]
    counts = [b.items for b in report.histogram]
    bars = axes.bar(labels, counts, color=_BAR)
    axes.bar_label(
        bars,
        labels=[f"{c:,}\n{c / report.items:.1%}" if report.items else "0" for c in counts],
        fontsize=8,
    )
    axes.set_title(
        f"Item sizes (min {format_bytes(report.min_size)}, mean "
        f"{format_bytes(report.mean_size)}, max {format_bytes(report.max_size)})"
    )
    axes.set_ylabel("items")
    axes.yaxis.set_major_formatter(_thousands())
    axes.margins(y=0.2)
    axes.tick_params(axis="x", labelsize=8)


def _plot_spread(axes: Axes, report: StatsReport) -> None:
    spread = report.spread
    buckets = spread.buckets
    bars = axes.bar([b.label for b in buckets], [b.keys for b in buckets], color=_BAR)
    axes.bar_label(bars, labels=[f"{b.keys:,}" for b in buckets], fontsize=8)
    axes.set_title(
        f"Items per partition key: {spread.distinct:,} distinct {report.partition_key} values\n"
        f"min {spread.min:,}, median {spread.median:,}, p90 {spread.p90:,}, max {spread.max:,}"
    )
    axes.set_xlabel(f"items per {report.partition_key} value")
    axes.set_ylabel("partition keys")
    axes.yaxis.set_major_formatter(_thousands())
    axes.margins(y=0.15)
    axes.tick_params(axis="x", labelsize=8, labelrotation=30 if len(buckets) > 8 else 0)


def _plot_hot(axes: Axes, hot: Sequence[HotKey], report: StatsReport, *, by_bytes: bool) -> None:
    what = "bytes" if by_bytes else "items"
    axes.set_title(f"Hottest partition keys by {what}")
    if not hot:
        axes.text(0.5, 0.5, "no items", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    shown = list(reversed(hot))  # barh draws bottom-up: the hottest on top
    counts = [k.bytes if by_bytes else k.items for k in shown]
    shares = [k.byte_share if by_bytes else k.item_share for k in shown]
    unit, scale = ("items", 1)
    if by_bytes:
        largest = max(counts)
        unit, scale = ("MB", 1024 * 1024) if largest >= 1024 * 1024 else ("KB", 1024)
        if largest < 1024:
            unit, scale = ("bytes", 1)
    bars = axes.barh(
        [_short_label(k.value) for k in shown], [c / scale for c in counts], color=_HOT
    )
    texts = [
        f"{format_bytes(c) if by_bytes else f'{c:,}'}  ({s:.1%})"
        for c, s in zip(counts, shares, strict=True)
    ]
    axes.bar_label(bars, labels=texts, fontsize=8, padding=3)
    axes.set_xlabel(f"{unit} (share of all read in brackets)")
    axes.xaxis.set_major_formatter(_thousands())
    axes.set_ylabel(report.partition_key)
    axes.margins(x=0.25)
    axes.tick_params(axis="y", labelsize=8)


def _plot_largest(axes: Axes, report: StatsReport) -> None:
    axes.set_title(f"Largest items (top {len(report.largest)})")
    if not report.largest:
        axes.text(0.5, 0.5, "no items", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    shown = list(reversed(report.largest))
    labels = [
        _short_label(", ".join(f"{n}={_short_label(v, 30)}" for n, v in i.key.items()), 60)
        for i in shown
    ]
    bars = axes.barh(labels, [i.size / 1024 for i in shown], color=_BAR)
    axes.bar_label(bars, labels=[format_bytes(i.size) for i in shown], fontsize=8, padding=3)
    axes.set_xlabel("KB (DynamoDB's item size; an item holds at most 400 KB)")
    axes.xaxis.set_major_formatter(_thousands())
    axes.margins(x=0.12)
    axes.tick_params(axis="y", labelsize=8)


def _thousands() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _position: f"{value:,.0f}" if value >= 10 else f"{value:g}")


def _short_label(value: Any, width: int = 24) -> str:
    text = value if isinstance(value, str) else dumps_plain(value).strip('"')
    return text if len(text) <= width else text[: width - 1] + "…"
