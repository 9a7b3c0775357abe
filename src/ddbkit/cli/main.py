"""The ``ddbkit`` command: global options and the command registry.

A command's module is imported only when that command runs (or help lists it), so each command
pays for its own imports and ``ddbkit --version`` for none. The error edge (library errors as one
line and an exit status) is :mod:`.runner`.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from collections.abc import Sequence

import click

from ddbkit import __version__
from ddbkit.options import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT

from . import report, runner
from .flags import FORMATS, setting_option
from .state import CliState

# Every command, by name, and the module (in this package) whose COMMANDS list holds it.
COMMANDS: dict[str, str] = {
    "tables": "tables_cmd",
    "info": "tables_cmd",
    "create-table": "tables_cmd",
    "delete-table": "tables_cmd",
    "alter": "tables_cmd",
    "watch": "watch_cmd",
    "get": "items_cmd",
    "put": "items_cmd",
    "delete": "items_cmd",
    "update": "items_cmd",
    "query": "read_cmd",
    "scan": "read_cmd",
    "find": "read_cmd",
    "count": "read_cmd",
    "export": "bulk_cmd",
    "import": "bulk_cmd",
    "copy": "bulk_cmd",
    "diff": "diff_cmd",
    "truncate": "bulk_cmd",
    "schema": "anatomy_cmd",
    "stats": "anatomy_cmd",
    "sql": "sql_cmd",
    "transact": "transact_cmd",
    "console": "console_cmd",
    "demo": "demo_cmd",
    "local": "local_cmd",
}


class _LazyGroup(runner.Group):
    """The root group: each command is loaded from its module when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in COMMANDS:
                self._load(cmd_name)
            else:  # an unknown name: load them all, so "Did you mean ...?" knows every command
                for name in COMMANDS:
                    if name not in self.commands:
                        self._load(name)
        return self.commands.get(cmd_name)

    def _load(self, name: str) -> None:
        module = importlib.import_module(f"{__package__}.{COMMANDS[name]}")
        for command in module.COMMANDS:
            self.add_command(command)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--endpoint-url", metavar="URL", help="DynamoDB endpoint (default: as the AWS CLI resolves it)."
)
@click.option("--region", help="AWS region (default: AWS_REGION / profile).")
@click.option("--profile", help="AWS profile from ~/.aws (default: AWS_PROFILE / default).")
@click.option(
    "--local",
    is_flag=True,
    help="Use the engine started by 'ddbkit local start' (with --endpoint-url: that local "
    "engine), with dummy credentials that never reach AWS.",
)
@setting_option(CONNECT_TIMEOUT)
@setting_option(READ_TIMEOUT)
@setting_option(MAX_ATTEMPTS)
@click.option(
    "--output",
    type=click.Choice(FORMATS),
    default=None,
    help="Default output format for every command (table on a terminal, jsonl when piped).",
)
@click.option("--debug", is_flag=True, help="Log requests and show tracebacks (never credentials).")
@click.version_option(__version__, prog_name="ddbkit")
@click.pass_context
def cli(
    ctx: click.Context,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    local: bool,
    output: str | None,
    debug: bool,
    connect_timeout: float | None,
    read_timeout: float | None,
    max_attempts: int | None,
) -> None:
    """DynamoDB made easy: tables, items, queries and scans with plain values."""
    runner.show_tracebacks(debug)
    _show_library_notes(debug)
    ctx.obj = CliState(
        endpoint_url, region, profile, local, debug, connect_timeout, read_timeout, max_attempts
    )
    ctx.meta["ddbkit.output"] = output


class _NoteFormatter(logging.Formatter):
    """Library notes as the CLI prints them: ``retrying ...`` as is, warnings and debug tagged."""

    def format(self, record: logging.LogRecord) -> str:
        text = report.safe(record.getMessage(), one_line=True)
        if record.levelno >= logging.WARNING:
            return f"warning: {text}"
        return f"debug: {text}" if record.levelno < logging.INFO else text


def _show_library_notes(debug: bool) -> None:
    """Send the ddbkit logger's notes (retries, warnings; with --debug, requests) to stderr."""
    logger = logging.getLogger("ddbkit")
    for old in [h for h in logger.handlers if getattr(h, "ddbkit_cli", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.ddbkit_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(_NoteFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its status."""
    runner.pause_collection()  # until the connection is made (state.CliState.db)
    try:
        status = run(argv)
    finally:
        # The process ends here: the interpreter's last collection would walk every object
        # again only to free what exiting frees anyway.
        gc.freeze()
    sys.exit(status)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting (see :func:`runner.run`)."""
    return runner.run(cli, argv)
