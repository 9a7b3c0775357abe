"""Connecting: one botocore client per Database, and the one place requests are sent.

boto3/botocore own credentials, profiles, SigV4 and endpoint resolution; ddbkit chooses the
defaults (bounded connect and read timeouts), retries every request itself with one budget
(transport/retry.py; botocore's own retries are off), turns every failure into a one-line ddbkit
error (transport/botoerrors.py), and for the local engine uses a session that cannot see the
user's AWS profiles at all.

The fast read path (:meth:`Database.call_raw`): for Scan, Query and BatchGetItem, botocore's
generic response parser builds a dict per attribute value and base64-decodes every binary, which
costs more than the request itself on a fast link. botocore emits ``before-parse`` with a
``customized_response_dict`` that is merged into the parsed reply (botocore/endpoint.py,
``_do_get_response``). While a raw call is in flight on this thread, a handler moves the body of a
200 reply into that dict and hands the parser ``{}``. botocore still signs and resolves the
endpoint; the same handler checks the CRC32 of the real bytes of every reply (a mismatch is a
retryable error); error replies are never touched, so they parse and raise exactly as before.

The fast write path (:meth:`Database.call_prepared`) is the same idea for BatchWriteItem, whose
request botocore validates and serializes shape by shape (about 100 µs an item, measured, more
than DynamoDB Local needs to store it). ddbkit builds the JSON body itself with orjson, lets
botocore serialize a one-item placeholder, and swaps the real body in on ``before-call``, which
botocore emits with the serialized ``request_dict`` before it compresses, checksums and signs
(botocore/client.py, ``_make_api_call``). So the real body is what gets signed, sent and retried.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import logging
import os
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.session
import orjson
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ddbkit import errors
from ddbkit.models import check_table_name
from ddbkit.options import MAX_ATTEMPTS
from ddbkit.transport.botoerrors import Context, damaged_reply, setup_error, translate
from ddbkit.transport.retry import Backoff, call_with_retries
from ddbkit.transport.spec import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, ConnectionSpec

if TYPE_CHECKING:
    from ddbkit.jobs.tables import IndexSpec
    from ddbkit.table import Table

log = logging.getLogger("ddbkit")

LOCAL_REGION = "us-east-1"
# DynamoDB Local accepts any credentials; these make it obvious in its logs who called.
LOCAL_CREDENTIALS = ("ddbkit", "ddbkit")
DEFAULT_POOL_SIZE = 32
RAW_BODY = "ddbkit.raw_body"
BAD_CHECKSUM = "ddbkit.bad_checksum"
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


def _check_and_keep_body(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """before-parse handler: check a 200 reply's CRC32; keep a raw call's body (module doc).

    botocore's retries are off (ddbkit retries itself), and with them went its CRC32 check, so
    it is done here: a damaged reply becomes a retryable error instead of wrong data.
    """
    if response_dict.get("status_code") != 200:
        return
    body = response_dict["body"]
    expected = response_dict.get("headers", {}).get("x-amz-crc32")
    if expected is not None and str(zlib.crc32(body) & 0xFFFFFFFF) != str(expected).strip():
        customized_response_dict[BAD_CHECKSUM] = True
        response_dict["body"] = b"{}"
        return
    if getattr(_raw_mode, "active", False):
        customized_response_dict[RAW_BODY] = body
        response_dict["body"] = b"{}"


def check_endpoint_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host and a valid port, else a ValidationError."""
    fix = "give it as http(s)://HOST[:PORT], e.g. http://127.0.0.1:8000"
    if not isinstance(url, str) or not url.strip():
        raise errors.ValidationError(f"the endpoint URL is empty: {fix}")
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise errors.ValidationError(f"invalid endpoint URL {url!r} ({exc}): {fix}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ValidationError(f"invalid endpoint URL {url!r}: {fix}")
    if port == 0:
        raise errors.ValidationError(f"invalid endpoint URL {url!r} (port 0): {fix}")
    return url.strip()


def shown_url(url: str) -> str:
    """``url`` fit to print: ``http://user:secret@host`` becomes ``http://user:***@host``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


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
    return _connect(spec)


def _connect(spec: ConnectionSpec) -> Database:
    if spec.endpoint_url is not None:
        spec = dataclasses.replace(spec, endpoint_url=check_endpoint_url(spec.endpoint_url))
    timeouts = (spec.connect_timeout, spec.read_timeout)
    if spec.local:
        if spec.endpoint_url is None:
            from ddbkit import local as local_engine

            # Recorded in the spec: a worker rebuilding it reaches this very engine.
            spec = dataclasses.replace(spec, endpoint_url=local_engine.running_endpoint())
        session = _isolated_session(spec.region or LOCAL_REGION)
        client = _make_client(session, spec.endpoint_url, timeouts)
        return Database(
            client, local=True, retry=_retry_policy(session, spec.max_attempts), spec=spec
        )
    try:
        session = _session(spec, spec.region)
        if session.region_name is None:
            # AWS_REGION is what the AWS CLI v2 and most SDKs read; botocore reads only
            # AWS_DEFAULT_REGION. A custom endpoint (DynamoDB Local, Alternator, LocalStack)
            # still needs a region to sign with; any region will do there.
            custom = spec.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
            fallback = os.environ.get("AWS_REGION") or (
                LOCAL_REGION if custom or os.environ.get("AWS_ENDPOINT_URL") else None
            )
            if fallback:
                session = _session(spec, fallback)
        retry = _retry_policy(session, spec.max_attempts)
        client = _make_client(session, spec.endpoint_url, timeouts)
    except BotoCoreError as exc:
        raise _connect_error(exc) from exc
    except ValueError as exc:
        raise _setup_value_error(exc) from exc
    return Database(client, retry=retry, spec=spec)


def _session(spec: ConnectionSpec, region: str | None) -> boto3.session.Session:
    return boto3.session.Session(
        profile_name=spec.profile,
        region_name=region,
        aws_access_key_id=spec.aws_access_key_id,
        aws_secret_access_key=spec.aws_secret_access_key,
        aws_session_token=spec.aws_session_token,
    )


def _connect_error(exc: BotoCoreError) -> errors.DdbkitError:
    from botocore.exceptions import NoRegionError

    if isinstance(exc, NoRegionError):
        return errors.ValidationError(
            "no AWS region configured: pass --region, set AWS_REGION, or run 'aws configure'",
            cause=exc,
        )
    return setup_error(exc) or translate(exc, Context(endpoint="AWS"))


def _setup_value_error(exc: ValueError) -> errors.DdbkitError:
    """botocore raises plain ValueErrors for a bad endpoint from the environment or profile,
    and for a credential_process that prints something other than JSON."""
    if isinstance(exc, json.JSONDecodeError):
        return errors.CredentialsError(
            f"the profile's credential_process printed something that is not JSON ({exc}): "
            "fix the command in ~/.aws/config, or pick another --profile",
            cause=exc,
        )
    if str(exc).startswith("Invalid endpoint"):
        return errors.ValidationError(
            f"{exc}: fix AWS_ENDPOINT_URL / the profile's endpoint_url, or pass --endpoint-url",
            cause=exc,
        )
    return errors.ValidationError(
        f"invalid AWS configuration: {exc}: fix ~/.aws/config or the AWS_* environment variables",
        cause=exc,
    )


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


def _retry_policy(session: boto3.session.Session, max_attempts: int | None) -> Backoff:
    """ddbkit's retry budget: the caller's, else the user's AWS ``max_attempts``, else ours."""
    if max_attempts is None:
        configured = session._session.get_config_variable("max_attempts")
        if configured is not None:
            try:
                max_attempts = MAX_ATTEMPTS.check(int(configured))
            except (TypeError, ValueError):  # ValidationError is a ValueError
                raise errors.ValidationError(
                    f"max_attempts {configured!r} in the AWS config (or AWS_MAX_ATTEMPTS) "
                    f"{MAX_ATTEMPTS.expects()}: fix it"
                ) from None
    return Backoff(max_attempts=max_attempts) if max_attempts else Backoff()


def _make_client(
    session: boto3.session.Session, endpoint_url: str | None, timeouts: tuple[float, float]
) -> Any:
    connect_timeout, read_timeout = timeouts
    config = Config(
        max_pool_connections=DEFAULT_POOL_SIZE,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # ddbkit retries every request itself: one budget (retry.py), not botocore's inside ours.
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config)


class Database:
    """A connection to one DynamoDB endpoint in one region."""

    def __init__(
        self,
        client: Any,
        *,
        local: bool = False,
        retry: Backoff | None = None,
        spec: ConnectionSpec | None = None,
    ) -> None:
        self.client = client
        self.local = local
        self.retry = retry or Backoff()
        self._spec = spec
        # unique_id: two Database objects on one client must not register twice (a second
        # before-parse handler would keep the placeholder "{}" instead of the real body).
        for operation in PREPARED_OPERATIONS:
            client.meta.events.register(
                f"before-call.dynamodb.{operation}",
                _use_prepared_body,
                unique_id=f"ddbkit-prepared-{operation}",
            )
        client.meta.events.register(
            "before-parse.dynamodb", _check_and_keep_body, unique_id="ddbkit-before-parse"
        )

    @property
    def endpoint_url(self) -> str:
        return str(self.client.meta.endpoint_url)

    @property
    def spec(self) -> ConnectionSpec:
        """What ``ddbkit.connect(spec)`` needs to build an equal connection, in any process."""
        if self._spec is None:
            raise errors.ValidationError(
                "this Database was made from a botocore client, not by ddbkit.connect(): it has "
                "no ConnectionSpec"
            )
        return self._spec

    @property
    def endpoint(self) -> str:
        """The endpoint URL as it may be shown: a password in it is masked."""
        return shown_url(self.endpoint_url)

    @property
    def on_loopback(self) -> bool:
        """Whether the endpoint is on this machine (DynamoDB Local and other local engines)."""
        host = (urlsplit(self.endpoint_url).hostname or "").lower()
        if self.local or host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback  # not "127.example.com"
        except ValueError:
            return False

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)

    @property
    def read_timeout(self) -> float:
        return float(self.client.meta.config.read_timeout)

    def __repr__(self) -> str:
        return f"<Database {self.endpoint} region={self.region}>"

    def call(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
        **params: Any,
    ) -> dict[str, Any]:
        """Send one DynamoDB request, retried within the budget; failures become DdbkitErrors.

        With ``stop``, a wait between attempts ends when it is set (retry.Stopped).
        A request that is not ``idempotent`` (a conditional or counting write, CreateTable) is not
        sent again once it may have been applied (a read timeout, a broken connection).
        """
        return call_with_retries(
            lambda: self.call_once(operation, table=table, **params),
            self.retry,
            stop=stop,
            idempotent=idempotent,
        )

    def call_once(
        self, operation: str, *, table: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Send one DynamoDB request once (for loops that retry themselves: the batch writer)."""
        log.debug("%s %s", operation, _redacted(params))
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self._context(operation, table)) from exc
        if result.pop(BAD_CHECKSUM, False):
            raise damaged_reply(self.endpoint, _operation_name(operation))
        return result

    def _context(self, operation: str, table: str | None) -> Context:
        return Context(
            endpoint=self.endpoint,
            local=self.local,
            operation=_operation_name(operation),
            table=table,
            read_timeout=self.read_timeout,
        )

    def call_prepared(
        self, operation: str, params: dict[str, Any], placeholder: dict[str, Any], *, table: str
    ) -> dict[str, Any]:
        """Send ``params`` once, as a JSON body ddbkit serialized itself (see the module docstring).

        ``placeholder`` is a minimal valid request for botocore to validate and serialize.
        """
        _prepared.body = orjson.dumps(params, default=_base64)
        try:
            return self.call_once(operation, table=table, **placeholder)
        finally:
            _prepared.body = None

    def call_raw(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
        **params: Any,
    ) -> bytes:
        """Like :meth:`call`, returning the reply's JSON bytes undecoded (for ddbkit's decoder:
        pages, BatchGetItem, and the single-item operations that return an item)."""

        def once() -> bytes:
            _raw_mode.active = True
            try:
                reply = self.call_once(operation, table=table, **params)
            finally:
                _raw_mode.active = False
            body: bytes = reply[RAW_BODY]
            return body

        return call_with_retries(once, self.retry, stop=stop, idempotent=idempotent)

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
        from ddbkit.table import Table

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
        from ddbkit.jobs.tables import create_table

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
        from ddbkit.jobs.tables import delete_table

        delete_table(self, name, wait=wait)

    # -- SQL (DuckDB, the ``sql`` extra) ----------------------------------------------------------

    def sql(self, query: str, *, segments: int | None = None) -> Any:
        """Run a DuckDB SQL query over this endpoint's tables; a ``duckdb.DuckDBPyRelation``.

        Tables named in the query are read (with projection, filter and Query pushdown) into
        the relation's own DuckDB connection, which lives as long as the relation does.
        ``segments`` sets the parallel scan's segment count (default: from the table's size).
        """
        from ddbkit.integrations.sql.engine import sql

        return sql(self, query, segments=segments)

    def sql_explain(self, query: str) -> str:
        """The DynamoDB requests ``sql(query)`` would send, and DuckDB's plan.

        Reads one page (up to 100 items) per table so the plan sees the real column types.
        """
        from ddbkit.integrations.sql.engine import sql_explain

        return sql_explain(self, query)


def _operation_name(method: str) -> str:
    """``batch_write_item`` -> ``BatchWriteItem``, as DynamoDB and its docs name it."""
    return "".join(part.title() for part in method.split("_"))


_SECRET_KEYS = ("Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey", "RequestItems")


def _redacted(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters for debug logs: shapes, not item contents."""
    return {k: ("<...>" if k in _SECRET_KEYS else v) for k, v in params.items()}
