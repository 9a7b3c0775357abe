"""Export/import formats: jsonl, ddb-json and csv writers and readers, and the format registry."""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.formats import (
    FORMATS,
    READABLE_FORMATS,
    BadLineError,
    format_from_path,
    items_only,
    reader_for,
    writer_for,
)
from ddbkit.formats.csv import CsvWriter, raw_cell, read_csv, value_cell
from ddbkit.formats.ddbjson import DdbJsonWriter, read_ddb_json
from ddbkit.formats.jsonl import JsonlWriter, is_verbatim_number, plain_item, read_jsonl
from ddbkit.values.jsonvalues import dumps_plain
from ddbkit.values.serialize import from_item, parse_number, to_item
from tests.support.truth import assert_plain_lines

MAX_N = Decimal("9.9999999999999999999999999999999999999E+125")

# ---------------------------------------------------------------------------------------------
# Helpers


def raw_form(wire: Any) -> Any:
    """botocore shape (B as bytes) -> raw wire JSON as orjson decodes a page (B as base64)."""

    def b64(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(type(value).__name__)

    return orjson.loads(orjson.dumps(wire, default=b64))


def raw_item(item: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = raw_form(to_item(item))
    return result


def tagged(value: Any) -> Any:
    """A comparable form that also tells int, Decimal, bool and the container types apart."""
    if isinstance(value, dict):
        return ("dict", tuple((key, tagged(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(tagged(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(tagged(item) for item in value))
    return (type(value).__name__, value)


def write(fmt: str, pages: list[list[dict[str, Any]]]) -> bytes:
    out = io.BytesIO()
    writer = writer_for(fmt, out)
    for page in pages:
        assert writer.write_page(page) == len(page)
    writer.close()
    assert not out.closed
    return out.getvalue()


def read(fmt: str, data: bytes, types: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [item for _, item in items_only(reader_for(fmt, io.BytesIO(data), types=types))]


def records(fmt: str, data: bytes, types: dict[str, str] | None = None) -> list[Any]:
    return list(reader_for(fmt, io.BytesIO(data), types=types))


# ---------------------------------------------------------------------------------------------
# Strategies


def storable_decimals() -> st.SearchStrategy[Decimal]:
    def build(negative: bool, digits: str, adjusted: int, zeros: int) -> Decimal:
        coefficient = digits + "0" * zeros
        exponent = adjusted - len(coefficient) + 1
        return Decimal(f"{'-' if negative else ''}{coefficient}E{exponent}")

    nonzero = st.builds(
        build,
        st.booleans(),
        st.from_regex(r"[1-9][0-9]{0,37}", fullmatch=True),
        st.integers(min_value=-130, max_value=125),
        st.integers(min_value=0, max_value=3),
    )
    return st.one_of(nonzero, st.just(Decimal(0)), st.just(MAX_N), st.just(Decimal("1E-7")))


def scalars(*, sets_and_bytes: bool = True) -> st.SearchStrategy[Any]:
    plain = st.one_of(
        st.text(),
        st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
        storable_decimals(),
        st.floats(allow_nan=False, min_value=-1e100, max_value=1e100).filter(
            lambda value: value == 0 or abs(value) >= 1e-129
        ),
        st.booleans(),
        st.none(),
    )
    if not sets_and_bytes:
        return plain
    return st.one_of(
        plain,
        st.binary(max_size=20),
        st.sets(st.text(max_size=5), min_size=1, max_size=4),
        st.sets(storable_decimals(), min_size=1, max_size=4),
        st.sets(st.binary(max_size=5), min_size=1, max_size=4),
    )


def values(*, sets_and_bytes: bool = True) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(sets_and_bytes=sets_and_bytes),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(min_size=1, max_size=5), children, max_size=4),
        ),
        max_leaves=10,
    )


def raw_items() -> st.SearchStrategy[dict[str, Any]]:
    """Raw items as DynamoDB returns them: built by to_item, B as base64 text."""
    return st.dictionaries(st.text(min_size=1, max_size=8), values(), max_size=6).map(raw_item)


def number_texts() -> st.SearchStrategy[str]:
    """Any number text DynamoDB accepts, canonical or not (exponents, zeros, signs)."""
    return st.one_of(
        storable_decimals().map(str),
        storable_decimals().map(lambda value: format(value, "f")),
        st.from_regex(r"-?0{0,2}[0-9]{1,6}(\.[0-9]{0,6})?", fullmatch=True),
        st.sampled_from(["-0", "0.0", "1.10", "1E+5", "1e-7", "0.000001", "0.0000001", "+5"]),
    )


def odd_raw_items() -> st.SearchStrategy[dict[str, Any]]:
    """Raw items with number text in any accepted form, also inside sets and maps."""
    leaves = st.one_of(
        number_texts().map(lambda text: {"N": text}),
        st.lists(number_texts(), min_size=1, max_size=4).map(lambda texts: {"NS": texts}),
        raw_items().map(lambda item: {"M": item}),
    )
    return st.dictionaries(st.text(min_size=1, max_size=4), leaves, max_size=5)


# ---------------------------------------------------------------------------------------------
# The registry


def test_formats_and_readable_formats() -> None:
    assert FORMATS == ("jsonl", "ddb-json", "csv", "parquet")
    assert READABLE_FORMATS == ("jsonl", "ddb-json", "csv")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown format 'xml'"):
        writer_for("xml", io.BytesIO())
    with pytest.raises(ValidationError, match="unknown format 'xml'"):
        reader_for("xml", io.BytesIO())
    with pytest.raises(ValidationError, match="does not read parquet"):
        reader_for("parquet", io.BytesIO())


def test_unknown_type_name_is_refused_before_reading() -> None:
    with pytest.raises(ValidationError, match="unknown type 'X' for attribute 'a'"):
        reader_for("jsonl", io.BytesIO(b'{"a": 1}\n'), types={"a": "X"})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("out.jsonl", "jsonl"),
        ("OUT.NDJSON", "jsonl"),
        ("a/b.jsonl.gz", "jsonl"),
        ("export.json", "ddb-json"),
        ("data/0123-abcd.json.gz", "ddb-json"),
        ("t.csv", "csv"),
        ("t.csv.gz", "csv"),
        ("t.parquet", "parquet"),
        ("t.txt", None),
        ("noext", None),
    ],
)
def test_format_from_path_by_extension(name: str, expected: str | None) -> None:
    assert format_from_path(name) == expected


def test_format_from_path_looks_inside_existing_json_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_bytes(b'\n{"id": "1", "n": 2}\n')
    typed = tmp_path / "typed.json"
    typed.write_bytes(b'{"id": {"S": "1"}}\n')
    wrapped = tmp_path / "export.json.gz"
    wrapped.write_bytes(gzip.compress(b'{"Item": {"id": {"S": "1"}}}\n'))
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"{nope\n")
    assert format_from_path(plain) == "jsonl"
    assert format_from_path(typed) == "ddb-json"
    assert format_from_path(wrapped) == "ddb-json"
    assert format_from_path(broken) == "ddb-json"


# ---------------------------------------------------------------------------------------------
# jsonl writer: byte-identical to dumps_plain(from_item(raw))


@settings(max_examples=300)
@given(st.lists(raw_items(), max_size=5))
def test_jsonl_writer_matches_dumps_plain_of_from_item(page: list[dict[str, Any]]) -> None:
    text = write("jsonl", [page]).decode()
    assert text == "".join(dumps_plain(from_item(raw)) + "\n" for raw in page)
    assert_plain_lines(text, page)


@settings(max_examples=300)
@given(odd_raw_items())
def test_jsonl_writer_matches_dumps_plain_for_any_number_text(raw: dict[str, Any]) -> None:
    text = write("jsonl", [[raw]]).decode()
    assert text == dumps_plain(from_item(raw)) + "\n"
    assert_plain_lines(text, [raw])


@given(number_texts())
def test_verbatim_numbers_are_exactly_what_dumps_plain_prints(text: str) -> None:
    if is_verbatim_number(text):
        assert dumps_plain(parse_number(text)) == text


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ({"n": {"N": "0.0000001"}}, '{"n":1E-7}'),
        ({"n": {"N": "0.000001"}}, '{"n":0.000001}'),
        ({"n": {"N": "-0"}}, '{"n":0}'),
        ({"n": {"N": "1.10"}}, '{"n":1.10}'),
        ({"n": {"N": "1.0"}}, '{"n":1}'),
        ({"n": {"N": "1E+2"}}, '{"n":100}'),
        ({"n": {"N": "1" + "0" * 30}}, '{"n":1' + "0" * 30 + "}"),
        ({"s": {"NS": ["10", "9", "-1.5", "1E+1"]}}, '{"s":[-1.5,9,10]}'),
        (
            {"s": {"NS": ["1.0000000000000000000000000000000000001", "1"]}},
            '{"s":[1,1.0000000000000000000000000000000000001]}',
        ),
        ({"s": {"SS": ["b", "a", "B", "é"]}}, '{"s":["B","a","b","é"]}'),
        ({"b": {"B": "QQ=="}, "s": {"BS": ["Ag==", "AQ=="]}}, '{"b":"QQ==","s":["AQ==","Ag=="]}'),
        (
            {"m": {"M": {"x": {"NULL": True}, "y": {"L": [{"BOOL": False}]}}}},
            '{"m":{"x":null,"y":[false]}}',
        ),
    ],
)
def test_jsonl_writer_examples(raw: dict[str, Any], line: str) -> None:
    assert write("jsonl", [[raw]]).decode() == line + "\n"
    assert dumps_plain(from_item(raw)) == line


def test_jsonl_writer_refuses_a_malformed_item_naming_the_path() -> None:
    with pytest.raises(InvalidValueError, match=r"attribute 'm.x\[1\]'"):
        write("jsonl", [[{"m": {"M": {"x": {"L": [{"S": "ok"}, {"N": "abc"}]}}}}]])
    with pytest.raises(InvalidValueError, match="must be a map"):
        write("jsonl", [[["not", "an", "item"]]])  # type: ignore[list-item]


def test_jsonl_writer_writes_every_page_before_returning() -> None:
    out = io.BytesIO()
    writer = JsonlWriter(out)
    writer.write_page([raw_item({"a": 1})])
    assert out.getvalue() == b'{"a":1}\n'
    writer.write_page([])
    assert out.getvalue() == b'{"a":1}\n'


def test_jsonl_write_items_takes_python_values() -> None:
    out = io.BytesIO()
    assert JsonlWriter(out).write_items([{"a": Decimal("1.5"), "s": {"y", "x"}}, {}]) == 2
    assert out.getvalue() == b'{"a":1.5,"s":["x","y"]}\n{}\n'


# ---------------------------------------------------------------------------------------------
# jsonl reader


def test_jsonl_reads_exact_numbers_and_plain_values() -> None:
    data = b'{"a": 1, "b": 1.10, "c": 1E+100, "d": [true, null, "x"], "e": {"f": 0.1}}\n'
    (item,) = read("jsonl", data)
    assert tagged(item) == tagged(
        {
            "a": 1,
            "b": Decimal("1.10"),
            "c": 10**100,
            "d": [True, None, "x"],
            "e": {"f": Decimal("0.1")},
        }
    )


def test_jsonl_without_types_keeps_sets_as_lists_and_bytes_as_base64() -> None:
    raw = raw_item({"s": {"b", "a"}, "n": {2, 1}, "blob": b"\x00\x01"})
    (item,) = read("jsonl", write("jsonl", [[raw]]))
    assert item == {"s": ["a", "b"], "n": [1, 2], "blob": "AAE="}


def test_jsonl_with_types_restores_sets_and_bytes() -> None:
    original = {"s": {"b", "a"}, "n": {2, Decimal("1.5")}, "blob": b"\x00\x01", "bs": {b"x"}}
    types = {"s": "SS", "n": "NS", "blob": "B", "bs": "BS", "absent": "SS"}
    (item,) = read("jsonl", write("jsonl", [[raw_item(original)]]), types=types)
    assert tagged(item) == tagged(original)


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            values(sets_and_bytes=False),
            st.binary(max_size=10),
            st.sets(st.text(), min_size=1, max_size=3),
            st.sets(storable_decimals(), min_size=1, max_size=3),
            st.sets(st.binary(max_size=4), min_size=1, max_size=3),
        ),
        max_size=6,
    )
)
def test_jsonl_round_trips_exactly_when_told_the_types(item: dict[str, Any]) -> None:
    raw = raw_item(item)
    types = {name: tag for name, av in raw.items() for tag in av if tag in ("B", "SS", "NS", "BS")}
    (back,) = read("jsonl", write("jsonl", [[raw]]), types=types)
    assert tagged(back) == tagged(from_item(raw))


def test_jsonl_types_convert_number_text_and_keep_nulls() -> None:
    (item,) = read("jsonl", b'{"n": "12.50", "m": null}\n', types={"n": "N", "m": "SS"})
    assert tagged(item) == tagged({"n": Decimal("12.50"), "m": None})


@pytest.mark.parametrize(
    ("line", "types", "words"),
    [
        (b'{"a": 1', None, "invalid JSON"),
        (b"[1, 2]", None, "expected a JSON object (one item), not an array"),
        (b'"text"', None, "not a string"),
        (b'{"a": NaN}', None, "NaN is not a JSON number"),
        (b'{"a": "\xff"}', None, "not UTF-8"),
        (b'{"s": "x"}', {"s": "SS"}, "attribute 's' is typed SS"),
        (b'{"b": "not base64!"}', {"b": "B"}, "attribute 'b' is typed B"),
        (b'{"n": "abc"}', {"n": "N"}, "attribute 'n' is typed N"),
    ],
)
def test_jsonl_bad_line_names_its_number(
    line: bytes, types: dict[str, str] | None, words: str
) -> None:
    data = b'{"ok": 1}\n\n' + line + b'\n{"ok": 2}\n'
    got = records("jsonl", data, types)
    assert [number for number, _ in got] == [1, 3, 4]
    assert got[0][1] == {"ok": 1}
    assert got[2][1] == {"ok": 2}
    error = got[1][1]
    assert isinstance(error, BadLineError)
    assert error.line == 3
    assert str(error).startswith("line 3: ")
    assert words in str(error)


def test_items_only_raises_the_first_bad_line() -> None:
    with pytest.raises(BadLineError, match="line 2: invalid JSON"):
        read("jsonl", b'{"a": 1}\n{oops\n')


def test_line_readers_accept_a_byte_order_mark_and_crlf() -> None:
    data = b'\xef\xbb\xbf{"a": 1}\r\n{"a": 2}\r\n'
    assert read("jsonl", data) == [{"a": 1}, {"a": 2}]


def test_jsonl_reads_gzip() -> None:
    assert read("jsonl", gzip.compress(b'{"a": 1}\n{"a": 2}\n')) == [{"a": 1}, {"a": 2}]


# ---------------------------------------------------------------------------------------------
# ddb-json


def test_ddb_json_writes_the_aws_export_layout() -> None:
    raw = {"id": {"S": "1"}, "n": {"N": "1.50"}, "b": {"B": "AAE="}}
    assert write("ddb-json", [[raw]]) == (
        b'{"Item":{"id":{"S":"1"},"n":{"N":"1.50"},"b":{"B":"AAE="}}}\n'
    )


def test_ddb_json_writer_accepts_botocore_bytes() -> None:
    out = io.BytesIO()
    DdbJsonWriter(out).write_page([{"b": {"B": b"\x00\x01"}, "bs": {"BS": [b"x"]}}])
    assert out.getvalue() == b'{"Item":{"b":{"B":"AAE="},"bs":{"BS":["eA=="]}}}\n'


def test_ddb_json_write_items_uses_the_converter() -> None:
    out = io.BytesIO()
    DdbJsonWriter(out).write_items([{"id": "1", "n": Decimal("2.50")}])
    assert out.getvalue() == b'{"Item":{"id":{"S":"1"},"n":{"N":"2.5"}}}\n'


@settings(max_examples=300)
@given(st.lists(raw_items(), max_size=5))
def test_ddb_json_round_trip_is_lossless(page: list[dict[str, Any]]) -> None:
    back = read("ddb-json", write("ddb-json", [page, page[:1]]))
    expected = [from_item(raw) for raw in [*page, *page[:1]]]
    assert [tagged(item) for item in back] == [tagged(item) for item in expected]


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"Item": {"S": "x"}},
        {"M": {"S": "x"}},
        {"M": {"M": {"a": {"N": "1"}}}},
        {"S": {"S": "x"}},
        {"Item": {"M": {"Item": {"S": "x"}}}},
    ],
)
def test_ddb_json_items_that_look_like_the_wrapper_round_trip(raw: dict[str, Any]) -> None:
    assert read("ddb-json", write("ddb-json", [[raw]])) == [from_item(raw)]


def test_ddb_json_reads_bare_typed_items_and_aws_exports() -> None:
    data = (
        b'{"id": {"S": "1"}}\n'
        b'{"Item": {"S": "x"}}\n'  # a bare item whose one attribute is named Item
        b'{"Item": {"Item": {"S": "y"}}}\n'
        b'{"Item": {"M": {"a": {"N": "1"}}}}\n'  # bare: attribute Item is a map
    )
    assert read("ddb-json", data) == [
        {"id": "1"},
        {"Item": "x"},
        {"Item": "y"},
        {"Item": {"a": 1}},
    ]


def test_ddb_json_reads_a_gzipped_aws_export() -> None:
    lines = b"".join(
        orjson.dumps({"Item": raw_item({"id": str(n), "b": bytes([n])})}) + b"\n"
        for n in range(100)
    )
    # AWS writes one gzip member per file; cat-ed files have several.
    data = gzip.compress(lines[: len(lines) // 2]) + gzip.compress(lines[len(lines) // 2 :])
    items = read("ddb-json", data)
    assert [item["id"] for item in items] == [str(n) for n in range(100)]
    assert items[7]["b"] == b"\x07"


def test_ddb_json_bad_line_names_its_number_and_reading_goes_on() -> None:
    data = b'{"Item": {"a": {"N": "1"}}}\n{"Item": {"a": {"N": "x"}}}\n[]\n{"a": {"S": "ok"}}\n'
    got = records("ddb-json", data)
    assert [number for number, _ in got] == [1, 2, 3, 4]
    assert isinstance(got[1][1], BadLineError)
    assert "line 2: attribute 'a'" in str(got[1][1])
    assert isinstance(got[2][1], BadLineError)
    assert "line 3: expected a JSON object" in str(got[2][1])
    assert got[3][1] == {"a": "ok"}


def test_truncated_gzip_raises_naming_the_last_line() -> None:
    data = gzip.compress(b'{"a": {"S": "x"}}\n' * 1000)[:-30]
    reader = read_ddb_json(io.BytesIO(data))
    with pytest.raises(
        ValidationError, match="reading the input is corrupt or cut short after line"
    ):
        list(reader)


def test_readers_leave_the_stream_open() -> None:
    for reader in (read_jsonl, read_ddb_json, read_csv):
        stream = io.BytesIO(b"a\n")
        list(reader(stream))
        assert not stream.closed


# ---------------------------------------------------------------------------------------------
# csv writer


def csv_text(pages: list[list[dict[str, Any]]], **options: Any) -> str:
    out = io.BytesIO()
    writer = CsvWriter(out, **options)
    for page in pages:
        writer.write_page(page)
    writer.close()
    return out.getvalue().decode("utf-8")


def test_csv_header_is_the_union_of_names_in_first_seen_order() -> None:
    pages = [
        [raw_item({"id": "1", "b": 1}), raw_item({"id": "2", "c": True})],
        [raw_item({"a": None, "id": "3"})],
    ]
    assert csv_text(pages) == "id,b,c,a\r\n1,1,,\r\n2,,true,\r\n3,,,\r\n"


def test_csv_first_columns_come_first_even_when_unseen() -> None:
    pages = [[raw_item({"x": "1", "sk": 2, "pk": "p"})]]
    assert csv_text(pages, first_columns=["pk", "sk", "gone"]) == "pk,sk,gone,x\r\np,2,,1\r\n"


def test_csv_fixed_columns_stream_and_leave_out_other_attributes() -> None:
    out = io.BytesIO()
    writer = CsvWriter(out, columns=["b", "a"])
    writer.write_page([raw_item({"a": "1", "b": "2", "c": "3"})])
    assert out.getvalue() == b"b,a\r\n2,1\r\n"  # written before close()
    writer.close()
    assert out.getvalue() == b"b,a\r\n2,1\r\n"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("plain", "plain"),
        ("", ""),
        (12, "12"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("1.50"), "1.5"),
        (10**30, "1" + "0" * 30),
        (0.1, "0.1"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        (b"\x00\x01", "AAE="),
        ({"a": [1, "x"]}, '{"a":[1,"x"]}'),
        ([Decimal("0.0000001")], "[1E-7]"),
        ({"b", "a"}, '["a","b"]'),
        ({3, 1}, "[1,3]"),
        ({b"\x02", b"\x01"}, '["AQ==","Ag=="]'),
    ],
)
def test_csv_cells_are_the_same_from_raw_and_python_items(value: Any, cell: str) -> None:
    assert value_cell(value) == cell
    assert raw_cell(raw_form(to_item({"v": value}))["v"]) == cell


def test_csv_cell_of_non_canonical_number_text_is_canonical() -> None:
    assert raw_cell({"N": "1.50"}) == "1.5"
    assert raw_cell({"N": "1E+3"}) == "1000"
    with pytest.raises(InvalidValueError):
        raw_cell({"N": "abc"})


def test_csv_refuses_values_it_cannot_write() -> None:
    with pytest.raises(InvalidValueError, match="cannot be written to CSV"):
        value_cell(object())


def test_csv_write_items_and_write_page_mix() -> None:
    out = io.BytesIO()
    writer = CsvWriter(out, first_columns=["id"])
    writer.write_items([{"id": "1", "n": Decimal("2.5")}])
    writer.write_page([raw_item({"id": "2", "tags": {"x"}})])
    writer.close()
    writer.close()  # twice is fine
    assert out.getvalue() == b'id,n,tags\r\n1,2.5,\r\n2,,"[""x""]"\r\n'


def test_csv_of_nothing_is_an_empty_file_or_just_the_header() -> None:
    assert csv_text([]) == ""
    assert csv_text([], first_columns=["pk"]) == "pk\r\n"


def test_csv_spills_rows_to_disk_not_memory(tmp_path: Path) -> None:
    out = io.BytesIO()
    writer = CsvWriter(out, spill_dir=str(tmp_path))
    writer.write_page([raw_item({"id": str(n), f"c{n % 7}": n}) for n in range(5000)])
    assert out.getvalue() == b""
    writer.close()
    lines = out.getvalue().decode().split("\r\n")
    assert lines.pop() == ""
    assert lines[0] == "id,c0,c1,c2,c3,c4,c5,c6"
    assert len(lines) == 5001
    assert lines[4999 + 1] == "4999," + ",".join("4999" if k == 4999 % 7 else "" for k in range(7))


# ---------------------------------------------------------------------------------------------
# csv reader

TRICKY = [
    "comma, inside",
    'quote " inside',
    "new\nline",
    "crlf\r\nline",
    "unicode: 日本語 ✓ 🚀",
    "  spaces  ",
    "=formula",
    "tab\tinside",
]


def test_csv_tricky_cells_read_back() -> None:
    items = [{"id": str(n), "text": text} for n, text in enumerate(TRICKY)]
    data = csv_text([[raw_item(item) for item in items]]).encode()
    assert read("csv", data) == items


def test_csv_record_numbers_are_the_line_each_record_starts_on() -> None:
    data = b'id,text\r\n1,"two\nlines"\r\n2,x\r\n'
    assert [number for number, _ in records("csv", data)] == [2, 4]


def test_csv_untyped_cells_are_strings_and_empty_cells_are_absent() -> None:
    data = b"id,n,flag,empty\r\n1,2.50,true,\r\n"
    assert read("csv", data) == [{"id": "1", "n": "2.50", "flag": "true"}]


def test_csv_types_convert_cells() -> None:
    raw = raw_item(
        {
            "id": "1",
            "n": Decimal("2.5"),
            "big": 10**40,
            "flag": False,
            "blob": b"\x00",
            "tags": {"b", "a"},
            "nums": {1, Decimal("0.5")},
            "bins": {b"x"},
            "m": {"a": [1, "x"]},
            "l": [Decimal("0.0000001")],
        }
    )
    types = {
        "n": "N",
        "big": "n",
        "flag": "BOOL",
        "blob": "B",
        "tags": "SS",
        "nums": "NS",
        "bins": "BS",
        "m": "M",
        "l": "L",
    }
    (item,) = read("csv", csv_text([[raw]]).encode(), types=types)
    assert tagged(item) == tagged(from_item(raw))


def test_csv_null_type_reads_the_word_null() -> None:
    assert read("csv", b"a,b\r\nnull,NULL\r\n", types={"a": "NULL", "b": "NULL"}) == [
        {"a": None, "b": None}
    ]


def test_csv_reads_gzip_and_a_byte_order_mark() -> None:
    data = gzip.compress("\ufeffid,name\r\n1,é\r\n".encode())
    assert read("csv", data) == [{"id": "1", "name": "é"}]


def test_csv_short_rows_are_bad_lines_and_blank_lines_are_skipped() -> None:
    got = records("csv", b"a,b,c\r\n1\r\n\r\n,,\r\n2,3,\r\n")
    assert [number for number, _ in got] == [2, 5]
    assert str(got[0][1]) == "line 2: 1 cells but the header has 3 columns"
    assert got[1][1] == {"a": "2", "b": "3"}


def test_csv_unbalanced_quote_is_an_error_naming_its_line_not_a_swallowed_file() -> None:
    # The quote opened on line 2 swallows every later line into one field unless refused.
    data = b'id,note\nr1,"oops\nr2,fine\nr3,fine\n'
    with pytest.raises(ValidationError, match="line 2: a quoted field opens on this line"):
        records("csv", data)


def test_csv_file_cut_inside_a_quoted_field_is_an_error() -> None:
    with pytest.raises(ValidationError, match="line 3: .*cut short"):
        records("csv", b'id,note\nr1,"whole"\nr2,"cut in the mid')


def test_csv_stray_quote_is_a_bad_line_and_reading_goes_on() -> None:
    got = records("csv", b'id,note\nr1,"x"y\nr2,ok\n')
    assert isinstance(got[0][1], BadLineError) and got[0][0] == 2
    assert got[1][1] == {"id": "r2", "note": "ok"}


def test_csv_bad_records_name_their_line_and_reading_goes_on() -> None:
    data = b"a,n\r\n1,2\r\n1,2,3\r\nx,abc\r\ny,5\r\n"
    got = records("csv", data, {"n": "N"})
    assert [number for number, _ in got] == [2, 3, 4, 5]
    assert got[0][1] == {"a": "1", "n": 2}
    assert isinstance(got[1][1], BadLineError)
    assert str(got[1][1]) == "line 3: 3 cells but the header has 2 columns"
    assert isinstance(got[2][1], BadLineError)
    assert "line 4: attribute 'n' is typed N" in str(got[2][1])
    assert got[3][1] == {"a": "y", "n": 5}


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"a,,b\r\n", "a name is empty"), (b"a,b,a\r\n", "names column 'a' twice")],
)
def test_csv_bad_header_raises(data: bytes, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        read("csv", data)


def test_csv_empty_input_has_no_items() -> None:
    assert read("csv", b"") == []


def test_csv_reads_cells_larger_than_the_default_field_limit() -> None:
    big = "x" * 300_000
    assert read("csv", f"a\r\n{big}\r\n".encode()) == [{"a": big}]


@settings(max_examples=150)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["a", "b", "c", "d"]),
            st.text(min_size=1).filter(lambda text: "\x00" not in text),
            max_size=4,
        ),
        max_size=5,
    )
)
def test_csv_round_trips_non_empty_strings(items: list[dict[str, str]]) -> None:
    data = csv_text([[raw_item(item) for item in items]]).encode()
    assert read("csv", data) == [item for item in items if item]


# ---------------------------------------------------------------------------------------------
# One item from a scan page, as the exporter sees it


def page_of(count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield raw_item({"id": f"u{n}", "n": n, "tags": {"a", "b"}, "m": {"x": [1, None]}})


def test_every_writer_returns_the_count_and_leaves_the_stream_open() -> None:
    page = list(page_of(3))
    for fmt in ("jsonl", "ddb-json", "csv"):
        out = io.BytesIO()
        writer = writer_for(fmt, out, first_columns=["id"])
        assert writer.write_page(page) == 3
        writer.close()
        assert not out.closed
        assert len(read(fmt, out.getvalue())) == 3


def test_plain_item_is_what_dumps_plain_writes() -> None:
    for raw in page_of(3):
        assert orjson.dumps(plain_item(raw)).decode() == dumps_plain(from_item(raw))
