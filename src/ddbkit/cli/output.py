"""Printing items and records in the format of the shared ``--output`` option (cli/flags.py).

Items stream: jsonl and json print each item as it arrives, a terminal table prints in chunks,
and csv spills items to a temporary file while it learns the columns, so no format holds the
whole result in memory. rich is imported only for the table format (it is slow to import).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import click

from ddbkit import present
from ddbkit.present import dumps_plain, dumps_typed, readable_order

from .report import safe

if TYPE_CHECKING:
    from rich.text import Text

TABLE_CHUNK = 100


def explicit_format(requested: str | None) -> str | None:
    """The command's --output, else the global --output, else None."""
    if requested:
        return requested
    ctx = click.get_current_context(silent=True)
    global_choice = ctx.find_root().meta.get("ddbkit.output") if ctx else None
    return str(global_choice) if global_choice else None


def choose_format(requested: str | None) -> str:
    """The command's --output, else the global --output, else table on a terminal, jsonl if not."""
    return explicit_format(requested) or ("table" if sys.stdout.isatty() else "jsonl")


def _json(value: Any, typed: bool, *, indent: bool = False) -> str:
    return dumps_typed(value, indent=indent) if typed else dumps_plain(value, indent=indent)


def cell(value: Any, typed: bool = False) -> Text:
    """One value as a table cell: scalars bare, nested values as JSON (as in CSV).

    A rich Text, never a plain string: rich would read "[b]" in user data as markup; and
    control characters are shown as escapes, never sent to the terminal (cli/report.py).
    """
    from rich.text import Text

    return Text(safe(dumps_typed(value) if typed else present.value_cell(value)))


def write_items(
    items: Iterable[Mapping[str, Any]],
    fmt: str,
    *,
    typed: bool = False,
    first_columns: Sequence[str] = (),
    out: TextIO | None = None,
) -> int:
    """Print items as they arrive, key attributes first; return how many were printed."""
    stream = out or sys.stdout
    items = (readable_order(item, first_columns) for item in items)
    if fmt == "jsonl":
        return _write_jsonl(items, typed, stream)
    if fmt == "json":
        return _write_json_array(items, typed, stream)
    if fmt == "csv":
        return _write_csv(items, typed, first_columns, stream)
    return _write_tables(items, typed, first_columns, stream)


def _write_jsonl(items: Iterable[Mapping[str, Any]], typed: bool, out: TextIO) -> int:
    count = 0
    for item in items:
        out.write(_json(item, typed) + "\n")
        count += 1
    out.flush()
    return count


def _write_json_array(items: Iterable[Mapping[str, Any]], typed: bool, out: TextIO) -> int:
    count = 0
    out.write("[")
    for item in items:
        out.write(("\n  " if count == 0 else ",\n  ") + _json(item, typed))
        count += 1
    out.write("\n]\n" if count else "]\n")
    out.flush()
    return count


def _columns(items: Iterable[Mapping[str, Any]], first: Sequence[str]) -> list[str]:
    """Key attributes first (when present), then every other name in first-seen order."""
    seen: dict[str, None] = {}
    for item in items:
        for name in item:
            seen.setdefault(name, None)
    return [c for c in first if c in seen] + [c for c in seen if c not in first]


def _write_csv(
    items: Iterable[Mapping[str, Any]], typed: bool, first: Sequence[str], out: TextIO
) -> int:
    # The one CSV writer (formats/csv.py): it spills rows to a temporary file until the header,
    # which needs every attribute name, is known; memory stays flat.
    out.flush()
    writer = present.CsvWriter(out.buffer, first_columns=first)
    count = 0
    try:
        for item in items:
            count += writer.write_items(
                [{k: dumps_typed(v) for k, v in item.items()} if typed else item]
            )
    except BaseException:
        writer.discard()
        raise
    writer.close()
    out.buffer.flush()
    return count


def _write_tables(
    items: Iterable[Mapping[str, Any]], typed: bool, first: Sequence[str], out: TextIO
) -> int:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    console = Console(file=out, soft_wrap=False)
    count = 0
    for chunk in _chunks(items, TABLE_CHUNK):
        columns = _columns(chunk, first)
        table = RichTable(show_lines=False, header_style="bold")
        for name in columns:
            table.add_column(Text(safe(name, one_line=True)), overflow="fold")
        for item in chunk:
            table.add_row(*[cell(item[c], typed) if c in item else "" for c in columns])
        console.print(table)
        count += len(chunk)
    if count == 0:
        console.print("(no items)")
    return count


def _chunks(items: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_item(
    item: Mapping[str, Any], fmt: str, *, typed: bool = False, first: Sequence[str] = ()
) -> None:
    """One item (e.g. from get): pretty JSON, one JSON line, a CSV row, or a two-column table."""
    item = readable_order(item, first)
    if fmt == "json":
        click.echo(_json(item, typed, indent=True))
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table as RichTable
        from rich.text import Text

        table = RichTable(show_header=True, header_style="bold")
        table.add_column("attribute")
        table.add_column("value", overflow="fold")
        for name, value in item.items():
            table.add_row(Text(safe(name, one_line=True)), cell(value, typed))
        Console(soft_wrap=False).print(table)
    else:
        write_items([item], fmt, typed=typed, first_columns=first)


def write_record(record: Mapping[str, Any], fmt: str) -> None:
    """A plain record that is not an item (e.g. a count or a plan) as JSON or a table."""
    if fmt == "json":
        click.echo(dumps_plain(record, indent=True))
    elif fmt == "jsonl":
        click.echo(dumps_plain(record))
    else:
        write_items([record], fmt)
