"""Item size as DynamoDB counts it; the expected sizes were measured on DynamoDB Local.

Each size below is what PutItem showed: the largest filler string accepted next to the value
moves by exactly the value's size. The last test repeats that measurement on the engine.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbkit.errors import InvalidValueError
from ddbkit.values.itemsize import MAX_ITEM_SIZE, attribute_size, item_size, number_size
from ddbkit.values.serialize import to_item

# (value, its size without the attribute name), as measured on DynamoDB Local.
MEASURED: list[tuple[dict[str, Any], int]] = [
    ({"S": ""}, 0),
    ({"S": "abc"}, 3),
    ({"S": "é"}, 2),
    ({"N": "0"}, 1),
    ({"N": "1"}, 2),
    ({"N": "12"}, 2),
    ({"N": "123"}, 3),
    ({"N": "1234"}, 3),
    ({"N": "-1"}, 3),
    ({"N": "-12"}, 3),
    ({"N": "-123"}, 4),
    ({"N": "1.1"}, 3),
    ({"N": "0.1"}, 2),
    ({"N": "0.01"}, 2),
    ({"N": "10"}, 2),
    ({"N": "100"}, 2),
    ({"N": "1000000"}, 2),
    ({"N": "1" + "0" * 125}, 2),
    ({"N": "0." + "0" * 129 + "1"}, 2),
    ({"N": "9" * 38}, 20),
    ({"N": "-" + "9" * 38}, 21),
    ({"N": "12.34"}, 3),
    ({"N": "1.234"}, 4),
    ({"N": "0.001"}, 2),
    ({"N": "123456789"}, 6),
    ({"B": b""}, 0),
    ({"B": b"x" * 10}, 10),
    ({"BOOL": True}, 1),
    ({"NULL": True}, 1),
    ({"L": []}, 3),
    ({"M": {}}, 3),
    ({"L": [{"S": "a"}]}, 5),
    ({"L": [{"S": "a"}, {"S": "b"}]}, 7),
    ({"M": {"k": {"S": "a"}}}, 6),
    ({"M": {"kk": {"S": "a"}}}, 7),
    ({"L": [{"L": []}]}, 7),
    ({"L": [{"N": "1"}]}, 6),
    ({"SS": ["a"]}, 1),
    ({"SS": ["a", "b"]}, 2),
    ({"SS": ["aa", "bb", "cc"]}, 6),
    ({"NS": ["1"]}, 2),
    ({"NS": ["1", "2"]}, 4),
    ({"BS": [b"x"]}, 1),
    ({"BS": [b"x", b"yy"]}, 3),
]


def raw_form(wire: Any) -> Any:
    def b64(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(type(value).__name__)

    return orjson.loads(orjson.dumps(wire, default=b64))


@pytest.mark.parametrize(("value", "size"), MEASURED, ids=lambda value: repr(value)[:40])
def test_attribute_sizes_match_the_engine(value: dict[str, Any], size: int) -> None:
    assert attribute_size(value) == size
    assert attribute_size(raw_form(value)) == size  # B as base64 text counts its raw bytes
    assert item_size({"v": value}) == size + 1


def test_item_size_adds_names_in_utf8() -> None:
    assert item_size({}) == 0
    assert item_size({"id": {"S": "a"}, "é": {"BOOL": True}}) == 2 + 1 + 2 + 1


@pytest.mark.parametrize(
    ("text", "size"),
    [("1E+3", 2), ("1.50", 3), ("-0", 1), ("0.000", 1), ("007", 2), ("-1.5E-3", 3)],
)
def test_number_text_in_any_form_counts_its_value(text: str, size: int) -> None:
    assert number_size(text) == size


def reference_size(number: Decimal) -> int:
    """The pairing rule computed from the Decimal's digits, independently of number_size."""
    sign, digits, exponent = number.as_tuple()  # not normalize(): it rounds to 28 digits
    assert isinstance(exponent, int)
    if not any(digits):
        return 1
    while digits[-1] == 0:
        digits = digits[:-1]
        exponent += 1
    highest = exponent + len(digits) - 1
    pairs = highest // 2 - exponent // 2 + 1
    return 1 + pairs + sign


def storable_decimals() -> st.SearchStrategy[Decimal]:
    def build(negative: bool, digits: str, adjusted: int) -> Decimal:
        return Decimal(f"{'-' if negative else ''}{digits}E{adjusted - len(digits) + 1}")

    return st.builds(
        build,
        st.booleans(),
        st.from_regex(r"[1-9][0-9]{0,37}", fullmatch=True),
        st.integers(min_value=-130, max_value=125),
    )


@given(storable_decimals(), st.integers(0, 3))
def test_number_size_follows_the_pairing_rule_in_any_text_form(number: Decimal, pad: int) -> None:
    expected = reference_size(number)
    plain = format(number, "f")
    padded = plain + ("." if "." not in plain else "") + "0" * pad if pad else plain
    assert number_size(plain) == expected  # the form DynamoDB returns
    assert number_size(padded) == expected  # trailing zeros do not count
    assert number_size(str(number)) == expected  # exponent form
    assert number_size("00" + plain.lstrip("-")) == reference_size(number.copy_abs())


@given(st.binary(max_size=50))
def test_base64_text_counts_as_its_bytes(data: bytes) -> None:
    assert attribute_size({"B": base64.b64encode(data).decode()}) == len(data)


def test_an_item_of_exactly_the_limit() -> None:
    item = {"id": {"S": "a"}, "p": {"S": "x" * (MAX_ITEM_SIZE - 4)}}
    assert item_size(item) == MAX_ITEM_SIZE == 409_600
    assert item_size(to_item({"id": "a", "p": "x" * (MAX_ITEM_SIZE - 3)})) == MAX_ITEM_SIZE + 1


@pytest.mark.parametrize(
    "value", [{"X": "1"}, {"S": "a", "N": "1"}, "text", {"N": "abc"}, {"N": "NaN"}]
)
def test_malformed_values_are_refused(value: Any) -> None:
    with pytest.raises(InvalidValueError):
        item_size({"a": value})
