"""File formats for export and import: one module each, one small interface for all.

Writers take the raw items of scan pages (DynamoDB JSON as ``orjson.loads(body)["Items"]`` gives
it, B as base64 text) and write bytes to a binary stream they never close:

- ``ddb-json`` (:mod:`.ddbjson`): ``{"Item": ...}`` per line, DynamoDB's own S3 export layout;
  lossless.
- ``jsonl`` (:mod:`.jsonl`): one plain JSON object per line, as ``dumps_plain`` prints items.
- ``csv`` (:mod:`.csv`): a column per attribute name; also prints Python items for the CLI.
- ``parquet`` (:mod:`.parquet`): typed columns; needs the ``ddbkit[parquet]`` extra. Export only.

Readers (jsonl, ddb-json, csv) take a binary stream (gzip is detected) and yield
``(line_number, item)`` with items of Python values, ready for ``Table.put``. A bad line yields
``(line_number, BadLineError)`` instead, and reading goes on with the next line: the caller skips
it or raises it (:func:`items_only` raises the first one).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, Final, Protocol

import orjson

from ddbkit.errors import ValidationError
from ddbkit.formats._common import TYPE_TAGS, BadLineError, Record, check_types, items_only
from ddbkit.formats.csv import CsvWriter, read_csv
from ddbkit.formats.ddbjson import DdbJsonWriter, read_ddb_json, unwrap_item
from ddbkit.formats.jsonl import JsonlWriter, read_jsonl

__all__ = [
    "FORMATS",
    "READABLE_FORMATS",
    "BadLineError",
    "PageWriter",
    "Record",
    "format_from_path",
    "items_only",
    "reader_for",
    "writer_for",
]

FORMATS: Final = ("jsonl", "ddb-json", "csv", "parquet")
"""Every format export writes."""

READABLE_FORMATS: Final = ("jsonl", "ddb-json", "csv")
"""Every format import reads."""


class PageWriter(Protocol):
    """Writes items to a binary stream a page at a time."""

    def write_page(self, raw_items: list[dict[str, Any]]) -> int:
        """Write one page of raw DynamoDB items; returns how many were written.

        The line formats (jsonl, ddb-json) have written the whole page to the stream when this
        returns (nothing is held back), so a checkpoint taken after it is exact.
        """

    def close(self) -> None:
        """Write out anything buffered (header, footer, row groups); does not close the stream."""

    def discard(self) -> None:
        """Drop anything buffered without writing it (the output is abandoned half-way)."""


def writer_for(name: str, out: IO[bytes], *, first_columns: Sequence[str] = ()) -> PageWriter:
    """The writer of format ``name`` writing to ``out``.

    ``first_columns`` (e.g. the table's key attributes) come first in csv and parquet.
    """
    if name == "ddb-json":
        return DdbJsonWriter(out)
    if name == "jsonl":
        return JsonlWriter(out)
    if name == "csv":
        return CsvWriter(out, first_columns=first_columns)
    if name == "parquet":
        from ddbkit.formats.parquet import ParquetWriter  # imports pyarrow: only when asked

        return ParquetWriter(out, first_columns=first_columns)
    raise ValidationError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")


def reader_for(
    name: str, stream: IO[bytes], *, types: Mapping[str, str] | None = None
) -> Iterator[Record]:
    """``(line_number, item or BadLineError)`` from ``stream`` in format ``name``.

    gzip is detected. ``types`` (attribute name -> DynamoDB type) restores types plain formats
    cannot carry; see :mod:`.jsonl` and :mod:`.csv`. Unknown type names raise at once.
    """
    types = check_types(types)  # here, so a bad type is refused before anything is read
    if name == "ddb-json":
        return read_ddb_json(stream, types=types)
    if name == "jsonl":
        return read_jsonl(stream, types=types)
    if name == "csv":
        return read_csv(stream, types=types)
    if name == "parquet":
        raise ValidationError("import does not read parquet; export it as ddb-json or jsonl")
    raise ValidationError(f"unknown format {name!r}; use one of {', '.join(READABLE_FORMATS)}")


_BY_SUFFIX: Final = (
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".jsonl.gz", "jsonl"),
    (".ndjson.gz", "jsonl"),
    (".json", "ddb-json"),
    (".json.gz", "ddb-json"),
    (".csv", "csv"),
    (".csv.gz", "csv"),
    (".parquet", "parquet"),
    (".pq", "parquet"),
)


def format_from_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name implies, or None when its extension says nothing.

    ``.jsonl``/``.ndjson`` (optionally ``.gz``) -> jsonl; ``.csv``/``.csv.gz`` -> csv;
    ``.parquet``/``.pq`` -> parquet; ``.json``/``.json.gz`` -> ddb-json, except that an existing
    file whose first line is a plain JSON object rather than DynamoDB JSON gives jsonl.
    """
    text = os.fspath(path)
    lower = text.lower()
    found = None
    for suffix, name in _BY_SUFFIX:
        if lower.endswith(suffix):
            found = name
            break
    if found == "ddb-json" and os.path.isfile(text):
        return _sniff_json(text)
    return found


def _sniff_json(path: str) -> str:
    """ddb-json unless the first non-blank line is a JSON object that is not DynamoDB JSON."""
    try:
        with open(path, "rb") as raw:
            head = raw.read(2)
            raw.seek(0)
            lines: Iterator[bytes] = iter(
                gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
            )
            for line in lines:
                if line.strip():
                    document = orjson.loads(line)
                    break
            else:
                return "ddb-json"
    except (OSError, EOFError, orjson.JSONDecodeError):
        return "ddb-json"  # let the ddb-json reader report what is wrong, with a line number
    if type(document) is dict and not _looks_typed(document):
        return "jsonl"
    return "ddb-json"


def _looks_typed(document: dict[str, Any]) -> bool:
    try:
        item = unwrap_item(document)
    except ValidationError:
        return False
    return all(
        type(value) is dict and len(value) == 1 and next(iter(value)) in TYPE_TAGS
        for value in item.values()
    )
