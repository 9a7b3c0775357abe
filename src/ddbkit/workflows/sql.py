"""DuckDB SQL for front ends: a query's relation with a progress callback while tables load, the
error DuckDB raises, and a relation written to a Parquet file (``ddbkit[sql]``).

:meth:`Database.sql <ddbkit.Database.sql>` and :meth:`Database.sql_explain
<ddbkit.Database.sql_explain>` are the library's way in; this adds what a front end showing
progress and writing files needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ddbkit.integrations.sql.engine import SqlSession
from ddbkit.integrations.sql.load import ql
from ddbkit.integrations.sql.plan import duckdb_module
from ddbkit.values.jsonvalues import loads_exact

if TYPE_CHECKING:
    from ddbkit.database import Database

_BATCH = 2048

__all__ = ["duckdb_error", "rows", "run_query", "write_parquet"]


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


def rows(relation: Any) -> Iterator[dict[str, Any]]:
    """The relation's rows as plain items; JSON columns become their values, not text."""
    columns = list(relation.columns)
    json_cols = [str(t).upper() == "JSON" for t in relation.types]
    reader = relation.arrow()
    batches = reader if hasattr(reader, "read_next_batch") else reader.to_batches(_BATCH)
    for batch in batches:
        for row in batch.to_pylist():
            item: dict[str, Any] = {}
            for name, is_json in zip(columns, json_cols, strict=True):
                value = row.get(name)
                item[name] = loads_exact(value) if is_json and value is not None else value
            yield item
