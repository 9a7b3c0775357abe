"""Running a command line: the one error edge.

Library errors become one line on stderr and exit 1 here, and only here; usage errors exit 2.
A traceback is printed only with ``--debug``, which never enables botocore's own logging (that
would print request signatures). Its own module so that a command can run other command lines
(the demo does) without importing the module that registers every command.
"""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from ddbkit.errors import DdbkitError, Interrupted

from . import report

_debug = False
_collection_paused = False


def pause_collection() -> None:
    """No garbage collection until :func:`resume_collection` (the ``ddbkit`` command's start).

    Start-up makes hundreds of thousands of objects that live as long as the process (the
    modules, botocore's service model and endpoint rules): a collection while they are made
    walks them all and finds no garbage.
    """
    global _collection_paused
    _collection_paused = True
    gc.disable()


def resume_collection() -> None:
    """Collect garbage again, leaving out every object made so far (start-up is over)."""
    global _collection_paused
    if _collection_paused:
        _collection_paused = False
        gc.freeze()
        gc.enable()


def show_tracebacks(debug: bool) -> None:
    """Print the traceback of an error that ends the run (``--debug``)."""
    global _debug
    _debug = debug


class ReaderGone(Exception):
    """stdout's reader (``| head``) went away: carried past click, which would exit 1 for it."""


class Group(click.Group):
    """A group whose commands' broken pipes reach :func:`run` as :class:`ReaderGone`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise ReaderGone from exc


def run(command: click.Command, argv: Sequence[str] | None = None) -> int:
    """Run ``command`` on ``argv``; return the exit status instead of exiting.

    The one error edge: library errors are one ``error:`` line and exit 1, usage errors one
    line and exit 2, Ctrl-C what the job did and how to go on, exit 130. Anything else is a bug:
    one line asking for a report (``--debug`` shows the traceback), never a bare traceback.
    """
    try:
        result = command.main(
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
    except ReaderGone:
        _silence_stdout()
        return 0
    except DdbkitError as exc:
        if _debug:
            traceback.print_exc()
        _print_summary(getattr(exc, "summary", None))
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


def _print_summary(summary: object) -> None:
    """A bulk write's summary, when the error carries one."""
    if summary is None:
        return
    from ddbkit import WriteSummary

    if isinstance(summary, WriteSummary):
        report.print_summary(summary)


def _interrupted(exc: BaseException | None) -> int:
    if isinstance(exc, Interrupted):
        _print_summary(exc.summary)
        click.echo(f"interrupted: {report.safe(exc.message)}", err=True)
    else:
        click.echo("interrupted", err=True)
    return 130


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
