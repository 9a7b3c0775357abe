"""The size DynamoDB counts for an item, to refuse items over 400 KB before they are sent.

An item's size is the sum, over its attributes, of the name's UTF-8 length and the value's size:

- S: its UTF-8 length; B: its raw byte length (not the base64 text's);
- N: 1 byte, plus 1 per pair of base-100 digits (digits paired from the decimal point, leading
  and trailing zero pairs dropped), plus 1 if negative; ``0`` is 1 byte, ``7`` 2, ``123`` 3
  (01|23), ``1.1`` 3 (01.10), ``100`` 2 (01|00), 38 nines 20;
- BOOL, NULL: 1;
- L, M: 3, plus 1 per element, plus the elements (a map's keys count like attribute names);
- SS, NS, BS: the sum of the members' sizes.

These are AWS's published rules (CapacityUnitCalculations), with the number rule made exact. Every
rule was measured on DynamoDB Local by finding, for each kind of value, the largest filler string
PutItem still accepts next to it: there ``item_size`` is exact, and an item is refused exactly
when ``item_size(item) > MAX_ITEM_SIZE`` (409,600 bytes). AWS documents the number size only as
"approximately" one byte per two significant digits plus one; the pairing rule can count at most
one byte per number more than that reading, so an item within a few bytes of the limit that is
full of numbers is the only place the real service could disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ddbkit.errors import InvalidValueError

__all__ = ["MAX_ITEM_SIZE", "attribute_size", "item_size", "number_size"]

MAX_ITEM_SIZE: Final = 400 * 1024
"""The largest item DynamoDB stores, in bytes (counted by :func:`item_size`)."""


def item_size(item: Mapping[str, Any]) -> int:
    """The bytes DynamoDB counts for a typed item.

    Takes the botocore shape (B as bytes, as ``serialize.to_item`` makes it) or raw wire JSON
    (B as base64 text, as scan pages and DynamoDB JSON files hold it).
    """
    size = 0
    for name, value in item.items():
        size += (len(name) if name.isascii() else len(name.encode("utf-8", "surrogatepass"))) + (
            attribute_size(value)
        )
    return size


def attribute_size(value: Mapping[str, Any]) -> int:
    """The bytes DynamoDB counts for one typed value (without its attribute name)."""
    try:
        ((tag, raw),) = value.items()
    except (AttributeError, ValueError, TypeError):
        raise InvalidValueError(
            f"not a DynamoDB attribute value (one type key such as S or N): {_short(value)}"
        ) from None
    if tag == "S":
        return _text_size(raw)
    if tag == "N":
        return number_size(raw)
    if tag == "M":
        size = 3
        for key, member in raw.items():
            size += 1 + _text_size(key) + attribute_size(member)
        return size
    if tag == "L":
        size = 3
        for member in raw:
            size += 1 + attribute_size(member)
        return size
    if tag == "BOOL" or tag == "NULL":
        return 1
    if tag == "B":
        return _binary_size(raw)
    if tag == "SS":
        return sum(_text_size(member) for member in raw)
    if tag == "NS":
        return sum(number_size(member) for member in raw)
    if tag == "BS":
        return sum(_binary_size(member) for member in raw)
    raise InvalidValueError(f"unknown DynamoDB type {_short(tag)}")


def number_size(text: str) -> int:
    """The bytes DynamoDB counts for one number given as its N text."""
    # Fast path: a plain non-negative integer such as "42" or "1700000000".
    if text.isdigit() and text.isascii() and text[0] != "0":
        trailing = len(text) - len(text.rstrip("0"))
        return 2 + (len(text) - 1) // 2 - trailing // 2
    negative = text[:1] == "-"
    whole, dot, fraction = (text[1:] if negative else text).partition(".")
    if (
        text.isascii()
        and (whole.isdigit() or (not whole and fraction))
        and (fraction.isdigit() or (not fraction and not dot))
    ):  # plain decimal text such as "-12.5", the form DynamoDB returns
        whole = whole.lstrip("0")
        fraction = fraction.rstrip("0")
        if whole:
            highest = len(whole) - 1  # power of ten of the first significant digit
        elif fraction:
            highest = -(len(fraction) - len(fraction.lstrip("0"))) - 1
        else:
            return 1  # zero
        lowest = -len(fraction) if fraction else len(whole) - len(whole.rstrip("0"))
        return _number_bytes(highest, lowest, negative)
    return _number_size_slow(text)


def _number_size_slow(text: str) -> int:
    """Any number text Decimal reads (exponents, signs), e.g. from a hand-written file."""
    try:
        sign, digits, exponent = Decimal(text).as_tuple()
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidValueError(f"not DynamoDB number text: {_short(text)}") from None
    if not isinstance(exponent, int):
        raise InvalidValueError(f"not a finite number: {_short(text)}")
    count = len(digits)
    while count and digits[count - 1] == 0:  # trailing zeros raise the exponent instead
        count -= 1
        exponent += 1
    start = 0
    while start < count and digits[start] == 0:
        start += 1
    if start == count:
        return 1  # zero
    return _number_bytes(exponent + (count - start) - 1, exponent, bool(sign))


def _number_bytes(highest: int, lowest: int, negative: bool) -> int:
    """1 byte of exponent, 1 per base-100 digit pair spanned, 1 more if negative.

    ``highest``/``lowest``: the powers of ten of the first and last significant digits.
    """
    return 2 + highest // 2 - lowest // 2 + (1 if negative else 0)


def _text_size(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _binary_size(raw: Any) -> int:
    if isinstance(raw, str):  # base64 text: the decoded length, without decoding
        length = len(raw)
        if raw.endswith("=="):
            padding = 2
        elif raw.endswith("="):
            padding = 1
        else:
            padding = 0
        return length * 3 // 4 - padding
    return len(raw)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:45]}...{text[-10:]}"
