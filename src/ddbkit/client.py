"""Connecting: one botocore client per Database, and the one place AWS errors become ddbkit errors.

boto3/botocore own credentials, profiles, SigV4, endpoint resolution and retries; ddbkit only
chooses defaults (retry mode ``standard``, which unlike ``legacy`` retries RequestLimitExceeded)
and, for the local engine, a session that cannot see the user's AWS profiles at all.

The fast read path (:meth:`Database.call_raw`): for Scan, Query and BatchGetItem, botocore's
generic response parser builds a dict per attribute value and base64-decodes every binary, which
costs more than the request itself on a fast link. botocore emits ``before-parse`` with a
``customized_response_dict`` that is merged into the parsed reply (botocore/endpoint.py,
``_do_get_response``). While a raw call is in flight on this thread, a handler moves the body of a
200 reply into that dict and hands the parser ``{}``. botocore still signs, resolves the endpoint,
checks the CRC32 of the real bytes (standard mode retries a mismatch) and retries; error replies
are never touched, so they parse and raise exactly as before.

The fast write path (:meth:`Database.call_prepared`) is the same idea for BatchWriteItem, whose
request botocore validates and serializes shape by shape (about 100 µs an item, measured, more
than DynamoDB Local needs to store it). ddbkit builds the JSON body itself with orjson, lets
botocore serialize a one-item placeholder, and swaps the real body in on ``before-call``, which
botocore emits with the serialized ``request_dict`` before it compresses, checksums and signs
(botocore/client.py, ``_make_api_call``). So the real body is what gets signed, sent and retried.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
import orjson
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from ddbkit import errors

if TYPE_CHECKING:
    from ddbkit.table import Table
    from ddbkit.tables import IndexSpec

log = logging.getLogger("ddbkit")

LOCAL_REGION = "us-east-1"
# DynamoDB Local accepts any credentials; these make it obvious in its logs who called.
LOCAL_CREDENTIALS = ("ddbkit", "ddbkit")
DEFAULT_POOL_SIZE = 32
RAW_BODY = "ddbkit.raw_body"
RAW_OPERATIONS = ("Scan", "Query", "BatchGetItem")
PREPARED_OPERATIONS = ("BatchWriteItem",)
_raw_mode = threading.local()
_prepared = threading.local()


def _base64(value: Any) -> str:
    """orjson's hook for what it cannot write: B values (bytes) go on the wire as base64."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot send {type(value).__name__} to DynamoDB")


def _use_prepared_body(params: dict[str, Any], **_: Any) -> None:
    """before-call handler: send the body ddbkit built instead of botocore's placeholder."""
    body = getattr(_prepared, "body", None)
    if body is not None:
        params["body"] = body


def _keep_raw_body(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """before-parse handler: keep a 200 reply's body for ddbkit's own decoder (see module doc)."""
    if getattr(_raw_mode, "active", False) and response_dict.get("status_code") == 200:
        customized_response_dict[RAW_BODY] = response_dict["body"]
        response_dict["body"] = b"{}"


def connect(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    local: bool = False,
) -> Database:
    """Connect to DynamoDB.

    With no arguments this resolves exactly as the AWS CLI does (AWS_PROFILE, AWS_REGION /
    AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, ~/.aws files).
    ``local=True`` talks to the engine started by ``ddbkit local start`` with dummy credentials
    and never reaches AWS, whatever profile is set.
    """
    if local:
        if endpoint_url is None:
            from ddbkit import local as local_engine

            endpoint_url = local_engine.running_endpoint()
        session = _isolated_session(region or LOCAL_REGION)
        return Database(_make_client(session, endpoint_url, user_retry_mode=False), local=True)
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        if session.region_name is None and endpoint_url is not None:
            # A custom endpoint (DynamoDB Local, Alternator, LocalStack) still needs a region
            # to sign with; any region will do there.
            session = boto3.session.Session(profile_name=profile, region_name=LOCAL_REGION)
        user_mode = _user_set_retry_mode(session)
        client = _make_client(session, endpoint_url, user_retry_mode=user_mode)
    except ProfileNotFound as exc:
        raise errors.CredentialsError(
            f"AWS profile {exc.kwargs.get('profile')!r} not found: check --profile / AWS_PROFILE "
            "and ~/.aws/config",
            cause=exc,
        ) from exc
    except NoRegionError as exc:
        raise errors.ValidationError(
            "no AWS region configured: pass --region, set AWS_REGION, or run 'aws configure'",
            cause=exc,
        ) from exc
    return Database(client)


def _isolated_session(region: str) -> boto3.session.Session:
    """A session that reads no profile, config or credentials file, so --local never reaches AWS."""
    core = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    key, secret = LOCAL_CREDENTIALS
    return boto3.session.Session(
        botocore_session=core,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name=region,
    )


def _user_set_retry_mode(session: boto3.session.Session) -> bool:
    if os.environ.get("AWS_RETRY_MODE"):
        return True
    scoped = session._session.get_scoped_config()  # the profile's own settings, no defaults
    return "retry_mode" in scoped


def _make_client(
    session: boto3.session.Session, endpoint_url: str | None, *, user_retry_mode: bool
) -> Any:
    config = Config(
        max_pool_connections=DEFAULT_POOL_SIZE,
        retries=None if user_retry_mode else {"mode": "standard"},
    )
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config)


class Database:
    """A connection to one DynamoDB endpoint in one region."""

    def __init__(self, client: Any, *, local: bool = False) -> None:
        self.client = client
        self.local = local
        # unique_id: two Database objects on one client must not register twice (a second
        # before-parse handler would keep the placeholder "{}" instead of the real body).
        for operation in PREPARED_OPERATIONS:
            client.meta.events.register(
                f"before-call.dynamodb.{operation}",
                _use_prepared_body,
                unique_id=f"ddbkit-prepared-{operation}",
            )
        for operation in RAW_OPERATIONS:
            client.meta.events.register(
                f"before-parse.dynamodb.{operation}",
                _keep_raw_body,
                unique_id=f"ddbkit-raw-{operation}",
            )

    @property
    def endpoint_url(self) -> str:
        return str(self.client.meta.endpoint_url)

    @property
    def on_loopback(self) -> bool:
        """Whether the endpoint is on this machine (DynamoDB Local and other local engines)."""
        from urllib.parse import urlparse

        host = (urlparse(self.endpoint_url).hostname or "").lower()
        return self.local or host in ("localhost", "::1") or host.startswith("127.")

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)

    def __repr__(self) -> str:
        return f"<Database {self.endpoint_url} region={self.region}>"

    def call(self, operation: str, *, table: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one DynamoDB request, turning every botocore failure into a DdbkitError."""
        log.debug("%s %s", operation, _redacted(params))
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**params)
        except ClientError as exc:
            raise errors.from_client_error(exc, table=table) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise errors.CredentialsError(
                "no AWS credentials found: run 'aws configure', set AWS_PROFILE, pass --profile, "
                "or use --local for the local engine",
                cause=exc,
            ) from exc
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise errors.EndpointError(_unreachable_message(self), cause=exc) from exc
        except (ReadTimeoutError, HTTPClientError) as exc:
            # The connection broke mid-request (reset, timeout, truncated reply): retryable.
            raise errors.EndpointError(
                f"connection to {self.endpoint_url} broke during {operation}: {exc}", cause=exc
            ) from exc
        except BotoCoreError as exc:
            raise errors.ServiceError(f"{type(exc).__name__}: {exc}", cause=exc) from exc
        return result

    def call_prepared(
        self, operation: str, params: dict[str, Any], placeholder: dict[str, Any], *, table: str
    ) -> dict[str, Any]:
        """Send ``params`` as a JSON body ddbkit serialized itself (see the module docstring).

        ``placeholder`` is a minimal valid request for botocore to validate and serialize.
        """
        _prepared.body = orjson.dumps(params, default=_base64)
        try:
            return self.call(operation, table=table, **placeholder)
        finally:
            _prepared.body = None

    def call_raw(self, operation: str, *, table: str | None = None, **params: Any) -> bytes:
        """Like :meth:`call` for Scan, Query or BatchGetItem, returning the reply's JSON bytes."""
        _raw_mode.active = True
        try:
            reply = self.call(operation, table=table, **params)
        finally:
            _raw_mode.active = False
        body: bytes = reply[RAW_BODY]
        return body

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
        from ddbkit.table import Table

        return Table(self, name)

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
        from ddbkit.tables import create_table

        return create_table(
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

    def delete_table(self, name: str, *, wait: bool = True) -> None:
        """Delete a table; wait until it is gone unless ``wait=False``."""
        from ddbkit.tables import delete_table

        delete_table(self, name, wait=wait)

    # -- SQL (DuckDB, the ``sql`` extra) ----------------------------------------------------------

    def sql(self, query: str, *, segments: int | None = None) -> Any:
        """Run a DuckDB SQL query over this endpoint's tables; a ``duckdb.DuckDBPyRelation``.

        Tables named in the query are read (with projection, filter and Query pushdown) into
        the relation's own DuckDB connection, which lives as long as the relation does.
        ``segments`` sets the parallel scan's segment count (default: from the table's size).
        """
        from ddbkit.sql import sql

        return sql(self, query, segments=segments)

    def sql_explain(self, query: str) -> str:
        """The DynamoDB requests ``sql(query)`` would send, and DuckDB's plan.

        Reads one page (up to 100 items) per table so the plan sees the real column types.
        """
        from ddbkit.sql import sql_explain

        return sql_explain(self, query)


def _unreachable_message(db: Database) -> str:
    if db.local:
        return (
            f"cannot reach the local engine at {db.endpoint_url}: "
            "start it with 'ddbkit local start'"
        )
    return f"cannot reach {db.endpoint_url}: check --endpoint-url / --region and your network"


_SECRET_KEYS = ("Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey", "RequestItems")


def _redacted(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters for debug logs: shapes, not item contents."""
    return {k: ("<...>" if k in _SECRET_KEYS else v) for k, v in params.items()}
