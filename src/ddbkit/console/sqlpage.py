"""The console's SQL page: a query over :meth:`Database.sql`, its explain, and its download."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterator
from itertools import islice
from typing import Any

from starlette.responses import StreamingResponse

from ddbkit import present
from ddbkit.console.http import Call, Refused

DEFAULT_ROWS = 1000
MAX_ROWS = 100_000
_CHUNK = 1000
log = logging.getLogger("ddbkit.console")


def run(call: Call) -> dict[str, Any]:
    """The first ``limit`` rows as display cells (numbers exact), and whether there are more."""
    limit = call.number("limit", DEFAULT_ROWS, low=1, high=MAX_ROWS)
    relation = _relation(call)
    if relation is None:  # a statement with no result (SET, CREATE VIEW ...)
        return {"columns": [], "types": [], "rows": [], "truncated": False}
    from ddbkit.workflows.sql import rows

    columns = list(relation.columns)
    taken = list(islice(rows(relation), limit + 1))
    return {
        "columns": columns,
        "types": [str(kind) for kind in relation.types],
        "rows": [[_cell(row.get(name)) for name in columns] for row in taken[:limit]],
        "truncated": len(taken) > limit,
    }


def explain(call: Call) -> dict[str, Any]:
    return {"text": call.session.db.sql_explain(_query(call))}


def download(call: Call) -> StreamingResponse:
    fmt = call.text("format", "csv")
    if fmt not in ("csv", "jsonl"):
        raise Refused(400, "format must be csv or jsonl")
    relation = _relation(call)
    if relation is None:
        raise Refused(400, "the statement returns no rows to download")
    from ddbkit.workflows.sql import rows

    lines = _csv(relation, rows(relation)) if fmt == "csv" else _jsonl(rows(relation))
    # The first chunk is made here, before the answer starts: a query that fails at once gets
    # its error as a 400, not a 200 whose body breaks off.
    first = next(lines, b"")
    return StreamingResponse(
        _logged(itertools.chain([first], lines)),
        media_type="text/csv" if fmt == "csv" else "application/x-ndjson",
        headers={"content-disposition": f'attachment; filename="query.{fmt}"'},
    )


def _logged(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks; a failure after the answer started is one line in the terminal (the page sees
    the download break off), never a traceback."""
    try:
        yield from chunks
    except Exception as error:
        log.error("console: SQL download stopped: %s", " ".join(str(error).split()))


def _query(call: Call) -> str:
    query = call.text("query").strip()
    if not query:
        raise Refused(400, "write a query first, e.g. SELECT * FROM users LIMIT 10")
    return query


def _relation(call: Call) -> Any:
    return call.session.db.sql(_query(call))


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return present.dumps_plain(value)  # numbers with every digit; lists and maps as JSON


def _jsonl(found: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    while chunk := list(islice(found, _CHUNK)):
        yield "".join(present.dumps_plain(row) + "\n" for row in chunk).encode()


def _csv(relation: Any, found: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    # The one CSV writer (formats/csv.py), with the columns known: rows go out as they come.
    buffer = io.BytesIO()
    writer = present.CsvWriter(buffer, columns=list(relation.columns))
    while chunk := list(islice(found, _CHUNK)):
        writer.write_items(chunk)
        yield _drain(buffer)
    writer.close()
    yield _drain(buffer)


def _drain(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data
