"""What the command line tells a person on stderr: error lines, job summaries, and text made safe
for a terminal.

Item values and names come from the table, so anyone who can write an item can put escape
sequences in them (``\\x1b[2J`` clears the screen, ``\\x1b]0;...`` retitles the window, a
right-to-left override hides text). Everything printed for people goes through :func:`safe`,
which shows control and bidirectional-formatting characters as ``\\xNN`` / ``\\uNNNN`` escapes.
Machine formats (json, jsonl, csv) are escaped by their own rules and left alone.
"""

from __future__ import annotations

import re
from typing import Any

import click

# Also lone surrogates: Python decodes bytes that are not UTF-8 in argv to them, and a terminal
# cannot be sent one at all (printing it raises).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_OR_BREAK = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str, *, one_line: bool = False) -> str:
    """``text`` with terminal control characters shown as escapes (tabs and newlines kept,
    unless ``one_line``)."""
    return (_UNSAFE_OR_BREAK if one_line else _UNSAFE).sub(_escape, text)


def error(message: str) -> None:
    """The one ``error: ...`` line of a failed command (a where-clause caret keeps its lines)."""
    click.echo(f"error: {safe(message)}", err=True)


def print_summary(summary: Any) -> None:
    """A bulk write's summary (a :class:`ddbkit.write.batch.WriteSummary`) on stderr."""
    lines = [
        f"read        {summary.read:,}",
        f"written     {summary.written:,}",
        f"duplicates  {summary.duplicates:,}  (an earlier line with the same key, replaced)",
        f"rejected    {summary.rejected:,}",
    ]
    if summary.skipped:
        lines.insert(3, f"skipped     {summary.skipped:,}  (the transform returned None)")
    if summary.failed:
        lines.append(
            f"failed      {summary.failed:,}  (not written: {safe(summary.failure or '')})"
        )
    if summary.rejects_path:
        lines.append(f"reject file {safe(str(summary.rejects_path))}")
    if summary.stopped_at:
        lines.append(f"stopped     at {safe(summary.stopped_at)}")
    lines += [
        f"retries     {summary.retries:,}",
        f"elapsed     {summary.elapsed:.1f}s",
        f"items/s     {summary.items_per_second:,.0f}",
    ]
    click.echo("\n".join(lines), err=True)
