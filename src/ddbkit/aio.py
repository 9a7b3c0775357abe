"""The async facade: :func:`connect_async`, :class:`AsyncDatabase` and :class:`AsyncTable`.

The same method names and arguments as :class:`ddbkit.Database` and :class:`ddbkit.Table`, over
the same request builders (expr/requests.py) and page logic (read/paginate.py); only the sending
differs (transport/aio.py, on aiohttp). Reads return async iterators with ``.pages()``; a
parallel scan runs its segments as tasks on one event loop; ``put_many`` keeps its requests in
flight without threads.

Control-plane calls (DescribeTable, CreateTable, ListTables...) and the file jobs (``export``,
``import_file``: file I/O blocks anyway) run the sync code on a worker thread, over the very same
botocore session and credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ddbkit import errors
from ddbkit.database import Database, connect
from ddbkit.expr.plan import Plan
from ddbkit.expr.requests import ItemRequest, TableRequests, many
from ddbkit.expr.transaction import Action, GetActions, WriteActions
from ddbkit.expr.where import WhereInput
from ddbkit.jobs.export import ExportResult
from ddbkit.jobs.tables import IndexSpec
from ddbkit.models import KeySchema, TableInfo, check_table_name
from ddbkit.read.aio import AsyncItemIterator, count_items_async
from ddbkit.read.paginate import Walk
from ddbkit.read.segments import default_page_size
from ddbkit.table import Table
from ddbkit.transport.aio import AsyncTransport, import_aiohttp
from ddbkit.transport.spec import ConnectionSpec
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.write.aio import AsyncBatchWriter, get_many_async
from ddbkit.write.batch import WriteSummary, settled

Item = dict[str, Any]


def connect_async(spec: ConnectionSpec | None = None, **settings: Any) -> AsyncDatabase:
    """Connect for asyncio: ``async with ddbkit.connect_async(...) as db:``.

    Takes what :func:`ddbkit.connect` takes (a :class:`ConnectionSpec` or keyword settings).
    Needs the ``async`` extra: ``pip install 'ddbkit[async]'``.
    """
    import_aiohttp()  # the missing extra is named before anything else is tried
    return AsyncDatabase(connect(spec, **settings), owned=True)


class AsyncDatabase:
    """A connection to one DynamoDB endpoint for one event loop."""

    def __init__(self, sync: Database, *, owned: bool = False) -> None:
        """The async twin of ``sync``, sharing its botocore session, credentials and resolved
        endpoints; closing it closes ``sync`` too only if it is ``owned``."""
        self.sync = sync  # control-plane calls and file jobs, on worker threads
        self.transport = AsyncTransport(sync.transport)
        self._owned = owned

    @property
    def spec(self) -> ConnectionSpec:
        return self.transport.spec

    @property
    def endpoint(self) -> str:
        return self.transport.endpoint

    @property
    def region(self) -> str:
        return self.transport.region

    @property
    def local(self) -> bool:
        return self.transport.local

    @property
    def on_loopback(self) -> bool:
        return self.transport.on_loopback

    def __repr__(self) -> str:
        return f"<AsyncDatabase {self.endpoint} region={self.region}>"

    async def __aenter__(self) -> AsyncDatabase:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()
        if self._owned:
            self.sync.close()

    def table(self, name: str) -> AsyncTable:
        """The table called ``name`` (checked here; no request)."""
        return AsyncTable(self, check_table_name(name))

    async def tables(self) -> list[str]:
        return await asyncio.to_thread(self.sync.tables)

    async def create_table(
        self,
        name: str,
        *,
        partition_key: tuple[str, str] = ("id", "S"),
        sort_key: tuple[str, str] | None = None,
        indexes: Sequence[IndexSpec] = (),
        billing: str = "PAY_PER_REQUEST",
        capacity: tuple[int, int] | None = None,
        ttl: str | None = None,
        wait: bool = True,
    ) -> AsyncTable:
        await asyncio.to_thread(
            self.sync.create_table,
            name,
            partition_key=partition_key,
            sort_key=sort_key,
            indexes=indexes,
            billing=billing,
            capacity=capacity,
            ttl=ttl,
            wait=wait,
        )
        return self.table(name)

    async def delete_table(self, name: str, *, wait: bool = True) -> None:
        await asyncio.to_thread(self.sync.delete_table, name, wait=wait)

    # -- transactions -------------------------------------------------------------------------

    def transaction(self) -> AsyncTransaction:
        """Writes across tables, all or none: ``async with db.transaction() as tx:``; the
        actions are sent on leaving the block, as :meth:`ddbkit.Database.transaction`."""
        return AsyncTransaction(self)

    async def get_transaction(
        self, keys: Iterable[tuple[AsyncTable | str, Mapping[str, Any]]]
    ) -> list[Item | None]:
        """The items of up to 100 ``(table, key)`` pairs read as one consistent snapshot, in
        order (None: no item); see :meth:`ddbkit.Database.get_transaction`."""
        gets = GetActions()
        tables: dict[str, AsyncTable] = {}
        for table, key in keys:
            t = _transaction_table(self, tables, table)
            gets.get(t.name, await t.keys(), key)
        if not gets.actions:
            return []
        try:
            body = await self.transport.send("transact_get_items", gets.request())
        except errors.TransactionCanceled as error:
            raise gets.canceled(error) from None
        return gets.items(decode_reply(body))


def _transaction_table(
    db: AsyncDatabase, tables: dict[str, AsyncTable], table: AsyncTable | Table | str
) -> AsyncTable:
    """The AsyncTable of a transaction's action, one per name (its key schema read once)."""
    if isinstance(table, (AsyncTable, Table)) and table.db is not db and table.db is not db.sync:
        raise errors.ValidationError(
            f"table {table.name!r} belongs to another connection: a transaction runs on one; "
            "pass the name, or use that table's own database"
        )
    if isinstance(table, AsyncTable):
        return tables.setdefault(table.name, table)
    if isinstance(table, Table):
        table = table.name
    if not isinstance(table, str):
        raise errors.ValidationError(
            f"a transaction's table is a Table or a table name, not {type(table).__name__}"
        )
    if table not in tables:
        tables[table] = db.table(table)
    return tables[table]


class AsyncTransaction:
    """:class:`ddbkit.database.Transaction` for asyncio: the same actions and arguments.

    Adding an action needs no await, so its checks (key schema, conditions, at most 100
    actions, one per item) run when the block ends, before anything is sent: an exception
    inside the block, or a bad action, sends nothing.
    """

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self.pending = WriteActions()
        self.committed = False
        self.sent = False  # once sent, its token stands for these actions: no more may be added
        self._calls: list[tuple[str, AsyncTable | Table | str, tuple[Any, ...], dict[str, Any]]]
        self._calls = []
        self._built = 0  # how many of the calls are in self.pending already

    @property
    def actions(self) -> list[Action]:
        return list(self.pending.actions)

    async def __aenter__(self) -> AsyncTransaction:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            await self.commit()

    def put(self, table: AsyncTable | Table | str, item: Mapping[str, Any], **options: Any) -> None:
        """As :meth:`ddbkit.database.Transaction.put` (``condition=``, ``params=``)."""
        self._add("put", table, item, options)

    def update(
        self, table: AsyncTable | Table | str, key: Mapping[str, Any], **options: Any
    ) -> None:
        """As :meth:`ddbkit.database.Transaction.update` (``set=``, ``add=``, ``remove=``,
        ``delete=``, ``condition=``, ``params=``)."""
        self._add("update", table, key, options)

    def delete(
        self, table: AsyncTable | Table | str, key: Mapping[str, Any], **options: Any
    ) -> None:
        """As :meth:`ddbkit.database.Transaction.delete` (``condition=``, ``params=``)."""
        self._add("delete", table, key, options)

    def check(
        self,
        table: AsyncTable | Table | str,
        key: Mapping[str, Any],
        condition: WhereInput,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """As :meth:`ddbkit.database.Transaction.check`."""
        self._add("check", table, key, {"condition": condition, "params": params})

    def _add(
        self,
        kind: str,
        table: AsyncTable | Table | str,
        what: Mapping[str, Any],
        options: dict[str, Any],
    ) -> None:
        if self.sent:
            raise errors.ValidationError(
                "this transaction was sent already (its token stands for the actions it had): "
                "start another with db.transaction()"
            )
        self._calls.append((kind, table, (what,), options))

    async def build(self) -> dict[str, Any]:
        """Check every action added so far and return the TransactWriteItems parameters."""
        tables: dict[str, AsyncTable] = {}
        for kind, table, args, options in self._calls[self._built :]:
            t = _transaction_table(self.db, tables, table)
            getattr(self.pending, kind)(t.name, await t.keys(), *args, **options)
            self._built += 1
        return self.pending.request()

    async def commit(self) -> None:
        """Send the actions as one TransactWriteItems (nothing if there are none); a second
        ``commit()`` after an error resends with the same token, never applying twice."""
        if self.committed or not self._calls:
            return
        request = await self.build()
        self.sent = True
        try:
            await self.db.transport.send("transact_write_items", request, idempotent=True)
        except errors.TransactionCanceled as error:
            raise self.pending.canceled(error) from None
        self.committed = True


class AsyncTable:
    """One DynamoDB table on an event loop; its key schema is read once, on first need."""

    def __init__(self, db: AsyncDatabase, name: str) -> None:
        self.db = db
        self.name = name
        self.requests = TableRequests(name)
        self._sync = Table(db.sync, name)
        self._info: TableInfo | None = None

    def __repr__(self) -> str:
        return f"<AsyncTable {self.name!r} on {self.db.endpoint}>"

    async def info(self) -> TableInfo:
        """Fresh metadata: keys, indexes, capacity, TTL, streams, size and a full-scan estimate."""
        self._info = await asyncio.to_thread(self._sync.info)
        return self._info

    async def keys(self) -> KeySchema:
        return (await self._cached_info()).keys

    async def _cached_info(self) -> TableInfo:
        if self._info is None:
            self._info = await asyncio.to_thread(self._sync._cached_info)
        return self._info

    # -- single items -------------------------------------------------------------------------

    async def get(
        self,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Item | None:
        """The item with this key, or None."""
        keys = await self.keys()
        return await self._send(
            self.requests.get_item(keys, key, consistent=consistent, attributes=attributes)
        )

    async def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        expected: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a whole item (only if ``condition`` holds and, with ``expected``, only if the
        stored item has not changed since it was read; see :meth:`ddbkit.Table.put`)."""
        keys = await self.keys()
        await self._send(
            self.requests.put_item(
                keys, item, condition=condition, params=params, expected=expected
            )
        )

    async def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        return_old: bool = False,
        expected: Mapping[str, Any] | None = None,
    ) -> Item | None:
        """Delete the item with this key; with ``return_old``, return what was deleted; with
        ``expected``, only if it has not changed since it was read."""
        keys = await self.keys()
        request = self.requests.delete_item(
            keys, key, condition=condition, params=params, return_old=return_old,
            expected=expected,
        )  # fmt: skip
        return await self._send(request)

    async def update(
        self,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | str | None = None,  # named after DynamoDB's SET clause
        add: Mapping[str, Any] | str | None = None,
        remove: Sequence[str] | str | None = None,
        delete: Mapping[str, Any] | str | None = None,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> Item:
        """Change parts of an item (creating it if absent) and return the item as it now is."""
        keys = await self.keys()
        request = self.requests.update_item(
            keys, key, set=set, add=add, remove=remove, delete=delete, condition=condition,
            params=params,
        )  # fmt: skip
        return await self._send(request) or {}

    async def _send(self, request: ItemRequest) -> Item | None:
        try:
            body = await self.db.transport.send(
                request.method, request.params, table=self.name, idempotent=request.idempotent
            )
        except errors.ConditionFailedError as failed:
            if request.changed is None:
                raise
            raise request.refused(failed) from None
        return request.result(decode_reply(body, self.name))

    # -- many items ---------------------------------------------------------------------------

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
    ) -> AsyncItemIterator:
        """Items whose keys match ``where``: ``async for item in table.query(...)``."""

        async def walk() -> Walk:
            info = await self._cached_info()
            plan = self.requests.query_plan(
                info, where, index=index, attributes=attributes, consistent=consistent,
                params=params,
            )  # fmt: skip
            return self._walk(info, plan, limit=limit, start=start, reverse=reverse)

        return AsyncItemIterator(self.db.transport, walk)

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
    ) -> AsyncItemIterator:
        """Every item (matching ``where``); ``segments`` run as tasks on this event loop."""

        async def walk() -> Walk:
            info = await self._cached_info()
            plan = self.requests.scan_plan(
                info, where, index=index, attributes=attributes, consistent=consistent,
                params=params,
            )  # fmt: skip
            return self._walk(
                info, plan, limit=limit, start=start, segments=segments, rate_limit=rate_limit
            )

        return AsyncItemIterator(self.db.transport, walk)

    def find(
        self,
        where: WhereInput = None,
        *,
        limit: int | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        start: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncItemIterator:
        """Items matching ``where`` by the cheapest plan (see :meth:`explain`)."""

        async def walk() -> Walk:
            info = await self._cached_info()
            plan = self.requests.find_plan(
                info, where, attributes=attributes, consistent=consistent, params=params
            )
            return self._walk(info, plan, limit=limit, start=start)

        return AsyncItemIterator(self.db.transport, walk)

    async def explain(
        self,
        where: WhereInput = None,
        *,
        index: str | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Plan:
        """The plan ``find`` would run; with ``index``, the plan on that index."""
        info = await self._cached_info()
        return self.requests.find_plan(
            info, where, index=index, attributes=attributes, consistent=consistent, params=params
        )

    async def count(
        self,
        where: WhereInput = None,
        *,
        consistent: bool = False,
        segments: int | None = None,
        rate_limit: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Exact number of items matching ``where`` (Select=COUNT over all pages)."""
        info = await self._cached_info()
        walk = self.requests.count_walk(
            info, where, consistent=consistent, segments=segments, rate_limit=rate_limit,
            params=params,
        )  # fmt: skip
        return await count_items_async(self.db.transport, walk)

    def _walk(self, info: TableInfo, plan: Plan, **options: Any) -> Walk:
        return self.requests.walk(info, plan, page_size=default_page_size(self.db), **options)

    # -- bulk ---------------------------------------------------------------------------------

    def get_many(
        self,
        keys: Iterable[Mapping[str, Any]],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Any:
        """Items for many keys (BatchGetItem, 100 a call): ``async for item in ...``; any order."""

        async def items() -> Any:
            schema = await self.keys()
            wire = (self.requests.key_to_wire(schema, key) for key in keys)
            async for item in get_many_async(
                self.db.transport, self.name, wire, schema, consistent=consistent,
                projection=self.requests.projection(attributes), backoff=self.db.transport.retry,
            ):  # fmt: skip
                yield item

        return items()

    async def put_many(
        self,
        items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        workers: int = 8,
        rate_limit: float | None = None,
        on_error: str = "stop",
        progress: Callable[[int], None] | None = None,
    ) -> WriteSummary:
        """Write many items with BatchWriteItem, ``workers`` requests in flight; raises like
        :meth:`ddbkit.Table.put_many` unless everything was written."""
        writer = AsyncBatchWriter(
            self.db.transport, self.name, await self.keys(), workers=workers,
            rate_limit=rate_limit, on_error=on_error, progress=progress,
        )  # fmt: skip
        summary = await writer.write(many(items, "put_many", "items"))
        return settled(summary, "put_many", on_error)

    async def delete_many(
        self,
        keys: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        workers: int = 8,
        rate_limit: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WriteSummary:
        """Delete many items by key with BatchWriteItem; raises like :meth:`put_many`."""
        writer = AsyncBatchWriter(
            self.db.transport, self.name, await self.keys(), action="delete", workers=workers,
            rate_limit=rate_limit, progress=progress,
        )  # fmt: skip
        summary = await writer.write(many(keys, "delete_many", "keys"))
        return settled(summary, "delete_many", "stop")

    async def export(
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
        """:meth:`ddbkit.Table.export`, on a worker thread (file writing blocks anyway)."""
        return await asyncio.to_thread(
            self._sync.export, target, format=format, where=where, attributes=attributes,
            segments=segments, share=share, rate_limit=rate_limit, resume=resume, force=force,
            progress=progress, params=params,
        )  # fmt: skip

    async def import_file(
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
        """:meth:`ddbkit.Table.import_file`, on a worker thread (file reading blocks anyway)."""
        return await asyncio.to_thread(
            self._sync.import_file, source, format=format, workers=workers,
            rate_limit=rate_limit, on_error=on_error, types=types, reject_path=reject_path,
            progress=progress,
        )  # fmt: skip
