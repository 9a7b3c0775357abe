"""The sync connection: the Connection protocol over a :class:`SyncTransport`."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ddbkit.transport.retry import Backoff
from ddbkit.transport.spec import ConnectionSpec
from ddbkit.transport.sync import SyncTransport


class SyncConnection:
    """A connection to one DynamoDB endpoint in one region: what the read, write and job
    layers send through (the :class:`~ddbkit.transport.base.Connection` protocol).

    :class:`ddbkit.Database` adds the tables; a Dask worker uses this alone, made from a spec.
    """

    def __init__(self, transport: SyncTransport) -> None:
        self.transport = transport
        self.client = transport.client
        self.local = transport.local
        self.retry: Backoff = transport.retry

    @property
    def endpoint_url(self) -> str:
        return self.transport.endpoint_url

    @property
    def spec(self) -> ConnectionSpec:
        """What ``ddbkit.connect(spec)`` needs to build an equal connection, in any process."""
        return self.transport.spec

    @property
    def endpoint(self) -> str:
        """The endpoint URL as it may be shown: a password in it is masked."""
        return self.transport.endpoint

    @property
    def on_loopback(self) -> bool:
        """Whether the endpoint is on this machine (DynamoDB Local and other local engines)."""
        return self.transport.on_loopback

    @property
    def region(self) -> str:
        return self.transport.region

    @property
    def read_timeout(self) -> float:
        return self.transport.read_timeout

    def call(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
        **params: Any,
    ) -> dict[str, Any]:
        """Send one control-plane request through botocore, retried within the budget.

        With ``stop``, a wait between attempts ends when it is set (retry.Stopped). A request
        that is not ``idempotent`` (CreateTable) is not sent again once it may have been applied.
        """
        return self.transport.call(operation, params, table=table, stop=stop, idempotent=idempotent)

    def call_raw(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
        **params: Any,
    ) -> bytes:
        """Send one item, page or batch operation on the lean path, retried within the budget;
        the reply's JSON bytes undecoded (for ddbkit's decoder)."""
        return self.transport.send(operation, params, table=table, stop=stop, idempotent=idempotent)

    def call_streams(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Send one DynamoDB Streams request (same endpoint and credentials), retried."""
        return self.transport.call_streams(operation, params, table=table, stop=stop)

    def send_once(
        self, operation: str, params: Mapping[str, Any], *, table: str | None = None
    ) -> bytes:
        """Send one lean-path request once (for loops that retry themselves: the batch writer)."""
        return self.transport.send_once(operation, params, table=table)

    def close(self) -> None:
        """Close the connection pools (the Database is unusable afterwards)."""
        self.transport.close()

    def __exit__(self, *_: object) -> None:
        self.close()
