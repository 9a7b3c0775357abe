"""DynamoDB JSON lines: ``{"Item": {"id": {"S": "1"}, ...}}`` per line, lossless for every type.

This is the layout of DynamoDB's own export to S3 (``DYNAMODB_JSON``, ``data/*.json.gz``), so an
AWS export can be imported as it is, gzipped or not. Binary values are base64 text, as on the
wire.

Writing passes the raw items of a scan page through orjson unchanged: no value is converted, so
it is as fast as JSON writing gets and keeps every type and every number's text exactly. (Items
in botocore's shape, with B as ``bytes``, are accepted too: bytes become base64 text.)

Reading accepts ``{"Item": <typed item>}`` lines and bare typed items (``{"id": {"S": "1"}}``,
as ``ddbkit get --output ddb-json`` or the AWS CLI print one item). A line ``{"Item": X}`` is
the export wrapper unless X is itself one typed value (``{"S": "x"}``; ``{"M": {...}}`` whose
content is not a typed value): then it is a bare item whose attribute is named ``Item``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Final

import orjson

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.formats._common import BadLineError, Record, numbered_lines
from ddbkit.values.jsonvalues import loads_document
from ddbkit.values.serialize import from_item, to_item

__all__ = ["DdbJsonWriter", "parse_ddb_json_line", "read_ddb_json", "unwrap_item"]

_PREFIX: Final = b'{"Item":'
_SUFFIX: Final = b"}\n"
_TAGS_NOT_MAP: Final = frozenset(("S", "N", "B", "BOOL", "NULL", "L", "SS", "NS", "BS"))
_ALL_TAGS: Final = _TAGS_NOT_MAP | {"M"}


def _bytes_as_base64(value: Any) -> Any:
    """orjson calls this only for types it cannot write: botocore's bytes become base64."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"values of type {type(value).__name__} are not DynamoDB JSON")


class DdbJsonWriter:
    """Write raw DynamoDB items (scan pages) as ``{"Item": ...}`` lines to a binary stream."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out

    def write_page(self, raw_items: list[dict[str, Any]]) -> int:
        """Write one page of raw items unchanged; returns the count."""
        dumps = orjson.dumps
        default = _bytes_as_base64
        try:
            # Concatenating copies orjson's output and frees it at once, which is 3x faster per
            # item than keeping a page of orjson's own buffers alive until the join.
            lines = [_PREFIX + dumps(raw, default=default) + _SUFFIX for raw in raw_items]
        except orjson.JSONEncodeError as error:
            raise InvalidValueError(f"cannot write this item as DynamoDB JSON: {error}") from None
        self._out.write(b"".join(lines))
        return len(lines)

    def write_items(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write Python items, converted by ``serialize.to_item``; returns the count."""
        return self.write_page([to_item(item) for item in items])

    def close(self) -> None:
        """Nothing is buffered here; the caller flushes and closes the stream."""

    def discard(self) -> None:
        """Nothing is held here."""


def read_ddb_json(stream: IO[bytes], *, types: Mapping[str, str] | None = None) -> Iterator[Record]:
    """``(line_number, item)`` for each line of ``stream``; items are Python values.

    gzip input (an AWS export's ``.json.gz``) is detected from its first bytes. ``types`` is
    accepted for a uniform reader signature and ignored: DynamoDB JSON carries every type. A bad
    line yields ``(line_number, BadLineError)`` and reading goes on (see
    :mod:`ddbkit.formats._common`).
    """
    del types
    for number, line in numbered_lines(stream):
        try:
            yield number, parse_ddb_json_line(line)
        except ValidationError as error:
            yield number, BadLineError(number, str(error))


def parse_ddb_json_line(line: bytes | str) -> dict[str, Any]:
    """One line -> one item of Python values; raises ``ValidationError`` without a line number."""
    try:
        # Lone surrogates survive this read, so the writer can refuse them naming the attribute.
        document = loads_document(line)
    except ValueError as error:
        raise ValidationError(f"invalid JSON: {error}") from None
    return from_item(unwrap_item(document))


def unwrap_item(document: Any) -> dict[str, Any]:
    """The typed item in a ``{"Item": ...}`` line or a bare typed item (see the module notes)."""
    if type(document) is not dict:
        raise ValidationError(
            'expected a JSON object such as {"Item": {"id": {"S": "1"}}}, '
            f"not {type(document).__name__}"
        )
    if len(document) == 1:
        inner = document.get("Item")
        if type(inner) is dict and not _is_typed_value(inner):
            return inner
    return document


def _is_typed_value(value: dict[str, Any]) -> bool:
    """Whether ``value`` reads as one attribute value rather than as an item."""
    if len(value) != 1:
        return False
    ((tag, raw),) = value.items()
    if tag in _TAGS_NOT_MAP:
        return type(raw) is not dict
    if tag == "M" and type(raw) is dict:
        # {"M": X}: an attribute value when X is a map of names to typed values, an item with an
        # attribute named "M" when X is itself one typed value.
        return not (len(raw) == 1 and next(iter(raw)) in _ALL_TAGS)
    return False
