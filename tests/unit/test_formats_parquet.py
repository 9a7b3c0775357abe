"""Parquet export: column types, the extra column, row groups, and the missing-extra error."""

from __future__ import annotations

import base64
import importlib
import io
from decimal import Decimal
from typing import Any

import orjson
import pytest

from ddbkit.errors import MissingExtraError
from ddbkit.formats import writer_for
from ddbkit.formats.parquet import ParquetWriter
from ddbkit.values.serialize import to_item

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def raw_item(item: dict[str, Any]) -> dict[str, Any]:
    def b64(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(type(value).__name__)

    result: dict[str, Any] = orjson.loads(orjson.dumps(to_item(item), default=b64))
    return result


def export(items: list[dict[str, Any]], **options: Any) -> Any:
    out = io.BytesIO()
    writer = ParquetWriter(out, **options)
    assert writer.write_page([raw_item(item) for item in items]) == len(items)
    writer.close()
    assert not out.closed
    return pq.ParquetFile(io.BytesIO(out.getvalue()))


def column_types(file: Any) -> dict[str, str]:
    return {field.name: str(field.type) for field in file.schema_arrow}


def ddb_types(file: Any) -> dict[str, str]:
    return {field.name: field.metadata[b"ddbkit.type"].decode() for field in file.schema_arrow}


JSON = str(pa.json_()) if hasattr(pa, "json_") else "string"


def test_columns_take_the_type_of_their_values() -> None:
    file = export(
        [
            {
                "id": "a",
                "count": 3,
                "price": Decimal("9.99"),
                "ok": True,
                "blob": b"\x00\x01",
                "tags": {"y", "x"},
                "nums": {2, 1},
                "meta": {"k": [1, None]},
                "list": ["a"],
                "nothing": None,
            },
            {"id": "b", "count": -(2**63), "price": Decimal("-123456.5"), "ok": False},
        ]
    )
    assert column_types(file) == {
        "id": "string",
        "count": "int64",
        "price": "decimal128(38, 9)",
        "ok": "bool",
        "blob": "binary",
        "tags": JSON,
        "nums": JSON,
        "meta": JSON,
        "list": JSON,
        "nothing": "null",
        "_extra": JSON,
    }
    assert ddb_types(file) == {
        "id": "S",
        "count": "N",
        "price": "N",
        "ok": "BOOL",
        "blob": "B",
        "tags": "SS",
        "nums": "NS",
        "meta": "M",
        "list": "L",
        "nothing": "NULL",
        "_extra": "extra",
    }
    assert file.schema_arrow.metadata == {b"ddbkit.extra_column": b"_extra"}
    rows = file.read().to_pylist()
    assert rows[0] == {
        "id": "a",
        "count": 3,
        "price": Decimal("9.990000000"),
        "ok": True,
        "blob": b"\x00\x01",
        "tags": '["x","y"]',
        "nums": "[1,2]",
        "meta": '{"k":[1,null]}',
        "list": '["a"]',
        "nothing": None,
        "_extra": None,
    }
    assert rows[1]["count"] == -(2**63)
    assert rows[1]["price"] == Decimal("-123456.5")
    assert rows[1]["blob"] is None


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ([1, 2**63 - 1], "int64"),
        ([1, 2**63], "decimal128(38, 9)"),
        ([1, Decimal("0.5")], "decimal128(38, 9)"),
        ([10**28, Decimal("0.123456789")], "decimal128(38, 9)"),
        ([Decimal("0.0000000001")], "decimal128(38, 10)"),
        ([10**30, Decimal("0.5")], "decimal128(38, 1)"),
        ([10**37, Decimal("0.5")], "string"),
        ([Decimal("1E-130")], "string"),
        ([10**40], "string"),
    ],
)
def test_number_columns_are_exact(numbers: list[Any], expected: str) -> None:
    file = export([{"n": number} for number in numbers])
    assert column_types(file)["n"] == expected
    values = file.read().column("n").to_pylist()
    if expected == "string":
        assert [Decimal(value) for value in values] == [Decimal(n) for n in numbers]
    else:
        assert values == numbers


def test_attributes_seen_late_and_misfits_go_to_the_extra_column() -> None:
    items: list[dict[str, Any]] = [
        {"id": "1", "n": 1, "s": "x"},
        {"id": "2", "n": 2, "s": "y"},
        {"id": "3", "n": Decimal("2.5"), "s": 7, "late": "new", "b": b"\x01"},
        {"id": "4", "n": None},
    ]
    file = export(items, row_group_size=2)
    assert file.metadata.num_row_groups == 2
    assert list(column_types(file)) == ["id", "n", "s", "_extra"]
    rows = file.read().to_pylist()
    assert rows[2] == {
        "id": "3",
        "n": None,
        "s": None,
        "_extra": '{"n":{"N":"2.5"},"s":{"N":"7"},"late":{"S":"new"},"b":{"B":"AQ=="}}',
    }
    assert rows[3] == {"id": "4", "n": None, "s": None, "_extra": None}


def test_the_type_most_values_have_wins() -> None:
    file = export([{"v": 1}, {"v": "a"}, {"v": "b"}])
    assert column_types(file)["v"] == "string"
    assert file.read().column("_extra").to_pylist() == ['{"v":{"N":"1"}}', None, None]


def test_extra_column_name_avoids_attribute_names() -> None:
    file = export([{"_extra": "mine", "__extra": 1}])
    assert list(column_types(file)) == ["_extra", "__extra", "___extra"]
    assert file.schema_arrow.metadata == {b"ddbkit.extra_column": b"___extra"}


def test_first_columns_lead_even_when_unseen() -> None:
    file = export([{"x": 1, "sk": 2, "pk": "p"}], first_columns=["pk", "sk", "gone"])
    assert list(column_types(file)) == ["pk", "sk", "gone", "x", "_extra"]
    assert column_types(file)["gone"] == "null"


def test_empty_export_is_a_readable_file() -> None:
    file = export([], first_columns=["pk"])
    assert list(column_types(file)) == ["pk", "_extra"]
    assert file.read().num_rows == 0


def test_row_groups_bound_memory() -> None:
    out = io.BytesIO()
    writer = ParquetWriter(out, row_group_size=100)
    for start in range(0, 1000, 30):
        writer.write_page([raw_item({"id": str(n)}) for n in range(start, min(start + 30, 1000))])
        assert len(writer._pending) < 100
    writer.close()
    file = pq.ParquetFile(io.BytesIO(out.getvalue()))
    assert file.metadata.num_row_groups == 10
    assert file.read().column("id").to_pylist() == [str(n) for n in range(1000)]


def test_writer_for_parquet_and_double_close() -> None:
    out = io.BytesIO()
    writer = writer_for("parquet", out, first_columns=["id"])
    writer.write_page([raw_item({"id": "1"})])
    writer.close()
    writer.close()
    assert pq.read_table(io.BytesIO(out.getvalue())).column("id").to_pylist() == ["1"]


def test_writing_to_a_real_file_leaves_it_open(tmp_path: Any) -> None:
    path = tmp_path / "t.parquet"
    with path.open("wb") as out:
        writer = ParquetWriter(out)
        writer.write_page([raw_item({"id": "1"})])
        writer.close()
        assert not out.closed
    assert pq.read_table(path).num_rows == 1


def test_missing_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_pyarrow(name: str, package: str | None = None) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_pyarrow)
    with pytest.raises(MissingExtraError, match=r"pip install 'ddbkit\[parquet\]'"):
        writer_for("parquet", io.BytesIO())
