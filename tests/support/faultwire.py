"""The DynamoDB side of the fault proxy: the replies it makes and the batch bodies it splits.

Kept apart from tests/support/faultproxy.py (the proxy itself), which imports everything here.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "DynamoDB_20120810."

# The __type prefixes real DynamoDB sends; botocore's JSON parser keeps what follows the last '#'.
THROTTLE_ERRORS: tuple[tuple[str, str], ...] = (
    (
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    (
        "com.amazon.coral.availability#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
    (
        "com.amazon.coral.service#RequestLimitExceeded",
        "Throughput exceeds the current throughput limit for your account.",
    ),
)
INTERNAL_ERROR = ("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
UNAVAILABLE_ERROR = ("com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "Service unavailable")
NOT_FOUND_ERROR = (
    "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
    "Requested resource not found",
)

BATCH_FIELDS = {"BatchWriteItem": "UnprocessedItems", "BatchGetItem": "UnprocessedKeys"}

Headers = list[tuple[str, str]]


@dataclass
class Reply:
    status: int
    headers: Headers
    body: bytes


def crc32(body: bytes) -> str:
    """The ``x-amz-crc32`` value botocore checks on every DynamoDB reply."""
    return str(zlib.crc32(body) & 0xFFFFFFFF)


def json_reply(status: int, payload: dict[str, Any]) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [
        ("x-amzn-RequestId", uuid.uuid4().hex.upper()),
        ("Content-Type", JSON_CONTENT_TYPE),
        ("x-amz-crc32", crc32(body)),
    ]
    return Reply(status, headers, body)


def error_reply(status: int, error: tuple[str, str]) -> Reply:
    return json_reply(status, {"__type": error[0], "message": error[1]})


def batch_entries(operation: str, request: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (table, write request or key) pairs of a batch request, in request order."""
    items = request.get("RequestItems")
    if not isinstance(items, dict):
        return []
    entries: list[tuple[str, Any]] = []
    for table, spec in items.items():
        values = spec if operation == "BatchWriteItem" else spec.get("Keys", [])
        entries.extend((table, value) for value in values)
    return entries


def split_batch(
    operation: str, request: dict[str, Any], keep: list[bool]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split RequestItems into (forwarded, withheld), each in the shape of its own request."""
    forwarded: dict[str, Any] = {}
    withheld: dict[str, Any] = {}
    for (table, value), kept in zip(batch_entries(operation, request), keep, strict=True):
        target = forwarded if kept else withheld
        if operation == "BatchWriteItem":
            target.setdefault(table, []).append(value)
        else:
            # A withheld key must come back with the table's projection and consistency, or the
            # caller's retry would read different attributes.
            spec = request["RequestItems"][table]
            entry = target.setdefault(table, {**{k: v for k, v in spec.items() if k != "Keys"}})
            entry.setdefault("Keys", []).append(value)
    return forwarded, withheld


def merge_unprocessed(
    operation: str, reply: dict[str, Any], withheld: dict[str, Any]
) -> dict[str, Any]:
    """Add the withheld requests to the reply's UnprocessedItems / UnprocessedKeys per table."""
    name = BATCH_FIELDS[operation]
    unprocessed: dict[str, Any] = dict(reply.get(name) or {})
    for table, value in withheld.items():
        if operation == "BatchWriteItem":
            unprocessed[table] = [*unprocessed.get(table, []), *value]
        elif table in unprocessed:
            spec = dict(unprocessed[table])
            spec["Keys"] = [*spec.get("Keys", []), *value["Keys"]]
            unprocessed[table] = spec
        else:
            unprocessed[table] = value
    return {**reply, name: unprocessed}
