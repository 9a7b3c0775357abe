"""ddbkit tables | info | create-table | delete-table."""

from __future__ import annotations

import sys

import click

import ddbkit
from ddbkit.errors import ValidationError
from ddbkit.models import STATS_NOTE, TableInfo, format_bytes
from ddbkit.present import parse_key_arg

from .output import choose_format, explicit_format, write_items, write_record
from .report import safe
from .state import state


@click.command("tables")
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    default=None,
    help="One name a line (default), json, jsonl or csv.",
)
def tables(output: str | None) -> None:
    """List every table of the endpoint."""
    names = state().db().tables()
    fmt = choose_format(output)
    if fmt == "json":
        write_record({"tables": names}, "json")
    elif fmt == "table":
        for name in names:
            click.echo(name)
        if not names:
            click.echo("(no tables)", err=True)
    else:
        write_items(({"name": n} for n in names), fmt)


@click.command("info")
@click.argument("table")
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "jsonl"]),
    default=None,
    help="Readable text (default) or json.",
)
def info(table: str, output: str | None) -> None:
    """Show a table: keys, indexes, capacity, TTL, streams, size and a full-scan estimate."""
    described = state().table(table).info()
    if explicit_format(output) in ("json", "jsonl"):
        write_record(described.to_dict(), "json")
    else:
        click.echo(safe(render_info(described)))


def render_info(info: TableInfo) -> str:
    """The readable form of ``ddbkit info``."""
    estimate = info.scan_estimate
    sk = str(info.sort_key) if info.sort_key else "-"
    capacity = (
        f"{info.read_capacity} RCU / {info.write_capacity} WCU"
        if info.billing_mode == "PROVISIONED"
        else "on demand"
    )
    ttl = f"{info.ttl_attribute} ({info.ttl_status})" if info.ttl_attribute else "off"
    stream = f"on ({info.stream_view_type})" if info.stream_enabled else "off"
    created = info.created_at.isoformat(timespec="seconds") if info.created_at else "-"
    lines = [
        f"table {info.name} ({info.status})",
        f"  partition key        {info.partition_key}",
        f"  sort key             {sk}",
        f"  billing              {info.billing_mode}, {capacity}",
        f"  items                {info.item_count:,}  *",
        f"  size                 {format_bytes(info.size_bytes)}  *",
        f"  full scan estimate   {estimate.pages:,} page(s) of 1 MB, "
        f"{estimate.read_capacity_units:,} RCU (eventually consistent)",
        f"  TTL                  {ttl}",
        f"  stream               {stream}",
        f"  created              {created}",
        f"  deletion protection  {'on' if info.deletion_protection else 'off'}",
    ]
    if info.indexes:
        lines.append("indexes")
        for index in info.indexes:
            keys = str(index.partition_key) + (f", {index.sort_key}" if index.sort_key else "")
            projection = index.projection
            if index.projected_attributes:
                projection += f" ({', '.join(index.projected_attributes)})"
            count = f"{index.item_count:,} items" if index.item_count is not None else "? items"
            lines.append(
                f"  {index.kind} {index.name}: {keys}; projects {projection}; "
                f"{index.status}; {count}"
            )
    else:
        lines.append("indexes              none")
    lines.append(f"* approximate: {STATS_NOTE}")
    return "\n".join(lines)


@click.command("create-table")
@click.argument("name")
@click.option("--pk", "pk", required=True, metavar="ATTR:TYPE", help="Partition key, e.g. id:S.")
@click.option("--sk", "sk", metavar="ATTR:TYPE", help="Sort key, e.g. ts:N.")
@click.option(
    "--gsi", multiple=True, metavar="NAME:ATTR:TYPE[:ATTR:TYPE]", help="Global secondary index."
)
@click.option(
    "--lsi", multiple=True, metavar="NAME:ATTR:TYPE:ATTR:TYPE", help="Local secondary index."
)
@click.option("--ttl", metavar="ATTR", help="Attribute holding each item's expiry (epoch seconds).")
@click.option(
    "--billing",
    type=click.Choice(["PAY_PER_REQUEST", "PROVISIONED"], case_sensitive=False),
    default="PAY_PER_REQUEST",
    show_default=True,
    help="On-demand, or provisioned with --rcu and --wcu.",
)
@click.option("--rcu", type=click.IntRange(min=1), help="Read capacity (PROVISIONED).")
@click.option("--wcu", type=click.IntRange(min=1), help="Write capacity (PROVISIONED).")
@click.option("--no-wait", is_flag=True, help="Return before the table is ACTIVE.")
def create_table(
    name: str,
    pk: str,
    sk: str | None,
    gsi: tuple[str, ...],
    lsi: tuple[str, ...],
    ttl: str | None,
    billing: str,
    rcu: int | None,
    wcu: int | None,
    no_wait: bool,
) -> None:
    """Create a table.

    Example: create-table orders --pk customer:S --sk date:S --gsi by_status:status:S
    """
    if (rcu is None) != (wcu is None):
        raise ValidationError("give both --rcu and --wcu")
    parse = ddbkit.IndexSpec.parse
    indexes = [parse(g) for g in gsi] + [parse(x, local=True) for x in lsi]
    state().db().create_table(
        name,
        partition_key=parse_key_arg(pk, "--pk"),
        sort_key=parse_key_arg(sk, "--sk") if sk else None,
        indexes=indexes,
        billing=billing,
        capacity=(rcu, wcu) if rcu is not None and wcu is not None else None,
        ttl=ttl,
        wait=not no_wait,
    )
    click.echo(f"created table {name}" + ("" if no_wait else " (ACTIVE)"))


@click.command("delete-table")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Delete without asking.")
def delete_table(name: str, yes: bool) -> None:
    """Delete a table and every item in it."""
    if not yes:
        if not sys.stdin.isatty():
            raise ValidationError(
                f"refusing to delete table {name!r} without confirmation: add --yes"
            )
        typed = click.prompt(
            f"This deletes table {name!r} and all its items. Type its name to confirm"
        )
        if typed != name:
            raise ValidationError("the name did not match; nothing was deleted")
    state().db().delete_table(name)
    click.echo(f"deleted table {name}")


COMMANDS = [tables, info, create_table, delete_table]
