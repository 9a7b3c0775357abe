"""The sync facade: :func:`connect` and :class:`Database`, over the sync transport.

A Database builds nothing and parses nothing itself: requests are built by the callers' builders
(expr/, read/, write/), sent by :class:`ddbkit.transport.sync.SyncTransport` (botocore's
credentials, signing and endpoint resolution; ddbkit's pool use, body, retries and reply checks),
and decoded by values/. See transport/sync.py for which operations take the lean path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

from ddbkit import errors
from ddbkit.expr.transaction import Action, GetActions, WriteActions
from ddbkit.expr.where import WhereInput
from ddbkit.jobs import tables as table_admin
from ddbkit.jobs.tables import IndexSpec
from ddbkit.models import check_table_name
from ddbkit.table import Table
from ddbkit.transport.connection import SyncConnection
from ddbkit.transport.spec import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, ConnectionSpec
from ddbkit.transport.sync import SyncTransport
from ddbkit.values.jsonvalues import decode_reply

Item = dict[str, Any]


def connect(
    spec: ConnectionSpec | None = None,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    local: bool = False,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_attempts: int | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
) -> Database:
    """Connect to DynamoDB, from keyword settings or from a :class:`ConnectionSpec` (``db.spec``
    of another connection, in this process or any other).

    With no arguments this resolves exactly as the AWS CLI does (AWS_PROFILE, AWS_REGION /
    AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, ~/.aws files).
    ``local=True`` talks to the engine started by ``ddbkit local start`` with dummy credentials
    and never reaches AWS, whatever profile is set. Explicit keys are for callers that hold
    them; everyone else lets the credential chain find them.

    Every request is retried by ddbkit alone (see transport/retry.py): at most ``max_attempts``
    attempts (default: the profile's or AWS_MAX_ATTEMPTS' ``max_attempts``, else 8) within about
    a minute; ``connect_timeout`` and ``read_timeout`` bound each attempt.
    """
    settings = ConnectionSpec(
        endpoint_url=endpoint_url,
        region=region,
        profile=profile,
        local=local,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
    )
    if spec is None:
        spec = settings
    elif not isinstance(spec, ConnectionSpec):
        raise errors.ValidationError(
            f"connect() takes a ConnectionSpec (db.spec) or keyword settings, not "
            f"{type(spec).__name__}"
        )
    elif settings != ConnectionSpec():
        raise errors.ValidationError(
            "give connect() a ConnectionSpec or keyword settings, not both"
        )
    return Database(SyncTransport(spec))


class Database(SyncConnection):
    """A connection to one DynamoDB endpoint in one region, and its tables."""

    def __repr__(self) -> str:
        return f"<Database {self.endpoint} region={self.region}>"

    def __enter__(self) -> Database:
        return self

    def tables(self) -> list[str]:
        """Every table name, across all ListTables pages."""
        return list(self._iter_table_names())

    def _iter_table_names(self) -> Iterator[str]:
        params: dict[str, Any] = {}
        while True:
            page = self.call("list_tables", **params)
            yield from page.get("TableNames", [])
            last = page.get("LastEvaluatedTableName")
            if not last:
                return
            params["ExclusiveStartTableName"] = last

    def table(self, name: str) -> Table:
        """The table called ``name`` (a name DynamoDB accepts, checked here; no request)."""
        return Table(self, check_table_name(name))

    def create_table(
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
    ) -> Table:
        """Create a table with its indexes and TTL; wait until ACTIVE unless ``wait=False``."""
        table_admin.create_table(
            self,
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

    def delete_table(self, name: str, *, wait: bool = True) -> None:
        """Delete a table; wait until it is gone unless ``wait=False``."""
        table_admin.delete_table(self, name, wait=wait)

    # -- transactions ---------------------------------------------------------------------------

    def transaction(self) -> Transaction:
        """Writes across tables, all or none: ``with db.transaction() as tx: tx.put(...)``.

        The actions (:meth:`Transaction.put`, ``update``, ``delete``, ``check``) are checked as
        they are added and sent on leaving the block as one TransactWriteItems; an exception
        inside the block sends nothing. A failed condition raises
        :class:`~ddbkit.errors.TransactionCanceled` naming each failed action.
        """
        return Transaction(self)

    def get_transaction(
        self, keys: Iterable[tuple[Table | str, Mapping[str, Any]]]
    ) -> list[Item | None]:
        """The items of up to 100 ``(table, key)`` pairs, read together as one consistent
        snapshot (TransactGetItems); in the order given, None where there is no item."""
        gets = GetActions()
        tables = _Tables(self)
        for table, key in keys:
            t = tables.get(table)
            gets.get(t.name, t.keys, key)
        if not gets.actions:
            return []
        try:
            body = self.call_raw("transact_get_items", **gets.request())
        except errors.TransactionCanceled as error:
            raise gets.canceled(error) from None
        return gets.items(decode_reply(body))

    # -- SQL (DuckDB, the ``sql`` extra) ----------------------------------------------------------

    def sql(self, query: str, *, segments: int | None = None) -> Any:
        """Run a DuckDB SQL query over this endpoint's tables; a ``duckdb.DuckDBPyRelation``.

        Tables named in the query are read (with projection, filter and Query pushdown) into
        the relation's own DuckDB connection, which lives as long as the relation does.
        ``segments`` sets the parallel scan's segment count (default: from the table's size).
        """
        from ddbkit.integrations.sql import engine  # here: only SQL needs it

        return engine.sql(self, query, segments=segments)

    def sql_explain(self, query: str) -> str:
        """The DynamoDB requests ``sql(query)`` would send, and DuckDB's plan.

        Reads one page (up to 100 items) per table so the plan sees the real column types.
        """
        from ddbkit.integrations.sql import engine

        return engine.sql_explain(self, query)


class _Tables:
    """The tables of one transaction, by name: each key schema is read once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tables: dict[str, Table] = {}

    def get(self, table: Table | str) -> Table:
        if isinstance(table, Table):
            if table.db is not self.db:  # its name here would be another endpoint's table
                raise errors.ValidationError(
                    f"table {table.name!r} belongs to another connection: a transaction runs on "
                    "one; pass the name, or use that table's own database"
                )
            return self._tables.setdefault(table.name, table)
        if not isinstance(table, str):
            raise errors.ValidationError(
                f"a transaction's table is a Table or a table name, not {type(table).__name__}"
            )
        if table not in self._tables:
            self._tables[table] = self.db.table(table)
        return self._tables[table]


class Transaction:
    """The actions of one write transaction, sent as one TransactWriteItems by :meth:`commit`
    (on leaving a ``with`` block without an exception).

    ``table`` is a :class:`Table` or a table name; keys are checked against each table's key
    schema, conditions and update clauses as :meth:`Table.put` / ``update`` / ``delete`` take
    them. At most 100 actions, one per item. ``actions`` lists them (``str(action)``:
    ``"action 2, update orders {id: 'o1'}"``).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending = WriteActions()
        self.committed = False
        self.sent = False  # once sent, its token stands for these actions: no more may be added
        self._tables = _Tables(db)

    @property
    def actions(self) -> list[Action]:
        return list(self.pending.actions)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:  # an exception in the block: nothing is sent
            self.commit()

    def put(
        self,
        table: Table | str,
        item: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a whole item (only if ``condition`` holds), as :meth:`Table.put`."""
        t = self._table(table)
        self.pending.put(t.name, t.keys, item, condition=condition, params=params)

    def update(
        self,
        table: Table | str,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | str | None = None,  # named after DynamoDB's SET clause
        add: Mapping[str, Any] | str | None = None,
        remove: Sequence[str] | str | None = None,
        delete: Mapping[str, Any] | str | None = None,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Change parts of an item (creating it if absent), as :meth:`Table.update`."""
        t = self._table(table)
        self.pending.update(
            t.name, t.keys, key, set=set, add=add, remove=remove, delete=delete,
            condition=condition, params=params,
        )  # fmt: skip

    def delete(
        self,
        table: Table | str,
        key: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete the item with this key (only if ``condition`` holds)."""
        t = self._table(table)
        self.pending.delete(t.name, t.keys, key, condition=condition, params=params)

    def check(
        self,
        table: Table | str,
        key: Mapping[str, Any],
        condition: WhereInput,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Commit only if ``condition`` holds on the item with this key (which is unchanged)."""
        t = self._table(table)
        self.pending.check(t.name, t.keys, key, condition, params=params)

    def commit(self) -> None:
        """Send the actions as one TransactWriteItems (nothing if there are none).

        Its ClientRequestToken is this transaction's own: the transport's retries, and a second
        ``commit()`` after an error that says the request may have been applied, are answered
        with the first outcome (for DynamoDB's ten minutes), never applied twice.
        """
        if self.committed or not self.pending.actions:
            return
        self.sent = True
        try:
            # Safe to resend after a lost reply: DynamoDB answers a known token with its outcome.
            self.db.call_raw("transact_write_items", idempotent=True, **self.pending.request())
        except errors.TransactionCanceled as error:
            raise self.pending.canceled(error) from None
        self.committed = True

    def _table(self, table: Table | str) -> Table:
        if self.sent:
            raise errors.ValidationError(
                "this transaction was sent already (its token stands for the actions it had): "
                "start another with db.transaction()"
            )
        return self._tables.get(table)
