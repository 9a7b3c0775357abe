"""Put the DynamoDB types back into an item that a person edited as plain JSON.

Plain JSON (:func:`~ddbkit.values.jsonvalues.dumps_plain`) shows a set as a sorted list, bytes
as base64 text and a number as its exact digits; reading the edited text back
(:func:`~ddbkit.values.jsonvalues.loads_exact`) gives lists, text and int/Decimal. Stored as it
is, that item would turn every set into a list and every binary into a string. :func:`retype`
keeps the type of every value the person did not touch, and of sets and binaries they edited.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.values.jsonvalues import dumps_plain

__all__ = ["retype"]

_TO_CHANGE_TYPE = "edit it in the DynamoDB JSON view to change its type"


def retype(original: Mapping[str, Any], edited: Any) -> dict[str, Any]:
    """The item to store after ``original`` was edited as plain JSON into ``edited``.

    A value whose plain JSON is unchanged is the original value itself (bytes, sets and a
    Decimal's digits such as ``1.50`` kept). A set edited as a list stays a set of the same kind
    (binary members decoded from base64); a binary edited as text is decoded from base64 (strictly).
    Maps are merged key by key and lists position by position; anything else, new attributes
    and values of another JSON type included, is the edited value as it is. Attributes missing
    from ``edited`` are left out.

    Raises :class:`~ddbkit.errors.InvalidValueError` (a ValidationError) naming the attribute
    path when a set or binary cannot keep its type, or a set became empty.
    """
    if not isinstance(edited, Mapping):
        raise ValidationError(
            f"an item is a JSON object of attribute names to values, not {_kind(edited)}"
        )
    return {name: _merge(original.get(name), value, name) for name, value in edited.items()}


def _merge(original: Any, edited: Any, path: str) -> Any:
    # A name the original lacks arrives here as None, which is not a container: kept as edited.
    if original is not None and dumps_plain(original) == dumps_plain(edited):
        return original
    if isinstance(original, (set, frozenset)) and isinstance(edited, list):
        return _as_set(original, edited, path)
    if isinstance(original, (bytes, bytearray)) and isinstance(edited, str):
        return _base64(edited, path, "a binary value")
    if isinstance(original, Mapping) and isinstance(edited, Mapping):
        return {
            name: _merge(original.get(name), value, f"{path}.{name}")
            for name, value in edited.items()
        }
    if isinstance(original, list) and isinstance(edited, list):
        return [
            _merge(original[i], value, f"{path}[{i}]") if i < len(original) else value
            for i, value in enumerate(edited)
        ]
    return edited


def _as_set(original: set[Any] | frozenset[Any], edited: list[Any], path: str) -> Any:
    kind = _set_kind(original)
    if kind is None:  # an empty set (never read from DynamoDB): no kind to keep
        return edited
    if not edited:
        raise InvalidValueError(
            f"a {kind} set cannot be empty in DynamoDB: remove the attribute instead", path=path
        )
    members: list[Any] = []
    for member in edited:
        if kind == "binary":
            if not isinstance(member, str):
                _refuse_member(kind, member, path)
            members.append(_base64(member, path, "a binary set's member"))
        elif (kind == "string" and isinstance(member, str)) or (
            kind == "number" and _is_number(member)
        ):
            members.append(member)
        else:
            _refuse_member(kind, member, path)
    return type(original)(members)  # duplicates collapse, as DynamoDB's sets do


def _set_kind(members: set[Any] | frozenset[Any]) -> str | None:
    for member in members:  # one look is enough: DynamoDB sets hold one kind
        if isinstance(member, str):
            return "string"
        if isinstance(member, (bytes, bytearray)):
            return "binary"
        return "number"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


def _refuse_member(kind: str, member: Any, path: str) -> None:
    raise InvalidValueError(
        f"a {kind} set cannot hold {_shown(dumps_plain(member))} ({_kind(member)}); "
        + _TO_CHANGE_TYPE,
        path=path,
    )


def _base64(text: str, path: str, what: str) -> bytes:
    try:
        # validate=True: a stray character is an error, not silently skipped.
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValueError(
            f"{what} is base64 text, and {_shown(repr(text))} is not; {_TO_CHANGE_TYPE}",
            path=path,
        ) from None


def _shown(text: str) -> str:
    # The message stays one short line whatever the person typed.
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
