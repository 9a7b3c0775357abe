"""Table: one DynamoDB table, plain Python values in and out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.expr.plan import Plan
from ddbkit.expr.requests import ItemRequest, TableRequests, many
from ddbkit.expr.where import WhereInput, as_condition
from ddbkit.frames import TableFrames
from ddbkit.models import KeySchema, TableInfo
from ddbkit.read.changes import Change, ChangeFollower
from ddbkit.read.paginate import ItemIterator, count_items
from ddbkit.read.segments import default_page_size
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.write.batch import BatchWriter, WriteSummary, get_many, settled

if TYPE_CHECKING:
    from ddbkit.jobs.anatomy import SchemaReport, StatsReport
    from ddbkit.jobs.diff import DiffReport
    from ddbkit.jobs.export import ExportResult
    from ddbkit.jobs.source import Catalog
    from ddbkit.jobs.tables import IndexSpec

Item = dict[str, Any]
log = logging.getLogger("ddbkit")


class Table(TableFrames):
    """A DynamoDB table bound to one name. Its key schema is read once, on first need."""

    def __init__(self, db: Catalog, name: str) -> None:
        self.db = db
        self.name = name
        self.requests = TableRequests(name)
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

    def alter(
        self,
        *,
        billing: str | None = None,
        capacity: tuple[int, int] | None = None,
        add_indexes: Sequence[IndexSpec] = (),
        delete_indexes: Sequence[str] = (),
        ttl: str | bool | None = None,
        stream: str | bool | None = None,
        deletion_protection: bool | None = None,
        pitr: bool | None = None,
        wait: bool = True,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[str]:
        """Change the table; returns what was done, in words ([] if it was as asked already).

        ``billing`` "on-demand" or "provisioned" (with ``capacity=(read_units, write_units)``,
        which alone changes a provisioned table's capacity); ``add_indexes`` global indexes
        (``IndexSpec``; a key's type may be "" when the table defines the attribute);
        ``delete_indexes`` index names; ``ttl`` the expiry attribute or False; ``stream`` a view
        type ("new-and-old", "new", "old", "keys") or False; ``deletion_protection`` and ``pitr``
        (point-in-time recovery) True or False. None leaves a setting as it is. Several changes
        are sent in an order DynamoDB accepts, each waited out (ACTIVE, index backfill done);
        ``progress(done, total, text)`` hears each step and the state while waiting.
        """
        from ddbkit.jobs.alter import alter_table

        done = alter_table(
            self.db, self.name, billing=billing, capacity=capacity, add_indexes=add_indexes,
            delete_indexes=delete_indexes, ttl=ttl, stream=stream,
            deletion_protection=deletion_protection, pitr=pitr, wait=wait, progress=progress,
        )  # fmt: skip
        self._info = None  # indexes and keys may have changed: read them again when needed
        return done

    def changes(
        self,
        *,
        start: str = "latest",
        where: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        poll_interval: float = 1.0,
        stop: threading.Event | None = None,
    ) -> Iterator[Change]:
        """Every change to the table's items as it happens, from its stream: INSERT, MODIFY and
        REMOVE :class:`~ddbkit.read.changes.Change` objects with plain values, across every
        shard, each item's changes in order. Runs until ``stop`` is set (or the stream is
        turned off); ``start="trim-horizon"`` begins with every change the stream still holds
        (up to 24 hours). ``where`` keeps only the changes whose new image (the old one for a
        REMOVE, the keys for a keys-only stream) matches, evaluated here as DynamoDB would.

        A table without a stream raises a ValidationError naming how to turn one on.
        """
        condition = as_condition(where, params)
        keep = None
        if condition is not None:
            from ddbkit.expr.evaluate import matches

            def keep(_event: str, image: Mapping[str, Any]) -> bool:
                return matches(condition, image)

        return iter(
            ChangeFollower(
                self.db, self.name, start=start, keep=keep, poll_interval=poll_interval,
                stop=stop,
            )
        )  # fmt: skip

    # -- single items ---------------------------------------------------------------------------

    def get(
        self,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Item | None:
        """The item with this key, or None."""
        return self._send(
            self.requests.get_item(self.keys, key, consistent=consistent, attributes=attributes)
        )

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        expected: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a whole item, replacing any item with the same key (only if ``condition``
        holds; its ``:name`` parameters are bound from ``params``).

        ``expected`` (the item as it was read) makes the save optimistic: it is written only if
        the stored item still holds every attribute of ``expected`` with an equal value, else
        :class:`~ddbkit.errors.ConditionFailedError` says the item changed since it was read.
        """
        self._send(
            self.requests.put_item(
                self.keys, item, condition=condition, params=params, expected=expected
            )
        )

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        return_old: bool = False,
        expected: Mapping[str, Any] | None = None,
    ) -> Item | None:
        """Delete the item with this key; with ``return_old``, return what was deleted (or None).

        With ``expected`` (the item as it was read) only if it has not changed, as :meth:`put`.
        """
        request = self.requests.delete_item(
            self.keys, key, condition=condition, params=params, return_old=return_old,
            expected=expected,
        )  # fmt: skip
        return self._send(request)

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
        request = self.requests.update_item(
            self.keys, key, set=set, add=add, remove=remove, delete=delete, condition=condition,
            params=params,
        )  # fmt: skip
        return self._send(request) or {}

    def _send(self, request: ItemRequest) -> Item | None:
        # The raw path: an item holding a string that is not valid Unicode still reads.
        try:
            body = self.db.call_raw(
                request.method, table=self.name, idempotent=request.idempotent, **request.params
            )
        except errors.ConditionFailedError as failed:
            if request.changed is None:
                raise
            raise request.refused(failed) from None
        return request.result(decode_reply(body, self.name))

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
        plan = self.requests.query_plan(
            self._cached_info(), where, index=index, attributes=attributes,
            consistent=consistent, params=params,
        )  # fmt: skip
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
        plan = self.requests.scan_plan(
            self._cached_info(), where, index=index, attributes=attributes,
            consistent=consistent, params=params,
        )  # fmt: skip
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
        index: str | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Plan:
        """The plan ``find`` would run: operation, index, key condition, filter, and why.

        With ``index``, the plan on that index: a Query when ``where`` binds its partition key
        by ``=``, else a Scan of the index; :meth:`run` runs either.
        """
        return self.requests.find_plan(
            self._cached_info(), where, index=index, attributes=attributes,
            consistent=consistent, params=params,
        )  # fmt: skip

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
        walk = self.requests.count_walk(
            self._cached_info(), where, consistent=consistent, segments=segments,
            rate_limit=rate_limit, params=params,
        )  # fmt: skip
        return count_items(self.db, walk)

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
        walk = self.requests.walk(
            self._cached_info(), plan, limit=limit, start=start, reverse=reverse,
            segments=segments, rate_limit=rate_limit, page_size=default_page_size(self.db),
        )  # fmt: skip
        return ItemIterator(self.db, walk)

    def request_params(
        self, plan: Plan, *, attributes: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The parameters every page of this plan is sent with."""
        return self.requests.request_params(plan, attributes=attributes)

    # -- bulk -----------------------------------------------------------------------------------

    def get_many(
        self,
        keys: Iterable[Mapping[str, Any]],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Iterator[Item]:
        """Items for many keys (BatchGetItem, 100 a call, unprocessed keys retried); any order."""
        wire_keys = (self.key_to_wire(key) for key in keys)
        return get_many(
            self.db, self.name, wire_keys, self.keys, consistent=consistent,
            projection=self.requests.projection(attributes),
        )  # fmt: skip

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
        records = enumerate(iter(many(items, "put_many", "items")), start=1)
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
        records = enumerate(iter(many(keys, "delete_many", "keys")), start=1)
        return settled(writer.write(records), "delete_many", "stop")

    def export(
        self,
        target: str | Path,
        *,
        format: str = "jsonl",
        where: WhereInput = None,
        attributes: Sequence[str] | None = None,
        segments: int | None = None,
        share: tuple[int, int] | None = None,
        rate_limit: float | None = None,
        resume: bool = False,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ExportResult:
        """Write the items (matching ``where``) to a file; see :mod:`ddbkit.jobs.export`.

        ``share=(K, N)`` with ``segments=S`` writes only host K's share (0-based, of N hosts) of
        the S scan segments, so N hosts export the table between them, each file on its own.
        """
        from ddbkit.jobs.export import export_table  # here: a `get` need not load the jobs

        return export_table(
            self,
            target,
            format=format,
            where=as_condition(where, params),
            attributes=attributes,
            segments=segments,
            share=share,
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
        from ddbkit.jobs.import_ import import_file

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

    def diff(
        self,
        other: Table,
        *,
        where: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        segments: int | None = None,
        sample: int = 10,
        buckets: int | None = None,
        rate_limit: float | None = None,
        spill_dir: str | Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> DiffReport:
        """Compare this table's items (matching ``where``) with ``other``'s, key by key: counts
        of items only here, only there, different and equal, ``sample`` of each kind, and
        ``report.differences()`` for all; memory stays bounded (see :mod:`ddbkit.jobs.diff`).

        ``other`` may be on another connection (endpoint, region, profile).
        """
        from ddbkit.jobs.diff import diff_tables

        return diff_tables(
            self,
            other,
            where=where,
            params=params,
            segments=segments,
            sample=sample,
            buckets=buckets,
            rate_limit=rate_limit,
            spill_dir=spill_dir,
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
        from ddbkit.jobs.anatomy import table_schema

        return table_schema(self, sample=sample, segments=segments, rate_limit=rate_limit)

    def stats(
        self,
        *,
        sample: int | None = 1000,
        segments: int | None = None,
        rate_limit: float | None = None,
    ) -> StatsReport:
        """Item sizes, the largest items, partition-key skew (hot keys)."""
        from ddbkit.jobs.anatomy import table_stats

        return table_stats(self, sample=sample, segments=segments, rate_limit=rate_limit)

    # -- keys -----------------------------------------------------------------------------------

    def key_to_wire(self, key: Mapping[str, Any], *, what: str = "key") -> dict[str, Any]:
        """Check a key against the schema (names and types) and convert it; no request is sent."""
        return self.requests.key_to_wire(self.keys, key, what)
