"""JSON Lines: one plain JSON object per item, for people and tools (jq, DuckDB, pandas).

Writing. Each line is exactly ``jsonvalues.dumps_plain(serialize.from_item(raw))`` for the raw
item, but computed straight from the raw DynamoDB JSON of a scan page, without building ints and
Decimals: strings and maps pass through, number text that is already in the form ``dumps_plain``
prints (DynamoDB's own canonical text: no exponent, no trailing fractional zeros, not below
1E-6, where ``Decimal`` switches to exponent form) goes out verbatim as an ``orjson.Fragment``,
string sets are sorted by code point, number sets numerically. Anything else (B, BS, unusual
number text) goes through ``from_attribute`` + ``dumps_plain`` themselves, so the output stays
byte-identical (a Hypothesis test holds it).

What survives a JSON Lines round trip (write, then read without ``types``): strings, numbers
(exact: ints as int, others as Decimal), booleans, nulls, maps and lists. Sets become JSON arrays
(read back as lists, sorted), and binary values (B, and BS members) become base64 strings (read
back as str). Reading with ``types`` naming those attributes (``{"tags": "SS", "blob": "B"}``)
turns them back into sets and bytes, top-level attributes only; with the right types every item
round-trips exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any, Final

import orjson

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.formats._common import BadLineError, Record, check_types, coerce_json, numbered_lines
from ddbkit.values.jsonvalues import dumps_plain, loads_exact
from ddbkit.values.serialize import from_attribute, from_item

__all__ = ["JsonlWriter", "is_verbatim_number", "plain_item", "plain_value", "read_jsonl"]

# Number text that ``dumps_plain(parse_number(text))`` prints unchanged: an integer without
# leading zeros ("-0" prints "0"), or a fraction ending in 1-9 (a trailing 0 keeps a Decimal
# exponent or makes it integral) that is not below 1E-6 (Decimal prints 1E-7 in exponent form).
_VERBATIM_NUMBER: Final = re.compile(
    r"-?[1-9][0-9]*(?:\.[0-9]*[1-9])?|-?0\.(?!000000)[0-9]*[1-9]|0"
).fullmatch
_Fragment = orjson.Fragment


def is_verbatim_number(text: str) -> bool:
    """Whether ``dumps_plain`` prints this N text unchanged (DynamoDB's canonical text is)."""
    if text.isdigit():  # the common case, without the regex
        return text.isascii() and (text[0] != "0" or len(text) == 1)
    return _VERBATIM_NUMBER(text) is not None


def plain_value(av: Any) -> Any:
    """One raw attribute value -> what orjson writes as ``dumps_plain(from_attribute(av))``."""
    try:
        ((tag, raw),) = av.items()
    except (AttributeError, ValueError, TypeError):
        return _via_converter(av)
    # Callers inline S and N, so the containers come first here.
    if tag == "M":
        if type(raw) is dict:
            return _plain_map(raw)
    elif tag == "L":
        if type(raw) is list:
            return _plain_list(raw)
    elif tag == "S":
        if type(raw) is str:
            return raw
    elif tag == "N":
        if type(raw) is str and is_verbatim_number(raw):
            return _Fragment(raw)
    elif tag == "BOOL":
        if type(raw) is bool:
            return raw
    elif tag == "NULL":
        if raw is True:
            return None
    elif tag == "SS":
        if type(raw) is list:
            members = set(raw)
            for member in members:
                if type(member) is not str:
                    break
            else:
                return sorted(members)
    elif tag == "NS" and type(raw) is list:
        numbers = _plain_number_set(raw)
        if numbers is not None:
            return numbers
    return _via_converter(av)


def _plain_map(raw: Mapping[str, Any]) -> dict[str, Any]:
    # The common tags are tested inline (``in`` on the one-key dict is the cheapest test, and
    # is_verbatim_number is inlined): a call less per value is a fifth of the time. Anything
    # unusual falls through to plain_value, which handles (or refuses) every form.
    out: dict[str, Any] = {}
    for key, av in raw.items():
        if type(av) is dict and len(av) == 1:
            if "S" in av:
                value = av["S"]
                if type(value) is str:
                    out[key] = value
                    continue
            elif "N" in av:
                value = av["N"]
                if type(value) is str and (
                    (value.isdigit() and value.isascii() and value[0] != "0")
                    or _VERBATIM_NUMBER(value)
                ):
                    out[key] = _Fragment(value)
                    continue
            elif "M" in av:
                value = av["M"]
                if type(value) is dict:
                    out[key] = _plain_map(value)
                    continue
            elif "L" in av:
                value = av["L"]
                if type(value) is list:
                    out[key] = _plain_list(value)
                    continue
        out[key] = plain_value(av)
    return out


def _plain_list(raw: list[Any]) -> list[Any]:
    # As _plain_map, for list members.
    out: list[Any] = []
    append = out.append
    for av in raw:
        if type(av) is dict and len(av) == 1:
            if "S" in av:
                value = av["S"]
                if type(value) is str:
                    append(value)
                    continue
            elif "N" in av:
                value = av["N"]
                if type(value) is str and (
                    (value.isdigit() and value.isascii() and value[0] != "0")
                    or _VERBATIM_NUMBER(value)
                ):
                    append(_Fragment(value))
                    continue
            elif "M" in av:
                value = av["M"]
                if type(value) is dict:
                    append(_plain_map(value))
                    continue
            elif "L" in av:
                value = av["L"]
                if type(value) is list:
                    append(_plain_list(value))
                    continue
        append(plain_value(av))
    return out


def _plain_number_set(raw: list[Any]) -> orjson.Fragment | None:
    """A number set as JSON text sorted numerically, or None for the converter to do it."""
    for member in raw:
        if type(member) is not str or not (
            (member.isdigit() and member.isascii() and member[0] != "0") or _VERBATIM_NUMBER(member)
        ):
            return None
    # Verbatim texts are canonical, so distinct texts are distinct numbers.
    members = sorted(set(raw), key=Decimal)
    return _Fragment("[" + ",".join(members) + "]")


def _via_converter(av: Any) -> orjson.Fragment:
    """The slow path: the one converter and ``dumps_plain`` themselves (B, BS, odd forms)."""
    return _Fragment(dumps_plain(from_attribute(av)))


def plain_item(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One raw item -> the object orjson writes as ``dumps_plain(from_item(raw))``."""
    try:
        return _plain_map(raw)
    except ValidationError:
        from_item(raw)  # raises the same refusal with the attribute path (a.b[2]) in it
        raise
    except AttributeError:
        from_item(raw)  # not a mapping: raises the converter's message
        raise


class JsonlWriter:
    """Write raw DynamoDB items (scan pages) or Python items as JSON Lines to a binary stream."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out

    def write_page(self, raw_items: list[dict[str, Any]]) -> int:
        """Write one page of raw items (DynamoDB JSON as decoded by orjson); returns the count."""
        dumps = orjson.dumps
        try:
            # "+ newline" copies orjson's output and frees it at once: 3x faster per item than
            # keeping a page of orjson's own buffers alive until the join (OPT_APPEND_NEWLINE).
            lines = [dumps(plain_item(raw)) + b"\n" for raw in raw_items]
        except orjson.JSONEncodeError as error:
            raise _encode_error(error) from None
        self._out.write(b"".join(lines))
        return len(lines)

    def write_items(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write Python items (as ``Table.scan`` yields them); returns the count."""
        count = 0
        for item in items:
            self._out.write(dumps_plain(item).encode() + b"\n")
            count += 1
        return count

    def close(self) -> None:
        """Nothing is buffered here; the caller flushes and closes the stream."""

    def discard(self) -> None:
        """Nothing is held here."""


def _encode_error(error: orjson.JSONEncodeError) -> ValidationError:
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        return cause
    return InvalidValueError(f"cannot write this item as JSON: {error}")


def read_jsonl(stream: IO[bytes], *, types: Mapping[str, str] | None = None) -> Iterator[Record]:
    """``(line_number, item)`` for each JSON object line of ``stream`` (gzip is detected).

    Numbers are exact (int or Decimal). ``types`` maps attribute names to DynamoDB types to
    turn back what plain JSON cannot carry: SS/NS/BS from arrays to sets, B from base64 to bytes,
    N from number text. A bad line yields ``(line_number, BadLineError)`` and reading goes on
    (see :mod:`ddbkit.formats._common`).
    """
    typed = check_types(types)
    for number, line in numbered_lines(stream):
        try:
            yield number, parse_jsonl_line(line, typed)
        except ValidationError as error:
            yield number, BadLineError(number, str(error))


def parse_jsonl_line(line: bytes, types: Mapping[str, str]) -> dict[str, Any]:
    """One line -> one item; raises ``ValidationError`` without a line number."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(f"not UTF-8 text (byte {error.start + 1})") from None
    item = loads_exact(text)
    if type(item) is not dict:
        raise ValidationError(f"expected a JSON object (one item), not {_json_kind(item)}")
    for name, tag in types.items():
        if name in item:
            item[name] = coerce_json(item[name], tag, name)
    return item


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
