"""Creating and deleting tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.models import check_table_name

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection

KEY_TYPES = ("S", "N", "B")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class IndexSpec:
    """A secondary index to create: global by default, local with ``local=True``.

    ``projection`` is "ALL", "KEYS_ONLY", or a sequence of attribute names to include.
    """

    name: str
    partition_key: tuple[str, str]
    sort_key: tuple[str, str] | None = None
    local: bool = False
    projection: str | Sequence[str] = "ALL"

    @classmethod
    def parse(cls, text: str, *, local: bool = False, typed: bool = True) -> IndexSpec:
        """``NAME:pk:S[:sk:N]`` as the CLI's ``--gsi``/``--lsi`` take it.

        With ``typed=False`` (``alter --add-gsi``) a type may be left out, ``NAME:pk[:sk]``,
        when the table already defines the attribute: its type is then "" until
        :func:`ddbkit.jobs.alter.alter_table` fills it in. A part that is exactly S, N or B
        after an attribute is that attribute's type.
        """
        if not typed:
            return cls._parse_untyped(text)
        parts = text.split(":")
        if len(parts) not in (3, 5) or not all(parts):
            flag = "--lsi" if local else "--gsi"
            raise errors.ValidationError(
                f"bad {flag} {text!r}: write NAME:ATTR:TYPE or NAME:ATTR:TYPE:SORTATTR:TYPE, "
                "e.g. by_email:email:S"
            )
        sort_key = (parts[3], parts[4]) if len(parts) == 5 else None
        return cls(parts[0], (parts[1], parts[2]), sort_key, local=local)

    @classmethod
    def _parse_untyped(cls, text: str) -> IndexSpec:
        name, *rest = text.split(":")
        keys: list[tuple[str, str]] = []
        for part in rest:
            if keys and not keys[-1][1] and part in KEY_TYPES:
                keys[-1] = (keys[-1][0], part)
            else:
                keys.append((part, ""))
        if not name or not all(part for part in rest) or len(keys) not in (1, 2):
            raise errors.ValidationError(
                f"bad --add-gsi {text!r}: write NAME:ATTR[:TYPE][:SORTATTR[:TYPE]], "
                "e.g. by_email:email or by_day:day:S:ts:N"
            )
        return cls(name, keys[0], keys[1] if len(keys) == 2 else None)


def parse_key_arg(text: str, flag: str) -> tuple[str, str]:
    """``name:TYPE`` as the CLI's ``--pk``/``--sk`` take it."""
    name, _, key_type = text.rpartition(":")
    if not name:
        raise errors.ValidationError(f"bad {flag} {text!r}: write NAME:TYPE, e.g. id:S")
    return name, key_type


def _check_key(key: tuple[str, str], what: str) -> None:
    name, key_type = key
    if not name:
        raise errors.ValidationError(f"{what} needs a name")
    if key_type.upper() not in KEY_TYPES:
        raise errors.ValidationError(
            f"{what} {name!r} has type {key_type!r}: "
            "key types are S (string), N (number), B (binary)"
        )


def create_table(
    db: Connection,
    name: str,
    *,
    partition_key: tuple[str, str],
    sort_key: tuple[str, str] | None,
    indexes: Sequence[IndexSpec],
    billing: str,
    capacity: tuple[int, int] | None,
    ttl: str | None,
    wait: bool,
) -> None:
    """Create a table with its indexes and TTL attribute."""
    check_table_name(name)
    for index in indexes:
        check_table_name(index.name, "index")
    request = _create_request(name, partition_key, sort_key, indexes, billing, capacity)
    db.call("create_table", table=name, idempotent=False, **request)
    if wait or ttl:
        # TTL can only be set on an ACTIVE table.
        _wait(db, name, gone=False)
    if ttl:
        db.call(
            "update_time_to_live",
            table=name,
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl},
        )


def _create_request(
    name: str,
    partition_key: tuple[str, str],
    sort_key: tuple[str, str] | None,
    indexes: Sequence[IndexSpec],
    billing: str,
    capacity: tuple[int, int] | None,
) -> dict[str, Any]:
    billing = billing.upper()
    if billing not in BILLING_MODES:
        raise errors.ValidationError(
            f"billing mode {billing!r} unknown: use PAY_PER_REQUEST or PROVISIONED"
        )
    if billing == "PROVISIONED" and capacity is None:
        raise errors.ValidationError("PROVISIONED billing needs capacity=(read_units, write_units)")
    _check_key(partition_key, "partition key")
    types: dict[str, str] = {partition_key[0]: partition_key[1].upper()}
    if sort_key:
        _check_key(sort_key, "sort key")
        types[sort_key[0]] = sort_key[1].upper()
    throughput = (
        {"ReadCapacityUnits": capacity[0], "WriteCapacityUnits": capacity[1]} if capacity else None
    )
    gsis, lsis = [], []
    for index in indexes:
        for key, what in ((index.partition_key, "partition key"), (index.sort_key, "sort key")):
            if key is None:
                continue
            _check_key(key, f"index {index.name!r} {what}")
            if types.setdefault(key[0], key[1].upper()) != key[1].upper():
                raise errors.ValidationError(
                    f"attribute {key[0]!r} is given two types: {types[key[0]]} and {key[1]}"
                )
        spec: dict[str, Any] = {
            "IndexName": index.name,
            "KeySchema": _key_schema(index.partition_key, index.sort_key),
            "Projection": _projection(index.projection),
        }
        if index.local:
            if index.partition_key[0] != partition_key[0]:
                raise errors.ValidationError(
                    f"local index {index.name!r} must use the table's partition key "
                    f"{partition_key[0]!r}"
                )
            lsis.append(spec)
        else:
            if throughput:
                spec["ProvisionedThroughput"] = throughput
            gsis.append(spec)
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": _key_schema(partition_key, sort_key),
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": kind} for attr, kind in types.items()
        ],
        "BillingMode": billing,
    }
    if throughput:
        request["ProvisionedThroughput"] = throughput
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    return request


def _key_schema(pk: tuple[str, str], sk: tuple[str, str] | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": pk[0], "KeyType": "HASH"}]
    if sk:
        schema.append({"AttributeName": sk[0], "KeyType": "RANGE"})
    return schema


def _projection(projection: str | Sequence[str]) -> dict[str, Any]:
    if isinstance(projection, str):
        kind = projection.upper()
        if kind not in ("ALL", "KEYS_ONLY"):
            raise errors.ValidationError(
                f"projection {projection!r} unknown: use 'ALL', 'KEYS_ONLY' or a list of attributes"
            )
        return {"ProjectionType": kind}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(projection)}


def delete_table(db: Connection, name: str, *, wait: bool) -> None:
    check_table_name(name)
    db.call("delete_table", table=name, TableName=name)
    if wait:
        _wait(db, name, gone=True)


def _wait(
    db: Connection,
    name: str,
    *,
    gone: bool,
    clock: Any = time,
    timeout: float | None = WAIT_SECONDS,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Poll DescribeTable until the table and its indexes are ACTIVE (or the table is gone).

    ``progress`` hears the state while waiting ("index by_email CREATING, backfilling");
    ``timeout=None`` waits as long as it takes (an index backfill on a big table takes hours).
    """
    deadline = None if timeout is None else clock.monotonic() + timeout
    delay = 0.05
    while deadline is None or clock.monotonic() < deadline:
        try:
            table = db.call("describe_table", table=name, TableName=name)["Table"]
        except errors.TableNotFoundError:
            if gone:
                return
        else:
            busy = _busy(table)
            if not gone and not busy:
                return
            if progress is not None and busy:
                progress(busy)
        clock.sleep(delay)
        delay = min(delay * 2, 2.0)
    state = "deleted" if gone else "ACTIVE"
    raise errors.ServiceError(f"table {name!r} was not {state} after {timeout:.0f}s")


def _busy(table: Mapping[str, Any]) -> str:
    """What the table is still doing, as a short text; "" when it and its indexes are ACTIVE."""
    busy = [] if table["TableStatus"] == "ACTIVE" else [f"table {table['TableStatus']}"]
    for index in table.get("GlobalSecondaryIndexes", []):
        status = index.get("IndexStatus", "ACTIVE")
        if status != "ACTIVE":
            backfill = ", backfilling" if index.get("Backfilling") else ""
            busy.append(f"index {index['IndexName']} {status}{backfill}")
    return "; ".join(busy)
