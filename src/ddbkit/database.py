"""The sync facade: :func:`connect` and :class:`Database`, over the sync transport.

A Database builds nothing and parses nothing itself: requests are built by the callers' builders
(expr/, read/, write/), sent by :class:`ddbkit.transport.sync.SyncTransport` (botocore's
credentials, signing and endpoint resolution; ddbkit's pool use, body, retries and reply checks),
and decoded by values/. See transport/sync.py for which operations take the lean path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ddbkit import errors
from ddbkit.jobs import tables as table_admin
from ddbkit.jobs.tables import IndexSpec
from ddbkit.models import check_table_name
from ddbkit.table import Table
from ddbkit.transport.connection import SyncConnection
from ddbkit.transport.spec import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, ConnectionSpec
from ddbkit.transport.sync import SyncTransport


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
