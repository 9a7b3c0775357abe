"""What the format readers share: gzip sniffing, numbered lines, bad-line errors, types.

Bad lines. A reader is a generator, and a generator that raises is finished, so a reader does not
raise for one bad line: it yields ``(line_number, BadLineError)`` in place of the item and goes on
with the next line. The caller decides: skip it (``--on-error skip``, a reject file) or raise it
(:func:`items_only` does that for callers that want the first bad line to stop everything). The
error's ``line`` is 1-based, as an editor counts (for CSV, the line the record starts on). Only
input that cannot be read on at all (a corrupt gzip stream, an unreadable CSV header) raises.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import zlib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any, Final

from ddbkit.errors import ValidationError
from ddbkit.values.jsonvalues import loads_exact
from ddbkit.values.serialize import parse_number

__all__ = [
    "TYPE_TAGS",
    "BadLineError",
    "Record",
    "check_types",
    "coerce_json",
    "coerce_text",
    "items_only",
    "numbered_lines",
    "open_binary",
]

TYPE_TAGS: Final = frozenset(("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"))
_GZIP_MAGIC = b"\x1f\x8b"


class BadLineError(ValidationError):
    """One line (record) of an input file that cannot be read; ``line`` is its 1-based number."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


Record = tuple[int, "dict[str, Any] | BadLineError"]
"""What readers yield: the line number and the item read there, or why that line is bad."""


def items_only(records: Iterable[Record]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records of a reader, raising the first bad line's error instead of yielding it."""
    for number, item in records:
        if isinstance(item, BadLineError):
            raise item
        yield number, item


# ---------------------------------------------------------------------------------------------
# Streams


class _Prefixed(io.RawIOBase):
    """A readable raw stream: ``head`` first, then the rest of ``stream``; never closes it."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._stream.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        return len(data)


def open_binary(stream: IO[bytes]) -> io.BufferedReader[_Prefixed] | gzip.GzipFile:
    """A buffered reader of ``stream``'s bytes, gunzipped when they start with the gzip magic.

    Concatenated gzip members (as ``cat a.gz b.gz`` makes) read as one stream. Closing the
    returned reader leaves ``stream`` open.
    """
    head = b""
    while len(head) < len(_GZIP_MAGIC):
        chunk = stream.read(len(_GZIP_MAGIC) - len(head))
        if not chunk:
            break
        head += chunk
    raw = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 16)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(line_number, line)`` for each non-blank line of ``stream`` (gunzipped if need be).

    Line numbers count every line, blank ones too. A UTF-8 byte order mark on line 1 is dropped.
    Input that cannot be read on (corrupt or truncated gzip data, an I/O error) raises
    ``ValidationError`` naming the last line read.
    """
    reader = open_binary(stream)
    number = 0
    try:
        for number, line in enumerate(reader, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if line.strip():
                yield number, line
    except (OSError, EOFError, zlib.error) as error:
        what = "is corrupt or cut short" if isinstance(reader, gzip.GzipFile) else "failed"
        raise ValidationError(f"reading the input {what} after line {number}: {error}") from None


# ---------------------------------------------------------------------------------------------
# Types: turning plain values back into the DynamoDB types they were written from


def check_types(types: Mapping[str, str] | None) -> dict[str, str]:
    """Validate a mapping of attribute name -> DynamoDB type tag; tags are upper-cased."""
    if not types:
        return {}
    checked: dict[str, str] = {}
    for name, tag in types.items():
        upper = str(tag).upper()
        if upper not in TYPE_TAGS:
            raise ValidationError(
                f"unknown type {tag!r} for attribute {name!r}; use one of "
                "S, N, B, BOOL, NULL, M, L, SS, NS, BS"
            )
        checked[name] = upper
    return checked


def coerce_json(value: Any, tag: str, name: str) -> Any:
    """A plain-JSON value (as ``loads_exact`` gives it) -> the Python value of DynamoDB ``tag``.

    ``None`` stays ``None`` whatever the type (a null in a typed attribute is kept as null).
    Raises ``ValidationError`` naming the attribute when the value cannot be of that type.
    """
    if value is None:
        return None
    if tag == "SS":
        if type(value) is list and all(type(member) is str for member in value):
            return set(value)
    elif tag == "NS":
        if type(value) is list:
            return {_number(member, name) for member in value}
    elif tag == "BS":
        if type(value) is list:
            return {_binary(member, name) for member in value}
    elif tag == "B":
        return _binary(value, name)
    elif tag == "N":
        return _number(value, name)
    elif tag == "S":
        if type(value) is str:
            return value
    elif tag == "BOOL":
        if type(value) is bool:
            return value
    elif tag == "M":
        if type(value) is dict:
            return value
    elif tag == "L" and type(value) is list:
        return value
    raise _mismatch(name, tag, value)


def coerce_text(text: str, tag: str, name: str) -> Any:
    """A CSV cell (non-empty text) -> the Python value of DynamoDB ``tag``.

    S keeps the text; N reads number text; BOOL reads true/false (any case); NULL reads null
    (any case); B reads base64; M, L, SS, NS and BS read JSON text, sets from JSON arrays.
    """
    if tag == "S":
        return text
    if tag == "N":
        return _number(text.strip(), name)
    if tag == "BOOL":
        word = text.strip().lower()
        if word in ("true", "false"):
            return word == "true"
    elif tag == "NULL":
        if text.strip().lower() == "null":
            return None
    elif tag == "B":
        return _binary(text.strip(), name)
    else:
        try:
            value = loads_exact(text)
        except ValidationError as error:
            raise ValidationError(f"attribute {name!r} ({tag}): {error}") from None
        if value is not None:
            return coerce_json(value, tag, name)
    raise _mismatch(name, tag, text)


def _number(value: Any, name: str) -> Any:
    kind = type(value)
    if kind is int or kind is Decimal:
        return value
    if kind is str:
        try:
            return parse_number(value)
        except ValidationError:
            pass
    raise _mismatch(name, "N", value)


def _binary(value: Any, name: str) -> bytes:
    if type(value) is str:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _mismatch(name, "B", value)


_EXPECTED: Final = {
    "S": "a string",
    "N": "a number",
    "B": "base64 text",
    "BOOL": "true or false",
    "NULL": "null",
    "M": "a JSON object",
    "L": "a JSON array",
    "SS": "a JSON array of strings",
    "NS": "a JSON array of numbers",
    "BS": "a JSON array of base64 texts",
}


def _mismatch(name: str, tag: str, value: Any) -> ValidationError:
    shown = repr(value)
    if len(shown) > 60:
        shown = f"{shown[:45]}...{shown[-10:]}"
    return ValidationError(
        f"attribute {name!r} is typed {tag}, so it must be {_EXPECTED[tag]}, not {shown}"
    )
