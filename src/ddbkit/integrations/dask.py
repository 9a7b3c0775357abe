"""Whole tables on Dask: one partition per parallel-scan segment, read or written in a worker.

Reading (``Table.to_dask``): the client plans the request once (where-clause and projection,
a Query when the partition key is pinned) and types the columns from a sample of the matching
items (``sql/fit.py``); each partition is one segment's Scan, sent from the worker that runs it
over a connection rebuilt from ``db.spec``, its pages converted by DuckDB to exactly those
columns. A value no column can hold goes to the rest column (``_extra``) as DynamoDB JSON.

Writing (``Table.write_dask``): each partition's rows go through ddbkit's batch writer in the
worker. Only puts (and deletes) are offered: both are idempotent, so a partition Dask runs again
after a worker died writes the same items again, and nothing is lost or doubled.

A capacity budget (``rate_limit`` RCU/s, ``wcu`` WCU/s) is for the whole job: each partition
gets an equal share of it for the partitions that can run at once (the threads of the Dask
client's workers at the time of the call; without a client, this machine's cores).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ddbkit import errors
from ddbkit.formats._common import check_types, coerce_json
from ddbkit.integrations.sql import fit
from ddbkit.integrations.sql.load import Source, fetch_pages, ql, register_functions
from ddbkit.integrations.sql.plan import duckdb_module
from ddbkit.models import KeySchema
from ddbkit.options import RATE, SEGMENTS, WRITE_RATE, optional
from ddbkit.read.cursors import SegmentCursors
from ddbkit.read.segments import partition_segments
from ddbkit.transport.connection import SyncConnection
from ddbkit.transport.ratelimit import RateLimiter
from ddbkit.transport.spec import ConnectionSpec
from ddbkit.transport.sync import SyncTransport
from ddbkit.values.jsonvalues import loads_exact
from ddbkit.values.serialize import from_item
from ddbkit.write.batch import BatchWriter
from ddbkit.write.summary import Unconvertible, WriteSummary, settled

if TYPE_CHECKING:
    from ddbkit.jobs.source import TableSource

SAMPLE_ITEMS = 1000  # the items the frame's columns are typed from
RCU_BYTES = 4096  # a strongly consistent read unit (an eventually consistent one reads twice it)
WRITERS_PER_PARTITION = 4  # BatchWriteItem requests in flight per partition
_OPERATIONS = {"Query": "query", "Scan": "scan"}
WRITE_ACTIONS = ("put", "delete")


def import_dask() -> Any:
    """``dask.dataframe``, or a one-line error naming the extra."""
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401  (the extra's promise: a cluster can be started)
    except ImportError as exc:
        raise errors.MissingExtraError("dask", "dask") from exc
    return dd


# -- one connection per worker process --------------------------------------------------------

_CONNECTIONS: dict[ConnectionSpec, SyncConnection] = {}
_CONNECTIONS_LOCK = threading.Lock()


def connection(spec: ConnectionSpec) -> SyncConnection:
    """This process's connection for ``spec``, made on first use (partitions share it)."""
    with _CONNECTIONS_LOCK:
        found = _CONNECTIONS.get(spec)
        if found is None:
            found = _CONNECTIONS[spec] = SyncConnection(SyncTransport(spec))
        return found


def job_slots(partitions: int) -> int:
    """How many partitions can run at once: the Dask client's worker threads, else the cores."""
    threads = os.cpu_count() or 1
    try:
        from distributed import get_client

        client: Any = get_client()  # distributed's annotations are partial
        threads = sum(client.nthreads().values()) or threads
    except (ImportError, ValueError):
        pass  # no client: the local scheduler runs a thread per core
    return max(1, min(partitions, threads))


_LIMITERS: OrderedDict[tuple[str, int], RateLimiter] = OrderedDict()
_KEPT_LIMITERS = 4096


def slot_limiter(job: str, rate: float) -> RateLimiter:
    """The rate limiter of this thread's slot in ``job``: one per thread, so a partition that
    follows another on the same worker thread inherits its debt instead of a fresh budget."""
    key = (job, threading.get_ident())
    with _CONNECTIONS_LOCK:
        found = _LIMITERS.get(key)
        if found is None:
            found = _LIMITERS[key] = RateLimiter(rate, burst=False)
            while len(_LIMITERS) > _KEPT_LIMITERS:
                _LIMITERS.popitem(last=False)
        return found


def _page_items(table: TableSource, rate: float | None) -> int | None:
    """Items per page for a rate-limited read: about half a second of a slot's budget.

    A page's cost is known only after it is read; small pages keep each slot's consumption
    close to its share instead of a whole 1 MB page (128 RCU) ahead of it.
    """
    if rate is None:
        return None
    info = table.info()
    average = 4096.0
    if info.size_bytes and info.item_count:
        average = max(1.0, info.size_bytes / info.item_count)
    items = int(rate * 0.5 * RCU_BYTES / average)
    return max(1, items) if items < SAMPLE_ITEMS else None


def _share(budget: float | None, partitions: int) -> float | None:
    """One slot's share of a checked budget (``None``: no budget)."""
    return None if budget is None else budget / job_slots(partitions)


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadPartition:
    """What a worker needs to read one partition: one segment of the planned request."""

    spec: ConnectionSpec
    table: str
    operation: str
    params: Mapping[str, Any]
    segment: int
    segments: int
    declared: fit.Declared
    rate: float | None = None
    page_items: int | None = None
    job: str = ""  # unique per to_dask call: a table changes, so no result is ever reused


def read_partition(part: ReadPartition) -> Any:
    """One partition as a pandas DataFrame with exactly the declared columns (runs in a worker)."""
    db = connection(part.spec)
    params = dict(part.params)
    if part.page_items is not None:
        params["Limit"] = part.page_items
    folder = tempfile.mkdtemp(prefix="ddbkit-dask-")
    try:
        fetch_pages(
            db,
            part.operation,
            params,
            folder,
            segments=part.segments,
            cursors=SegmentCursors.only(part.segments, [part.segment]),
            limiter=slot_limiter(part.job, part.rate) if part.rate is not None else None,
        )
        return _frame(folder, part.declared)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _frame(folder: str, declared: fit.Declared) -> Any:
    """The page files in ``folder`` as a pandas DataFrame of the declared columns."""
    import pandas as pd

    con = duckdb_module().connect()
    try:
        register_functions(con)
        fit.register_rest(con, declared)
        result = con.sql(fit.select(ql(os.path.join(folder, "*.json")), declared)).arrow()
        table = result.read_all() if hasattr(result, "read_all") else result
    finally:
        con.close()
    # Arrow-backed columns keep what numpy ones cannot: integers beside missing values,
    # exact decimals, binary, lists.
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def to_dask(
    table: TableSource,
    where: Any = None,
    *,
    attributes: Sequence[str] | None = None,
    segments: int | None = None,
    rate_limit: float | None = None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """See :meth:`ddbkit.Table.to_dask`."""
    from ddbkit.expr.where import parse_path

    dd = import_dask()
    segments = optional(SEGMENTS, segments)
    budget = optional(RATE, rate_limit)
    plan = table.explain(where, attributes=attributes, params=params)
    request = table.request_params(plan)
    operation = _OPERATIONS[plan.operation]
    if operation == "query":
        total = 1  # a Query cannot be split into segments: one partition
    elif segments is None:
        total = partition_segments(table.info().size_bytes)
    else:
        total = segments
    names: list[str] | None = None
    if attributes is not None:
        paths = [parse_path(a) if isinstance(a, str) else a for a in attributes]
        names = sorted({str(p.parts[0]) for p in paths})
    declared, meta = _declare(table, operation, request, names)
    rate = _share(budget, total)
    pages = _page_items(table, rate)
    spec = table.db.spec
    job = uuid.uuid4().hex
    parts = [
        ReadPartition(spec, table.name, operation, request, s, total, declared, rate, pages, job)
        for s in range(total)
    ]
    return dd.from_map(read_partition, parts, meta=meta, label=f"ddbkit-{operation}")


def _declare(
    table: TableSource, operation: str, request: Mapping[str, Any], names: list[str] | None
) -> tuple[fit.Declared, Any]:
    """The columns, typed from the first page of at most SAMPLE_ITEMS matching items."""
    folder = tempfile.mkdtemp(prefix="ddbkit-dask-sample-")
    con = duckdb_module().connect()
    try:
        sample = dict(request, Limit=SAMPLE_ITEMS)
        fetch_pages(table.db, operation, sample, folder, enough=lambda: True)
        source = Source(ql(os.path.join(folder, "*.json")))
        register_functions(con)
        if names is None:
            keys = list(table.keys.names)
            seen = [a for a in source.attributes(con) if a not in keys]
            names = keys + seen  # the key attributes first, then the others by name
        declared = fit.declare(con, source, names)
        meta = _frame(folder, declared).iloc[:0]
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)
    return declared, meta


# -- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WritePartition:
    """What a worker needs to write one partition's rows."""

    spec: ConnectionSpec
    table: str
    keys: KeySchema
    action: str
    rate: float | None
    on_error: str
    rest: str
    types: Mapping[str, str] = field(default_factory=dict)
    job: str = ""  # the budget's key: partitions on one worker thread share its slot


def write_partition(part: WritePartition, frame: Any) -> WriteSummary:
    """Write one partition's rows with the batch writer (runs in a worker); never raises for
    items not written: the summary says, and the client raises once for the whole job."""
    writer = BatchWriter(
        connection(part.spec),
        part.table,
        part.keys,
        action=part.action,
        workers=WRITERS_PER_PARTITION,
        rate_limit=slot_limiter(part.job, part.rate) if part.rate is not None else None,
        on_error=part.on_error,
    )
    return writer.write(enumerate(frame_items(frame, part.rest, part.types), start=1))


def frame_items(
    frame: Any, rest: str, types: Mapping[str, str]
) -> Iterator[dict[str, Any] | Unconvertible]:
    """Each row as an item: missing values left out, typed columns converted, the rest merged.

    A row that cannot be converted is handed on as :class:`Unconvertible`, which the batch
    writer rejects with the reason (and ``on_error`` decides whether the job goes on).
    """
    columns = [str(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        item: dict[str, Any] = {}
        try:
            extra: dict[str, Any] = {}
            for name, cell in zip(columns, row, strict=True):
                value = _cell(cell)
                if value is _MISSING:
                    continue
                if name == rest:
                    extra = from_item(orjson.loads(value))
                elif name in types:
                    item[name] = _typed(value, types[name], name)
                else:
                    item[name] = value
            for name, value in extra.items():
                item.setdefault(name, value)  # a column's own value wins over a stray entry
        except (errors.ValidationError, orjson.JSONDecodeError, TypeError) as exc:
            yield Unconvertible(dict(zip(columns, row, strict=True)), str(exc))
            continue
        yield item


def _typed(value: Any, tag: str, name: str) -> Any:
    """A cell as DynamoDB type ``tag`` (as import's ``types``): text in a column typed other
    than S or B is JSON text (what to_dask's JSON columns hold), parsed with exact numbers."""
    if isinstance(value, str) and tag not in ("S", "B"):
        value = loads_exact(value)
        if tag == "JSON":
            return value
    elif tag == "B" and isinstance(value, bytes):
        return value  # a binary cell is already what B means; base64 text is for JSON
    elif tag == "BS" and isinstance(value, list) and all(isinstance(v, bytes) for v in value):
        return set(value)
    return coerce_json(value, tag, name)


_MISSING = object()


def _cell(value: Any) -> Any:
    """A DataFrame cell as a plain Python value; _MISSING for None, NA, NaN and NaT."""
    if value is None:
        return _MISSING
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, Arrow-backed lists
    if tolist is not None and not isinstance(value, (str, bytes)):
        value = tolist()
        if isinstance(value, list):
            return [v for v in (_cell(v) for v in value) if v is not _MISSING]
    if isinstance(value, float) and math.isnan(value):
        return _MISSING
    if type(value).__name__ in ("NAType", "NaTType"):
        return _MISSING
    return value


def write_dask(
    table: TableSource,
    frame: Any,
    *,
    wcu: float | None = None,
    action: str = "put",
    on_error: str = "stop",
    types: Mapping[str, str] | None = None,
    rest: str = fit.REST,
) -> WriteSummary:
    """See :meth:`ddbkit.Table.write_dask`."""
    dd = import_dask()
    from dask.base import compute as dask_compute
    from dask.delayed import delayed as dask_delayed

    compute: Any = dask_compute  # dask's annotations are partial
    delayed: Any = dask_delayed

    if action not in WRITE_ACTIONS:
        raise errors.ValidationError(
            f"write_dask does {' and '.join(WRITE_ACTIONS)} only, not {action!r}: a partition "
            "Dask runs again must be safe to write twice (use Table.update per item instead)"
        )
    if not isinstance(frame, dd.DataFrame):
        raise errors.ValidationError(
            "write_dask takes a dask DataFrame (dask.dataframe.from_pandas(df, npartitions=8) "
            f"makes one), not {type(frame).__name__}"
        )
    columns = list(frame.columns)
    if not all(isinstance(c, str) for c in columns):
        raise errors.ValidationError("every column name must be text: it is an attribute name")
    keys = table.keys
    missing = [k for k in keys.names if k not in columns]
    if missing:
        raise errors.ValidationError(
            f"the frame has no column {missing[0]!r}, part of {table.name!r}'s key: every row "
            "needs the whole key"
        )
    # "JSON": text holding a value of any type (to_dask's JSON columns: maps, lists, mixed)
    json_text = {name for name, tag in (types or {}).items() if str(tag).upper() == "JSON"}
    checked = dict.fromkeys(json_text, "JSON")
    checked.update(check_types({n: t for n, t in (types or {}).items() if n not in json_text}))
    unknown = [c for c in checked if c not in columns]
    if unknown:
        raise errors.ValidationError(f"types names {unknown[0]!r}, which is not a column")
    if action == "delete":  # a delete needs the key alone
        frame = frame[list(keys.names)]
    rate = _share(optional(WRITE_RATE, wcu), frame.npartitions)
    job = uuid.uuid4().hex  # the budget slots of this job, apart from any other
    part = WritePartition(
        table.db.spec, table.name, keys, action, rate, on_error, rest, checked, job
    )
    tasks = [delayed(write_partition)(part, p) for p in frame.to_delayed()]
    began = time.monotonic()
    summaries: Sequence[WriteSummary] = compute(*tasks)
    total = combined(summaries)
    total.elapsed = time.monotonic() - began
    return settled(total, "write_dask", on_error)


def combined(summaries: Sequence[WriteSummary]) -> WriteSummary:
    """One summary for the job: counts added up, reasons kept."""
    total = WriteSummary()
    for s in summaries:
        total.read += s.read
        total.written += s.written
        total.duplicates += s.duplicates
        total.rejected += s.rejected
        total.failed += s.failed
        total.retries += s.retries
        total.stopped = total.stopped or s.stopped
        total.interrupted = total.interrupted or s.interrupted
        total.rejections.extend(s.rejections)
        total.error = total.error or s.error
        total.stopped_at = total.stopped_at or s.stopped_at
        total.failure = total.failure or s.failure
    return total
