"""The sync transport: one attempt of one DynamoDB operation, and the retry loop around it.

The hot operations (items, pages, batches) take the lean path: ddbkit's JSON body, signed by
botocore's ``SigV4Auth`` with the session's credentials (refreshed by botocore when they expire),
sent on botocore's own urllib3 connection pool (``URLLib3Session``: the same proxies, CA bundle
and error classes as a boto3 client), the reply checked here (status, error document, CRC32).
That skips botocore's generic serializer, validator, event chain and parser, which cost about
1 ms of CPU a request against about 0.3 ms for the signed POST itself (bench/). Control-plane
operations (CreateTable, DescribeTable, ListTables...) go through the botocore client, whose
parser turns their timestamps and nested shapes into Python values.
"""

from __future__ import annotations

import logging
import socket
import threading
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import botocore
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies

from ddbkit.transport.botoerrors import Context, damaged_reply, translate
from ddbkit.transport.retry import Backoff, call_with_retries
from ddbkit.transport.session import (
    DEFAULT_POOL_SIZE,
    Resolved,
    is_loopback,
    resolve,
    shown_url,
    streams_client,
)
from ddbkit.transport.spec import ConnectionSpec
from ddbkit.transport.wire import (
    EndpointResolver,
    Target,
    check_reply,
    encode,
    operation_name,
    signed_request,
)

log = logging.getLogger("ddbkit")


def user_agent() -> str:
    from ddbkit.version import __version__

    return f"ddbkit/{__version__} botocore/{botocore.__version__}"


class SyncTransport:
    """Sends DynamoDB operations for one :class:`ConnectionSpec`; thread-safe."""

    def __init__(self, spec: ConnectionSpec | Resolved) -> None:
        resolved = spec if isinstance(spec, Resolved) else resolve(spec)
        self.resolved = resolved
        self.spec = resolved.spec
        self.client = resolved.client
        self.retry: Backoff = resolved.retry
        self.local = resolved.spec.local
        self.endpoint_url = resolved.endpoint_url
        self.endpoint = shown_url(self.endpoint_url)
        self.region = resolved.region
        self.read_timeout = float(self.client.meta.config.read_timeout)
        self.resolver = EndpointResolver(self.client, _fixed_target(resolved))
        self._credentials: Any = None
        self._credentials_lock = threading.Lock()
        self.user_agent = user_agent()
        self._http: URLLib3Session | None = None
        self._http_lock = threading.Lock()
        self._streams: Any = None
        self.client.meta.events.register(
            "before-parse.dynamodb", _flag_bad_checksum, unique_id="ddbkit-crc32"
        )

    @property
    def on_loopback(self) -> bool:
        """Whether the endpoint is on this machine (DynamoDB Local and other local engines)."""
        return is_loopback(self.endpoint_url, self.local)

    def context(self, method: str, table: str | None) -> Context:
        return Context(
            endpoint=self.endpoint,
            local=self.local,
            operation=operation_name(method),
            table=table,
            read_timeout=self.read_timeout,
        )

    # -- the lean path ----------------------------------------------------------------------

    def send_once(
        self, method: str, params: Mapping[str, Any], *, table: str | None = None
    ) -> bytes:
        """Send one hot operation once; its reply's JSON bytes, or a ddbkit error."""
        if log.isEnabledFor(logging.DEBUG):  # redacting copies the parameters: only for a reader
            log.debug("%s %s", method, redacted(params))
        context = self.context(method, table)
        operation = context.operation
        body = encode(params)
        try:
            target = self.resolver.target(method, table, lambda: params)
            credentials = self.frozen_credentials()
            request = signed_request(target, credentials, operation, body, self.user_agent)
            response = self.http.send(request.prepare())
            reply = response.content
        except (BotoCoreError, ClientError) as exc:
            raise translate(exc, context) from exc
        except ValueError as exc:
            from ddbkit.transport.session import setup_value_error

            raise setup_value_error(exc) from exc
        return check_reply(response.status_code, response.headers, reply, operation, context)

    def send(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
    ) -> bytes:
        """:meth:`send_once`, retried within the budget (retry.py)."""
        return call_with_retries(
            lambda: self.send_once(method, params, table=table),
            self.retry,
            stop=stop,
            idempotent=idempotent,
        )

    def frozen_credentials(self) -> Any:
        """The current credentials; botocore refreshes expiring ones (SSO, assume-role, IMDS)."""
        if self._credentials is None:
            with self._credentials_lock:
                if self._credentials is None:
                    found = self.resolved.session.get_credentials()
                    if found is None:
                        raise NoCredentialsError()
                    self._credentials = found
        return self._credentials.get_frozen_credentials()

    def credentials_if_ready(self) -> Any:
        """The current credentials if they can be had without I/O (loaded, not due for a
        refresh), else None: the async transport then fetches them on a worker thread."""
        credentials = self._credentials
        if credentials is None:
            return None
        refresh_needed = getattr(credentials, "refresh_needed", None)
        if refresh_needed is not None and refresh_needed():
            return None
        return credentials.get_frozen_credentials()

    @property
    def http(self) -> URLLib3Session:
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    self._http = _http_session(self.resolved, self.endpoint_url)
        return self._http

    # -- the botocore client, for the control plane ----------------------------------------

    def call_once(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        client: Any = None,
    ) -> dict[str, Any]:
        """One control-plane request through the botocore ``client`` (default: DynamoDB's)."""
        log.debug("%s %s", method, redacted(params))
        try:
            result: dict[str, Any] = getattr(client or self.client, method)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.context(method, table)) from exc
        if result.pop(BAD_CHECKSUM, False):
            raise damaged_reply(self.endpoint, operation_name(method))
        return result

    def call(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        return call_with_retries(
            lambda: self.call_once(method, params, table=table),
            self.retry,
            stop=stop,
            idempotent=idempotent,
        )

    def call_streams(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        table: str | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """:meth:`call` for a DynamoDB Streams operation (DescribeStream, GetRecords...)."""
        client = self.streams
        return call_with_retries(
            lambda: self.call_once(method, params, table=table, client=client),
            self.retry,
            stop=stop,
        )

    @property
    def streams(self) -> Any:
        """The botocore DynamoDB Streams client, made on first use."""
        if self._streams is None:
            with self._http_lock:
                if self._streams is None:
                    client = streams_client(self.resolved)
                    client.meta.events.register(
                        "before-parse.dynamodb-streams", _flag_bad_checksum, unique_id="ddbkit-crc"
                    )
                    self._streams = client
        return self._streams

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._streams is not None:
            self._streams.close()
        self.client.close()


def _fixed_target(resolved: Resolved) -> Target | None:
    """The target of every operation when the caller named the endpoint itself: DynamoDB's
    endpoint rules return a given endpoint unchanged. With FIPS or dual-stack asked for, the dry
    run decides, as the botocore client would."""
    url = resolved.spec.endpoint_url
    session = resolved.session
    if url is None or urlsplit(url).path not in ("", "/"):
        return None
    for flag in ("use_fips_endpoint", "use_dualstack_endpoint"):
        if str(session.get_config_variable(flag)).lower() == "true":
            return None
    return Target(url.rstrip("/") + "/", "dynamodb", resolved.region)


BAD_CHECKSUM = "ddbkit.bad_checksum"


def _flag_bad_checksum(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """before-parse handler for the control plane: botocore's retries are off (ddbkit retries
    itself), and its CRC32 check went with them, so a damaged reply is flagged here and becomes
    a retryable error instead of wrong data."""
    if response_dict.get("status_code") != 200:
        return
    expected = response_dict.get("headers", {}).get("x-amz-crc32")
    body = response_dict["body"]
    if expected is not None and str(zlib.crc32(body) & 0xFFFFFFFF) != str(expected).strip():
        customized_response_dict[BAD_CHECKSUM] = True
        response_dict["body"] = b"{}"


def _http_session(resolved: Resolved, url: str) -> URLLib3Session:
    """A urllib3 pool configured as botocore configures a client's (timeouts, proxies, CA)."""
    config = resolved.client.meta.config
    verify = resolved.session.get_config_variable("ca_bundle") or True
    # As botocore computes them for its clients (args.py): without TCP_NODELAY, a request's
    # headers and body go out in two writes and wait out the peer's delayed ACK (about 40 ms).
    socket_options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    keepalive = config.tcp_keepalive or resolved.session.get_config_variable("tcp_keepalive")
    if str(keepalive).lower() == "true":
        socket_options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
    return URLLib3Session(
        verify=verify,
        proxies=get_environ_proxies(url),
        timeout=(config.connect_timeout, config.read_timeout),
        max_pool_connections=DEFAULT_POOL_SIZE,
        socket_options=socket_options,
        client_cert=config.client_cert,
        proxies_config=config.proxies_config,
    )


_SECRET_KEYS = (
    "Item",
    "Key",
    "ExpressionAttributeValues",
    "ExclusiveStartKey",
    "RequestItems",
    "TransactItems",
)


def redacted(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters for debug logs: shapes, not item contents."""
    return {k: ("<...>" if k in _SECRET_KEYS else v) for k, v in params.items()}
