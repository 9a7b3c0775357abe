"""The benchmark's data set: deterministic items of mixed sizes, their wire form, and files.

Item ``i`` of seed ``s`` is always the same item, so a run can regenerate its source to compare
with what DynamoDB or an exported file holds. About 70% of items are small (~200 B of scalars),
25% medium (~1 KB: nested map, list of maps, string set, number set, binary) and 5% large
(~8 KB of text). The key is ``pk`` (S, ~1000 partitions) + ``sk`` (N, the item's index).

The wire converters here are deliberately minimal hand-written functions (no validation): they are
the "raw + Python values" limit's decoder and the loader's encoder, independent of ddbkit and boto3.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

Item = dict[str, Any]
Wire = dict[str, Any]

PARTITIONS = 1000
DEFAULT_SEED = 20240611

_WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "table",
    "scan",
    "item",
    "partition",
    "segment",
    "query",
    "index",
    "stream",
    "export",
    "import",
    "batch",
    "write",
    "read",
    "capacity",
    "unit",
    "latency",
    "throughput",
    "durable",
    "replica",
    "region",
    "global",
    "secondary",
    "local",
    "attribute",
    "projection",
)
_CITIES = ("Lisbon", "Oslo", "Quito", "Nairobi", "Osaka", "Tbilisi", "Lima", "Perth", "Ghent")
_THEMES = ("dark", "light", "solarized", "high-contrast")


def _text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:chars]


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(0, 10_000_000)).scaleb(-2)


def _small(rng: random.Random, i: int, kind: str) -> Item:
    item: Item = {
        "pk": f"user#{rng.randrange(PARTITIONS):04d}",
        "sk": i,
        "kind": kind,
        "name": f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}",
        "email": f"u{i}@{rng.choice(_WORDS)}.example.com",
        "count": rng.randrange(-1_000_000, 1_000_000),
        "price": _money(rng),
        "active": rng.random() < 0.5,
        "created": f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T12:00:00Z",
    }
    if rng.random() < 0.2:
        item["note"] = None
    return item


def make_item(rng: random.Random, i: int) -> Item:
    """Item number ``i``, drawn from ``rng`` (which must be in the state item ``i - 1`` left)."""
    roll = rng.random()
    if roll < 0.70:
        return _small(rng, i, "small")
    if roll < 0.95:
        item = _small(rng, i, "medium")
        item["profile"] = {
            "address": {
                "street": f"{rng.randrange(1, 999)} {rng.choice(_WORDS).title()} Street",
                "city": rng.choice(_CITIES),
                "zip": f"{rng.randrange(10000, 99999)}",
            },
            "prefs": {"theme": rng.choice(_THEMES), "notify": rng.random() < 0.5, "limit": None},
            "scores": [rng.randrange(0, 100) for _ in range(rng.randrange(3, 8))],
        }
        item["history"] = [
            {"at": f"2024-01-{d + 1:02d}", "amount": _money(rng), "ok": rng.random() < 0.9}
            for d in range(rng.randrange(2, 5))
        ]
        item["tags"] = {rng.choice(_WORDS) for _ in range(rng.randrange(2, 7))}
        item["lucky"] = {rng.randrange(1, 1000) for _ in range(rng.randrange(2, 6))}
        item["ratios"] = {Decimal(rng.randrange(1, 999)).scaleb(-3) for _ in range(2)}
        item["blob"] = rng.randbytes(rng.randrange(16, 64))
        item["bio"] = _text(rng, rng.randrange(250, 400))
        return item
    item = _small(rng, i, "large")
    item["body"] = _text(rng, rng.randrange(7000, 9000))
    item["pages"] = [rng.randrange(1, 500) for _ in range(5)]
    return item


def generate(n: int, seed: int = DEFAULT_SEED) -> Iterator[Item]:
    """Items 0..n-1 of ``seed``, in order, one at a time (1M items never sit in memory)."""
    rng = random.Random(seed)
    for i in range(n):
        yield make_item(rng, i)


def key_of(item: Item) -> tuple[str, int]:
    return item["pk"], item["sk"]


# ---------------------------------------------------------------------------------------------
# Minimal wire converters


def to_wire_value(value: Any) -> Wire:
    """Python value -> DynamoDB attribute value (trusted input; no validation)."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {k: to_wire_value(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [to_wire_value(v) for v in value]}
    if isinstance(value, bytes):
        return {"B": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        first = next(iter(value))
        if isinstance(first, str):
            return {"SS": list(value)}
        if isinstance(first, bytes):
            return {"BS": [base64.b64encode(v).decode("ascii") for v in value]}
        return {"NS": [str(v) for v in value]}
    raise TypeError(f"no wire form for {type(value).__name__}")


def to_wire(item: Item) -> Wire:
    return {k: to_wire_value(v) for k, v in item.items()}


def _number(text: str) -> int | Decimal:
    if "." in text or "e" in text or "E" in text:
        return Decimal(text)
    return int(text)


def from_wire_value(av: Wire) -> Any:
    """DynamoDB attribute value -> Python value: the minimal converter of the raw limit."""
    for tag, raw in av.items():
        if tag == "S":
            return raw
        if tag == "N":
            return _number(raw)
        if tag == "M":
            return {k: from_wire_value(v) for k, v in raw.items()}
        if tag == "L":
            return [from_wire_value(v) for v in raw]
        if tag == "BOOL":
            return raw
        if tag == "NULL":
            return None
        if tag == "B":
            return base64.b64decode(raw)
        if tag == "SS":
            return set(raw)
        if tag == "NS":
            return {_number(v) for v in raw}
        if tag == "BS":
            return {base64.b64decode(v) for v in raw}
        raise ValueError(f"unknown attribute type {tag!r}")
    raise ValueError("empty attribute value")


def from_wire(item: Wire) -> Item:
    return {k: from_wire_value(v) for k, v in item.items()}


# ---------------------------------------------------------------------------------------------
# The plain-JSON form (what a jsonl file can hold: sets as sorted lists, bytes as base64 text)


def plain_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [plain_value(v) for v in sorted(value)]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def plain(item: Item) -> Item:
    return {k: plain_value(v) for k, v in item.items()}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))  # exact, never through a float
    raise TypeError(type(value).__name__)


def dumps_plain(item: Item) -> bytes:
    return orjson.dumps(plain(item), default=_json_default)


def dumps_ddb_json(item: Item) -> bytes:
    """One line of DynamoDB's own export format: ``{"Item": {"pk": {"S": ...}, ...}}``."""
    return orjson.dumps({"Item": to_wire(item)})


def write_files(
    items: Iterable[Item], ddb_json_path: Path, jsonl_path: Path
) -> tuple[int, int, int]:
    """Write both import files; return (items, ddb-json bytes, jsonl bytes)."""
    count = 0
    with ddb_json_path.open("wb") as typed, jsonl_path.open("wb") as plain_file:
        for item in items:
            typed.write(dumps_ddb_json(item) + b"\n")
            plain_file.write(dumps_plain(item) + b"\n")
            count += 1
    return count, ddb_json_path.stat().st_size, jsonl_path.stat().st_size
