"""The async transport: the lean path of transport/sync.py on one asyncio event loop (aiohttp).

Everything but the sending is shared with the sync transport (transport/wire.py: body, signing,
reply check, endpoint resolution; transport/retry.py: the budget). botocore work that may block
(the first resolution of an operation's endpoint, a credential refresh from SSO or instance
metadata, control-plane calls through the botocore client) runs in a worker thread so it never
stalls the loop; the hot path runs on the loop itself. Needs the ``async`` extra (aiohttp).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ddbkit import errors
from ddbkit.transport.botoerrors import translate
from ddbkit.transport.retry import Backoff, call_with_retries_async
from ddbkit.transport.session import DEFAULT_POOL_SIZE, Resolved
from ddbkit.transport.sync import SyncTransport, redacted
from ddbkit.transport.wire import Target, check_reply, encode, signed_request

log = logging.getLogger("ddbkit")
# A Scan page is up to 1 MB: read it in a few large chunks, not sixteen 64 KB ones.
READ_BUFFER = 1 << 20


def import_aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError as exc:
        raise errors.MissingExtraError("aiohttp", "async") from exc
    return aiohttp


class AsyncTransport:
    """Sends DynamoDB operations for one connection from one event loop."""

    def __init__(self, sync: SyncTransport) -> None:
        self._aiohttp = import_aiohttp()
        # The sync transport holds botocore's parts (session, client, resolver, credentials):
        # one set of them, whichever way a request is sent.
        self.sync = sync
        self.resolved: Resolved = sync.resolved
        self.spec = sync.spec
        self.retry: Backoff = sync.retry
        self.local = sync.local
        self.endpoint_url = sync.endpoint_url
        self.endpoint = sync.endpoint
        self.region = sync.region
        self.read_timeout = sync.read_timeout
        self.on_loopback = sync.on_loopback
        self._session: Any = None

    async def _http(self) -> Any:
        if self._session is None:
            aiohttp = self._aiohttp
            config = self.resolved.client.meta.config
            connector = aiohttp.TCPConnector(limit=DEFAULT_POOL_SIZE, ssl=self._ssl())
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
                ),
                trust_env=True,  # HTTP(S)_PROXY and NO_PROXY, as botocore reads them
                auto_decompress=False,
                read_bufsize=READ_BUFFER,
                skip_auto_headers=("Accept-Encoding", "Content-Type", "User-Agent"),
            )
        return self._session

    def _ssl(self) -> Any:
        if self.endpoint_url.startswith("http:"):
            return False  # plain HTTP (a local engine): no TLS context to build
        bundle = self.resolved.session.get_config_variable("ca_bundle")
        return ssl.create_default_context(cafile=bundle) if bundle else True

    async def _target(self, method: str, table: str | None, params: Mapping[str, Any]) -> Target:
        resolver = self.sync.resolver
        found = resolver.known(method, table)
        if found is not None:
            return found
        return await asyncio.to_thread(resolver.target, method, table, lambda: params)

    async def _credentials(self) -> Any:
        credentials = self.sync.credentials_if_ready()
        if credentials is not None:
            return credentials
        return await asyncio.to_thread(self.sync.frozen_credentials)

    async def send_once(
        self, method: str, params: Mapping[str, Any], *, table: str | None = None
    ) -> bytes:
        """Send one hot operation once; its reply's JSON bytes, or a ddbkit error."""
        if log.isEnabledFor(logging.DEBUG):  # redacting copies the parameters: only for a reader
            log.debug("%s %s", method, redacted(params))
        context = self.sync.context(method, table)
        operation = context.operation
        body = encode(params)
        try:
            target = await self._target(method, table, params)
            credentials = await self._credentials()
        except (BotoCoreError, ClientError) as exc:
            raise translate(exc, context) from exc
        signed = signed_request(target, credentials, operation, body, self.sync.user_agent)
        headers = dict(signed.headers.items())
        session = await self._http()
        try:
            async with session.post(target.url, data=body, headers=headers) as response:
                reply = await response.read()
                status, reply_headers = response.status, response.headers
        except Exception as exc:  # aiohttp's and asyncio's: mapped to botocore's classes
            mapped = self._botocore_error(exc, target.url)
            if mapped is None:
                raise
            raise translate(mapped, context) from exc
        return check_reply(status, reply_headers, reply, operation, context)

    def _botocore_error(self, exc: Exception, url: str) -> BotoCoreError | None:
        """The botocore exception a boto3 client raises for the same failure, so one
        translation (botoerrors.py) words them all."""
        aiohttp = self._aiohttp
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return ConnectTimeoutError(endpoint_url=url, error=exc)
        if isinstance(exc, (aiohttp.SocketTimeoutError, asyncio.TimeoutError)):
            return ReadTimeoutError(endpoint_url=url, error=exc)
        if isinstance(exc, aiohttp.ClientConnectorError):
            return EndpointConnectionError(endpoint_url=url, error=exc)
        if isinstance(exc, (aiohttp.ClientError, ConnectionError)):
            return ConnectionClosedError(endpoint_url=url, error=exc)
        return None

    async def send(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        idempotent: bool = True,
    ) -> bytes:
        """:meth:`send_once`, retried within the budget (retry.py)."""
        return await call_with_retries_async(
            lambda: self.send_once(method, params, table=table),
            self.retry,
            idempotent=idempotent,
        )

    async def call(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """A control-plane call through the botocore client, on a worker thread."""
        return await asyncio.to_thread(
            self.sync.call, method, params, table=table, idempotent=idempotent
        )

    async def close(self) -> None:
        """Close this loop's connection pool (the sync transport's parts stay open)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
