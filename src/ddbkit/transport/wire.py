"""What a DynamoDB request and reply are on the wire, apart from any I/O.

Shared by the sync and async transports (as httpx's ``BaseClient`` holds what ``Client`` and
``AsyncClient`` share): the JSON body, the signed request, the reply check (status, DynamoDB's
error document, ``x-amz-crc32``) and the endpoint each operation goes to. botocore signs
(``SigV4Auth``) and resolves the endpoint, exactly as a boto3 client does; nothing here
re-implements either.
"""

from __future__ import annotations

import base64
import http
import json
import logging
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.exceptions import ClientError

from ddbkit import errors
from ddbkit.transport.botoerrors import Context, damaged_reply, translate

log = logging.getLogger("ddbkit")

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"


def _base64(value: Any) -> str:
    """orjson's hook for what it cannot write: B values (bytes) go on the wire as base64."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot send {type(value).__name__} to DynamoDB")


def encode(params: Mapping[str, Any]) -> bytes:
    """A request's parameters (wire form, B values as bytes) as its JSON body."""
    try:
        return orjson.dumps(params, default=_base64)
    except TypeError:
        # A key read back from DynamoDB may hold a lone surrogate (values/jsonvalues.py), which
        # orjson refuses to write; the stdlib escapes it (\ud800), so the key goes back exactly.
        return json.dumps(params, default=_base64, separators=(",", ":")).encode("ascii")


def operation_name(method: str) -> str:
    """``batch_write_item`` -> ``BatchWriteItem``, as DynamoDB and its docs name it."""
    return "".join(part.title() for part in method.split("_"))


@dataclass(frozen=True)
class Target:
    """Where one operation goes and how it is signed, as botocore resolved it."""

    url: str
    signing_name: str
    signing_region: str


def signed_request(
    target: Target, credentials: Any, operation: str, body: bytes, user_agent: str
) -> AWSRequest:
    """One request, signed by botocore's SigV4Auth (``.headers`` for a sender of its own,
    ``.prepare()`` for botocore's)."""
    request = AWSRequest(
        method="POST",
        url=target.url,
        data=body,
        headers={
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": TARGET_PREFIX + operation,
            "User-Agent": user_agent,
            "Accept-Encoding": "identity",
        },
    )
    SigV4Auth(credentials, target.signing_name, target.signing_region).add_auth(request)
    return request


def check_reply(
    status: int, headers: Mapping[str, str], body: bytes, operation: str, context: Context
) -> bytes:
    """A 200 reply's body, checked against its CRC32; any other reply as its ddbkit error."""
    if status != 200:
        raise translate(_client_error(status, headers, body, operation), context)
    expected = headers.get("x-amz-crc32")
    if expected is not None and str(zlib.crc32(body) & 0xFFFFFFFF) != str(expected).strip():
        raise damaged_reply(context.endpoint, operation)
    return body


def _client_error(
    status: int, headers: Mapping[str, str], body: bytes, operation: str
) -> ClientError:
    """DynamoDB's error document as botocore's JSON parser reads it (``__type``, ``message``)."""
    try:
        document = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        document = {}  # a proxy's HTML page: the status says what happened
    if not isinstance(document, dict):
        document = {}
    code = str(document.get("__type") or status)
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    message = document.get("message", document.get("Message", "")) or reason
    metadata: dict[str, Any] = {"HTTPStatusCode": status}
    if "x-amzn-requestid" in headers:
        metadata["RequestId"] = headers["x-amzn-requestid"]
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": metadata,
    }
    if isinstance(document.get("CancellationReasons"), list):
        # A canceled transaction says why, action by action: botocore keeps that list too.
        response["CancellationReasons"] = document["CancellationReasons"]
    return ClientError(response, operation)


class _EmptyBody:
    def stream(self) -> list[bytes]:
        return [b"{}"]


class EndpointResolver:
    """Each operation's URL and signing scope, resolved by the botocore client itself.

    The first request of an operation on a table is run through the client with a
    ``before-send`` handler (botocore/endpoint.py: a handler's response is used instead of
    sending) that records the URL and the signature's scope of the request botocore built, and
    answers ``{}`` without sending anything. So AWS_ENDPOINT_URL_DYNAMODB, ``--endpoint-url``,
    FIPS and dual-stack settings and account-based endpoints resolve exactly as boto3's would.
    """

    def __init__(self, client: Any, fixed: Target | None = None) -> None:
        self._client = client
        # An endpoint URL given explicitly (no path, no FIPS or dual-stack asked for) resolves to
        # itself under DynamoDB's rules: no dry run needed.
        self._fixed = fixed
        self._targets: dict[tuple[str, str | None], Target] = {}
        self._lock = threading.Lock()
        self._capture = threading.local()
        client.meta.events.register(
            "before-send.dynamodb", self._record, unique_id=f"ddbkit-resolve-{id(self)}"
        )

    def known(self, method: str, table: str | None) -> Target | None:
        """The target if it is resolved already (no botocore work, nothing that may block)."""
        return self._fixed or self._targets.get((method, table))

    def target(
        self, method: str, table: str | None, params: Callable[[], Mapping[str, Any]]
    ) -> Target:
        """The target of ``method`` (snake_case) on ``table``; ``params()`` gives a valid request
        for the first resolution (botocore validates it, so it must be the real one)."""
        if self._fixed is not None:
            return self._fixed
        key = (method, table)
        found = self._targets.get(key)
        if found is not None:
            return found
        self._capture.request = None
        self._capture.active = True
        try:
            getattr(self._client, method)(**params())
        finally:
            self._capture.active = False
        request = self._capture.request
        target = Target(request.url, *_scope(request.headers.get("Authorization", "")))
        with self._lock:
            self._targets[key] = target
        return target

    def _record(self, request: Any, **_: Any) -> AWSResponse | None:
        if not getattr(self._capture, "active", False):
            return None
        self._capture.request = request
        return AWSResponse(request.url, 200, {}, _EmptyBody())


def _scope(authorization: str | bytes) -> tuple[str, str]:
    """(signing name, region) from ``Credential=AKID/DATE/REGION/SERVICE/aws4_request``."""
    text = authorization.decode() if isinstance(authorization, bytes) else authorization
    credential = text.partition("Credential=")[2].partition(",")[0]
    parts = credential.split("/")
    if len(parts) < 5:
        raise errors.ServiceError("botocore built an unsigned DynamoDB request: cannot sign")
    return parts[-2], parts[-3]
