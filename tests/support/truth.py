"""References that do not come from ddbkit: canonical values, and the engine read by plain boto3.

A test that checks ddbkit must compare it with something ddbkit did not produce: the items the test
generated, botocore's own parser, or the engine itself. This module gives both sides one
canonical, type-strict form, so ``True`` never equals ``1`` and a set never equals a list:

- :func:`canon` for Python values (the generated source items, or what ddbkit hands back);
- :func:`canon_typed` for DynamoDB JSON, as a file holds it (B as base64 text) or as botocore
  parses it (B as bytes), decoded here without ddbkit's converter;
- :func:`engine_items` reads a whole table with a plain boto3 client, straight from the engine
  (never through a fault proxy), parsed by botocore.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config

Canon = Any
Key = tuple[Canon, ...]


def number(value: int | float | Decimal | str) -> Decimal:
    """A number as an exact Decimal (a float by its repr, as ddbkit stores it)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def canon(value: Any) -> Canon:
    """A Python value in a tagged form that compares type for type and value for value."""
    if value is None:
        return ("NULL", True)
    if isinstance(value, bool):
        return ("BOOL", value)
    if isinstance(value, (int, float, Decimal)):
        return ("N", number(value))
    if isinstance(value, str):
        return ("S", value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("B", bytes(value))
    if type(value).__name__ == "Binary":  # boto3.dynamodb.types.Binary
        return ("B", bytes(value.value))
    if isinstance(value, (set, frozenset)):
        members = [canon(member) for member in value]
        tags = {tag for tag, _ in members}
        if len(tags) != 1 or not tags <= {"S", "N", "B"}:
            raise TypeError(f"not a DynamoDB set: {value!r}")
        return (f"{tags.pop()}S", frozenset(member for _, member in members))
    if isinstance(value, (list, tuple)):
        return ("L", tuple(canon(member) for member in value))
    if isinstance(value, Mapping):
        return ("M", {str(k): canon(v) for k, v in value.items()})
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def _binary(raw: Any) -> bytes:
    return bytes(raw) if isinstance(raw, (bytes, bytearray)) else base64.b64decode(raw)


def canon_typed(av: Mapping[str, Any]) -> Canon:
    """A DynamoDB JSON attribute value (B as bytes or base64 text) in :func:`canon`'s form."""
    ((tag, raw),) = av.items()
    if tag == "S":
        return ("S", raw)
    if tag == "N":
        return ("N", Decimal(raw))
    if tag == "B":
        return ("B", _binary(raw))
    if tag == "BOOL":
        return ("BOOL", raw)
    if tag == "NULL":
        return ("NULL", True)
    if tag == "SS":
        return ("SS", frozenset(raw))
    if tag == "NS":
        return ("NS", frozenset(Decimal(n) for n in raw))
    if tag == "BS":
        return ("BS", frozenset(_binary(b) for b in raw))
    if tag == "L":
        return ("L", tuple(canon_typed(member) for member in raw))
    if tag == "M":
        return ("M", {k: canon_typed(v) for k, v in raw.items()})
    raise ValueError(f"unknown DynamoDB type tag {tag!r}")


def plain_from_typed(av: Mapping[str, Any]) -> Any:
    """A DynamoDB JSON value as the README says plain JSON shows it: sets as sorted lists,
    binary as base64 text, numbers exact (Decimal)."""
    ((tag, raw),) = av.items()
    if tag == "N":
        return Decimal(raw)
    if tag == "B":
        return base64.b64encode(_binary(raw)).decode()
    if tag == "NULL":
        return None
    if tag == "SS":
        return sorted(set(raw))
    if tag == "NS":
        return sorted({Decimal(n) for n in raw})
    if tag == "BS":
        return [base64.b64encode(b).decode() for b in sorted({_binary(b) for b in raw})]
    if tag == "L":
        return [plain_from_typed(member) for member in raw]
    if tag == "M":
        return {k: plain_from_typed(v) for k, v in raw.items()}
    return raw  # S, BOOL


def canon_item(item: Mapping[str, Any]) -> dict[str, Canon]:
    return {name: canon(value) for name, value in item.items()}


def canon_typed_item(item: Mapping[str, Any]) -> dict[str, Canon]:
    return {name: canon_typed(value) for name, value in item.items()}


def key_of(item: Mapping[str, Canon], names: Iterable[str]) -> Key:
    """The key of a canonical item (its key attributes' canonical values)."""
    return tuple(item[name] for name in names)


def by_key(items: Iterable[Mapping[str, Any]], names: Iterable[str]) -> dict[Key, dict[str, Canon]]:
    """Python items in canonical form, by key; a key seen twice is an error, never hidden."""
    keyed: dict[Key, dict[str, Canon]] = {}
    names = tuple(names)
    for item in items:
        canonical = canon_item(item)
        key = key_of(canonical, names)
        assert key not in keyed, f"key {key} appears twice"
        keyed[key] = canonical
    return keyed


def ddb_json_lines(data: bytes, names: Iterable[str]) -> dict[Key, dict[str, Canon]]:
    """A ddb-json file (``{"Item": {...}}`` per line), decoded by the json module, by key.

    A line whose key was already seen fails the test: every item must be there exactly once.
    """
    keyed: dict[Key, dict[str, Canon]] = {}
    names = tuple(names)
    for number_, line in enumerate(data.splitlines(), start=1):
        item = canon_typed_item(json.loads(line)["Item"])
        key = key_of(item, names)
        assert key not in keyed, f"line {number_}: key {key} is in the file twice"
        keyed[key] = item
    return keyed


def plain_json_lines(data: bytes, names: Iterable[str]) -> dict[Key, dict[str, Canon]]:
    """A JSON Lines file decoded by the json module (numbers exact), by key, each key once."""
    return by_key(
        (json.loads(line, parse_float=Decimal) for line in data.splitlines() if line.strip()),
        names,
    )


def assert_plain_lines(text: str, raw_items: list[dict[str, Any]]) -> None:
    """Each JSON Lines line, read by the json module, is its raw item as plain JSON shows it."""
    # Split on "\n" only: str.splitlines() would also split inside a string at \x85 or \u2028.
    lines = [json.loads(line, parse_float=Decimal) for line in text.split("\n")[:-1]]
    expected = [{k: plain_from_typed(v) for k, v in raw.items()} for raw in raw_items]
    assert [canon(line) for line in lines] == [canon(item) for item in expected]


@functools.cache
def raw_client(endpoint: str) -> Any:
    """A plain boto3 DynamoDB client on ``endpoint`` (botocore's parser, a few quick retries),
    for checking what the engine holds independently of ddbkit."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="ddbkit",
        aws_secret_access_key="ddbkit",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


def engine_items(endpoint: str, table: str, names: Iterable[str]) -> dict[Key, dict[str, Canon]]:
    """Every item of ``table`` as the engine holds it, read by boto3 (consistent reads), by key."""
    client = raw_client(endpoint)
    keyed: dict[Key, dict[str, Canon]] = {}
    names = tuple(names)
    try:
        pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        for page in pages:
            for raw in page["Items"]:
                item = canon_typed_item(raw)
                key = key_of(item, names)
                assert key not in keyed, f"the engine returned key {key} twice"
                keyed[key] = item
    finally:
        client.close()
    return keyed


def assert_same_items(
    got: Mapping[Key, Mapping[str, Canon]], want: Mapping[Key, Mapping[str, Canon]]
) -> None:
    """Every item of ``want``, value for value, and nothing else; the first difference shown."""
    missing = [key for key in want if key not in got]
    extra = [key for key in got if key not in want]
    assert not missing, f"{len(missing)} item(s) missing, e.g. {missing[:3]}"
    assert not extra, f"{len(extra)} unexpected item(s), e.g. {extra[:3]}"
    for key, item in want.items():
        assert got[key] == item, f"item {key} differs:\n got  {got[key]}\n want {item}"
