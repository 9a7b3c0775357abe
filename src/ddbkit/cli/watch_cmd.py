"""ddbkit watch: a table's changes as they happen, one JSON line each, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click

from ddbkit.present import dumps_plain

from .args import parse_params
from .flags import param_option
from .report import safe
from .state import state

WHERE_HELP = (
    "Only changes whose new item (the old one for a REMOVE) matches, e.g. \"status = 'paid'\"; "
    "evaluated here as DynamoDB would. A value from elsewhere goes in as :NAME with --param."
)


@click.command("watch")
@click.argument("table")
@click.option(
    "--from",
    "start",
    type=click.Choice(["latest", "trim-horizon"], case_sensitive=False),
    default="latest",
    show_default=True,
    help="latest: changes from now on; trim-horizon: every change the stream still holds "
    "(up to 24 hours), then on.",
)
@click.option("--where", "-w", help=WHERE_HELP)
@param_option
@click.option(
    "--output",
    "-o",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="One JSON object a change: event, keys, old, new, sequence, time.",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls when nothing is new.",
)
def watch(
    table: str, start: str, where: str | None, params: tuple[str, ...], output: str, poll: float
) -> None:
    """Print every INSERT, MODIFY and REMOVE of TABLE as it happens, from its stream.

    Follows every shard (and the shards that replace them), each item's changes in order.
    Ctrl-C stops. The table needs a stream: ddbkit alter TABLE --stream new-and-old.
    """
    t = state().table(table)
    stop = threading.Event()
    changes = t.changes(
        start=start.lower(),
        where=where,
        params=parse_params(params, t.info, where),
        poll_interval=poll,
        stop=stop,
    )

    def on_ctrl_c(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: do not wait for the request in flight
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    count = 0
    try:
        for change in changes:
            sys.stdout.write(dumps_plain(change.to_dict()) + "\n")
            sys.stdout.flush()  # a reader down a pipe sees each change as it happens
            count += 1
    finally:
        signal.signal(signal.SIGINT, previous)
    click.echo(safe(f"stopped watching {table} ({count:,} change(s) printed)"), err=True)


COMMANDS = [watch]
