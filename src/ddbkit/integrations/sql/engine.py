"""SQL over DynamoDB tables with DuckDB: ``Catalog.sql(query)`` and ``ddbkit sql``.

Each DynamoDB table the query names is read once (sqlplan decides the request: Query or Scan,
projection, guarded filter, early stop) into a typed DuckDB table of the same name (sqlload), and
the query then runs unchanged on that DuckDB connection. Names that are not DynamoDB tables are
left to DuckDB (its own tables, functions, and files such as ``'export.jsonl'``), except files in
ddb-json layout (``{"Item": {...}}`` lines, as DynamoDB's S3 export writes them) and whole AWS
export folders (``'exports/AWSDynamoDB/<ExportId>'``, see :mod:`ddbkit.formats.awsexport`), which
go through the same typed conversion as pages. An export folder's manifests and checksums are
checked before it is read, and the items loaded must number the manifest's itemCount.

Lifetime: the page files are deleted as soon as their table is created, so nothing outlives the
call on disk; the data lives in the DuckDB connection, which the returned relation keeps alive.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from ddbkit import errors
from ddbkit.expr.plan import Plan
from ddbkit.formats.awsexport import SUMMARY, Export, is_export_folder, open_export
from ddbkit.integrations.sql.load import (
    Column,
    FetchStats,
    Source,
    define,
    fetch_pages,
    qi,
    ql,
    register_functions,
)
from ddbkit.integrations.sql.plan import Analysis, TableUse, analyze, duckdb_module, pushdown
from ddbkit.models import ScanEstimate
from ddbkit.read.segments import auto_segments

if TYPE_CHECKING:
    from ddbkit.jobs.source import Catalog, TableSource

_OPERATIONS = {"Query": "query", "Scan": "scan"}
_EXACT_TYPES = ("VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN")


@dataclass
class Loaded:
    """One DynamoDB table of a query: the request sent, what came back, the columns made."""

    name: str
    plan: Plan
    params: dict[str, Any]
    stats: FetchStats
    columns: list[Column]
    estimate: str
    refetched: bool = False

    def describe(self) -> str:
        lines = [f"DynamoDB table {self.name!r}:"]
        lines += ["  " + line for line in self.plan.describe().splitlines()]
        if "Limit" in self.params:
            lines.append(f"  page limit:    {self.params['Limit']}")
        lines.append(f"  estimate:      {self.estimate}")
        if self.refetched:
            lines.append("  note:          a filtered attribute has mixed types: read unfiltered")
        return "\n".join(lines)


class SqlSession:
    """One DuckDB connection in which DynamoDB tables appear as typed tables."""

    def __init__(
        self,
        db: Catalog,
        *,
        segments: int | None = None,
        progress: Callable[[int], None] | None = None,
        connection: Any = None,
    ) -> None:
        self.db = db
        self.segments = segments
        self.progress = progress
        self.con = connection if connection is not None else duckdb_module().connect()
        register_functions(self.con)
        self.loaded: dict[str, Loaded] = {}
        self.exports: dict[str, Export] = {}

    def sql(self, query: str) -> Any:
        """The query's DuckDB relation, after loading every DynamoDB table it names."""
        self.prepare(query)
        return self.con.sql(query)

    def prepare(self, query: str) -> Analysis:
        analysis = analyze(query)
        for name, use in analysis.tables.items():
            if name in self.loaded:
                continue
            table = self._dynamodb_table(name)
            if table is not None:
                self.load(table, use, query=query, limit=analysis.limit)
            elif name in self.exports:
                continue
            elif is_export_folder(name):
                self.load_export(name)
            elif _is_ddb_json(name):
                self._load_ddb_json(name)
        return analysis

    def explain(self, query: str) -> str:
        """The DynamoDB requests, and DuckDB's plan over a one-page sample of each table."""
        analysis = analyze(query)
        parts: list[str] = []
        for name, use in analysis.tables.items():
            table = self._dynamodb_table(name)
            if table is None:
                if is_export_folder(name):  # DuckDB cannot plan over a folder: load it first
                    export = self.exports.get(name) or self.load_export(name)
                    parts.append(f"{name}: {export.describe()}")
                continue
            planned = pushdown(use, table.info())
            params = table.request_params(planned.plan)
            loaded = Loaded(
                name, planned.plan, params, FetchStats(), [], _estimate(table, planned.plan)
            )
            if analysis.limit is not None and planned.plan.filter is None:
                loaded.params["Limit"] = max(analysis.limit, 1)
            parts.append(loaded.describe())
            # DuckDB plans over the columns a one-page sample gives (types are read, not declared)
            attrs = sorted(use.attrs) if use.attrs is not None else None
            self._read(table, name, planned.plan, attrs or None, None, None, sample=True)
        if analysis.limit is not None:
            parts.append(f"early stop: after {analysis.limit} result rows")
        plan = self.con.sql("EXPLAIN " + query).fetchall()
        parts.append("DuckDB plan (column types from a one-page sample of each table):")
        parts.append("\n".join(str(row[1]) for row in plan))
        return "\n\n".join(parts)

    def _dynamodb_table(self, name: str) -> TableSource | None:
        try:
            table = self.db.table(name)
            table.info()
        except errors.TableNotFoundError:
            return None
        except errors.ValidationError:
            return None  # not a valid DynamoDB table name: a file or a DuckDB name
        return table

    def load(
        self,
        table: TableSource,
        use: TableUse,
        *,
        query: str | None = None,
        limit: int | None = None,
        plan: Plan | None = None,
        view_name: str | None = None,
    ) -> Loaded:
        """Read one DynamoDB table into DuckDB table ``view_name`` (default: its own name)."""
        name = view_name or table.name
        info = table.info()
        planned = pushdown(use, info) if plan is None else None
        the_plan = plan if plan is not None else planned.plan  # type: ignore[union-attr]
        filtered = planned.filtered if planned is not None else {}
        attrs = sorted(use.attrs) if use.attrs is not None else None
        if attrs == []:
            attrs = [info.partition_key.name]
        loaded = self._read(table, name, the_plan, attrs, query, limit)
        if any(_type_unsure(c, filtered[c.attr]) for c in loaded.columns if c.attr in filtered):
            # The column type comes from the items that passed the filter; when that may differ
            # from the type over all items (so SQL would compare differently), read unfiltered.
            loaded = self._read(table, name, replace(the_plan, filter=None), attrs, query, limit)
            loaded.refetched = True
        self.loaded[name] = loaded
        return loaded

    def _read(
        self,
        table: TableSource,
        name: str,
        plan: Plan,
        attrs: list[str] | None,
        query: str | None,
        limit: int | None,
        *,
        sample: bool = False,
    ) -> Loaded:
        info = table.info()
        params = table.request_params(plan)
        operation = _OPERATIONS[plan.operation]
        segments = 1
        if operation == "scan":
            segments = self.segments or auto_segments(info.size_bytes)
        tmp = tempfile.mkdtemp(prefix="ddbkit-sql-")
        try:
            source = Source(ql(os.path.join(tmp, "*.json")))
            fallback = list(table.keys.names)
            enough: Callable[[], bool] | None = None
            if sample:
                params["Limit"] = 100
                segments = 1

                def enough() -> bool:
                    return True

            elif limit is not None and query is not None:
                if plan.filter is None:
                    params["Limit"] = max(limit, 1)

                def enough() -> bool:  # run the query on what has arrived: enough rows yet?
                    define(self.con, name, source, attrs, fallback_attrs=fallback, kind="VIEW")
                    got = self.con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
                    return bool(got >= limit)

            stats = fetch_pages(
                self.db,
                operation,
                params,
                tmp,
                segments=segments,
                enough=enough,
                progress=self.progress,
            )
            if enough is not None:
                self.con.execute(f"DROP VIEW IF EXISTS {qi(name)}")
            cols = define(self.con, name, source, attrs, fallback_attrs=fallback)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return Loaded(name, plan, params, stats, cols, _estimate(table, plan))

    def _load_ddb_json(self, name: str) -> None:
        source = Source(ql(name), ddb_json=True)
        define(self.con, name, source, None, fallback_attrs=[])

    def load_export(self, name: str) -> Export:
        """Read the AWS export folder ``name`` into DuckDB table ``name``, items counted."""
        export = open_export(name)
        # An empty partition's data file may have no bytes at all, which DuckDB's gzip reader
        # refuses; it holds no items, and its md5 was checked with the others.
        paths = [f.path for f in export.files if f.path.stat().st_size > 0]
        if export.item_count == 0 or not paths:
            raise errors.ValidationError(
                f"the export in {export.folder} holds no items ({SUMMARY} says "
                f"itemCount {export.item_count}): there is nothing to query"
            )
        files_sql = "[" + ", ".join(ql(str(path)) for path in paths) + "]"
        define(self.con, name, Source(files_sql, ddb_json=True), None, fallback_attrs=[])
        loaded = self.con.execute(f"SELECT count(*) FROM {qi(name)}").fetchall()[0][0]
        if loaded != export.item_count:
            self.con.execute(f"DROP TABLE IF EXISTS {qi(name)}")
            raise errors.ValidationError(
                f"read {loaded} items from the export in {export.folder} but {SUMMARY} says "
                f"{export.item_count}: the export is damaged; download it again"
            )
        self.exports[name] = export
        return export


def _type_unsure(col: Column, literal_tags: frozenset[str]) -> bool:
    """Whether a filtered column's type may differ from the one all items would give.

    The guard keeps every item whose value has another type than the literal's, so the
    survivors show all those types; only the literal's own type may be missing from them.
    Mixed or inexact columns (JSON) compare unlike DynamoDB, so they count as unsure too.
    """
    exact = col.sql_type in _EXACT_TYPES or col.sql_type.startswith("DECIMAL")
    present = {t for t in col.tags if t != "NULL"}
    if not present:
        return False
    if not exact:
        return True
    return bool(literal_tags) and not literal_tags & present


def _estimate(table: TableSource, plan: Plan) -> str:
    if plan.operation == "Scan" and plan.estimate is None:
        plan = replace(
            plan,
            estimate=ScanEstimate.for_size(table.info().size_bytes, consistent=plan.consistent),
        )
    return f"{plan.operation}: {plan.cost}"


def _is_ddb_json(name: str) -> bool:
    """Whether ``name`` is a file glob whose first line is DynamoDB JSON ({"Item": {...}})."""
    paths = sorted(glob.glob(name))
    if not paths or not os.path.isfile(paths[0]):
        return False
    opener: Any = gzip.open if paths[0].endswith(".gz") else open
    try:
        with opener(paths[0], "rb") as f:
            line = f.readline()
        first = orjson.loads(line)
    except (OSError, orjson.JSONDecodeError):
        return False
    if not isinstance(first, dict) or set(first) != {"Item"} or not isinstance(first["Item"], dict):
        return False
    return all(isinstance(v, dict) and len(v) == 1 for v in first["Item"].values())


def sql(db: Catalog, query: str, *, segments: int | None = None) -> Any:
    """See :meth:`Catalog.sql`."""
    return SqlSession(db, segments=segments).sql(query)


def sql_explain(db: Catalog, query: str) -> str:
    """See :meth:`Catalog.sql_explain`."""
    return SqlSession(db).explain(query)


def table_relation(
    table: TableSource,
    where: Any = None,
    attributes: Any = None,
    *,
    segments: int | None = None,
) -> Any:
    """The items of ``table`` (matching ``where``, find's plan) as a DuckDB relation."""
    from ddbkit.expr.expressions import Path
    from ddbkit.expr.where import parse_path

    attrs: set[str] | None = None
    if attributes is not None:
        paths = [a if isinstance(a, Path) else parse_path(str(a)) for a in attributes]
        attrs = {str(p.parts[0]) for p in paths}
    plan = table.explain(where, attributes=attributes)
    session = SqlSession(table.db, segments=segments)
    session.load(table, TableUse(table.name, attrs), plan=plan, view_name="items")
    return session.con.sql("SELECT * FROM items")
