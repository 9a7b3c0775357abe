"""ddbkit transact: several writes across tables, all or none, from JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ddbkit.errors import TransactionCanceled, ValidationError
from ddbkit.workflows.transact import transact_lines

from .state import state

EPILOG = """\b
Each line of FILE ('-' for stdin) is one action, values as plain JSON:
  {"op": "put", "table": "orders", "item": {"id": "o1", "total": 30}}
  {"op": "update", "table": "stock", "key": {"sku": "s1"},
   "set": "qty = qty - :n", "condition": "qty >= :n", "params": {"n": 1}}
  {"op": "delete", "table": "carts", "key": {"id": "c1"}, "condition": "..."}
  {"op": "check", "table": "users", "key": {"id": "u1"}, "condition": "active = :t",
   "params": {"t": true}}
"update" takes "set", "add", "remove", "delete" as clause text or objects; "put",
"update" and "delete" take an optional "condition". At most 100 actions, one per item.
"""


@click.command("transact", epilog=EPILOG)
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path, allow_dash=True)
)
def transact(file: Path) -> None:
    """Commit the actions in FILE (JSON Lines) as one transaction: all or none.

    Prints each committed action; if DynamoDB cancels the transaction (a condition was false,
    a conflicting write), nothing is applied, each failed action is named and the exit status
    is 1. A bad line is refused, naming its number, before anything is sent.
    """
    db = state().db()
    try:
        if str(file) == "-":
            if sys.stdin.isatty():
                raise ValidationError("give a FILE of JSON Lines actions, or pipe them to '-'")
            tx = transact_lines(db, sys.stdin, source="stdin")
        else:
            with file.open(encoding="utf-8") as stream:
                tx = transact_lines(db, stream, source=str(file))
    except UnicodeDecodeError as error:
        where = "stdin" if str(file) == "-" else str(file)
        raise ValidationError(
            f"{where} is not UTF-8 text ({error.reason} at byte {error.start}): "
            "write the actions as UTF-8 JSON Lines"
        ) from None
    except TransactionCanceled as canceled:
        if not canceled.reasons:
            raise
        click.echo("transaction canceled, nothing was applied:", err=True)
        for reason in canceled.reasons:
            click.echo(f"  {reason}", err=True)
        sys.exit(1)
    for action in tx.actions:
        click.echo(str(action))
    count = len(tx.actions)
    click.echo(f"committed {count} action{'s' if count != 1 else ''} in one transaction", err=True)


COMMANDS = [transact]
