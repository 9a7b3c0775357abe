"""The ``ddbkit`` command: global options, command registry, and the error edge.

Library errors become one line on stderr and exit 1 here, and only here; usage errors exit 2.
A traceback is printed only with ``--debug``, which never enables botocore's own logging (that
would print request signatures).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from ddbkit import __version__
from ddbkit.errors import DdbkitError, Interrupted
from ddbkit.options import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT
from ddbkit.write.batch import WriteSummary

from . import report
from .args import setting_option
from .output import FORMATS
from .state import CliState

_debug = False


class _ReaderGone(Exception):
    """stdout's reader (``| head``) went away: carried past click, which would exit 1 for it."""


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise _ReaderGone from exc


@click.group(
    cls=_Group,
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
    global _debug
    _debug = debug
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


def _register() -> None:
    from . import (
        anatomy_cmd,
        bulk_cmd,
        demo_cmd,
        items_cmd,
        local_cmd,
        read_cmd,
        sql_cmd,
        tables_cmd,
    )

    for module in (tables_cmd, items_cmd, read_cmd, bulk_cmd, anatomy_cmd, sql_cmd, demo_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)
    cli.add_command(local_cmd.local)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its status."""
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting.

    The one error edge: library errors are one ``error:`` line and exit 1, usage errors one
    line and exit 2, Ctrl-C what the job did and how to go on, exit 130. Anything else is a bug:
    one line asking for a report (``--debug`` shows the traceback), never a bare traceback.
    """
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="ddbkit", standalone_mode=False
        )
    except click.UsageError as exc:
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        report.error(f"{exc.format_message()}{where}")
        return exc.exit_code
    except click.ClickException as exc:
        report.error(exc.format_message())
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort; the job's own account of it rides along as the cause.
        return _interrupted(exc.__cause__ or exc.__context__)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours. Point stdout at devnull so
        # the interpreter's final flush does not complain again.
        _silence_stdout()
        return 0
    except _ReaderGone:
        _silence_stdout()
        return 0
    except DdbkitError as exc:
        if _debug:
            traceback.print_exc()
        summary = getattr(exc, "summary", None)
        if isinstance(summary, WriteSummary):
            report.print_summary(summary)
        report.error(str(exc))
        return 1
    except OSError as exc:  # the terminal, stdout or a file failed under us (disk full...)
        if _debug:
            traceback.print_exc()
        report.error(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        return 1
    except Exception as exc:
        if _debug:
            traceback.print_exc()
        report.error(
            f"internal error ({type(exc).__name__}: {exc}): please report it; "
            "--debug shows the traceback"
        )
        return 1
    return result if isinstance(result, int) else 0


def _interrupted(exc: BaseException | None) -> int:
    if isinstance(exc, Interrupted):
        if isinstance(exc.summary, WriteSummary):
            report.print_summary(exc.summary)
        click.echo(f"interrupted: {report.safe(exc.message)}", err=True)
    else:
        click.echo("interrupted", err=True)
    return 130


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
