"""ddbkit console: the web console on 127.0.0.1 (``ddbkit[console]``)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

import click

from .state import state


@click.command("console")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 to listen on (0: any free port).",
)
@click.option(
    "--read-only",
    "mode",
    flag_value="read-only",
    help="Hide and refuse every write (the default against endpoints not on this machine).",
)
@click.option(
    "--allow-writes",
    "mode",
    flag_value="writes",
    help="Allow writes against an endpoint that is not on this machine.",
)
@click.option("--no-open", is_flag=True, help="Print the URL; do not open a browser.")
def console_command(port: int, mode: str | None, no_open: bool) -> None:
    """Browse, query and edit tables in a web page served on 127.0.0.1 only.

    The printed URL holds a one-time token; anyone without it gets 403. Against an endpoint
    that is not on this machine the console is read-only unless --allow-writes.

    \b
    ddbkit --local console
    ddbkit --profile prod console --read-only --port 8001
    """
    from ddbkit import console  # the web stack loads only for this command
    from ddbkit.console.server import can_open_browser, open_browser

    settings = state()
    db = settings.db()
    read_only = None if mode is None else mode == "read-only"

    def ready(url: str, read_only: bool) -> None:
        writes = "read-only" if read_only else "writes allowed"
        click.echo(f"ddbkit console for {db.endpoint} ({writes}); Ctrl-C stops it")
        click.echo(f"open: {url}")
        if not no_open and can_open_browser():
            open_browser(url)

    # Ctrl-C is how a console stops: uvicorn has shut down cleanly when it re-raises it.
    with contextlib.suppress(KeyboardInterrupt):
        console.serve(db, port=port, read_only=read_only, debug=settings.debug, on_ready=ready)
    busy = [t for t in threading.enumerate() if t.is_alive() and not t.daemon][1:]  # not main
    if busy:
        # A request still running after the grace period (a DuckDB query cannot be stopped from
        # outside): the console has cleaned up already; leave without waiting for it.
        click.echo("console stopped (a request still running was abandoned)")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    click.echo("console stopped")


COMMANDS = [console_command]
