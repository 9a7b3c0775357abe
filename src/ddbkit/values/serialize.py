"""Python values <-> DynamoDB attribute values: the one converter every layer uses.

Writing (``to_attribute``/``to_item``) maps ``str`` -> S, ``int``/``float``/``Decimal`` -> N,
``bytes``/``bytearray``/``memoryview`` -> B, ``bool`` -> BOOL, ``None`` -> NULL, ``list``/``tuple``
-> L, ``dict`` (str keys) -> M and non-empty ``set``/``frozenset`` of strings, numbers or bytes ->
SS/NS/BS. It accepts what DynamoDB accepts and refuses what it refuses, before a request is sent,
with an ``InvalidValueError`` naming the attribute path (``a.b[2]``) and the fix. The limits below
were checked against DynamoDB Local:

- a number has at most 38 significant digits; leading and trailing zeros do not count
  (``10**40`` is one digit, ``1.1000`` is two);
- a non-zero number's magnitude lies in 1E-130 .. 9.9999999999999999999999999999999999999E+125,
  i.e. its adjusted exponent is in -130 .. 125; zero is always fine;
- NaN and Infinity, empty sets, mixed-type sets, empty map keys and attribute names of
  65536 UTF-8 bytes or more are refused;
- one attribute value nests at most 31 map/list levels (a set is not a level);
- empty strings and empty bytes are fine outside keys (the key check is the engine's).

Numbers are sent in the form DynamoDB itself returns: plain digits, no exponent, no trailing
fractional zeros, ``0`` for any zero (``Decimal('1.10')`` -> ``"1.1"``, ``1e16`` -> ``"1000..."``).
A float is stored as ``Decimal(repr(x))``, the number its repr shows. DynamoDB refuses a set
with duplicate members; number-set members are de-duplicated on the canonical text instead, so
``{0.1, Decimal('0.1')}`` (two members in Python, one number in DynamoDB) becomes one member. Set
members are sorted so the same set always produces the same request.

Reading (``from_attribute``/``from_item``) gives ``int`` for integral numbers and ``Decimal``
otherwise, Python ``set`` for SS/NS/BS and ``bytes`` for B (botocore's bytes, or base64 text as
in raw wire JSON and the AWS CLI's output). It is the hot path for scans, so it is an if-chain on
the single type tag ordered by frequency, with no per-call closures or isinstance chains.

Why not boto3's TypeSerializer/TypeDeserializer: both push numbers through a 38-digit Decimal
context that traps on rounding, and rounding away trailing zeros counts. So the serializer raises
on storable numbers such as ``10**40`` and refuses floats, and the deserializer raises on numbers
DynamoDB stores and returns, such as ``1E+100`` (returned as 101 digits) or 38 significant digits
followed by zeros. Their errors (``[<class 'decimal.Rounded'>]``) name neither the attribute nor
the fix, and reading gives ``Decimal`` even for integers.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn

from ddbkit.errors import InvalidValueError

__all__ = [
    "MAX_DEPTH",
    "MAX_PRECISION",
    "format_number",
    "from_attribute",
    "from_item",
    "parse_number",
    "to_attribute",
    "to_item",
]

MAX_PRECISION = 38
"""Significant digits DynamoDB keeps in a number."""

MAX_DEPTH = 31
"""Map/list levels one attribute value may nest (DynamoDB refuses 32)."""

_MIN_ADJUSTED = -130  # 1E-130, the smallest non-zero magnitude
_MAX_ADJUSTED = 125  # 9.99...E+125, the largest magnitude
_INT_FAST = 10**MAX_PRECISION  # any int strictly inside +-10**38 is storable as it is
_MAX_INT_BITS = (10 ** (_MAX_ADJUSTED + 1)).bit_length()  # 419: more bits means 1E+126 or more
_MAX_NAME_BYTES = 65535
_NAME_FAST = _MAX_NAME_BYTES // 4  # a name this short fits in 65535 bytes whatever its characters
_INT_TEXT_LIMIT = 4300  # Python's own limit for int <-> text; longer integral numbers stay Decimal
_TYPE_TAGS = frozenset(("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"))
_MESSAGE_NUMBER_CHARS = 40
SURROGATE = re.compile("[\ud800-\udfff]")
"""A UTF-16 surrogate code point: never valid text on its own, and UTF-8 cannot hold it."""


def not_unicode(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (isascii() is a flag check: the common case)."""
    return not text.isascii() and SURROGATE.search(text) is not None


_NOT_UNICODE = (
    "is not valid Unicode: it holds a lone UTF-16 surrogate (as '\\ud800' in JSON), which "
    "DynamoDB cannot store as UTF-8; remove it or store the bytes as binary"
)


class _Refusal(Exception):
    """Internal: a refused value; containers add their key or index while it unwinds.

    Keeping the path out of the success path means no per-element path strings are built.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str | int] = []  # innermost first

    def public(self, base: str = "") -> InvalidValueError:
        path = base
        for segment in reversed(self.segments):
            if isinstance(segment, int):
                path = f"{path}[{segment}]"
            else:
                path = f"{path}.{segment}" if path else segment
        return InvalidValueError(self.reason, path=path)


# ---------------------------------------------------------------------------------------------
# Public API


def to_attribute(value: Any, path: str = "") -> dict[str, Any]:
    """Convert one Python value to a DynamoDB attribute value (botocore shape: B as bytes).

    ``path`` names the value in error messages, e.g. ``"a"`` or ``"a.b[2]"``.
    """
    try:
        return _encode(value, 0)
    except _Refusal as refusal:
        raise refusal.public(path) from None


def to_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Convert a mapping of attribute name -> Python value to a DynamoDB item."""
    if not isinstance(item, Mapping):
        raise InvalidValueError(
            f"an item must be a dict of attribute name -> value, not {_type_name(item)}"
        )
    out: dict[str, dict[str, Any]] = {}
    name: Any = ""
    try:
        for name, value in item.items():
            if type(name) is not str or not name or len(name) > _NAME_FAST or not name.isascii():
                name = _check_name(name, what="attribute name")
            try:
                out[name] = _encode(value, 0)
            except _Refusal as refusal:
                refusal.segments.append(name)
                raise
    except _Refusal as refusal:
        raise refusal.public() from None
    return out


def from_attribute(av: Mapping[str, Any]) -> Any:
    """Convert one DynamoDB attribute value to a Python value."""
    try:
        return _decode(av)
    except _Refusal as refusal:
        raise refusal.public() from None


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Convert a DynamoDB item (attribute name -> attribute value) to a dict of Python values."""
    if not isinstance(item, Mapping):
        raise InvalidValueError(
            f"a DynamoDB item must be a map of attribute name -> attribute value, "
            f"not {_type_name(item)}"
        )
    out: dict[str, Any] = {}
    name = ""
    try:
        # S and N inlined: they are most attributes, and a call less each is ~10% of a scan.
        for name, av in item.items():
            try:
                ((tag, raw),) = av.items()
            except (AttributeError, ValueError, TypeError):
                _refuse_shape(av)
            if tag == "S" and type(raw) is str:
                out[name] = raw
            elif tag == "N":
                out[name] = _parse_number(raw)
            else:
                out[name] = _decode(av)
    except _Refusal as refusal:
        refusal.segments.append(name)
        raise refusal.public() from None
    return out


def parse_number(text: str) -> int | Decimal:
    """Parse DynamoDB number text: ``int`` when integral, exact ``Decimal`` otherwise.

    Reading is lenient: any finite number Python's ``Decimal`` reads is accepted, so every number
    DynamoDB can store reads back. Integral numbers of more than 4300 digits (never from DynamoDB)
    stay ``Decimal`` so hostile text such as ``1E+999999999`` cannot build a gigantic int.
    """
    try:
        return _parse_number(text)
    except _Refusal as refusal:
        raise refusal.public() from None


def format_number(value: int | float | Decimal, path: str = "") -> str:
    """Validate a number for DynamoDB and return its canonical N text (plain digits).

    Raises ``InvalidValueError`` naming ``path`` for NaN, Infinity, more than 38 significant
    digits or a magnitude outside 1E-130 .. 9.9999999999999999999999999999999999999E+125.
    """
    try:
        return _format_number(value)
    except _Refusal as refusal:
        raise refusal.public(path) from None


# ---------------------------------------------------------------------------------------------
# Writing


def _encode(value: Any, depth: int) -> dict[str, Any]:
    # Exact-type checks first (the common case); subclasses and other types go to _encode_other.
    kind = type(value)
    if kind is str:
        # isascii() is a flag check; only other text is searched for lone surrogates.
        # not_unicode(), inlined: this is the converter's hottest line.
        if value.isascii() or SURROGATE.search(value) is None:
            return {"S": value}
        _refuse_surrogate(value)
    if kind is int:
        return {"N": str(value) if -_INT_FAST < value < _INT_FAST else _format_int(value)}
    if kind is dict:
        return {"M": _encode_map(value, depth)}
    if kind is bool:
        return {"BOOL": value}
    if kind is Decimal:
        return {"N": _format_decimal(value)}
    if kind is float:
        return {"N": _format_float(value)}
    if kind is list or kind is tuple:
        return {"L": _encode_list(value, depth)}
    if value is None:
        return {"NULL": True}
    if kind is bytes:
        return {"B": value}
    if kind is set or kind is frozenset:
        return _encode_set(value)
    return _encode_other(value, depth)


def _encode_other(value: Any, depth: int) -> dict[str, Any]:
    if isinstance(value, str):
        return _encode(str.__str__(value), depth)
    if isinstance(value, int):  # bool cannot be subclassed, so this is a real int subclass
        return {"N": _format_int(int(value))}
    if isinstance(value, float):
        return {"N": _format_float(float(value))}
    if isinstance(value, Decimal):
        return {"N": _format_decimal(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"B": _to_bytes(value)}
    if isinstance(value, Mapping):
        return {"M": _encode_map(value, depth)}
    if isinstance(value, (list, tuple)):
        return {"L": _encode_list(value, depth)}
    if isinstance(value, (set, frozenset)):
        return _encode_set(value)
    if isinstance(value, complex):
        raise _Refusal(
            "complex numbers cannot be stored in DynamoDB; store the real and imaginary parts "
            "as two numbers"
        )
    raise _Refusal(
        f"values of type {_type_name(value)} cannot be stored in DynamoDB; convert it to str, "
        "int, Decimal, bytes, bool, None, a list, a dict or a set first "
        "(e.g. a datetime with .isoformat())"
    )


def _encode_map(value: Mapping[Any, Any], depth: int) -> dict[str, dict[str, Any]]:
    if depth >= MAX_DEPTH:
        _refuse_depth()
    depth += 1
    out: dict[str, dict[str, Any]] = {}
    for key, item in value.items():
        if type(key) is not str or not key or len(key) > _NAME_FAST or not key.isascii():
            key = _check_name(key, what="map key")
        try:
            out[key] = _encode(item, depth)
        except _Refusal as refusal:
            refusal.segments.append(key)
            raise
    return out


def _encode_list(value: Any, depth: int) -> list[dict[str, Any]]:
    if depth >= MAX_DEPTH:
        _refuse_depth()
    depth += 1
    out: list[dict[str, Any]] = []
    append = out.append
    try:
        for item in value:
            append(_encode(item, depth))
    except _Refusal as refusal:
        refusal.segments.append(len(out))
        raise
    return out


def _refuse_surrogate(value: str) -> NoReturn:
    raise _Refusal(f"the string {_short_repr(value)} {_NOT_UNICODE}")


def _refuse_depth() -> NoReturn:
    raise _Refusal(
        f"this value nests maps/lists more than {MAX_DEPTH} levels deep, which DynamoDB refuses; "
        "flatten it or store the inner part as a JSON string"
    )


def _check_name(key: Any, *, what: str) -> str:
    """Return ``key`` as an exact str if DynamoDB accepts it as a name, else refuse."""
    if not isinstance(key, str):
        raise _Refusal(
            f"{what}s must be strings, not {_type_name(key)} ({_short_repr(key)}); "
            "convert the key with str() first"
        )
    if not key:
        raise _Refusal(f"an empty {what} cannot be stored in DynamoDB; give it a name")
    name: str = str.__str__(key)  # an exact str, also for str subclasses
    if not_unicode(name):
        raise _Refusal(f"the {what} {_short_repr(name)} {_NOT_UNICODE}")
    if len(name) > _NAME_FAST and len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        raise _Refusal(
            f"the {what} {name[:20]!r}... is longer than DynamoDB's {_MAX_NAME_BYTES} bytes; "
            "use a shorter name"
        )
    return name


def _encode_set(value: set[Any] | frozenset[Any]) -> dict[str, Any]:
    if not value:
        raise _Refusal(
            "an empty set cannot be stored in DynamoDB; store None, an empty list, "
            "or leave the attribute out"
        )
    kinds = {_set_member_kind(member) for member in value}
    if len(kinds) > 1:
        names = ", ".join(sorted({_type_name(member) for member in value}))
        raise _Refusal(
            f"a set must hold only strings, only numbers or only bytes, but this one mixes "
            f"{names}; use a list instead"
        )
    kind = kinds.pop()
    if kind == "SS":
        members = {str.__str__(member) for member in value}
        for member in members:
            if not_unicode(member):
                raise _Refusal(f"a member of this string set {_NOT_UNICODE}")
        return {"SS": sorted(members)}
    if kind == "NS":
        try:
            texts = {_format_number(member) for member in value}
        except _Refusal as refusal:
            raise _Refusal(f"a member of this number set: {refusal.reason}") from None
        return {"NS": sorted(texts, key=Decimal)}
    return {"BS": sorted({_to_bytes(member) for member in value})}


def _set_member_kind(member: Any) -> str:
    if isinstance(member, str):
        return "SS"
    if isinstance(member, (int, float, Decimal)) and not isinstance(member, bool):
        return "NS"
    if isinstance(member, (bytes, bytearray, memoryview)):
        return "BS"
    raise _Refusal(
        f"sets can hold only strings, numbers or bytes, not {_type_name(member)}; "
        "use a list instead"
    )


def _to_bytes(value: bytes | bytearray | memoryview) -> bytes:
    try:
        return bytes(value)
    except (ValueError, TypeError) as error:  # e.g. a released memoryview
        raise _Refusal(f"this binary value cannot be read ({error}); pass bytes") from None


# ---------------------------------------------------------------------------------------------
# Numbers


def _format_number(value: Any) -> str:
    kind = type(value)
    if kind is int:
        return str(value) if -_INT_FAST < value < _INT_FAST else _format_int(value)
    if kind is Decimal:
        return _format_decimal(value)
    if kind is float:
        return _format_float(value)
    if isinstance(value, bool):
        raise _Refusal("a bool is not a number; store it as a bool, or pass int(value)")
    if isinstance(value, int):
        return _format_int(int(value))
    if isinstance(value, float):
        return _format_float(float(value))
    if isinstance(value, Decimal):
        return _format_decimal(value)
    raise _Refusal(f"expected a number (int, float or Decimal), not {_type_name(value)}")


def _format_int(value: int) -> str:
    if -_INT_FAST < value < _INT_FAST:
        return str(value)
    if value.bit_length() > _MAX_INT_BITS:  # too big, and maybe too big to print
        digits = int(value.bit_length() * math.log10(2)) + 1
        _refuse_too_large(f"an integer of about {digits} digits")
    text = str(value)
    magnitude = text.lstrip("-")
    if len(magnitude) > _MAX_ADJUSTED + 1:
        _refuse_too_large(f"the number {_shorten(text)}")
    significant = len(magnitude.rstrip("0"))
    if significant > MAX_PRECISION:
        _refuse_precision(_shorten(text), significant)
    return text


def _format_float(value: float) -> str:
    text = float.__repr__(value)
    # Plain text of at most 38 characters ending in 1-9 ("12.5", "-0.25") is canonical as it is.
    if len(text) <= MAX_PRECISION and "1" <= text[-1] <= "9" and "e" not in text:
        return text
    if not math.isfinite(value):
        _refuse_non_finite(value != value, value < 0)
    return _format_decimal_slow(Decimal(text))


def _format_decimal(value: Decimal) -> str:
    text = Decimal.__str__(value)
    # As for floats: short plain text ending in 1-9 is in range, precise enough and canonical.
    if len(text) <= MAX_PRECISION and "1" <= text[-1] <= "9" and "E" not in text:
        return text
    return _format_decimal_slow(value)


def _format_decimal_slow(value: Decimal) -> str:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # 'n'/'N' NaN, 'F' Infinity
        _refuse_non_finite(exponent != "F", bool(sign))
    if digits[0] == 0:  # Decimal keeps no leading zeros, so this is zero, whatever its exponent
        return "0"
    count = len(digits)
    adjusted = exponent + count - 1
    if adjusted > _MAX_ADJUSTED:
        _refuse_too_large(f"the number {_shorten(str(value))}")
    if adjusted < _MIN_ADJUSTED:
        _refuse_too_small(_shorten(str(value)))
    if count > MAX_PRECISION:
        end = count
        while digits[end - 1] == 0:
            end -= 1
        if end > MAX_PRECISION:
            _refuse_precision(_shorten(str(value)), end)
    if exponent >= 0:
        return str(int(value))
    text = format(value, "f").rstrip("0")  # exact fixed point; it has a "." since exponent < 0
    return text[:-1] if text[-1] == "." else text


def _refuse_non_finite(is_nan: bool, negative: bool) -> NoReturn:
    what = "NaN" if is_nan else ("-Infinity" if negative else "Infinity")
    raise _Refusal(f"{what} cannot be stored in DynamoDB; use null or a string")


def _refuse_too_large(shown: str) -> NoReturn:
    raise _Refusal(
        f"{shown} is too large for DynamoDB (largest magnitude "
        "9.9999999999999999999999999999999999999E+125); store it as a string"
    )


def _refuse_too_small(shown: str) -> NoReturn:
    raise _Refusal(
        f"the number {shown} is too close to zero for DynamoDB (smallest non-zero magnitude "
        "1E-130); round it, store 0, or store it as a string"
    )


def _refuse_precision(shown: str, significant: int) -> NoReturn:
    raise _Refusal(
        f"the number {shown} has {significant} significant digits but DynamoDB keeps at most "
        f"{MAX_PRECISION}; round it (e.g. Decimal.quantize) or store it as a string"
    )


def _shorten(text: str) -> str:
    if len(text) <= _MESSAGE_NUMBER_CHARS:
        return text
    return f"{text[:20]}...{text[-10:]} ({len(text.lstrip('-'))} characters)"


def _parse_number(text: Any) -> int | Decimal:
    # Fast paths for the forms DynamoDB returns: "42", "-42", "12.5" (never trailing zeros).
    try:
        if text.isdigit():
            return int(text)
        if "e" not in text and "E" not in text:
            if "." not in text:
                return int(text)
            if "1" <= text[-1] <= "9":  # the fraction ends in a non-zero digit: not integral
                return Decimal(text)
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        pass  # not text, odd text, or an int() of more than 4300 digits: the careful path decides
    return _parse_number_slow(text)


def _parse_number_slow(text: Any) -> int | Decimal:
    try:
        if not isinstance(text, str):
            raise TypeError(text)
        number = Decimal(text)
    except (ArithmeticError, TypeError, ValueError):
        raise _Refusal(
            f"a DynamoDB number must be number text such as '12' or '-1.5', not {_short_repr(text)}"
        ) from None
    sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):
        _refuse_non_finite(exponent != "F", bool(sign))
    if exponent >= 0 or not any(digits[exponent:]):  # no non-zero fractional digit: integral
        if exponent + len(digits) > _INT_TEXT_LIMIT:
            return number
        return int(number)
    return number


# ---------------------------------------------------------------------------------------------
# Reading (hot path)


def _decode(av: Mapping[str, Any]) -> Any:
    try:
        ((tag, raw),) = av.items()
    except (AttributeError, ValueError, TypeError):
        _refuse_shape(av)
    # Ordered by how often each type occurs in real items; a wrong raw type falls through.
    if tag == "S":
        if type(raw) is str:
            return raw
    elif tag == "N":
        return _parse_number(raw)
    elif tag == "M":
        if type(raw) is dict:
            try:
                return {key: _decode(value) for key, value in raw.items()}
            except _Refusal:
                raise _locate_in_map(raw) from None
    elif tag == "L":
        if type(raw) is list:
            try:
                return [_decode(value) for value in raw]
            except _Refusal:
                raise _locate_in_list(raw) from None
    elif tag == "BOOL":
        if type(raw) is bool:
            return raw
    elif tag == "NULL":
        if raw is True:
            return None
    elif tag == "SS":
        if type(raw) is list:
            for member in raw:
                if type(member) is not str:
                    break
            else:
                return set(raw)
    elif tag == "NS":
        if type(raw) is list:
            return {_parse_number(member) for member in raw}
    elif tag == "B":
        return _decode_binary(raw)
    elif tag == "BS" and type(raw) is list:
        return {_decode_binary(member) for member in raw}
    return _decode_other(tag, raw)


def _decode_other(tag: Any, raw: Any) -> Any:
    """Slow path: containers of other Python types (tuple, any Mapping), else a clear refusal."""
    if tag == "M" and isinstance(raw, Mapping):
        return _decode({"M": dict(raw)})
    if tag in ("L", "SS", "NS", "BS") and isinstance(raw, tuple):
        return _decode({tag: list(raw)})
    if tag in _TYPE_TAGS:
        expected = {
            "S": "a string",
            "N": "number text",
            "B": "bytes or base64 text",
            "BOOL": "true or false",
            "NULL": "true",
            "M": "a map of name -> attribute value",
            "L": "a list of attribute values",
            "SS": "a list of strings",
            "NS": "a list of number texts",
            "BS": "a list of bytes or base64 texts",
        }[tag]
        raise _Refusal(f"a DynamoDB {tag} value must be {expected}, not {_short_repr(raw)}")
    raise _Refusal(
        f"unknown DynamoDB type {_short_repr(tag)}; expected one of "
        "S, N, B, BOOL, NULL, M, L, SS, NS, BS"
    )


def _refuse_shape(av: Any) -> NoReturn:
    raise _Refusal(
        "a DynamoDB attribute value must be a map with exactly one type key such as "
        f'{{"S": "text"}} or {{"N": "1"}}, not {_short_repr(av)}'
    )


def _decode_binary(raw: Any) -> bytes:
    if type(raw) is bytes:
        return raw
    if isinstance(raw, str):  # raw wire JSON and the AWS CLI carry B as base64 text
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _Refusal(
                f"a DynamoDB B value given as text must be base64, not {_short_repr(raw)}"
            ) from None
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return _to_bytes(raw)
    raise _Refusal(f"a DynamoDB B value must be bytes or base64 text, not {_short_repr(raw)}")


def _locate_in_map(raw: Mapping[str, Any]) -> _Refusal:
    """Error path only: decode again to find which entry failed and put its key on the path."""
    for key, value in raw.items():
        try:
            _decode(value)
        except _Refusal as refusal:
            refusal.segments.append(key)
            return refusal
    return _Refusal("this map could not be read")  # pragma: no cover - the first pass failed


def _locate_in_list(raw: list[Any]) -> _Refusal:
    for index, value in enumerate(raw):
        try:
            _decode(value)
        except _Refusal as refusal:
            refusal.segments.append(index)
            return refusal
    return _Refusal("this list could not be read")  # pragma: no cover - the first pass failed


# ---------------------------------------------------------------------------------------------
# Messages


def _type_name(value: Any) -> str:
    return type(value).__name__


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not replace the real error
        return f"<{_type_name(value)}>"
    return text if len(text) <= 60 else f"{text[:45]}...{text[-10:]}"
