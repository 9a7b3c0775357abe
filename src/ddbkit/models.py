"""What a table is: frozen descriptions built from DescribeTable / DescribeTimeToLive replies."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn

from ddbkit.errors import InvalidKeyError, ValidationError
from ddbkit.values.serialize import to_item

ONE_MB = 1024 * 1024
STATS_NOTE = "DynamoDB refreshes item_count and size_bytes about every six hours"


@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute: its name and DynamoDB scalar type (S, N or B)."""

    name: str
    type: str

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"

    def accepts(self, value: Any) -> bool:
        """Whether a Python value has this key's type (bool is not a number here)."""
        if self.type == "N":
            return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        if self.type == "B":
            return isinstance(value, (bytes, bytearray, memoryview))
        return isinstance(value, str)


@dataclass(frozen=True)
class KeySchema:
    """A partition key and an optional sort key, of a table or of an index."""

    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None

    @property
    def names(self) -> tuple[str, ...]:
        if self.sort_key is None:
            return (self.partition_key.name,)
        return (self.partition_key.name, self.sort_key.name)

    @property
    def attributes(self) -> tuple[KeyAttribute, ...]:
        if self.sort_key is None:
            return (self.partition_key,)
        return (self.partition_key, self.sort_key)

    def to_wire(self, key: Any, *, table: str, what: str = "key") -> dict[str, Any]:
        """Check a key (or the key part of an ``item``) against this schema and convert it.

        A key must hold exactly the key attributes, each of its type and, for S and B, not
        empty; an item may hold other attributes too. Raises InvalidKeyError naming the fix.
        """
        self.check(key, table=table, what=what)
        return to_item({name: key[name] for name in self.names})

    def check(self, key: Any, *, table: str, what: str = "key") -> None:
        """:meth:`to_wire`'s checks alone (for a caller that converts the item anyway)."""
        if not isinstance(key, Mapping):
            raise InvalidKeyError(
                f"a {what} of table {table!r} is a dict with {self._wanted()}, "
                f"not {type(key).__name__}"
            )
        names = self.names
        # The common case first, cheaply: this runs once per item of a bulk write.
        if any(n not in key for n in names) or (what == "key" and len(key) != len(names)):
            missing = [n for n in names if n not in key]
            extra = [str(n) for n in key if n not in names] if what == "key" else []
            problems = []
            if missing:
                problems.append("missing " + ", ".join(repr(n) for n in missing))
            if extra:
                problems.append("unexpected " + ", ".join(repr(n) for n in extra))
            raise InvalidKeyError(
                f"{what} for table {table!r} needs {self._wanted()}: {'; '.join(problems)}"
            )
        for attribute in self.attributes:
            value = key[attribute.name]
            if not attribute.accepts(value):
                raise InvalidKeyError(
                    f"key attribute {attribute.name!r} of table {table!r} is of type "
                    f"{attribute.type}, got {type(value).__name__} {value!r}"
                )
            if attribute.type in ("S", "B") and len(value) == 0:
                raise InvalidKeyError(
                    f"key attribute {attribute.name!r} cannot be empty: DynamoDB refuses empty keys"
                )

    def _wanted(self) -> str:
        return ", ".join(str(a) for a in self.attributes)

    @classmethod
    def from_describe(cls, key_schema: list[Any], types: Mapping[str, str]) -> KeySchema:
        by_role = {k["KeyType"]: k["AttributeName"] for k in key_schema}
        pk = by_role["HASH"]
        sk = by_role.get("RANGE")
        return cls(
            KeyAttribute(pk, types.get(pk, "S")),
            KeyAttribute(sk, types.get(sk, "S")) if sk else None,
        )


@dataclass(frozen=True)
class IndexInfo:
    """A global or local secondary index."""

    name: str
    kind: str  # "GSI" or "LSI"
    keys: KeySchema
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    projected_attributes: tuple[str, ...]
    status: str
    item_count: int | None
    size_bytes: int | None
    read_capacity: int | None = None
    write_capacity: int | None = None

    @property
    def partition_key(self) -> KeyAttribute:
        return self.keys.partition_key

    @property
    def sort_key(self) -> KeyAttribute | None:
        return self.keys.sort_key

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "partition_key": _key_dict(self.keys.partition_key),
            "sort_key": _key_dict(self.keys.sort_key),
            "projection": self.projection,
            "projected_attributes": list(self.projected_attributes),
            "status": self.status,
            "item_count": self.item_count,
            "size_bytes": self.size_bytes,
            "read_capacity": self.read_capacity,
            "write_capacity": self.write_capacity,
        }


_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}")


def check_table_name(name: Any, what: str = "table") -> str:
    """``name`` if DynamoDB accepts it as a table (or index) name, else a ValidationError.

    Checked before any request, so a name with spaces, escapes or a path in it is refused in
    one line that shows it safely, instead of reaching the service (or a log) as it is.
    """
    if isinstance(name, str) and (
        _NAME.fullmatch(name) or (what == "table" and _TABLE_ARN.fullmatch(name))
    ):
        return name
    shown = ascii(name) if isinstance(name, str) else type(name).__name__
    return _bad_name(shown, what)


def _bad_name(shown: str, what: str) -> NoReturn:
    arn = " (or a table ARN)" if what == "table" else ""
    raise ValidationError(
        f"invalid {what} name {shown}: use 3 to 255 characters of A-Z a-z 0-9 _ - .{arn}"
    )


def format_bytes(size: float) -> str:
    """``812 B``, ``3.4 KB``, ``1.2 MB``, ``5.0 GB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


@dataclass(frozen=True)
class ScanEstimate:
    """What one full scan of the table costs: 1 MB pages and eventually consistent RCUs."""

    pages: int
    read_capacity_units: int

    @classmethod
    def for_size(cls, size_bytes: int, *, consistent: bool = False) -> ScanEstimate:
        # Scan reads at most 1 MB a page; an eventually consistent read costs half an RCU per
        # 4 KB, a strongly consistent one a whole RCU.
        pages = max(1, math.ceil(size_bytes / ONE_MB))
        rcu = math.ceil(size_bytes / 4096 / (1 if consistent else 2))
        return cls(pages=pages, read_capacity_units=rcu)

    def describe(self, consistent: bool = False) -> str:
        kind = "strongly" if consistent else "eventually"
        return (
            f"~{self.read_capacity_units:,} RCU ({kind} consistent), ~{self.pages:,} pages of "
            "1 MB: every item is read (from DescribeTable's size, updated about every six hours)"
        )


@dataclass(frozen=True)
class TableInfo:
    """Everything DescribeTable and DescribeTimeToLive say about a table."""

    name: str
    status: str
    item_count: int
    size_bytes: int
    keys: KeySchema
    billing_mode: str
    read_capacity: int | None
    write_capacity: int | None
    indexes: tuple[IndexInfo, ...]
    ttl_attribute: str | None
    ttl_status: str | None
    stream_enabled: bool
    stream_view_type: str | None
    created_at: datetime | None
    deletion_protection: bool
    arn: str | None
    attribute_types: Mapping[str, str] = field(default_factory=dict)

    @property
    def partition_key(self) -> KeyAttribute:
        return self.keys.partition_key

    @property
    def sort_key(self) -> KeyAttribute | None:
        return self.keys.sort_key

    @property
    def scan_estimate(self) -> ScanEstimate:
        return ScanEstimate.for_size(self.size_bytes)

    def index(self, name: str) -> IndexInfo | None:
        return next((i for i in self.indexes if i.name == name), None)

    @classmethod
    def from_describe(
        cls, table: Mapping[str, Any], ttl: Mapping[str, Any] | None = None
    ) -> TableInfo:
        """Build from DescribeTable's ``Table`` and DescribeTimeToLive's description."""
        types = {
            a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])
        }
        billing = table.get("BillingModeSummary", {}).get("BillingMode")
        throughput = table.get("ProvisionedThroughput") or {}
        if billing is None:
            # Tables created as provisioned before billing modes existed carry no summary.
            billing = "PROVISIONED" if throughput.get("ReadCapacityUnits") else "PAY_PER_REQUEST"
        provisioned = billing == "PROVISIONED"
        stream = table.get("StreamSpecification") or {}
        ttl = ttl or {}
        ttl_status = ttl.get("TimeToLiveStatus")
        return cls(
            name=table["TableName"],
            status=table.get("TableStatus", "UNKNOWN"),
            item_count=int(table.get("ItemCount", 0)),
            size_bytes=int(table.get("TableSizeBytes", 0)),
            keys=KeySchema.from_describe(table["KeySchema"], types),
            billing_mode=billing,
            read_capacity=throughput.get("ReadCapacityUnits") if provisioned else None,
            write_capacity=throughput.get("WriteCapacityUnits") if provisioned else None,
            indexes=tuple(
                [_index(i, "GSI", types) for i in table.get("GlobalSecondaryIndexes", [])]
                + [_index(i, "LSI", types) for i in table.get("LocalSecondaryIndexes", [])]
            ),
            ttl_attribute=ttl.get("AttributeName")
            if ttl_status in ("ENABLED", "ENABLING")
            else None,
            ttl_status=ttl_status,
            stream_enabled=bool(stream.get("StreamEnabled", False)),
            stream_view_type=stream.get("StreamViewType"),
            created_at=table.get("CreationDateTime"),
            deletion_protection=bool(table.get("DeletionProtectionEnabled", False)),
            arn=table.get("TableArn"),
            attribute_types=types,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as ``ddbkit info --output json`` prints it."""
        estimate = self.scan_estimate
        return {
            "name": self.name,
            "status": self.status,
            "item_count": self.item_count,
            "size_bytes": self.size_bytes,
            "stats_note": STATS_NOTE,
            "partition_key": _key_dict(self.keys.partition_key),
            "sort_key": _key_dict(self.keys.sort_key),
            "billing_mode": self.billing_mode,
            "read_capacity": self.read_capacity,
            "write_capacity": self.write_capacity,
            "indexes": [i.to_dict() for i in self.indexes],
            "ttl_attribute": self.ttl_attribute,
            "ttl_status": self.ttl_status,
            "stream_enabled": self.stream_enabled,
            "stream_view_type": self.stream_view_type,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "deletion_protection": self.deletion_protection,
            "arn": self.arn,
            "full_scan_estimate": {
                "pages": estimate.pages,
                "read_capacity_units": estimate.read_capacity_units,
            },
        }


def _key_dict(key: KeyAttribute | None) -> dict[str, str] | None:
    return None if key is None else {"name": key.name, "type": key.type}


def _index(raw: Mapping[str, Any], kind: str, types: Mapping[str, str]) -> IndexInfo:
    projection = raw.get("Projection", {})
    throughput = raw.get("ProvisionedThroughput") or {}
    return IndexInfo(
        name=raw["IndexName"],
        kind=kind,
        keys=KeySchema.from_describe(raw["KeySchema"], types),
        projection=projection.get("ProjectionType", "ALL"),
        projected_attributes=tuple(projection.get("NonKeyAttributes", [])),
        # LSIs have no status of their own: they live and die with the table.
        status=raw.get("IndexStatus", "ACTIVE"),
        item_count=raw.get("ItemCount"),
        size_bytes=raw.get("IndexSizeBytes"),
        read_capacity=throughput.get("ReadCapacityUnits") or None,
        write_capacity=throughput.get("WriteCapacityUnits") or None,
    )
