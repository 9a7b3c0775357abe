"""What the layers below the facade need of a connection: a protocol, so they never import it.

:class:`ddbkit.Database` satisfies it; the page loop, the batch writer and the jobs are typed
against it, which keeps every import pointing down (import-linter checks that in ./run lint).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from ddbkit.transport.retry import Backoff
from ddbkit.transport.spec import ConnectionSpec


class Connection(Protocol):
    """A connection to one DynamoDB endpoint, as the read, write and job layers use it."""

    local: bool
    retry: Backoff

    @property
    def spec(self) -> ConnectionSpec: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def endpoint_url(self) -> str: ...

    @property
    def on_loopback(self) -> bool: ...

    @property
    def read_timeout(self) -> float: ...

    def call(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
        **params: Any,
    ) -> dict[str, Any]: ...

    def call_raw(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
        **params: Any,
    ) -> bytes: ...

    def call_streams(
        self,
        operation: str,
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        **params: Any,
    ) -> dict[str, Any]: ...

    def send_once(
        self, operation: str, params: Mapping[str, Any], *, table: str | None = None
    ) -> bytes: ...
