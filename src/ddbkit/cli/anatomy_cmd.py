"""ddbkit schema | stats: what a table's items hold and how they spread, from a sample or all."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from ddbkit.models import format_bytes
from ddbkit.options import RATE, SEGMENTS
from ddbkit.present import value_cell
from ddbkit.workflows.anatomy import (
    DEFAULT_SAMPLE,
    check_plot_path,
    plot_stats,
    require_plot,
    table_schema,
    table_stats,
)

from .flags import setting_option
from .output import explicit_format, write_record
from .progress import table_progress
from .report import safe
from .state import state

if TYPE_CHECKING:
    from ddbkit import HotKey, SchemaReport, StatsReport

F = TypeVar("F", bound=Callable[..., Any])

BAR_WIDTH = 30
_EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
CELL_CHARS = 40
PIPED_WIDTH = 160


def sample_options(func: F) -> F:
    """How much of the table to read, how fast, and how to print the report."""

    @click.option(
        "--sample",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help=f"Read the first N items in scan order (default {DEFAULT_SAMPLE:,}).",
    )
    @click.option("--full", is_flag=True, help="Read every item (a full scan: costs read units).")
    @setting_option(
        SEGMENTS,
        help="Parallel scan segments (default: 1 for a sample, from the table size with --full).",
    )
    @setting_option(RATE)
    @click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
    @click.option(
        "--output",
        "-o",
        type=click.Choice(["table", "json", "jsonl"]),
        default=None,
        help="table (default, for people), json or jsonl.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _sample(sample: int | None, full: bool) -> int | None:
    if full and sample is not None:
        raise click.UsageError("give --sample N or --full, not both")
    return None if full else (sample or DEFAULT_SAMPLE)


@click.command("schema")
@click.argument("table")
@sample_options
def schema(
    table: str,
    sample: int | None,
    full: bool,
    segments: int | None,
    rcu: float | None,
    quiet: bool,
    output: str | None,
) -> None:
    """Every top-level attribute: its types with counts, fill rate, an example; keys marked.

    An attribute seen with more than one type is flagged as a type conflict; NULL is counted
    and shown but does not make a conflict on its own. Reads the first 1,000 items in scan
    order unless given --sample N or --full.
    """
    limit = _sample(sample, full)
    t = state().table(table)
    with table_progress(f"schema {table}", t, quiet=quiet, sample=limit) as advance:
        report = table_schema(t, sample=limit, segments=segments, rate_limit=rcu, progress=advance)
    fmt = explicit_format(output)
    if fmt in ("json", "jsonl"):
        write_record(report.to_dict(), fmt)
    else:
        render_schema(report, report_console())


@click.command("stats")
@click.argument("table")
@sample_options
@click.option(
    "--plot",
    "plot",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png",
    help="Also draw the report to a picture (png, svg or pdf; needs pip install 'ddbkit[plot]').",
)
def stats(
    table: str,
    sample: int | None,
    full: bool,
    segments: int | None,
    rcu: float | None,
    quiet: bool,
    output: str | None,
    plot: Path | None,
) -> None:
    """Item-size histogram, the largest items, and partition-key skew (hot keys).

    Reads the first 1,000 items in scan order unless given --sample N or --full. A scan returns
    each partition key's items together, so skew over a sample covers only the keys it reached:
    use --full for the real spread.
    """
    limit = _sample(sample, full)
    if plot is not None:
        # Before the scan: a full scan should not end in "matplotlib is missing".
        check_plot_path(plot)
        require_plot()
    t = state().table(table)
    with table_progress(f"stats {table}", t, quiet=quiet, sample=limit) as advance:
        report = table_stats(t, sample=limit, segments=segments, rate_limit=rcu, progress=advance)
    fmt = explicit_format(output)
    if fmt in ("json", "jsonl"):
        write_record(report.to_dict(), fmt)
    else:
        render_stats(report, report_console())
    if plot is not None:
        written = plot_stats(report, plot)
        if not quiet:
            click.echo(f"wrote {written}", err=True)


# -- rendering ------------------------------------------------------------------------------------


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A bar of unicode blocks, ``fraction`` (a share, 0 to 1) of ``width``, to 1/8 of a block.

    Every bar is a share of the whole (items, keys or bytes read), so bars compare across tables.
    """
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    if eighths == 0 and fraction > 0:
        eighths = 1  # something is there: show a sliver, not nothing
    full, part = divmod(eighths, 8)
    return "█" * full + _EIGHTHS[part]


def _percent(share: float) -> str:
    if share == 1:
        return "100%"
    if 0 < share < 0.001:
        return "<0.1%"
    return f"{share:.1%}"


def _short(text: str, width: int = CELL_CHARS) -> str:
    """Cut to ``width``, with control characters shown as escapes (values come from items)."""
    text = safe(text, one_line=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def report_console() -> Console:
    """A console for a report: the terminal's width, or a wide page when piped (no cut cells)."""
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=PIPED_WIDTH)
    return console


def _plain_table(*columns: str, right: Sequence[int] = (), shrink: Sequence[int] = ()) -> RichTable:
    """A borderless table; on a narrow terminal the ``shrink`` columns give way first."""
    grid = RichTable(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for i, name in enumerate(columns):
        grid.add_column(
            name,
            justify="right" if i in right else "left",
            no_wrap=i not in shrink,
            min_width=len(name),
        )
    return grid


def render_schema(report: SchemaReport, console: Console) -> None:
    """The readable form of ``ddbkit schema``."""
    console.print(Text.assemble((report.table, "bold"), f": {report.scope}"))
    if not report.attributes:
        console.print("(no items)")
        return
    any_key = any(a.key for a in report.attributes)
    columns = ["attribute", *(["key"] if any_key else []), "types", "fill", "example"]
    if report.conflicts:
        columns.append("note")
    grid = _plain_table(*columns, right=[columns.index("fill")], shrink=[columns.index("example")])
    for attribute in report.attributes:
        types = ", ".join(f"{kind} {count:,}" for kind, count in attribute.types.items())
        # Names and values are the table's data: Text, never rich markup ("[b]" stays "[b]").
        row: list[str | Text] = [Text(safe(attribute.name, one_line=True))]
        if any_key:
            row.append(Text(", ".join(attribute.key)))
        row += [
            Text(types, style="bold red") if attribute.conflict else types,
            _percent(attribute.fill_rate),
            Text(_short(attribute.example), overflow="ellipsis", no_wrap=True),
        ]
        if report.conflicts:
            row.append(Text("conflict", style="bold red") if attribute.conflict else "")
        grid.add_row(*row)
    console.print(grid)
    conflicts = report.conflicts
    if conflicts:
        console.print(
            Text(
                f"{len(conflicts)} type conflict{'s' if len(conflicts) > 1 else ''}: "
                "an attribute holding more than one type (NULL is not counted as one)",
                style="bold",
            )
        )
        for attribute in conflicts:
            seen = ", ".join(
                f"{kind} {count:,} (e.g. {_short(attribute.examples[kind], 24)})"
                for kind, count in attribute.types.items()
            )
            console.print(
                Text(f"  {_short(attribute.name)}: {seen}"), overflow="ellipsis", no_wrap=True
            )
    if not report.complete:
        console.print("--sample N reads more items, --full reads them all")


def render_stats(report: StatsReport, console: Console) -> None:
    """The readable form of ``ddbkit stats``."""
    head = f": {report.scope}, {format_bytes(report.bytes)}"
    if report.items:
        head += (
            f" (item size min {format_bytes(report.min_size)}, mean "
            f"{format_bytes(report.mean_size)}, max {format_bytes(report.max_size)})"
        )
    console.print(Text.assemble((report.table, "bold"), head))
    if not report.items:
        console.print("(no items)")
        return

    console.print(Text("\nitem sizes", style="bold"))
    grid = _plain_table("size", "items", "", "share", right=[1, 3])
    for bucket in report.histogram:
        grid.add_row(
            bucket.label,
            f"{bucket.items:,}",
            Text(bar(bucket.items / report.items), style="cyan"),
            _percent(bucket.items / report.items),
        )
    console.print(grid)

    console.print(Text(f"largest items (top {len(report.largest)})", style="bold"))
    grid = _plain_table("size", "key", right=[0], shrink=[1])
    for large in report.largest:
        grid.add_row(format_bytes(large.size), _key_text(large.key))
    console.print(grid)

    spread = report.spread
    console.print(
        Text.assemble(
            ("partition key ", "bold"),
            (report.partition_key, "bold"),
            f": {spread.distinct:,} distinct values; items per key: min {spread.min:,}, "
            f"median {spread.median:,}, p90 {spread.p90:,}, max {spread.max:,}",
        )
    )
    if report.sort_key is None:
        console.print("no sort key: every partition key holds exactly one item")
    else:
        grid = _plain_table("items per key", "keys", "", "share", right=[0, 1, 3])
        for count in spread.buckets:
            share = count.keys / spread.distinct
            grid.add_row(count.label, f"{count.keys:,}", Text(bar(share), "cyan"), _percent(share))
        console.print(grid)
        _render_hot(console, "hottest partition keys by items", report.top_by_items, False)
    _render_hot(console, "hottest partition keys by bytes", report.top_by_bytes, True)
    if not report.complete:
        console.print(
            "a sample holds only the partition keys the scan reached first: "
            "--full gives the real spread"
        )


def _render_hot(console: Console, title: str, hot: Sequence[HotKey], by_bytes: bool) -> None:
    console.print(Text(title, style="bold"))
    grid = _plain_table("value", "items", "bytes", "share", "", right=[1, 2, 3])
    for key in hot:
        share = key.byte_share if by_bytes else key.item_share
        grid.add_row(
            Text(_short(value_cell(key.value))),
            f"{key.items:,}",
            format_bytes(key.bytes),
            _percent(share),
            Text(bar(share), style="red"),
        )
    console.print(grid)


def _key_text(key: Mapping[str, Any]) -> Text:
    return Text(", ".join(f"{name}={_short(value_cell(value), 30)}" for name, value in key.items()))


COMMANDS = [schema, stats]
