"""ddbkit sql: DuckDB SQL over DynamoDB tables (and local files)."""

from __future__ import annotations

import os

import click

from ddbkit.options import SEGMENTS
from ddbkit.workflows import sql

from .flags import setting_option
from .output import choose_format, write_items
from .progress import progress_bar, show_progress
from .state import state

OUTPUTS = ("table", "json", "jsonl", "csv", "parquet")


@click.command("sql")
@click.argument("query")
@click.option(
    "--output",
    "-o",
    type=click.Choice(OUTPUTS),
    default=None,
    help="table (default on a terminal), json, jsonl (default when piped), csv, or parquet "
    "(needs --to).",
)
@click.option("--to", "target", metavar="FILE", help="Write the result to FILE instead of stdout.")
@click.option("--explain", is_flag=True, help="Print the DynamoDB requests and DuckDB's plan.")
@setting_option(SEGMENTS)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sql_command(
    query: str,
    output: str | None,
    target: str | None,
    explain: bool,
    segments: int | None,
    quiet: bool,
) -> None:
    """Run a DuckDB SQL QUERY; table names are DynamoDB tables ("quoted" for odd names).

    \b
    ddbkit sql "SELECT city, count(*), avg(age) FROM users WHERE age > 30 GROUP BY city"
    ddbkit sql "SELECT * FROM 'export.jsonl' e JOIN users u ON u.id = e.id" -o csv
    ddbkit sql "SELECT * FROM orders" -o parquet --to orders.parquet
    """
    duckdb_error = sql.duckdb_error()
    db = state().db()
    try:
        if explain:
            click.echo(db.sql_explain(query))
            return
        with progress_bar("sql: reading", None, enabled=show_progress(quiet)) as advance:
            relation = sql.run_query(db, query, segments=segments, progress=advance)
        fmt = output or ("parquet" if target and target.endswith(".parquet") else None)
        if fmt == "parquet":
            if not target:
                raise click.UsageError("--output parquet needs --to FILE")
            sql.write_parquet(relation, target)
            return
        fmt = choose_format(fmt) if target is None else (fmt or "jsonl")
        if target is None:
            write_items(sql.rows(relation), fmt, first_columns=relation.columns)
        else:
            with open(target + ".tmp", "w", encoding="utf-8", newline="") as out:
                write_items(sql.rows(relation), fmt, first_columns=relation.columns, out=out)
            os.replace(target + ".tmp", target)  # never a half-written file under the real name
    except duckdb_error as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from exc


COMMANDS = [sql_command]
