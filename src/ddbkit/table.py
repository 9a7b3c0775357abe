"""Table: one DynamoDB table, plain Python values in and out."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.expr.builders import build_update, encode_projection
from ddbkit.expr.expressions import Condition, Placeholders, Update
from ddbkit.expr.plan import Plan, plan_find, plan_query, plan_scan
from ddbkit.expr.where import Bindings, WhereInput, as_condition, bind_condition, parse_path
from ddbkit.jobs.anatomy import SchemaReport, StatsReport, table_schema, table_stats
from ddbkit.jobs.export import ExportResult, export_table
from ddbkit.jobs.import_ import import_file
from ddbkit.models import KeySchema, TableInfo, format_bytes
from ddbkit.options import LIMIT, RATE, SEGMENTS, optional
from ddbkit.read.paginate import ItemIterator, count_items
from ddbkit.read.segments import auto_segments, default_page_size, useful_segments
from ddbkit.transport.ratelimit import RateLimiter
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.values.serialize import from_item, to_item
from ddbkit.write.batch import BatchWriter, WriteSummary, get_many, settled

if TYPE_CHECKING:
    from ddbkit.jobs.source import Catalog

Item = dict[str, Any]
log = logging.getLogger("ddbkit")


class Table:
    """A DynamoDB table bound to one name. Its key schema is read once, on first need."""

    def __init__(self, db: Catalog, name: str) -> None:
        self.db = db
        self.name = name
        self._info: TableInfo | None = None

    def __repr__(self) -> str:
        return f"<Table {self.name!r} on {self.db.endpoint}>"

    # -- metadata -------------------------------------------------------------------------------

    def info(self) -> TableInfo:
        """Fresh metadata: keys, indexes, capacity, TTL, streams, size and a full-scan estimate."""
        described = self.db.call("describe_table", table=self.name, TableName=self.name)["Table"]
        ttl = self.db.call("describe_time_to_live", table=self.name, TableName=self.name)
        self._info = TableInfo.from_describe(described, ttl.get("TimeToLiveDescription"))
        return self._info

    @property
    def keys(self) -> KeySchema:
        return self._cached_info().keys

    def _cached_info(self) -> TableInfo:
        if self._info is None:
            described = self.db.call("describe_table", table=self.name, TableName=self.name)
            self._info = TableInfo.from_describe(described["Table"])
        return self._info

    # -- single items ---------------------------------------------------------------------------

    def get(
        self,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Item | None:
        """The item with this key, or None."""
        params: dict[str, Any] = {"Key": self.key_to_wire(key), "ConsistentRead": consistent}
        ph = Placeholders()
        if attributes:
            params["ProjectionExpression"] = encode_projection(attributes, ph)
        reply = self._call("get_item", params, ph)
        raw = reply.get("Item")
        return None if raw is None else from_item(raw)

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a whole item, replacing any item with the same key (only if ``condition``
        holds; its ``:name`` parameters are bound from ``params``)."""
        if not isinstance(item, Mapping):
            raise errors.ValidationError(
                f"an item must be a dict of attribute names to values, not {type(item).__name__}"
            )
        self.key_to_wire(
            {name: item[name] for name in self.keys.names if name in item}, what="item"
        )
        request: dict[str, Any] = {"Item": to_item(item)}
        ph = Placeholders()
        self._add_condition(request, as_condition(condition, params), ph)
        self._call("put_item", request, ph)

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        return_old: bool = False,
    ) -> Item | None:
        """Delete the item with this key; with ``return_old``, return what was deleted (or None)."""
        request: dict[str, Any] = {"Key": self.key_to_wire(key)}
        if return_old:
            request["ReturnValues"] = "ALL_OLD"
        ph = Placeholders()
        self._add_condition(request, as_condition(condition, params), ph)
        reply = self._call("delete_item", request, ph)
        old = reply.get("Attributes")
        return from_item(old) if return_old and old else None

    def update(
        self,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | str | None = None,
        add: Mapping[str, Any] | str | None = None,
        remove: Sequence[str] | str | None = None,
        delete: Mapping[str, Any] | str | None = None,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> Item:
        """Change parts of an item (creating it if absent) and return the item as it now is.

        ``params`` binds the ``:name`` parameters of the clause texts and of ``condition``.
        """
        ph = Placeholders()
        bindings = Bindings(params)
        changes = build_update(set=set, add=add, remove=remove, delete=delete, bindings=bindings)
        self._refuse_key_updates(changes)
        parsed = bind_condition(condition, bindings) if isinstance(condition, str) else condition
        bindings.check_used()
        expression = changes.encode(ph)
        request: dict[str, Any] = {
            "Key": self.key_to_wire(key),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        self._add_condition(request, as_condition(parsed), ph)
        reply = self._call("update_item", request, ph)
        return from_item(reply.get("Attributes", {}))

    def _refuse_key_updates(self, changes: Update) -> None:
        for clause, path in changes.targets():
            if path.parts[0] in self.keys.names:
                raise errors.ValidationError(
                    f"cannot {clause} key attribute {path.parts[0]!r}: a key identifies the item; "
                    "put a new item and delete the old one instead"
                )

    # -- many items -----------------------------------------------------------------------------

    def query(
        self,
        where: WhereInput,
        *,
        index: str | None = None,
        limit: int | None = None,
        reverse: bool = False,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        start: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ItemIterator:
        """Items whose keys match ``where``, lazily over all pages (``.pages()`` for pages).

        ``params`` binds the where-clause's ``:name`` parameters (see :mod:`ddbkit.expr.where`).
        """
        condition = as_condition(where, params)
        keys = self._index_keys(index) if index else self.keys
        plan = plan_query(
            condition,
            keys,
            index=index,
            attributes=attributes,
            consistent=consistent,
            table=self.name,
        )
        return self.run(plan, limit=limit, start=start, reverse=reverse)

    def scan(
        self,
        where: WhereInput = None,
        *,
        index: str | None = None,
        limit: int | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        start: str | None = None,
        segments: int | None = None,
        rate_limit: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ItemIterator:
        """Every item (matching ``where``, its ``:name`` parameters bound from ``params``),
        lazily over all pages.

        ``segments`` scans that many segments in parallel (default: chosen from the table's
        size, 1 for small tables); ``rate_limit`` caps read capacity units per second across all
        segments. Items arrive as their pages do, each exactly once.
        """
        if index:
            self._index_keys(index)
        plan = plan_scan(
            as_condition(where, params), index=index, attributes=attributes, consistent=consistent
        )
        return self.run(plan, limit=limit, start=start, segments=segments, rate_limit=rate_limit)

    def find(
        self,
        where: WhereInput = None,
        *,
        limit: int | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        start: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ItemIterator:
        """Items matching ``where`` by the cheapest plan (see :meth:`explain`).

        Put a user's value in the where-clause as a parameter, never by formatting it into the
        text: ``find("name = :name", params={"name": x})``.
        """
        plan = self.explain(where, attributes=attributes, consistent=consistent, params=params)
        return self.run(plan, limit=limit, start=start)

    def explain(
        self,
        where: WhereInput = None,
        *,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Plan:
        """The plan ``find`` would run: operation, index, key condition, filter, and why."""
        return plan_find(
            as_condition(where, params),
            self._cached_info(),
            attributes=attributes,
            consistent=consistent,
        )

    def count(
        self,
        where: WhereInput = None,
        *,
        consistent: bool = False,
        segments: int | None = None,
        rate_limit: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Exact number of items matching ``where`` (Select=COUNT over all pages, cheapest plan)."""
        rate_limit = optional(RATE, rate_limit)
        plan = plan_find(
            as_condition(where, params), self._cached_info(), attributes=(), consistent=consistent
        )
        request = self.request_params(plan)
        request.pop("ProjectionExpression", None)
        return count_items(
            self.db,
            _OPERATIONS[plan.operation],
            request,
            table=self.name,
            # count picks its plan itself: segments matter only if that plan is a scan.
            segments=self._segments_for(plan, segments if plan.operation == "Scan" else None),
            limiter=RateLimiter(rate_limit) if rate_limit else None,
        )

    def _segments_for(self, plan: Plan, segments: int | None, *, resuming: bool = False) -> int:
        segments = optional(SEGMENTS, segments)
        if plan.operation != "Scan":
            if segments not in (None, 1):
                raise errors.ValidationError("segments apply to scans only: a query reads in order")
            return 1
        size = self._cached_info().size_bytes
        if segments is None:
            return auto_segments(size)
        useful = useful_segments(size)
        if segments > useful and not resuming:  # a cursor's segment count is not ours to change
            log.warning(
                "using %d segments, not %d: table %r holds about %s (DescribeTable's figure, "
                "updated about every six hours), and each segment costs at least one request",
                useful,
                segments,
                self.name,
                format_bytes(size),
            )
            return useful
        return segments

    def run(
        self,
        plan: Plan,
        *,
        limit: int | None = None,
        start: str | None = None,
        reverse: bool = False,
        segments: int | None = None,
        rate_limit: float | None = None,
    ) -> ItemIterator:
        """Run a plan (from :meth:`explain` or the planner) as a lazy item iterator."""
        limit = optional(LIMIT, limit)
        rate_limit = optional(RATE, rate_limit)
        if reverse and plan.operation != "Query":
            raise errors.ValidationError("reverse works with query only: a scan has no order")
        key_names = self._cursor_key_names(plan.index)
        hidden: frozenset[str] = frozenset()
        attributes = plan.attributes
        if limit is not None and attributes:
            # A limit may stop mid-page; the cursor then needs the last item's key attributes.
            top = {str(parse_path(a).parts[0]) for a in attributes}
            hidden = frozenset(name for name in key_names if name not in top)
            attributes = (*attributes, *sorted(hidden))
        params = self.request_params(plan, attributes=attributes)
        if reverse:
            params["ScanIndexForward"] = False
        return ItemIterator(
            self.db,
            _OPERATIONS[plan.operation],
            params,
            table=self.name,
            key_names=key_names,
            limit=limit,
            start=start,
            hidden=hidden,
            has_filter=plan.filter is not None,
            segments=self._segments_for(plan, segments, resuming=start is not None),
            limiter=RateLimiter(rate_limit) if rate_limit else None,
            page_size=default_page_size(self.db),
        )

    def request_params(
        self, plan: Plan, *, attributes: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The parameters every page of this plan is sent with."""
        ph = Placeholders()
        params: dict[str, Any] = {"TableName": self.name}
        if plan.index:
            params["IndexName"] = plan.index
        if plan.key_condition is not None:
            params["KeyConditionExpression"] = plan.key_condition.encode(ph)
        if plan.filter is not None:
            params["FilterExpression"] = plan.filter.encode(ph)
        projection = attributes if attributes is not None else plan.attributes
        if projection:
            params["ProjectionExpression"] = encode_projection(projection, ph)
        if plan.consistent:
            params["ConsistentRead"] = True
        params.update(ph.request_params())
        return params

    # -- bulk -----------------------------------------------------------------------------------

    def get_many(
        self,
        keys: Iterable[Mapping[str, Any]],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Iterator[Item]:
        """Items for many keys (BatchGetItem, 100 a call, unprocessed keys retried); any order."""
        ph = Placeholders()
        projection: dict[str, Any] = {}
        if attributes:
            projection["ProjectionExpression"] = encode_projection(attributes, ph)
            projection.update(ph.request_params())
        wire_keys = (self.key_to_wire(key) for key in keys)
        return get_many(
            self.db, self.name, wire_keys, self.keys, consistent=consistent, projection=projection
        )

    def put_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        workers: int = 8,
        rate_limit: float | None = None,
        on_error: str = "stop",
        progress: Callable[[int], None] | None = None,
    ) -> WriteSummary:
        """Write many items with BatchWriteItem; nothing is dropped (see :class:`WriteSummary`).

        ``rate_limit`` caps write capacity units per second; ``on_error="skip"`` goes on past
        items DynamoDB can never accept (they are listed in ``summary.rejections``). Anything
        else not written (an item refused with ``on_error="stop"``, items DynamoDB kept refusing)
        raises :class:`~ddbkit.errors.IncompleteWriteError` with the summary attached.
        """
        writer = BatchWriter(
            self.db,
            self.name,
            self.keys,
            workers=workers,
            rate_limit=rate_limit,
            on_error=on_error,
            progress=progress,
        )
        records = enumerate(_many(items, "put_many", "items"), start=1)
        return settled(writer.write(records), "put_many", on_error)

    def delete_many(
        self,
        keys: Iterable[Mapping[str, Any]],
        *,
        workers: int = 8,
        rate_limit: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WriteSummary:
        """Delete many items by key with BatchWriteItem; raises like :meth:`put_many`."""
        writer = BatchWriter(
            self.db,
            self.name,
            self.keys,
            action="delete",
            workers=workers,
            rate_limit=rate_limit,
            progress=progress,
        )
        records = enumerate(_many(keys, "delete_many", "keys"), start=1)
        return settled(writer.write(records), "delete_many", "stop")

    def export(
        self,
        target: str | Path,
        *,
        format: str = "jsonl",
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        segments: int | None = None,
        rate_limit: float | None = None,
        resume: bool = False,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ExportResult:
        """Write the items (matching ``where``) to a file; see :mod:`ddbkit.jobs.export`."""
        return export_table(
            self,
            target,
            format=format,
            where=as_condition(where, params),
            attributes=attributes,
            segments=segments,
            rate_limit=rate_limit,
            resume=resume,
            force=force,
            progress=progress,
        )

    def import_file(
        self,
        source: str | Path,
        *,
        format: str | None = None,
        workers: int = 8,
        rate_limit: float | None = None,
        on_error: str = "stop",
        types: Mapping[str, str] | None = None,
        reject_path: str | Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WriteSummary:
        """Load a jsonl, ddb-json or csv file; rejected lines go to a reject file."""
        return import_file(
            self,
            source,
            format=format,
            workers=workers,
            rate_limit=rate_limit,
            on_error=on_error,
            types=types,
            reject_path=reject_path,
            progress=progress,
        )

    # -- anatomy --------------------------------------------------------------------------------

    def schema(
        self,
        *,
        sample: int | None = 1000,
        segments: int | None = None,
        rate_limit: float | None = None,
    ) -> SchemaReport:
        """Attribute names, the types seen (with counts), fill rates, examples, type conflicts."""
        return table_schema(self, sample=sample, segments=segments, rate_limit=rate_limit)

    def stats(
        self,
        *,
        sample: int | None = 1000,
        segments: int | None = None,
        rate_limit: float | None = None,
    ) -> StatsReport:
        """Item sizes, the largest items, partition-key skew (hot keys)."""
        return table_stats(self, sample=sample, segments=segments, rate_limit=rate_limit)

    # -- DataFrames (the ``sql`` extra) --------------------------------------------------------

    def to_arrow(
        self,
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        *,
        segments: int | None = None,
    ) -> Any:
        """The items (matching ``where``, by find's plan) as a ``pyarrow.Table``.

        Columns follow ``db.sql``'s type mapping; scans run in parallel segments.
        """
        from ddbkit.integrations.sql.engine import table_relation

        result = table_relation(self, where, attributes, segments=segments).arrow()
        # newer DuckDB returns a RecordBatchReader from .arrow(): collect it into a Table
        return result.read_all() if hasattr(result, "read_all") else result

    def to_pandas(
        self,
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        *,
        segments: int | None = None,
    ) -> Any:
        """As :meth:`to_arrow`, as a ``pandas.DataFrame``."""
        from ddbkit.integrations.sql.engine import table_relation

        try:
            importlib.import_module("pandas")  # .df() needs it; no stubs wanted for a check
        except ImportError as exc:
            raise errors.MissingExtraError("pandas", "dataframes") from exc
        return table_relation(self, where, attributes, segments=segments).df()

    def to_polars(
        self,
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        *,
        segments: int | None = None,
    ) -> Any:
        """As :meth:`to_arrow`, as a ``polars.DataFrame``."""
        from ddbkit.integrations.sql.engine import table_relation

        try:
            importlib.import_module("polars")
        except ImportError as exc:
            raise errors.MissingExtraError("polars", "dataframes") from exc
        return table_relation(self, where, attributes, segments=segments).pl()

    # -- keys -----------------------------------------------------------------------------------

    def key_to_wire(self, key: Mapping[str, Any], *, what: str = "key") -> dict[str, Any]:
        """Check a key against the schema (names and types) and convert it; no request is sent."""
        return self.keys.to_wire(key, table=self.name, what=what)

    def _index_keys(self, index: str) -> KeySchema:
        found = self._cached_info().index(index)
        if found is None:
            names = ", ".join(i.name for i in self._cached_info().indexes) or "none"
            raise errors.ValidationError(
                f"table {self.name!r} has no index {index!r} (indexes: {names})"
            )
        return found.keys

    def _cursor_key_names(self, index: str | None) -> tuple[str, ...]:
        names = list(self.keys.names)
        if index:
            names += [n for n in self._index_keys(index).names if n not in names]
        return tuple(names)

    # -- requests -------------------------------------------------------------------------------

    def _add_condition(
        self, request: dict[str, Any], condition: Condition | None, ph: Placeholders
    ) -> None:
        if condition is not None:
            request["ConditionExpression"] = condition.encode(ph)

    def _call(self, operation: str, params: dict[str, Any], ph: Placeholders) -> dict[str, Any]:
        # The raw path: an item holding a string that is not valid Unicode still reads. An
        # update (ADD, n = n + 1) or a conditional write is never resent once it may have been
        # applied, nor a delete that returns what it deleted; a get, a plain put and a plain
        # delete are the same however often they are sent.
        idempotent = operation == "get_item" or (
            operation != "update_item"
            and "ConditionExpression" not in params
            and "ReturnValues" not in params
        )
        body = self.db.call_raw(
            operation,
            table=self.name,
            idempotent=idempotent,
            TableName=self.name,
            **params,
            **ph.request_params(),
        )
        return decode_reply(body, self.name)


_OPERATIONS = {"Query": "query", "Scan": "scan"}


def _many(given: Any, what: str, kind: str) -> Iterable[Any]:
    """An iterable of items or keys; a str, a single dict or None is refused, not iterated."""
    if given is None or isinstance(given, (str, bytes, bytearray, Mapping)):
        one = "put()" if kind == "items" else "delete()"
        raise errors.ValidationError(
            f"{what} takes an iterable of {kind} (dicts), not {type(given).__name__}; "
            f"for a single one use {one}"
        )
    try:
        return iter(given)  # type: ignore[no-any-return]
    except TypeError:
        raise errors.ValidationError(
            f"{what} takes an iterable of {kind} (dicts), not {type(given).__name__}"
        ) from None
