"""ddbkit demo: load a small realistic data set and walk through the commands on it."""

from __future__ import annotations

import shlex
import time
from typing import TYPE_CHECKING

import click

from ddbkit.errors import ValidationError
from ddbkit.workflows import demo

from . import runner
from .state import state

if TYPE_CHECKING:
    from ddbkit import Database


@click.command("demo")
@click.option("--prefix", default="", help="Prefix for the demo table names (users, orders).")
@click.option(
    "--replace", is_flag=True, help="Drop and recreate demo tables that already exist (with --yes)."
)
@click.option("--yes", is_flag=True, help="With --replace: drop without asking.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Run on an endpoint that is not on this machine (the demo creates tables and costs "
    "capacity there).",
)
def demo_command(prefix: str, replace: bool, yes: bool, allow_remote: bool) -> None:
    """Create demo tables on the local engine (or --endpoint-url) and show every operation.

    Tables that already exist are never changed: the demo stops unless --replace --yes.
    """
    if replace and not yes:
        raise click.UsageError("--replace drops the existing demo tables: add --yes to confirm")
    settings = state()
    if not settings.local and not settings.endpoint_url:
        # The demo creates tables and writes 5,000 items: never on AWS by default.
        settings.local = True
    db = settings.db()
    if not db.on_loopback and not allow_remote:
        raise ValidationError(
            f"{db.endpoint} is not on this machine: the demo creates tables and writes "
            "5,000 items there; add --allow-remote if that is what you want"
        )
    demo.check_free(db, prefix=prefix, replace=replace)
    click.secho(f"== loading the demo data set into {db.endpoint}", bold=True)
    began = time.monotonic()
    users, orders = demo.create(db, prefix=prefix, replace=replace)
    click.echo(f"   {demo.USERS} users and {demo.ORDERS} orders in {time.monotonic() - began:.1f}s")
    connection = settings.argv()  # every step talks to exactly this endpoint, this way
    u, o = users.name, orders.name
    steps: list[tuple[str, list[str], int]] = [
        ("every table of the endpoint", ["tables"], 0),
        ("what a table is, before touching it", ["info", u], 0),
        (
            "one item by key: plain JSON, exact numbers, sets as lists, bytes as base64",
            ["get", u, "user_id=u00042"],
            0,
        ),
        (
            "write an item (reserved words like name/status/year are just names)",
            [
                "put",
                u,
                '{"user_id": "u99999", "name": "Ada Lovelace", "status": "new", '
                '"email": "ada@example.com", "age": 36, "score": 99.5, "tags": ["admin"]}',
            ],
            0,
        ),
        (
            "update with a condition: returns the item as it now is",
            [
                "update",
                u,
                "user_id=u99999",
                "--set",
                "status = 'active', age = age + 1",
                "--add",
                "logins_total = 1",
                "--remove",
                "score",
                "--if",
                "attribute_exists(user_id) AND status = 'new'",
            ],
            0,
        ),
        (
            "the same condition again is false now: nothing changes, exit 1",
            ["update", u, "user_id=u99999", "--set", "status = 'gone'", "--if", "status = 'new'"],
            1,
        ),
        (
            "query: partition key equality + sort-key range, newest first",
            [
                "query",
                o,
                "--where",
                "customer = 'c007' AND order_date BETWEEN '2024-06-01' AND '2024-12-31'",
                "--reverse",
                "--limit",
                "5",
                "--attributes",
                "order_date,status,total,count",
            ],
            0,
        ),
        (
            "find picks the cheapest plan: here the GSI on email",
            ["find", u, "--where", "email = 'ada@example.com'", "--explain"],
            0,
        ),
        (
            "…and runs it",
            [
                "find",
                u,
                "--where",
                "email = 'ada@example.com'",
                "--attributes",
                "user_id,name,status,age",
            ],
            0,
        ),
        (
            "no key condition: find falls back to a scan and says why",
            ["find", o, "--where", "total > 200 AND gift = true", "--explain"],
            0,
        ),
        (
            "scan with a filter over several 1 MB pages (the filter is sent with every page)",
            [
                "scan",
                u,
                "--where",
                "age >= 75 AND contains(tags, 'vip') AND address.city = 'Oslo'",
                "--attributes",
                "user_id,name,age,address.city,tags",
            ],
            0,
        ),
        ("count: exact, over every page", ["count", u, "--where", "status = 'active'"], 0),
        ("count on a key condition uses a query", ["count", o, "--where", "customer = 'c007'"], 0),
        ("a syntax error points at the fault", ["scan", u, "--where", "age >> 3"], 1),
        ("delete by key", ["delete", u, "user_id=u99999"], 0),
    ]
    ddbkit = click.get_current_context().find_root().command  # the steps run the whole CLI
    failures = 0
    for title, args, expected in steps:
        click.secho(f"\n== {title}", bold=True)
        click.secho("$ ddbkit " + " ".join(_quote(a) for a in args), fg="cyan")
        status = runner.run(ddbkit, [*connection, *args])
        if status != expected:
            failures += 1
            click.secho(f"   (exit {status}, expected {expected})", fg="red")
    _show_pages(users.name, db)
    if failures:
        raise click.ClickException(f"{failures} demo step(s) did not behave as expected")
    click.secho("\n== demo done: every step behaved as expected", bold=True)


def _quote(arg: str) -> str:
    """Shell quoting that stays readable: double quotes around text holding single quotes."""
    if arg and all(c.isalnum() or c in "-_=.,:/@" for c in arg):
        return arg
    if "'" in arg and not any(c in arg for c in '"$`\\!'):
        return f'"{arg}"'
    return shlex.quote(arg)


def _show_pages(name: str, db: Database) -> None:
    click.secho("\n== the same scan from Python, page by page", bold=True)
    where = "age >= 75 AND contains(tags, 'vip') AND address.city = 'Oslo'"
    click.secho(f'>>> for page in db.table("{name}").scan("{where}").pages(): ...', fg="cyan")
    pages = list(db.table(name).scan(where).pages())
    for number, page in enumerate(pages, start=1):
        click.echo(
            f"page {number}: scanned {page.scanned_count} items, {page.count} matched, "
            f"cursor {'…' + page.cursor[-12:] if page.cursor else 'none (last page)'}"
        )


COMMANDS = [demo_command]
