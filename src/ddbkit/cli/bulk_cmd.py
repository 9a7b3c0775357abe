"""ddbkit export | import | copy | truncate: whole tables, fast and without losing an item."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ddbkit.errors import ValidationError
from ddbkit.options import RATE, SEGMENTS, WORKERS, WRITE_RATE, share_segments
from ddbkit.present import EXPORT_FORMATS, IMPORT_FORMATS, format_from_path
from ddbkit.workflows.maintenance import copy_table, load_transform, truncate

from .args import parse_params, split_attributes
from .flags import Elsewhere, elsewhere_options, param_option, setting_option, share_option
from .progress import progress_bar, show_progress, table_progress
from .report import print_summary
from .state import state

EXPORT_HELP = """Write every item (matching --where) to a file, reading segments in parallel.

\b
Formats:
  jsonl     one plain JSON item per line: exact numbers, sets as sorted lists, binary as
            base64. 'import' reads it back; sets and binary come back as lists and strings
            unless told the types (--types tags:SS,avatar:B).
  ddb-json  one {"Item": {...}} per line in DynamoDB JSON, the layout of DynamoDB's own export
            to S3: the lossless round trip.
  csv       the union of attribute names as columns, nested values as JSON text. CSV loses
            types: numbers, booleans and strings all become text, sets become JSON lists,
            binary becomes base64, and a missing attribute looks like an empty one.
  parquet   columns typed from the values (needs pip install 'ddbkit[parquet]').

The file is written under a temporary name and renamed into place when complete. With
--resume (jsonl, ddb-json) an interrupted export continues where it stopped, every item
exactly once.

\b
Bigger than one machine: each of N hosts exports its own share into its own file,
  host 0:  ddbkit export users --segments 12 --share 0/3 -o users.0.jsonl
  host 1:  ddbkit export users --segments 12 --share 1/3 -o users.1.jsonl
  host 2:  ddbkit export users --segments 12 --share 2/3 -o users.2.jsonl
and the three files hold the table between them, every item once ('import' each part).
"""


@click.command("export", help=EXPORT_HELP)
@click.argument("table")
@click.option(
    "-o", "--to", "target", default=None, metavar="FILE|-", help="Output file (- for stdout)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="Default: from the file name, else jsonl.",
)
@click.option("--where", "-w", help="Only items matching this condition.")
@click.option("--attributes", metavar="A,B.C", help="Only these attributes.")
@setting_option(SEGMENTS)
@share_option
@setting_option(RATE)
@click.option("--resume", is_flag=True, help="Continue an interrupted export of the same file.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@param_option
def export(
    table: str,
    target: str | None,
    fmt: str | None,
    where: str | None,
    params: tuple[str, ...],
    attributes: str | None,
    segments: int | None,
    share: tuple[int, int] | None,
    rcu: float | None,
    resume: bool,
    force: bool,
    quiet: bool,
) -> None:
    if target is None:
        if sys.stdout.isatty():
            raise ValidationError("give a file with -o FILE (or -o - to print to stdout)")
        target = "-"
    chosen = fmt or (format_from_path(target) if target != "-" else None) or "jsonl"
    t = state().table(table)
    # A share reads about its fraction of the table: the bar's total says so.
    part = len(share_segments(segments, share)) / segments if share and segments else None
    with table_progress(f"export {table}", t, quiet=quiet, fraction=part) as advance:
        result = t.export(
            target,
            format=chosen,
            where=where,
            params=parse_params(params, t.info, where),
            attributes=split_attributes(attributes),
            segments=segments,
            share=share,
            rate_limit=rcu,
            resume=resume,
            force=force,
            progress=advance,
        )
    if target != "-" and not quiet:
        resumed = (
            f" ({result.resumed_from:,} from the interrupted run)" if result.resumed_from else ""
        )
        of = f" (share {share[0]}/{share[1]} of {segments} segments)" if share else ""
        click.echo(
            f"exported {result.items:,} items{of}{resumed} to {result.path} in "
            f"{result.elapsed:.1f}s "
            f"({result.items_per_second:,.0f} items/s)",
            err=True,
        )


@click.command("import")
@click.argument("table")
@click.argument("source", metavar="FILE|-")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(IMPORT_FORMATS),
    default=None,
    help="Default: from the file name, else jsonl.",
)
@setting_option(WORKERS, default=8, show_default=True)
@setting_option(WRITE_RATE)
@click.option(
    "--on-error",
    type=click.Choice(["stop", "skip"]),
    default="stop",
    show_default=True,
    help="On an item DynamoDB can never accept: stop reading, or skip it "
    "(both record it in the reject file).",
)
@click.option(
    "--types",
    metavar="ATTR:TYPE,...",
    help="Types for jsonl/csv values, e.g. tags:SS,avatar:B,age:N.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Reject file, a new one (default: FILE.rejects.jsonl, or FILE.rejects.N.jsonl if taken).",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress bar; the summary only if something went wrong."
)
def import_(
    table: str,
    source: str,
    fmt: str | None,
    workers: int,
    wcu: float | None,
    on_error: str,
    types: str | None,
    rejects: Path | None,
    quiet: bool,
) -> None:
    """Write every item of a jsonl, ddb-json or csv file into TABLE (BatchWriteItem, N workers).

    Exit 0 only when every item read was written (or superseded by a later line with the same
    key) and none was rejected; with --on-error skip, rejected items do not fail the run.
    """
    t = state().table(table)
    with progress_bar(f"import {table}", None, enabled=show_progress(quiet)) as advance:
        summary = t.import_file(
            source,
            format=fmt,
            workers=workers,
            rate_limit=wcu,
            on_error=on_error,
            types=parse_types(types),
            reject_path=rejects,
            progress=advance,
        )
    # A shortfall raised IncompleteWriteError above, printed with its summary by the error edge.
    if not quiet:
        print_summary(summary)


def parse_types(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    types: dict[str, str] = {}
    for part in text.split(","):
        name, sep, kind = part.strip().rpartition(":")
        if not sep or not name or not kind:
            raise ValidationError(f"bad --types entry {part!r}: write ATTR:TYPE, e.g. tags:SS")
        types[name] = kind.upper()
    return types


COPY_HELP = """Copy SOURCE's items into TARGET (created with SOURCE's keys and indexes if missing).

TARGET may be somewhere else (--to-endpoint, --to-region, --to-profile, --to-local); --where
copies only the matching items.

\b
--transform MODULE:FUNCTION (or FILE.py:FUNCTION) changes items on the way: the function takes
an item (plain Python values, as Table.get returns them) and returns the item to write, or None
to skip it. An exception it raises rejects that item alone into the reject file (with the
error's text); the rest are copied. MODULE is looked for in the current folder first.
  # fixes.py
  def rename(item):
      if item.get("status") == "deleted":
          return None
      item["name"] = item.pop("full_name", None)
      return item
  ddbkit copy users users_v2 --transform fixes:rename

Exit 0 when every item read was copied or skipped, 1 if any was rejected or refused.
"""


@click.command("copy", help=COPY_HELP)
@click.argument("source")
@click.argument("target")
@elsewhere_options("TARGET")
@click.option("--where", "-w", help="Only items matching this condition.")
@click.option(
    "--transform",
    metavar="MODULE:FUNCTION",
    help="Pass each item through this function (item -> item, or None to skip it).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Reject file, a new one (default with --transform: "
    "copy-SOURCE-to-TARGET.rejects.jsonl, or .N.jsonl if taken).",
)
@setting_option(SEGMENTS)
@setting_option(WORKERS, default=8, show_default=True)
@setting_option(RATE)
@setting_option(WRITE_RATE)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@param_option
def copy(
    source: str,
    target: str,
    params: tuple[str, ...],
    elsewhere: Elsewhere,
    where: str | None,
    transform: str | None,
    rejects: Path | None,
    segments: int | None,
    workers: int,
    rcu: float | None,
    wcu: float | None,
    quiet: bool,
) -> None:
    settings = state()
    function = load_transform(transform) if transform else None  # a bad name: before any read
    target_db = settings.db_for(elsewhere)
    src = settings.table(source)
    with table_progress(f"copy {source}", src, quiet=quiet) as advance:
        summary = copy_table(
            src,
            target_db,
            target,
            where=where,
            segments=segments,
            workers=workers,
            rate_limit=rcu,
            write_rate_limit=wcu,
            progress=advance,
            params=parse_params(params, src.info, where),
            transform=function,
            reject_path=rejects,
        )
    print_summary(summary)
    if summary.rejected:  # skipped and counted above: the copy is not whole
        into = f" (see {summary.rejects_path})" if summary.rejects_path else ""
        raise click.ClickException(f"{summary.rejected:,} items were not copied{into}")


@click.command("truncate")
@click.argument("table")
@click.option("--yes", is_flag=True, help="Delete every item without asking.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def truncate_command(table: str, yes: bool, quiet: bool) -> None:
    """Delete every item of TABLE, keeping the table, its indexes and settings."""
    if not yes:
        raise ValidationError(f"refusing to delete every item of {table!r} without --yes")
    t = state().table(table)
    with table_progress(f"truncate {table}", t, quiet=quiet) as advance:
        summary = truncate(t, progress=advance)
    click.echo(f"deleted {summary.written:,} items from {table}", err=True)


COMMANDS = [export, import_, copy, truncate_command]
