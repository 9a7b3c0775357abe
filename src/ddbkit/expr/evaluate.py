"""A where-condition evaluated here, on one item, as DynamoDB would evaluate it.

For changes read from a stream (``watch --where``), which DynamoDB cannot filter. The item is in
wire form (``{"age": {"N": "30"}}``) and the condition's values are put in wire form too, so
types decide as in DynamoDB: a number never equals a string, ``<`` compares numbers by value,
strings by their UTF-8 bytes and binaries by their bytes, and a comparison with a missing
attribute (or of two different types) is false, which ``NOT`` turns true; ``<>`` (not equal) is
then true.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ddbkit.expr.expressions import (
    And,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Contains,
    Exists,
    In,
    Not,
    NotExists,
    Operand,
    Or,
    Path,
    Size,
    Value,
)
from ddbkit.values.serialize import to_attribute

Wire = Mapping[str, Any]


def matches(condition: Condition, item: Mapping[str, Wire]) -> bool:
    """Whether ``condition`` holds for ``item`` (attribute name -> DynamoDB attribute value)."""
    if isinstance(condition, And):
        return all(matches(part, item) for part in condition.items)
    if isinstance(condition, Or):
        return any(matches(part, item) for part in condition.items)
    if isinstance(condition, Not):
        return not matches(condition.item, item)
    if isinstance(condition, Exists):
        return _resolve(condition.path, item) is not None
    if isinstance(condition, NotExists):
        return _resolve(condition.path, item) is None
    if isinstance(condition, AttributeType):
        found = _resolve(condition.path, item)
        return found is not None and _tag(found) == condition.type_name
    if isinstance(condition, Compare):
        return _compare(
            condition.op, _operand(condition.left, item), _operand(condition.right, item)
        )
    if isinstance(condition, Between):
        subject = _operand(condition.subject, item)
        return _compare(">=", subject, _operand(condition.low, item)) and _compare(
            "<=", subject, _operand(condition.high, item)
        )
    if isinstance(condition, In):
        subject = _operand(condition.subject, item)
        return any(_compare("=", subject, _operand(o, item)) for o in condition.options)
    if isinstance(condition, BeginsWith):
        return _begins_with(_resolve(condition.path, item), _operand(condition.prefix, item))
    if isinstance(condition, Contains):
        return _contains(_resolve(condition.path, item), _operand(condition.operand, item))
    raise TypeError(f"not a condition: {condition!r}")  # pragma: no cover


def _resolve(path: Path, item: Mapping[str, Wire]) -> Wire | None:
    first, *rest = path.parts
    current = item.get(str(first))
    for part in rest:
        if current is None:
            return None
        tag = _tag(current)
        if isinstance(part, str):
            current = current["M"].get(part) if tag == "M" else None
        elif tag == "L" and part < len(current["L"]):
            current = current["L"][part]
        else:
            return None
    return current


def _operand(operand: Operand, item: Mapping[str, Wire]) -> Wire | None:
    if isinstance(operand, Value):
        return to_attribute(operand.value)
    if isinstance(operand, Size):
        found = _resolve(operand.path, item)
        return None if found is None else _size(found)
    return _resolve(operand, item)


def _tag(av: Wire) -> str:
    return next(iter(av))


def _size(av: Wire) -> Wire | None:
    tag = _tag(av)
    raw = av[tag]
    if tag == "S":
        return {"N": str(len(raw.encode("utf-8", "surrogatepass")))}
    if tag == "B":
        return {"N": str(len(_bytes(raw)))}
    if tag in ("SS", "NS", "BS", "L", "M"):
        return {"N": str(len(raw))}
    return None  # numbers, booleans and nulls have no size: the comparison is false


def _bytes(raw: Any) -> bytes:
    return bytes(raw) if isinstance(raw, (bytes, bytearray)) else base64.b64decode(raw)


def _plain(av: Wire) -> Any:
    """A comparable form of an attribute value: numbers by value, sets as sets, B as bytes."""
    tag = _tag(av)
    raw = av[tag]
    if tag == "N":
        return Decimal(raw)
    if tag == "S":
        return raw.encode("utf-8", "surrogatepass")  # DynamoDB orders strings by UTF-8 bytes
    if tag == "B":
        return _bytes(raw)
    if tag in ("SS", "NS", "BS"):
        return frozenset(_plain({tag[0]: member}) for member in raw)
    if tag == "L":
        return tuple((_tag(v), _plain(v)) for v in raw)
    if tag == "M":
        return frozenset((k, _tag(v), _plain(v)) for k, v in raw.items())
    return raw  # BOOL, NULL


def _compare(op: str, left: Wire | None, right: Wire | None) -> bool:
    if op == "<>":  # "not equal": true for a missing attribute or another type, as DynamoDB says
        return not _compare("=", left, right)
    if left is None or right is None or _tag(left) != _tag(right):
        return False
    a, b = _plain(left), _plain(right)
    if op == "=":
        return bool(a == b)
    if op == "<>":
        return bool(a != b)
    if _tag(left) not in ("N", "S", "B"):
        return False  # only numbers, strings and binaries have an order
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _begins_with(found: Wire | None, prefix: Wire | None) -> bool:
    if found is None or prefix is None or _tag(found) != _tag(prefix):
        return False
    if _tag(found) not in ("S", "B"):
        return False
    return bool(_plain(found).startswith(_plain(prefix)))


def _contains(found: Wire | None, operand: Wire | None) -> bool:
    if found is None or operand is None:
        return False
    tag, other = _tag(found), _tag(operand)
    if tag in ("S", "B") and other == tag:
        return _plain(operand) in _plain(found)
    if tag in ("SS", "NS", "BS") and other == tag[0]:
        return _plain(operand) in _plain(found)
    if tag == "L":
        wanted = (other, _plain(operand))
        return wanted in _plain(found)
    return False
