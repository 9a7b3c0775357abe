"""CSV: one row per item, one column per attribute name, for spreadsheets.

Writing. The columns are the union of every item's attribute names: ``first_columns`` (e.g. the
key attributes) first, then the others in the order first seen. The header needs every name
before the first row, so rows are spilled to a temporary file while names are collected and
copied out by ``close()``; memory stays flat whatever the table size. With ``columns`` given, the
columns are fixed, rows stream straight out and attributes not listed are left out.

Cells: a string as it is; a number in DynamoDB's canonical text (plain digits, no exponent:
``0.0000001``, ``1000000000000000000000``); a bool as ``true``/``false``; null as an empty cell;
binary as base64 text; maps, lists and sets as JSON text exactly as the JSON Lines writer prints
them (sets as sorted arrays, binary as base64). The file is RFC 4180 CSV (comma, ``"`` quoting,
CRLF line ends), UTF-8 without a byte order mark.

Reading. The first row is the header. Every cell is a string unless ``types`` names its column's
type (``{"age": "N", "tags": "SS", "meta": "M"}``): N reads number text exactly, BOOL true/false,
B base64, NULL the word null, M/L/SS/NS/BS the JSON text the writer makes. An empty cell means
the attribute is absent.

What CSV loses (so use ``ddb-json`` for a lossless copy): the type of every column not named in
``types`` (all become strings); empty strings and nulls (both are empty cells, read as absent);
sets versus lists and binary inside maps, lists and sets (JSON text has neither; ``types`` brings
back top-level sets and binary only).
"""

from __future__ import annotations

import base64
import csv
import io
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any, Final

import orjson

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.formats._common import BadLineError, Record, check_types, coerce_text, open_binary
from ddbkit.formats.jsonl import is_verbatim_number, plain_value
from ddbkit.values.jsonvalues import dumps_plain
from ddbkit.values.serialize import format_number, from_attribute, parse_number

__all__ = ["CsvWriter", "raw_cell", "read_csv", "value_cell"]

_FIELD_LIMIT: Final = 1 << 24  # a cell may hold a whole 400 KB item's worth of JSON text
_NOT_UTF8: Final = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a bad byte


# ---------------------------------------------------------------------------------------------
# Cells


def raw_cell(av: Any) -> str:
    """One raw attribute value (DynamoDB JSON) -> its CSV cell text."""
    try:
        ((tag, raw),) = av.items()
    except (AttributeError, ValueError, TypeError):
        return value_cell(from_attribute(av))  # raises the converter's message
    if tag == "S":
        if type(raw) is str:
            return raw
    elif tag == "N":
        if type(raw) is str:
            # Canonical engine text is verbatim; anything else becomes canonical text.
            return raw if is_verbatim_number(raw) else format_number(parse_number(raw))
    elif tag == "BOOL":
        if type(raw) is bool:
            return "true" if raw else "false"
    elif tag == "NULL":
        if raw is True:
            return ""
    elif tag in ("M", "L", "SS", "NS", "BS"):
        return orjson.dumps(plain_value(av)).decode()
    return value_cell(from_attribute(av))


def value_cell(value: Any) -> str:
    """One Python value (as ``Table.scan`` yields it) -> its CSV cell text."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is Decimal or kind is float:
        return format_number(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    if isinstance(value, (dict, list, tuple, set, frozenset, Mapping)):
        return dumps_plain(value)
    raise InvalidValueError(
        f"values of type {kind.__name__} cannot be written to CSV; convert it to a string first"
    )


# ---------------------------------------------------------------------------------------------
# Writing


class CsvWriter:
    """Write items as CSV to a binary stream; the header is written by ``close()``.

    ``write_page`` takes raw DynamoDB items (scan pages), ``write_items`` Python items; both may
    be mixed. ``close()`` writes everything out (it does not close ``out``).
    """

    def __init__(
        self,
        out: IO[bytes],
        *,
        first_columns: Sequence[str] = (),
        columns: Sequence[str] | None = None,
        spill_dir: str | None = None,
    ) -> None:
        self._out = out
        self._fixed = columns is not None
        names = list(dict.fromkeys(columns if columns is not None else first_columns))
        self._names = names
        self._index: dict[str, int] = {name: position for position, name in enumerate(names)}
        self._closed = False
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)
        self._spill: IO[bytes] | None = None
        if self._fixed:
            if names:
                self._write_csv([names])
        else:
            self._spill = tempfile.TemporaryFile(dir=spill_dir)  # noqa: SIM115 - closed in close()

    def write_page(self, raw_items: list[dict[str, Any]]) -> int:
        """Write one page of raw items; returns the count."""
        rows = []
        for raw in raw_items:
            if not isinstance(raw, Mapping):
                raise InvalidValueError(
                    "a DynamoDB item must be a map of attribute name -> attribute value, "
                    f"not {type(raw).__name__}"
                )
            rows.append(self._row({name: raw_cell(av) for name, av in raw.items()}))
        self._emit(rows)
        return len(rows)

    def write_items(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write Python items; returns the count."""
        rows = [
            self._row({name: value_cell(value) for name, value in item.items()}) for item in items
        ]
        self._emit(rows)
        return len(rows)

    def _row(self, cells: dict[str, str]) -> list[str]:
        index = self._index
        row: list[str] = [""] * len(self._names)
        for name, cell in cells.items():
            position = index.get(name)
            if position is None:
                if self._fixed:
                    continue
                position = index[name] = len(self._names)
                self._names.append(name)
                row.append("")
            row[position] = cell
        return row

    def _emit(self, rows: list[list[str]]) -> None:
        if self._closed:
            raise ValueError("this CsvWriter is closed")
        if self._spill is None:
            if self._names:  # with no columns at all there is nothing to write
                self._write_csv(rows)
        elif rows:
            dumps = orjson.dumps
            self._spill.write(b"".join([dumps(row) + b"\n" for row in rows]))

    def _write_csv(self, rows: list[list[str]]) -> None:
        self._csv.writerows(rows)
        self._out.write(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()

    def discard(self) -> None:
        """Drop what is held (the spill file) without writing: the output is abandoned."""
        self._closed = True
        spill, self._spill = self._spill, None
        if spill is not None:
            spill.close()

    def close(self) -> None:
        """Write the header and every spilled row (``out`` is not closed)."""
        if self._closed:
            return
        self._closed = True
        spill, self._spill = self._spill, None
        if spill is None:
            return
        with spill:
            width = len(self._names)
            if not width:
                return  # only empty items: no column, so not even a header
            self._write_csv([self._names])
            spill.seek(0)
            batch: list[list[str]] = []
            for line in spill:
                row: list[str] = orjson.loads(line)
                if len(row) < width:
                    row.extend([""] * (width - len(row)))
                batch.append(row)
                if len(batch) >= 1024:
                    self._write_csv(batch)
                    batch.clear()
            self._write_csv(batch)


# ---------------------------------------------------------------------------------------------
# Reading


def read_csv(stream: IO[bytes], *, types: Mapping[str, str] | None = None) -> Iterator[Record]:
    """``(line_number, item)`` for each record after the header; the number is its first line.

    gzip input is detected. Untyped cells are strings; ``types`` converts named columns (see the
    module notes); an empty cell leaves the attribute out. A record with more or fewer cells than
    the header, a stray quote, or a cell that does not read as its column's type, is a bad line:
    it yields ``(line_number, BadLineError)`` and reading goes on (see
    :mod:`ddbkit.formats._common`). A quoted field that never closes (an unbalanced quote, a
    file cut short) and a header that is missing a name or names a column twice raise
    ``ValidationError``: nothing after them can be read.
    """
    typed = check_types(types)
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(min(_FIELD_LIMIT, sys.maxsize))
    # surrogateescape: a byte that is not UTF-8 becomes a lone surrogate in its cell, so the
    # record it is in is reported with its own line number (a strict decoder fails on the
    # whole chunk read ahead, blaming the header).
    text = io.TextIOWrapper(
        open_binary(stream), encoding="utf-8-sig", errors="surrogateescape", newline=""
    )
    try:
        # strict: a quote that never closes is an error at the end of the data, not a field
        # that silently swallows every line after it.
        records = csv.reader(text, strict=True)
        header = _read_header(records)
        if header is None:
            return
        converters = [typed.get(name) for name in header]
        width = len(header)
        while True:
            start = records.line_num + 1
            try:
                cells = next(records)
            except StopIteration:
                return
            except csv.Error as error:
                if "unexpected end of data" in str(error):
                    # Everything after the opening quote was read into one field: the rest of
                    # the file is unreadable, so this cannot be skipped like one bad line.
                    raise ValidationError(
                        f"line {start}: a quoted field opens on this line and never closes "
                        f"(an unbalanced quote, or the file is cut short at line "
                        f"{records.line_num}): fix the quoting; lines from {start} on were "
                        "not read"
                    ) from None
                yield start, BadLineError(start, f"not readable as CSV: {error}")
                continue
            except UnicodeDecodeError as error:
                yield start, BadLineError(start, f"not readable as CSV: {error}")
                continue
            if not any(cells):
                continue  # a blank line (or a row of empty cells) is no item
            if any(not cell.isascii() and _NOT_UTF8.search(cell) for cell in cells):
                yield start, BadLineError(start, "not UTF-8 text: save the file as UTF-8")
                continue
            try:
                item = _record(header, converters, width, cells)
            except ValidationError as error:
                yield start, BadLineError(start, str(error))
                continue
            yield start, item
    finally:
        text.close()  # closes only the readers stacked here, never ``stream``


def _read_header(records: Any) -> list[str] | None:
    try:
        header: list[str] = next(records)
    except StopIteration:
        return None
    except (csv.Error, UnicodeDecodeError) as error:
        raise ValidationError(f"the CSV header (line 1) is not readable: {error}") from None
    if not header or not all(header):
        raise ValidationError("the CSV header (line 1) must name every column; a name is empty")
    if any(_NOT_UTF8.search(name) for name in header):
        raise ValidationError("the CSV header (line 1) is not UTF-8 text: save the file as UTF-8")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ValidationError(f"the CSV header (line 1) names column {name!r} twice")
        seen.add(name)
    return header


def _record(
    header: list[str], converters: list[str | None], width: int, cells: list[str]
) -> dict[str, Any]:
    if len(cells) != width:
        # A short row is as suspect as a long one: a cell went missing or a quote moved text.
        raise ValidationError(f"{len(cells)} cells but the header has {width} columns")
    item: dict[str, Any] = {}
    for name, tag, cell in zip(header, converters, cells, strict=False):
        if cell == "":
            continue
        item[name] = cell if tag is None else coerce_text(cell, tag, name)
    return item
