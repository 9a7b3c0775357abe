"""Checks that a table or an exported file holds exactly the source items, each equal to its source.

Numbers compare by value (DynamoDB stores ``12.30`` as ``12.3``). A jsonl file or a table imported
from one holds the plain-JSON form of an item (sets as sorted lists, bytes as base64 text), so those
compare against :func:`bench.data.plain` of the source.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import orjson

from bench.data import Item, from_wire, key_of, plain

MAX_SHOWN = 3


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str


def compare(expected: Iterable[Item], got: Iterable[Item], *, as_plain: bool = False) -> Check:
    """Exactly the expected keys, once each, and every item equal to its source."""
    seen: dict[tuple[str, int], Item] = {}
    duplicates = 0
    for item in got:
        key = key_of(item)
        if key in seen:
            duplicates += 1
        seen[key] = item
    total = 0
    missing: list[tuple[str, int]] = []
    different: list[tuple[str, int]] = []
    for source in expected:
        total += 1
        key = key_of(source)
        found = seen.pop(key, None)
        if found is None:
            missing.append(key)
        elif found != (plain(source) if as_plain else source):
            different.append(key)
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[:MAX_SHOWN]})")
    if seen:
        problems.append(f"{len(seen)} unexpected (e.g. {list(seen)[:MAX_SHOWN]})")
    if duplicates:
        problems.append(f"{duplicates} duplicates")
    if different:
        problems.append(f"{len(different)} differ from their source (e.g. {different[:MAX_SHOWN]})")
    if problems:
        return Check(False, "; ".join(problems))
    return Check(True, f"all {total} items present once and equal to their source")


def _unwrap(document: object) -> Item:
    # DynamoDB's export format wraps each item as {"Item": {...}}; a bare typed item is accepted.
    if isinstance(document, dict) and set(document) == {"Item"}:
        document = document["Item"]
    if not isinstance(document, dict):
        raise ValueError("a ddb-json line is not an object")
    return from_wire(document)


def _plain_line(line: bytes) -> Item:
    document = json.loads(line, parse_float=Decimal)  # exact numbers, never through a float
    if not isinstance(document, dict):
        raise ValueError("a jsonl line is not an object")
    return document


def read_export(path: Path, format: str) -> Iterator[Item]:
    """The items of a file ddbkit exported, as Python values."""
    parse: Callable[[bytes], Item] = (
        (lambda line: _unwrap(orjson.loads(line))) if format == "ddb-json" else _plain_line
    )
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield parse(line)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())
