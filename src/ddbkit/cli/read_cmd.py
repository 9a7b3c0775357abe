"""ddbkit query | scan | find | count: many items, lazily over every page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ddbkit.options import LIMIT, RATE, SEGMENTS

from .args import parse_params, split_attributes
from .flags import output_options, param_option, setting_option
from .output import choose_format, explicit_format, write_items, write_record
from .state import state

if TYPE_CHECKING:
    from ddbkit import ItemIterator, Table

F = TypeVar("F", bound=Callable[..., Any])

WHERE_HELP = (
    "Condition, e.g. \"age > 30 AND begins_with(name, 'A')\"; a value from elsewhere goes in "
    "as :NAME with --param NAME=VALUE. Names with odd characters go in `backticks`."
)


def read_options(func: F) -> F:
    """Options shared by every command that reads many items."""

    @param_option
    @setting_option(LIMIT)
    @click.option("--attributes", metavar="A,B.C", help="Only these attributes (paths).")
    @click.option("--consistent", is_flag=True, help="Strongly consistent reads.")
    @click.option(
        "--cursor", "show_cursor", is_flag=True, help="Print the resume cursor on stderr."
    )
    @click.option("--start", metavar="CURSOR", help="Resume from a cursor printed by --cursor.")
    @output_options
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _print(
    t: Table, items: ItemIterator, output: str | None, typed: bool, show_cursor: bool
) -> None:
    write_items(items, choose_format(output), typed=typed, first_columns=t.keys.names)
    if show_cursor:
        click.echo(
            f"cursor: {items.cursor}" if items.cursor else "cursor: none (all items read)", err=True
        )


@click.command("query")
@click.argument("table")
@click.option("--where", "-w", required=True, help=WHERE_HELP + " Needs partition key = value.")
@click.option("--index", help="Query this GSI or LSI instead of the table.")
@click.option("--reverse", is_flag=True, help="Descending sort-key order.")
@read_options
def query(
    table: str,
    where: str,
    index: str | None,
    reverse: bool,
    limit: int | None,
    attributes: str | None,
    consistent: bool,
    show_cursor: bool,
    start: str | None,
    params: tuple[str, ...],
    output: str | None,
    typed: bool,
) -> None:
    """Items by key condition: partition key equality plus an optional sort-key condition."""
    t = state().table(table)
    items = t.query(
        where,
        params=parse_params(params, t.info, where),
        index=index,
        limit=limit,
        reverse=reverse,
        attributes=split_attributes(attributes),
        consistent=consistent,
        start=start,
    )
    _print(t, items, output, typed, show_cursor)


@click.command("scan")
@click.argument("table")
@click.option("--where", "-w", help=WHERE_HELP)
@click.option("--index", help="Scan this GSI or LSI instead of the table.")
@setting_option(SEGMENTS)
@setting_option(RATE)
@read_options
def scan(
    table: str,
    where: str | None,
    index: str | None,
    segments: int | None,
    rcu: float | None,
    limit: int | None,
    attributes: str | None,
    consistent: bool,
    show_cursor: bool,
    start: str | None,
    params: tuple[str, ...],
    output: str | None,
    typed: bool,
) -> None:
    """Every item of the table (or index), filtered by --where on every page."""
    t = state().table(table)
    items = t.scan(
        where,
        params=parse_params(params, t.info, where),
        index=index,
        limit=limit,
        attributes=split_attributes(attributes),
        consistent=consistent,
        start=start,
        segments=segments,
        rate_limit=rcu,
    )
    _print(t, items, output, typed, show_cursor)


@click.command("find")
@click.argument("table")
@click.option("--where", "-w", help=WHERE_HELP)
@click.option("--explain", is_flag=True, help="Show the plan instead of running it.")
@read_options
def find(
    table: str,
    where: str | None,
    explain: bool,
    limit: int | None,
    attributes: str | None,
    consistent: bool,
    show_cursor: bool,
    start: str | None,
    params: tuple[str, ...],
    output: str | None,
    typed: bool,
) -> None:
    """Items matching --where by the cheapest plan: query on the table or an index, else scan."""
    t = state().table(table)
    names = split_attributes(attributes)
    bound = parse_params(params, t.info, where)
    if explain:
        plan = t.explain(where, attributes=names, consistent=consistent, params=bound)
        # A plan is for people: text unless JSON is asked for by name.
        fmt = explicit_format(output)
        if fmt in ("json", "jsonl"):
            write_record(plan.to_dict(), fmt)
        else:
            click.echo(plan.describe())
        return
    items = t.find(
        where, limit=limit, attributes=names, consistent=consistent, start=start, params=bound
    )
    _print(t, items, output, typed, show_cursor)


@click.command("count")
@click.argument("table")
@click.option("--where", "-w", help=WHERE_HELP)
@click.option("--consistent", is_flag=True, help="Strongly consistent reads.")
@setting_option(SEGMENTS)
@setting_option(RATE)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    default=None,
    help='A bare number (default), or json/jsonl {"count": N}.',
)
@param_option
def count(
    table: str,
    where: str | None,
    params: tuple[str, ...],
    consistent: bool,
    segments: int | None,
    rcu: float | None,
    output: str | None,
) -> None:
    """Exact number of items (matching --where), counted over every page."""
    t = state().table(table)
    total = t.count(
        where,
        consistent=consistent,
        segments=segments,
        rate_limit=rcu,
        params=parse_params(params, t.info, where),
    )
    fmt = explicit_format(output)  # a bare number, unless JSON is asked for by name
    if fmt in ("json", "jsonl"):
        write_record({"count": total}, fmt)
    else:
        click.echo(str(total))


COMMANDS = [query, scan, find, count]
