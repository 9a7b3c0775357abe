"""ddbkit get | put | delete | update: one item at a time, by key."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ddbkit.errors import ValidationError
from ddbkit.present import dumps_plain

from .args import parse_item, parse_key, parse_params, read_items, split_attributes
from .flags import output_options, param_option
from .output import choose_format, write_item
from .state import state

if TYPE_CHECKING:
    from ddbkit import Table

KEY_HELP = "KEY is NAME=VALUE per key attribute (typed by the key schema) or a JSON object."


@click.command("get", epilog=KEY_HELP)
@click.argument("table")
@click.argument("key", nargs=-1, required=True)
@click.option("--consistent", is_flag=True, help="Strongly consistent read.")
@click.option("--attributes", metavar="A,B.C", help="Only these attributes (paths).")
@output_options
def get(
    table: str,
    key: tuple[str, ...],
    consistent: bool,
    attributes: str | None,
    output: str | None,
    typed: bool,
) -> None:
    """Print the item with this key; exit 1 if there is none."""
    t = state().table(table)
    item = t.get(
        parse_key(key, t.keys), consistent=consistent, attributes=split_attributes(attributes)
    )
    if item is None:
        click.echo(f"no item with that key in table {table!r}", err=True)
        sys.exit(1)
    write_item(item, choose_format(output), typed=typed, first=t.keys.names)


@click.command("put")
@click.argument("table")
@click.argument("item", required=False)
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    help="JSON Lines file of items ('-' for stdin).",
)
@click.option("--if", "condition", metavar="CONDITION", help="Write only if this holds.")
@click.option("--typed", is_flag=True, help='Items are DynamoDB JSON ({"S": ...}).')
@param_option
def put(
    table: str,
    item: str | None,
    file: Path | None,
    condition: str | None,
    typed: bool,
    params: tuple[str, ...],
) -> None:
    """Write items: one JSON object as ITEM, or JSON Lines from --file or stdin."""
    t = state().table(table)
    bound = parse_params(params, t.info, condition)
    if item is not None and item != "-":
        if file is not None:
            raise ValidationError("give ITEM or --file, not both")
        t.put(parse_item(item, typed=typed), condition=condition, params=bound)
        click.echo("put 1 item", err=True)
        return
    if file is None or str(file) == "-":
        if sys.stdin.isatty() and item is None:
            raise ValidationError("give an item as JSON, --file FILE, or JSON Lines on stdin")
        items = read_items(sys.stdin, typed=typed, source="stdin")
        written = _put_all(t, items, condition, bound)
    else:
        with file.open(encoding="utf-8") as stream:
            source = read_items(stream, typed=typed, source=str(file))
            written = _put_all(t, source, condition, bound)
    click.echo(f"put {written} item{'s' if written != 1 else ''}", err=True)


def _put_all(
    t: Table,
    items: Iterable[dict[str, Any]],
    condition: str | None,
    params: dict[str, Any] | None,
) -> int:
    count = 0
    for item in items:
        t.put(item, condition=condition, params=params)
        count += 1
    return count


@click.command("delete", epilog=KEY_HELP)
@click.argument("table")
@click.argument("key", nargs=-1)
@click.option("--if", "condition", metavar="CONDITION", help="Delete only if this holds.")
@click.option("--return-old", is_flag=True, help="Print the deleted item.")
@click.option("--where", "-w", help="Delete every item matching this condition instead of one key.")
@click.option("--dry-run", is_flag=True, help="With --where: show the count and sample keys only.")
@click.option(
    "--undo",
    "undo_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --where: where to save the deleted items first "
    "(default: ddbkit-undo-TABLE-TIME.jsonl).",
)
@click.option("--yes", is_flag=True, help="With --where: delete without asking.")
@param_option
@output_options
def delete(
    table: str,
    key: tuple[str, ...],
    params: tuple[str, ...],
    condition: str | None,
    return_old: bool,
    where: str | None,
    dry_run: bool,
    undo_path: Path | None,
    yes: bool,
    output: str | None,
    typed: bool,
) -> None:
    """Delete the item with this key, or with --where every matching item (undo file first)."""
    t = state().table(table)
    bound = parse_params(params, t.info, where, condition)
    if where is not None:
        if key or condition or return_old:
            raise click.UsageError("--where deletes many items: give no KEY, --if or --return-old")
        _delete_where(t, where, bound, dry_run=dry_run, undo_path=undo_path, yes=yes)
        return
    if not key:
        raise click.UsageError("give the KEY of the item to delete, or --where")
    old = t.delete(parse_key(key, t.keys), condition=condition, params=bound, return_old=return_old)
    if return_old:
        if old is None:
            click.echo("there was no item with that key", err=True)
        else:
            write_item(old, choose_format(output), typed=typed, first=t.keys.names)
    else:
        click.echo("deleted", err=True)


@click.command("update", epilog=KEY_HELP)
@click.argument("table")
@click.argument("key", nargs=-1, required=True)
@click.option("--set", "set_", multiple=True, metavar="'PATH = VALUE'", help="SET clause(s).")
@click.option("--add", multiple=True, metavar="'PATH = VALUE'", help="ADD a number or set members.")
@click.option("--remove", multiple=True, metavar="PATH", help="REMOVE attribute(s).")
@click.option(
    "--delete", "delete_", multiple=True, metavar="'PATH = SET'", help="DELETE set members."
)
@click.option("--if", "condition", metavar="CONDITION", help="Update only if this holds.")
@param_option
@output_options
def update(
    table: str,
    key: tuple[str, ...],
    params: tuple[str, ...],
    set_: tuple[str, ...],
    add: tuple[str, ...],
    remove: tuple[str, ...],
    delete_: tuple[str, ...],
    condition: str | None,
    output: str | None,
    typed: bool,
) -> None:
    """Change attributes of an item and print the item as it now is.

    Example: ddbkit update users user_id=u1 --set 'age = 31' --add 'logins = 1' --remove nickname
    """
    t = state().table(table)
    new = t.update(
        parse_key(key, t.keys),
        params=parse_params(params, t.info, condition),
        set=", ".join(set_) or None,
        add=", ".join(add) or None,
        remove=", ".join(remove) or None,
        delete=", ".join(delete_) or None,
        condition=condition,
    )
    write_item(new, choose_format(output), typed=typed, first=t.keys.names)


def _delete_where(
    t: Table,
    where: str,
    params: dict[str, Any] | None,
    *,
    dry_run: bool,
    undo_path: Path | None,
    yes: bool,
) -> None:
    from ddbkit.workflows.maintenance import delete_where, preview_delete

    preview = preview_delete(t, where, params)
    click.echo(f"{preview.count:,} items match", err=True)
    for sample in preview.sample_keys:
        click.echo("  " + dumps_plain(sample), err=True)
    if dry_run or preview.count == 0:
        return
    if not yes:
        raise ValidationError(f"refusing to delete {preview.count:,} items without --yes")
    undo = undo_path or Path(f"ddbkit-undo-{t.name}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    summary = delete_where(t, where, undo_path=undo, params=params)
    click.echo(
        f"deleted {summary.written:,} items; they are saved in {undo} "
        f"(bring them back: ddbkit import {t.name} {undo} --format ddb-json)",
        err=True,
    )


COMMANDS = [get, put, delete, update]
