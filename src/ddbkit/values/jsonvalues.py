"""JSON text for Python values, exact in both directions (the CLI's input and output).

Plain JSON (``dumps_plain``/``loads_exact``) never passes a number through a binary float:
``Decimal`` prints verbatim (``1E+100``, ``0.1``, 38 digits), a float prints as its ``repr``, and
reading gives ``int`` for integral numbers and ``Decimal`` otherwise. Sets print as sorted lists and
bytes as base64 text, so plain JSON is for people and tools, not a lossless store of every type.

Typed JSON (``dumps_typed``/``loads_typed``) is DynamoDB JSON as the AWS CLI prints it
(``{"S": "x"}``, ``{"N": "1"}``, ``{"B": "<base64>"}``), built and read by values/serialize.py
so there is one converter. It keeps every type.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.values.serialize import (
    SURROGATE,
    from_attribute,
    from_item,
    parse_number,
    to_attribute,
    to_item,
)

__all__ = [
    "CHANGED_ITEMS",
    "decode_reply",
    "dumps_plain",
    "dumps_typed",
    "loads_document",
    "loads_exact",
    "loads_typed",
]

log = logging.getLogger("ddbkit")

_TAGS_NOT_MAP = frozenset(("S", "N", "B", "BOOL", "NULL", "L", "SS", "NS", "BS"))
_ALL_TAGS = _TAGS_NOT_MAP | {"M"}
_REPLACEMENT = "\ufffd"
_ITEM_INDEX = re.compile(r"Items\[(\d+)\]")
CHANGED_ITEMS = "ddbkit.changed_items"
"""In a decoded reply: the positions in ``Items`` of items whose strings had to be changed."""
_INT_MIN = -(2**63)  # orjson writes integers in this range itself
_INT_MAX = 2**64 - 1


# ---------------------------------------------------------------------------------------------
# Writing


def dumps_plain(value: Any, *, indent: bool = False) -> str:
    """Python values -> JSON text with exact numbers, sets as sorted lists, bytes as base64.

    Dict key order is kept. NaN and Infinity are refused (JSON has no such numbers).
    """
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        return orjson.dumps(_exact_numbers(value), default=_plain_default, option=option).decode()
    except orjson.JSONEncodeError as error:
        raise _encode_error(error) from None


def dumps_typed(item_or_value: Any, *, indent: bool = False) -> str:
    """Python value -> DynamoDB JSON; a mapping is an item (attribute name -> typed value)."""
    if isinstance(item_or_value, Mapping):
        typed: Any = to_item(item_or_value)
    else:
        typed = to_attribute(item_or_value)
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(typed, default=_typed_default, option=option).decode()


def _exact_numbers(value: Any) -> Any:
    """Return ``value`` itself if orjson writes it exactly, else a copy with numbers as text.

    orjson writes floats by its own rules (``1e16``, NaN as ``null``) and refuses integers beyond
    64 bits; these become their ``repr``/digits as JSON fragments, and NaN is refused. Values read
    from DynamoDB hold no floats and rarely such integers, so the common case only looks.
    """
    return _rewrite_numbers(value) if _needs_rewrite(value) else value


def _needs_rewrite(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        members: Any = value.values()
    elif kind is list or kind is tuple:
        members = value
    elif kind is int:
        return not _INT_MIN <= value <= _INT_MAX
    else:
        return kind is float
    for member in members:
        kind = type(member)
        if kind is str:
            continue
        if kind is int:
            if _INT_MIN <= member <= _INT_MAX:
                continue
            return True
        if kind is float:
            return True
        if (kind is dict or kind is list or kind is tuple) and _needs_rewrite(member):
            return True
    return False


def _rewrite_numbers(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return _float_fragment(value)
    if kind is int:
        if _INT_MIN <= value <= _INT_MAX:
            return value
        return orjson.Fragment(Decimal.__str__(Decimal(value)))  # str(int) stops at 4300 digits
    if kind is dict:
        return {key: _rewrite_numbers(member) for key, member in value.items()}
    if kind is list or kind is tuple:
        return [_rewrite_numbers(member) for member in value]
    return value


def _float_fragment(value: float) -> orjson.Fragment:
    text = float.__repr__(value)
    if text in ("nan", "inf", "-inf"):
        what = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[text]
        raise InvalidValueError(f"{what} cannot be written as JSON; use null or a string")
    return orjson.Fragment(text)


def _plain_default(value: Any) -> Any:
    """orjson calls this for every type it does not write itself."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValueError(f"{value} cannot be written as JSON; use null or a string")
        return orjson.Fragment(Decimal.__str__(value))  # always valid JSON once finite
    if isinstance(value, (set, frozenset)):
        return _exact_numbers(_sorted_members(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float):  # a float subclass
        return _float_fragment(float(value))
    if isinstance(value, Mapping):
        return _exact_numbers(dict(value))
    raise InvalidValueError(
        f"values of type {type(value).__name__} cannot be written as JSON; convert it first"
    )


def _sorted_members(members: set[Any] | frozenset[Any]) -> list[Any]:
    """Numbers numerically, strings by code point, bytes bytewise; any other mix stays stable."""
    try:
        return sorted(members)
    except TypeError:
        return sorted(members, key=lambda member: (type(member).__name__, repr(member)))


def _typed_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)  # pragma: no cover - to_attribute makes only bytes


def _encode_error(error: orjson.JSONEncodeError) -> ValidationError:
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        return cause
    reason = str(error)
    if reason == "Dict key must be str":
        reason = "map keys must be strings to be written as JSON; convert them with str() first"
    return InvalidValueError(f"cannot write this value as JSON: {reason}")


# ---------------------------------------------------------------------------------------------
# Reading


class _NonFiniteConstant(Exception):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteConstant(name)


# ``parse_float`` sees every number with a fraction or exponent: integral ones become int.
_DECODER = json.JSONDecoder(parse_float=parse_number, parse_constant=_refuse_constant)
# Only for the rare text holding an integer of more than 4300 digits (int() refuses those).
_LONG_INT_DECODER = json.JSONDecoder(
    parse_float=parse_number, parse_int=parse_number, parse_constant=_refuse_constant
)


def loads_exact(text: str) -> Any:
    """JSON text -> Python values: ints as int, other numbers as Decimal, never float.

    Raises ``ValidationError("invalid JSON: <reason> at line L column C")``.
    """
    try:
        try:
            return _DECODER.decode(text)
        except json.JSONDecodeError:
            raise
        except ValueError:  # int() refused an integer of more than 4300 digits
            return _LONG_INT_DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise _decode_error(error) from None
    except _NonFiniteConstant as constant:
        reason = f"{constant} is not a JSON number (use null or a string)"
        raise _located_error(text, reason) from None
    except RecursionError:
        raise _located_error(text, "nested too deeply") from None


def loads_typed(text: str) -> Any:
    """DynamoDB JSON -> Python values (B and BS members as base64 text, as the AWS CLI prints).

    An object whose only key is a type tag is one typed value (``{"N": "1"}`` -> 1), except
    ``{"M": X}`` where ``X`` is itself a typed value: that is an item with an attribute named
    ``M``, as ``dumps_typed`` writes it. Any other object is an item (name -> typed value); an
    array is a list of such documents.
    """
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise _decode_error(error) from None
    try:
        return _typed_document(document)
    except RecursionError:
        raise ValidationError("invalid DynamoDB JSON: nested too deeply") from None


def _typed_document(document: Any) -> Any:
    if isinstance(document, dict):
        if len(document) == 1:
            ((tag, raw),) = document.items()
            if (tag in _TAGS_NOT_MAP and not isinstance(raw, dict)) or (
                tag == "M" and isinstance(raw, dict) and not _is_typed_value(raw)
            ):
                return from_attribute(document)
        return from_item(document)
    if isinstance(document, list):
        return [_typed_document(entry) for entry in document]
    raise ValidationError(
        'invalid DynamoDB JSON: expected an object such as {"S": "text"} or an item '
        f'{{"name": {{"S": "text"}}}}, not {type(document).__name__}'
    )


def _is_typed_value(raw: dict[str, Any]) -> bool:
    return len(raw) == 1 and next(iter(raw)) in _ALL_TAGS


def _decode_error(error: json.JSONDecodeError) -> ValidationError:
    reason = error.msg.replace("\n", " ")
    return ValidationError(f"invalid JSON: {reason} at line {error.lineno} column {error.colno}")


def _located_error(text: str, reason: str) -> ValidationError:
    """Name the place of a fault the stdlib parser reports without one (NaN, deep nesting).

    orjson refuses the same texts and says where.
    """
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return ValidationError(
            f"invalid JSON: {reason} at line {error.lineno} column {error.colno}"
        )
    return ValidationError(f"invalid JSON: {reason}")  # pragma: no cover - orjson refuses too


# ---------------------------------------------------------------------------------------------
# Replies


def loads_document(data: bytes | str) -> Any:
    """JSON bytes or text -> Python objects (numbers as orjson reads them), fast with orjson.

    Text orjson refuses only because it holds lone UTF-16 surrogates (``"\\ud800"``, valid JSON
    syntax but not valid Unicode) is read by the stdlib instead, surrogates kept, so the caller
    can say which attribute holds one. Raises ``ValueError`` for text that is not JSON at all.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        text = data.decode("utf-8", "surrogatepass") if isinstance(data, bytes) else data
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise error from None


def decode_reply(body: bytes, table: str | None = None) -> dict[str, Any]:
    """A DynamoDB reply's JSON bytes -> its document, in raw wire form (B as base64 text).

    An item written by another tool may hold a string that is not valid Unicode (a lone UTF-16
    surrogate such as ``\\ud800``, which DynamoDB Local stores). Such strings are read with
    U+FFFD in place of each surrogate, and a warning on the ``ddbkit`` logger names the
    attributes, so one bad item neither stops a scan nor an export. The positions of the items
    changed so are listed under :data:`CHANGED_ITEMS` (a key changed so no longer addresses its
    item). ``LastEvaluatedKey`` is left exactly as sent: the next page starts from it.
    """
    try:
        document = orjson.loads(body)  # the common case: orjson reads only valid Unicode
    except orjson.JSONDecodeError:
        try:
            document = _clean(loads_document(body), table)
        except ValueError as error:
            raise ValidationError(
                f"DynamoDB replied with a body that is not JSON: {error}"
            ) from None
    if not isinstance(document, dict):
        raise ValidationError(f"DynamoDB replied with JSON that is not an object: {body[:60]!r}")
    return document


def _clean(document: Any, table: str | None) -> Any:
    if not isinstance(document, dict):
        return document
    found: list[str] = []
    cleaned = {
        name: value if name == "LastEvaluatedKey" else _replace_surrogates(value, name, found)
        for name, value in document.items()
    }
    changed = sorted({int(m.group(1)) for m in map(_ITEM_INDEX.match, found) if m})
    if changed:
        cleaned[CHANGED_ITEMS] = changed
    if found:
        shown = ", ".join(sorted(set(found))[:5])
        where = f" of table {table!r}" if table else ""
        log.warning(
            "%d string(s) in a page%s are not valid Unicode (lone UTF-16 surrogates, at %s): "
            "read with U+FFFD in their place; rewrite those items to fix them",
            len(found),
            where,
            shown,
        )
    return cleaned


def _replace_surrogates(value: Any, path: str, found: list[str]) -> Any:
    if isinstance(value, str):
        if value.isascii():
            return value
        # json joins valid surrogate pairs into one character, so any surrogate left is lone.
        fixed = SURROGATE.sub(_REPLACEMENT, value)
        if fixed != value:
            found.append(path or "(a value)")
        return fixed
    if isinstance(value, list):
        return [
            _replace_surrogates(member, f"{path}[{n}]", found) for n, member in enumerate(value)
        ]
    if isinstance(value, dict):
        out = {}
        for key, member in value.items():
            # Type tags (S, M, L ...) are not part of an attribute's path as users write it.
            step = path if key in _ALL_TAGS else (f"{path}.{key}" if path else key)
            out[_replace_surrogates(key, path, found)] = _replace_surrogates(member, step, found)
        return out
    return value
