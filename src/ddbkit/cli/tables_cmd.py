"""ddbkit tables | info | create-table | delete-table."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click

import ddbkit
from ddbkit.errors import ValidationError
from ddbkit.models import STATS_NOTE, TableInfo, format_bytes
from ddbkit.present import parse_key_arg

from .output import choose_format, explicit_format, write_items, write_record
from .progress import show_progress, step_progress
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


def _on_off(value: str | None) -> bool | None:
    return None if value is None else value == "on"


def _projection(text: str | None) -> str | list[str]:
    """--projection all|keys|ATTR,..."""
    if text is None or text.lower() == "all":
        return "ALL"
    if text.lower() == "keys":
        return "KEYS_ONLY"
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValidationError("--projection takes all, keys or attribute names: a,b,c")
    return names


ON_OFF = click.Choice(["on", "off"], case_sensitive=False)


@click.command("alter")
@click.argument("table")
@click.option(
    "--billing",
    type=click.Choice(["on-demand", "provisioned"], case_sensitive=False),
    help="Billing mode; provisioned needs --rcu and --wcu (alone they change its capacity).",
)
@click.option("--rcu", type=click.IntRange(min=1), help="Read capacity (provisioned).")
@click.option("--wcu", type=click.IntRange(min=1), help="Write capacity (provisioned).")
@click.option(
    "--add-gsi",
    multiple=True,
    metavar="NAME:PK[:TYPE][:SK[:TYPE]]",
    help="Add a global index; a key's type (S, N, B) may be left out when the table has the "
    "attribute already. Repeat for more.",
)
@click.option(
    "--projection",
    metavar="all|keys|A,B",
    help="What the added indexes hold: all attributes (default), keys only, or these too.",
)
@click.option("--delete-gsi", multiple=True, metavar="NAME", help="Delete a global index.")
@click.option("--ttl", metavar="ATTR|off", help="Expiry attribute (epoch seconds), or off.")
@click.option(
    "--stream",
    type=click.Choice(["new-and-old", "new", "old", "keys", "off"], case_sensitive=False),
    help="Turn the stream on with this view (what each change record holds), or off.",
)
@click.option("--deletion-protection", type=ON_OFF, help="Refuse DeleteTable while on.")
@click.option("--pitr", type=ON_OFF, help="Point-in-time recovery (continuous backups).")
@click.option("--no-wait", is_flag=True, help="Return before the last change is ACTIVE.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def alter(
    table: str,
    billing: str | None,
    rcu: int | None,
    wcu: int | None,
    add_gsi: tuple[str, ...],
    projection: str | None,
    delete_gsi: tuple[str, ...],
    ttl: str | None,
    stream: str | None,
    deletion_protection: str | None,
    pitr: str | None,
    no_wait: bool,
    quiet: bool,
) -> None:
    """Change a table: billing, global indexes, TTL, stream, deletion protection, PITR.

    Several changes in one call are made in an order DynamoDB accepts, each waited out (table
    ACTIVE, index backfill done).

    Example: alter orders --add-gsi by_status:status:S --stream new-and-old --ttl expires
    """
    if (rcu is None) != (wcu is None):
        raise ValidationError("give both --rcu and --wcu")
    if projection is not None and not add_gsi:
        raise ValidationError("--projection is for the indexes of --add-gsi")
    shape = _projection(projection)
    indexes = [
        dataclasses.replace(ddbkit.IndexSpec.parse(text, typed=False), projection=shape)
        for text in add_gsi
    ]
    changes: dict[str, Any] = {
        "billing": billing,
        "capacity": (rcu, wcu) if rcu is not None and wcu is not None else None,
        "add_indexes": indexes,
        "delete_indexes": list(delete_gsi),
        "ttl": None if ttl is None else (False if ttl.lower() == "off" else ttl),
        "stream": None if stream is None else (False if stream == "off" else stream),
        "deletion_protection": _on_off(deletion_protection),
        "pitr": _on_off(pitr),
    }
    if all(v is None or v == [] for v in changes.values()):
        raise ValidationError("nothing to change: see 'ddbkit alter --help'")
    t = state().table(table)
    with step_progress(f"altering {table}", enabled=show_progress(quiet)) as progress:
        done = t.alter(**changes, wait=not no_wait, progress=progress)
    if done:
        click.echo(f"altered table {table}: " + "; ".join(done))
    else:
        click.echo(f"table {table} is as asked already: nothing changed")


COMMANDS = [tables, info, create_table, delete_table, alter]
