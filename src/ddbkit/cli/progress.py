"""A progress bar on stderr for long jobs: items, items/s and an ETA when the total is known.

Shown only on a terminal and without --quiet: piped or scripted runs get nothing on stderr but
errors and the final summary.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .report import safe

if TYPE_CHECKING:
    from ddbkit import Table


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: object) -> Text:
        speed = getattr(task, "speed", None)
        return Text(f"{speed:,.0f} items/s" if speed else "- items/s", style="cyan")


def show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@contextmanager
def table_progress(
    label: str,
    table: Table,
    *,
    quiet: bool,
    sample: int | None = None,
    fraction: float | None = None,
) -> Iterator[Callable[[int], None]]:
    """A bar for a walk over ``table`` (or its first ``sample`` items, or about ``fraction`` of
    it), its total from the table's item count; the count is asked for only when the bar is
    shown."""
    enabled = show_progress(quiet)
    total = None
    if enabled:
        total = sample if sample is not None else (table.info().item_count or None)
        if total and fraction is not None and sample is None:
            total = max(1, round(total * fraction))
    with progress_bar(label, total, enabled=enabled) as advance:
        yield advance


@contextmanager
def progress_bar(
    label: str, total: int | None, *, enabled: bool
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; safe to call from worker threads."""
    if not enabled:
        yield lambda _n: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total else TextColumn("{task.completed:,} items"),
        _RateColumn(),
        TaskProgressColumn() if total else TextColumn(""),
        TimeRemainingColumn() if total else TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=total)

        def advance(n: int) -> None:
            bar.update(task, advance=n)

        yield advance


@contextmanager
def step_progress(label: str, *, enabled: bool) -> Iterator[Callable[[int, int, str], None]]:
    """Yield ``report(done, total, text)`` for a job of a few long steps (``alter``): a bar of
    steps, the current step and what it waits for beside it."""
    if not enabled:
        yield lambda _done, _total, _text: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[now]}"),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None, now="")

        def report(done: int, total: int, text: str) -> None:
            bar.update(task, completed=done, total=total or None, now=safe(text))

        yield report
