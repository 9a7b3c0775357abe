"""Parquet export (the ``ddbkit[parquet]`` extra): typed columns for DuckDB, pandas, Spark.

Columns. Each row group holds ``row_group_size`` items (bounded memory: one row group of raw
items at a time). The schema is fixed by the first row group, a sample of the table: one column
per attribute seen there (``first_columns`` first, then in the order first seen), typed by the
DynamoDB type most of its values have (ties: the first seen):

=========================  ======================================================================
DynamoDB type              Parquet column
=========================  ======================================================================
S                          string
N                          int64 when every sampled value is an integer within int64; else
                           decimal128(38, 9) when the sample fits it (<= 29 integer digits,
                           <= 9 fractional digits: BigQuery's NUMERIC); else decimal128(38, s)
                           with s the sample's most fractional digits, when integer digits + s
                           <= 38; else string holding the exact number text. Never a float.
BOOL                       bool
B                          binary (the raw bytes)
NULL only                  null
M, L, SS, NS, BS           JSON text as the JSON Lines writer prints it (sets as sorted arrays,
                           binary as base64), in Arrow's JSON type (Parquet logical type JSON,
                           which DuckDB reads as JSON) with pyarrow >= 19, else in a string
=========================  ======================================================================

Each field's metadata holds ``ddbkit.type`` (its DynamoDB type). A NULL value, and an absent
attribute, is a null cell in any column (the one thing Parquet does not tell apart).

Attributes first seen after the first row group, and values whose type does not fit their column
(a string in a number column, a fraction in an int64 column, a number too precise for its
decimal), are not dropped: they go to the extra column, ``_extra`` (``__extra`` and so on if an
attribute has that name; the schema metadata ``ddbkit.extra_column`` names it; JSON typed like
the M columns), as a DynamoDB JSON object of those attributes (``{"note": {"S": "late"}}``),
null where nothing is left over. So every value is in the file; what Parquet does not keep is
NULL versus absent, and binary inside maps and lists (base64 text in the JSON).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Final

import orjson

from ddbkit.errors import MissingExtraError, ValidationError
from ddbkit.formats.jsonl import is_verbatim_number, plain_value
from ddbkit.values.serialize import format_number, from_attribute, parse_number

__all__ = ["DEFAULT_ROW_GROUP_SIZE", "ParquetWriter", "import_pyarrow"]

DEFAULT_ROW_GROUP_SIZE: Final = 16_384
_JSON_TAGS: Final = frozenset(("M", "L", "SS", "NS", "BS"))
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_NUMERIC_SCALE: Final = 9
_MAX_DIGITS: Final = 38


def import_pyarrow() -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``, or ``MissingExtraError`` naming the pip command."""
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet") from None
    return pa, pq


@dataclass
class _Column:
    name: str
    tag: str  # the DynamoDB type of the values this column holds
    kind: str  # string, int64, decimal, number-text, bool, binary, null, json
    scale: int = 0
    values: list[Any] = field(default_factory=list)


class ParquetWriter:
    """Write raw DynamoDB items (scan pages) as a Parquet file to a binary stream."""

    def __init__(
        self,
        out: IO[bytes],
        *,
        row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
        first_columns: Sequence[str] = (),
        compression: str = "snappy",
    ) -> None:
        if row_group_size < 1:
            raise ValidationError("row_group_size must be at least 1")
        self._pa, self._pq = import_pyarrow()
        self._out = out
        self._row_group_size = row_group_size
        self._first_columns = list(dict.fromkeys(first_columns))
        self._compression = compression
        self._pending: list[dict[str, Any]] = []
        self._columns: list[_Column] | None = None
        self._extra_name = "_extra"
        self._schema: Any = None
        self._writer: Any = None
        self._closed = False

    def write_page(self, raw_items: list[dict[str, Any]]) -> int:
        """Buffer one page of raw items, writing a row group whenever enough are buffered."""
        if self._closed:
            raise ValueError("this ParquetWriter is closed")
        self._pending.extend(raw_items)
        while len(self._pending) >= self._row_group_size:
            rows = self._pending[: self._row_group_size]
            del self._pending[: self._row_group_size]
            self._write_row_group(rows)
        return len(raw_items)

    def close(self) -> None:
        """Write what is buffered and the file footer (``out`` is not closed)."""
        if self._closed:
            return
        self._closed = True
        if self._pending or self._writer is None:
            rows, self._pending = self._pending, []
            self._write_row_group(rows)
        self._writer.close()

    def discard(self) -> None:
        """Drop the buffered rows without writing them: the output is abandoned."""
        self._closed = True
        self._pending = []
        if self._writer is not None:
            self._writer.close()

    # -- row groups -----------------------------------------------------------------------------

    def _write_row_group(self, rows: list[dict[str, Any]]) -> None:
        if self._columns is None:
            self._plan(rows)
        assert self._columns is not None
        columns = self._columns
        count = len(rows)
        for column in columns:
            column.values = [None] * count
        by_name = {column.name: column for column in columns}
        extras: list[str | None] = [None] * count
        for row, raw in enumerate(rows):
            left_over: dict[str, Any] | None = None
            for name, av in raw.items():
                target = by_name.get(name)
                if target is not None and _fill(target, av, row):
                    continue
                if left_over is None:
                    left_over = {}
                left_over[name] = av
            if left_over is not None:
                extras[row] = orjson.dumps(left_over).decode()
        pa = self._pa
        arrays = [_array(pa, column) for column in columns]
        arrays.append(pa.array(extras, type=_json_type(pa)))
        for column in columns:
            column.values = []
        table = pa.Table.from_arrays(arrays, schema=self._schema)
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(
                self._out, self._schema, compression=self._compression
            )
        self._writer.write_table(table, row_group_size=len(rows) or None)

    def _plan(self, rows: list[dict[str, Any]]) -> None:
        """Fix the columns and their types from the first row group (see the module notes)."""
        tags: dict[str, Counter[str]] = {name: Counter() for name in self._first_columns}
        numbers: dict[str, list[str]] = {}
        for raw in rows:
            for name, av in raw.items():
                tag = _tag(av)
                counts = tags.get(name)
                if counts is None:
                    counts = tags[name] = Counter()
                counts[tag] += 1
                if tag == "N":
                    numbers.setdefault(name, []).append(_number_text(av["N"]))
        columns: list[_Column] = []
        for name, counts in tags.items():
            counts.pop("NULL", None)
            if not counts:
                columns.append(_Column(name, "NULL", "null"))
                continue
            tag = counts.most_common(1)[0][0]  # most_common keeps first-seen order on ties
            if tag == "N":
                kind, scale = _number_kind(numbers[name])
                columns.append(_Column(name, "N", kind, scale))
            else:
                columns.append(_Column(name, tag, _KIND_OF_TAG[tag]))
        while self._extra_name in tags:
            self._extra_name = "_" + self._extra_name
        self._columns = columns
        pa = self._pa
        fields = [
            pa.field(column.name, _arrow_type(pa, column), metadata={"ddbkit.type": column.tag})
            for column in columns
        ]
        fields.append(pa.field(self._extra_name, _json_type(pa), metadata={"ddbkit.type": "extra"}))
        self._schema = pa.schema(fields, metadata={"ddbkit.extra_column": self._extra_name})


_KIND_OF_TAG: Final = {
    "S": "string",
    "BOOL": "bool",
    "B": "binary",
    "M": "json",
    "L": "json",
    "SS": "json",
    "NS": "json",
    "BS": "json",
}


def _tag(av: Any) -> str:
    """The type tag of a raw attribute value; a malformed one raises the converter's message."""
    if type(av) is dict and len(av) == 1:
        for tag in av:
            if tag in _KIND_OF_TAG or tag == "N" or tag == "NULL":
                return str(tag)
    from_attribute(av)  # raises, naming what is wrong
    raise ValidationError(f"not a DynamoDB attribute value: {av!r}")  # pragma: no cover


def _number_text(raw: Any) -> str:
    """Canonical plain number text (as DynamoDB returns it) for any readable N text."""
    if type(raw) is str and is_verbatim_number(raw):
        return raw
    return format_number(parse_number(raw))


def _digits(text: str) -> tuple[int, int]:
    """(integer digits, fractional digits) of canonical plain number text."""
    whole, _, fraction = text.lstrip("-").partition(".")
    return (0 if whole == "0" else len(whole)), len(fraction)


def _number_kind(texts: list[str]) -> tuple[str, int]:
    if all("." not in text and _INT64_MIN <= int(text) <= _INT64_MAX for text in texts):
        return "int64", 0
    most_whole = most_fraction = 0
    for text in texts:
        whole, fraction = _digits(text)
        most_whole = max(most_whole, whole)
        most_fraction = max(most_fraction, fraction)
    if most_whole <= _MAX_DIGITS - _NUMERIC_SCALE and most_fraction <= _NUMERIC_SCALE:
        return "decimal", _NUMERIC_SCALE
    if most_whole + most_fraction <= _MAX_DIGITS:
        return "decimal", most_fraction
    return "number-text", 0


def _fill(column: _Column, av: Any, row: int) -> bool:
    """Put ``av`` in cell ``row`` of ``column`` if it fits the column's type."""
    if type(av) is not dict or len(av) != 1:
        return False
    ((tag, raw),) = av.items()
    if tag == "NULL":
        return raw is True  # a null cell: already there
    if tag != column.tag:
        return False
    kind = column.kind
    values = column.values
    if kind == "string":
        if type(raw) is not str:
            return False
        values[row] = raw
    elif kind == "json":
        values[row] = orjson.dumps(plain_value(av)).decode()
    elif kind == "bool":
        if type(raw) is not bool:
            return False
        values[row] = raw
    elif kind == "binary":
        values[row] = from_attribute(av)
    else:
        text = _number_text(raw)
        if kind == "int64":
            if "." in text or len(text) > 20:
                return False
            number = int(text)
            if not _INT64_MIN <= number <= _INT64_MAX:
                return False
            values[row] = number
        elif kind == "decimal":
            whole, fraction = _digits(text)
            if fraction > column.scale or whole > _MAX_DIGITS - column.scale:
                return False
            values[row] = text
        else:
            values[row] = text
    return True


def _arrow_type(pa: Any, column: _Column) -> Any:
    kind = column.kind
    if kind == "int64":
        return pa.int64()
    if kind == "decimal":
        return pa.decimal128(_MAX_DIGITS, column.scale)
    if kind == "bool":
        return pa.bool_()
    if kind == "binary":
        return pa.binary()
    if kind == "null":
        return pa.null()
    if kind == "json":
        return _json_type(pa)
    return pa.string()  # string, number-text


def _json_type(pa: Any) -> Any:
    """Arrow's JSON type (Parquet logical type JSON, which DuckDB reads as JSON) where pyarrow
    has it (19 and later), else plain string."""
    json_type = getattr(pa, "json_", None)
    return json_type() if json_type is not None else pa.string()


def _array(pa: Any, column: _Column) -> Any:
    if column.kind == "decimal":  # exact: Arrow parses the checked text itself
        return pa.array(column.values, type=pa.string()).cast(_arrow_type(pa, column))
    return pa.array(column.values, type=_arrow_type(pa, column))
