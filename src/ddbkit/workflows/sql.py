"""DuckDB SQL for front ends: a query's relation with a progress callback while tables load, the
error DuckDB raises, and a relation written to a Parquet file (``ddbkit[sql]``).

:meth:`Database.sql <ddbkit.Database.sql>` and :meth:`Database.sql_explain
<ddbkit.Database.sql_explain>` are the library's way in; this adds what a front end showing
progress and writing files needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ddbkit.integrations.sql.engine import SqlSession
from ddbkit.integrations.sql.load import ql
from ddbkit.integrations.sql.plan import duckdb_module

if TYPE_CHECKING:
    from ddbkit.database import Database

__all__ = ["duckdb_error", "run_query", "write_parquet"]


def duckdb_error() -> type[Exception]:
    """``duckdb.Error``; raises MissingExtraError (naming ``ddbkit[sql]``) without DuckDB."""
    error: type[Exception] = duckdb_module().Error
    return error


def run_query(
    db: Database,
    query: str,
    *,
    segments: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Any:
    """The query's DuckDB relation, like ``db.sql(query)``; ``progress(n)`` as items load."""
    return SqlSession(db, segments=segments, progress=progress).sql(query)


def write_parquet(relation: Any, target: str) -> None:
    """Write ``relation`` to ``target`` as Parquet: under a temporary name, renamed when done."""
    tmp = target + ".tmp"
    relation.write_parquet(tmp) if hasattr(relation, "write_parquet") else relation.query(
        "r", f"COPY (SELECT * FROM r) TO {ql(tmp)} (FORMAT parquet)"
    )
    os.replace(tmp, target)
