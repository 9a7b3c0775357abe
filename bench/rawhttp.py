"""The raw transport of the benchmark's limits: SigV4-signed HTTP POSTs, nothing else.

Each request body is JSON bytes built by the caller (orjson); botocore's ``AWSRequest`` and
``SigV4Auth`` sign it exactly as a boto3 client would, and ``http.client`` sends it on one
keep-alive connection per thread. No botocore request serializer, no response parser, no retry
handler, no event hooks: what is left is the work any DynamoDB client must do, so the time of a
run with this transport is the floor a library can approach, not beat.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
TIMEOUT = 120.0
REGION = "us-east-1"
ACCESS_KEY = "bench"
SECRET_KEY = "bench"


class RawError(Exception):
    """A non-200 answer: the status and DynamoDB's error body."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


class RawClient:
    """Signs and sends DynamoDB JSON requests to one endpoint; thread-safe (connections are not
    shared: each caller opens its own with :meth:`connect`)."""

    def __init__(self, endpoint_url: str, region: str = REGION) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the raw client speaks plain http to a host: {endpoint_url}")
        self.url = endpoint_url.rstrip("/") + "/"
        self.host = parts.hostname
        self.port = parts.port or 80
        self._signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", region)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        request = AWSRequest(
            method="POST",
            url=self.url,
            data=body,
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation},
        )
        self._signer.add_auth(request)
        return dict(request.headers.items())

    def call(self, conn: http.client.HTTPConnection, operation: str, body: bytes) -> bytes:
        """POST one request on ``conn`` and return the raw response body (not decoded)."""
        headers = self.signed_headers(operation, body)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (ConnectionError, http.client.HTTPException):
            # A dropped keep-alive connection: one fresh attempt, then the error stands.
            conn.close()
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        if response.status != 200:
            raise RawError(response.status, data)
        return data


_LAST_KEY = b'"LastEvaluatedKey":'
_COUNT = b'"Count":'
_DECODER = json.JSONDecoder()


def page_count(body: bytes) -> int:
    """The ``Count`` of a raw Scan reply, found without parsing the items.

    Searched from the end: the reply's own fields follow ``Items``; an attribute *named* Count
    inside an item could only fool a forward search (names are JSON-escaped, values cannot).
    """
    at = body.rfind(_COUNT)
    if at < 0:
        raise ValueError("no Count in the Scan reply")
    start = at + len(_COUNT)
    end = start
    while end < len(body) and body[end : end + 1].isdigit():
        end += 1
    return int(body[start:end])


def page_last_key(body: bytes) -> dict[str, object] | None:
    """The ``LastEvaluatedKey`` of a raw Scan reply (parsed alone), or None on the last page."""
    at = body.rfind(_LAST_KEY)
    if at < 0:
        return None
    tail = body[at + len(_LAST_KEY) :].decode("utf-8").lstrip()
    key, _ = _DECODER.raw_decode(tail)
    if not isinstance(key, dict):
        raise ValueError("LastEvaluatedKey is not an object")
    return key
