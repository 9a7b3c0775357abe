"""ddbkit diff: how two tables differ, item by item, in bounded memory."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ddbkit.options import RATE, SEGMENTS
from ddbkit.present import dumps_plain, dumps_typed, readable_order

from .args import parse_params
from .flags import Elsewhere, elsewhere_options, param_option, setting_option
from .progress import progress_bar, show_progress
from .report import safe
from .state import state

if TYPE_CHECKING:
    from ddbkit import Difference, DiffReport

DIFF_HELP = """Compare the items of tables A and B by key: exit 0 when they hold the same items,
1 when not.

Counts the items only in A, only in B, different and equal, and shows a few of each. Items
compare as DynamoDB compares values: typed (the number 1 is not the string "1"), numbers by
value (1 and 1.0 are equal), sets without order, lists in order. With --where, only the items
matching it in each table are compared.

\b
Output (-o):
  text   the counts and a sample of each kind (default)
  json   the counts and the samples as one JSON object
  jsonl  every difference, one per line, with both versions:
         {"kind": "different", "key": {...}, "a": {...}, "b": {...}}
         (kind: only_in_a, only_in_b or different; a or b is null where absent)

Both tables are read with a parallel scan and spilled to temporary files by a hash of the key
(in --spill-dir, default the system's temporary folder), then compared one bucket at a time:
memory stays bounded for tables bigger than RAM, and the disk needs about the size of both.

\b
B may be somewhere else:
  ddbkit diff users users --to-region eu-west-1
  ddbkit --profile prod diff users users --to-profile staging -o jsonl > changes.jsonl
"""


@click.command("diff", help=DIFF_HELP)
@click.argument("a")
@click.argument("b")
@elsewhere_options("B")
@click.option("--where", "-w", help="Only items matching this condition (in both tables).")
@param_option
@setting_option(SEGMENTS)
@setting_option(RATE)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json", "jsonl"]),
    default="text",
    show_default=True,
    help="text: counts and samples; json: the same as JSON; jsonl: every difference.",
)
@click.option("--typed", is_flag=True, help="Items in DynamoDB JSON (json and jsonl output).")
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="How many differences of each kind to show (text and json output).",
)
@click.option(
    "--spill-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where the temporary spill files go (default: the system's temporary folder).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; no counts on stderr.")
def diff(
    a: str,
    b: str,
    elsewhere: Elsewhere,
    where: str | None,
    params: tuple[str, ...],
    segments: int | None,
    rcu: float | None,
    output: str,
    typed: bool,
    sample: int,
    spill_dir: Path | None,
    quiet: bool,
) -> None:
    settings = state()
    table_a = settings.table(a)
    table_b = settings.db_for(elsewhere).table(b)
    enabled = show_progress(quiet)
    total = None
    if enabled:
        total = sum(t.info().item_count or 0 for t in (table_a, table_b)) or None
    with progress_bar(f"diff {a} {b}", total, enabled=enabled) as advance:
        report = table_a.diff(
            table_b,
            where=where,
            params=parse_params(params, table_a.info, where),
            segments=segments,
            sample=sample,
            rate_limit=rcu,
            spill_dir=spill_dir,
            progress=advance,
        )
    with report:
        names = table_a.keys.names
        if output == "jsonl":
            for difference in report.differences():
                click.echo(dumps_plain(_record(difference, names, typed)))
            if not quiet:
                click.echo(_counts(report), err=True)
        elif output == "json":
            samples = [_record(d, names, typed) for d in report.samples]
            click.echo(dumps_plain({**report.to_dict(), "samples": samples}, indent=True))
        else:
            click.echo(_text(report, names))
    sys.exit(0 if report.same else 1)


def _record(difference: Difference, keys: tuple[str, ...], typed: bool) -> dict[str, Any]:
    """A difference as a record, key attributes first in each version; with ``typed`` the key
    and items in DynamoDB JSON (the record itself stays plain)."""

    def shown(item: Mapping[str, Any] | None) -> Any:
        if item is None:
            return None
        ordered = readable_order(item, keys)
        return json.loads(dumps_typed(ordered)) if typed else ordered

    return {
        "kind": difference.kind,
        "key": shown(difference.key),
        "a": shown(difference.a),
        "b": shown(difference.b),
    }


def _counts(report: DiffReport) -> str:
    name_a, name_b = safe(report.a, one_line=True), safe(report.b, one_line=True)
    width = max(len(name_a), len(name_b)) + 8
    lines = [
        f"{'only in ' + name_a:<{width}}  {report.only_in_a:,}",
        f"{'only in ' + name_b:<{width}}  {report.only_in_b:,}",
        f"{'different':<{width}}  {report.different:,}",
        f"{'equal':<{width}}  {report.equal:,}",
    ]
    return "\n".join(lines)


def _text(report: DiffReport, keys: tuple[str, ...]) -> str:
    """The counts, then each sample: its key, and for a changed item what changed."""
    lines = [_counts(report)]
    titles = {
        "only_in_a": f"only in {report.a}",
        "only_in_b": f"only in {report.b}",
        "different": "different",
    }
    for kind, title in titles.items():
        shown = [d for d in report.samples if d.kind == kind]
        if not shown:
            continue
        lines += ["", safe(f"{title} (first {len(shown)}):", one_line=True)]
        for difference in shown:
            lines.append(f"  {safe(_key_text(difference.key, keys), one_line=True)}")
            if difference.a is not None and difference.b is not None:
                lines += [f"    {safe(change, one_line=True)}" for change in _changes(difference)]
    if report.same:
        lines += ["", "the tables hold the same items"]
    return "\n".join(lines)


def _key_text(key: Mapping[str, Any], names: tuple[str, ...]) -> str:
    return " ".join(f"{name}={dumps_plain(key[name])}" for name in names if name in key)


def _changes(difference: Difference) -> list[str]:
    """Top-level attributes that differ: ``name: A's value -> B's value`` (absent: "-")."""
    a, b = difference.a or {}, difference.b or {}
    changes = []
    for name in sorted({*a, *b}):
        left = dumps_typed(a[name]) if name in a else None
        right = dumps_typed(b[name]) if name in b else None
        if left != right:
            shown_a = dumps_plain(a[name]) if name in a else "-"
            shown_b = dumps_plain(b[name]) if name in b else "-"
            changes.append(f"{name}: {_short(shown_a)} -> {_short(shown_b)}")
    return changes


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


COMMANDS = [diff]
