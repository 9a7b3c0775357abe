"""The converter against the real engine: what DynamoDB accepts we accept and read back equal;
what it refuses we refuse before sending."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbkit.errors import InvalidValueError
from ddbkit.values.serialize import format_number, from_item, to_attribute, to_item
from tests.conftest import raw_table

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(endpoint: str) -> Iterator[tuple[Any, str]]:
    """A boto3 client on the session's engine and a uuid-named table keyed by ``pk`` (S)."""
    with raw_table(endpoint, "pk", "numbers") as engine:
        yield engine


MAX_N = Decimal("9.9999999999999999999999999999999999999E+125")
MAX_N_NEGATIVE = Decimal("-9.9999999999999999999999999999999999999E+125")


def write_and_read(engine: tuple[Any, str], attributes: dict[str, Any]) -> dict[str, Any]:
    """Put an item through to_item, get it back (consistent read) as the raw wire item."""
    client, table = engine
    key = uuid.uuid4().hex
    client.put_item(TableName=table, Item=to_item({"pk": key, **attributes}))
    got = client.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)
    item: dict[str, Any] = got["Item"]
    return item


def engine_refuses(engine: tuple[Any, str], av: dict[str, Any]) -> str:
    """Send a raw attribute value past the converter; return the engine's refusal message."""
    client, table = engine
    with pytest.raises(ClientError) as caught:
        client.put_item(TableName=table, Item={"pk": {"S": uuid.uuid4().hex}, "v": av})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def expected_number(value: int | float | Decimal) -> int | Decimal:
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return int(exact) if int(exact) == exact else exact


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(10**40, id="10**40"),
        pytest.param(11111111110000000000000000000000000000, id="38-digits-ending-in-zeros"),
        pytest.param(12345678901234567890123456789012345678000, id="38-significant-then-zeros"),
        pytest.param(Decimal("1E+100"), id="1E+100"),
        pytest.param(Decimal("1E-130"), id="1E-130"),
        pytest.param(Decimal("-1E-130"), id="-1E-130"),
        pytest.param(
            Decimal("1.0000000000000000000000000000000000001E-130"), id="38-digits-at-1E-130"
        ),
        pytest.param(MAX_N, id="max"),
        pytest.param(MAX_N_NEGATIVE, id="min"),
        pytest.param(Decimal("-0"), id="-0"),
        pytest.param(Decimal("0E+500"), id="0E+500"),
        pytest.param(0.0, id="0.0"),
        pytest.param(-0.0, id="float--0.0"),
        pytest.param(1.0, id="1.0"),
        pytest.param(1e16, id="1e16"),
        pytest.param(0.1, id="0.1"),
        pytest.param(Decimal("1.10"), id="Decimal-1.10"),
        pytest.param(Decimal("0." + "1" * 38), id="38-digit-fraction"),
        pytest.param(2**63, id="2**63"),
    ],
)
def test_number_edge_cases_read_back_equal(engine: tuple[Any, str], value: Any) -> None:
    item = write_and_read(engine, {"n": value, "ns": {value}, "l": [value]})
    # the engine returns exactly the canonical text the converter sent
    assert item["n"] == {"N": format_number(value)}
    got = from_item(item)
    expected = expected_number(value)
    assert got["n"] == expected
    assert type(got["n"]) is type(expected)
    assert got["ns"] == {expected}
    assert got["l"] == [expected]


@pytest.mark.parametrize(
    ("text", "engine_words"),
    [
        ("1E+126", "overflow"),
        ("10E+125", "overflow"),
        ("-1E+126", "overflow"),
        ("1E-131", "underflow"),
        ("9.9999999999999999999999999999999999999E-131", "underflow"),
        ("1" * 39, "precision"),
        ("100000000000000000000000000000000000001", "precision"),
        ("1." + "1" * 38, "precision"),
        ("0.0000000000" + "1" * 39, "precision"),
        ("NaN", "cannot be converted"),
        ("Infinity", "cannot be converted"),
    ],
)
def test_numbers_the_engine_refuses_are_refused_before_sending(
    engine: tuple[Any, str], text: str, engine_words: str
) -> None:
    assert engine_words in engine_refuses(engine, {"N": text})
    with pytest.raises(InvalidValueError) as caught:
        to_item({"v": Decimal(text)})
    assert caught.value.path == "v"


def test_empty_values_are_stored_outside_keys(engine: tuple[Any, str]) -> None:
    values = {"s": "", "b": b"", "l": [], "m": {}, "ss": {""}, "bs": {b""}, "ml": {"x": [{}]}}
    got = from_item(write_and_read(engine, values))
    del got["pk"]
    assert got == values


def test_empty_sets_and_empty_names_are_refused_by_both(engine: tuple[Any, str]) -> None:
    assert "may not be empty" in engine_refuses(engine, {"SS": []})
    with pytest.raises(InvalidValueError, match="empty set"):
        to_attribute(set(), "v")
    assert "Empty attribute name" in engine_refuses(engine, {"M": {"": {"S": "x"}}})
    with pytest.raises(InvalidValueError, match="empty map key"):
        to_attribute({"": "x"}, "v")


def test_duplicate_numbers_in_a_set_are_merged_before_sending(engine: tuple[Any, str]) -> None:
    assert "duplicates" in engine_refuses(engine, {"NS": ["1", "1.0"]})
    assert "duplicates" in engine_refuses(engine, {"NS": ["0", "-0"]})
    got = from_item(write_and_read(engine, {"ns": {0.1, Decimal("0.1"), 2}}))
    assert got["ns"] == {Decimal("0.1"), 2}


def nested(levels: int) -> Any:
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def test_nesting_limit_matches_the_engine(engine: tuple[Any, str]) -> None:
    deepest = nested(31)
    assert from_item(write_and_read(engine, {"v": deepest}))["v"] == deepest
    assert "Nesting Levels" in engine_refuses(engine, {"L": [to_attribute(deepest)]})
    with pytest.raises(InvalidValueError, match="more than 31 levels"):
        to_attribute(nested(32), "v")


def storable_decimals() -> st.SearchStrategy[Decimal]:
    def build(negative: bool, digits: str, adjusted: int) -> Decimal:
        return Decimal(f"{'-' if negative else ''}{digits}E{adjusted - len(digits) + 1}")

    return st.builds(
        build,
        st.booleans(),
        st.from_regex(r"[1-9][0-9]{0,37}", fullmatch=True),
        st.integers(min_value=-130, max_value=125),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=storable_decimals())
def test_engine_returns_the_text_we_send_for_any_storable_number(
    engine: tuple[Any, str], value: Decimal
) -> None:
    item = write_and_read(engine, {"n": value})
    assert item["n"] == {"N": format_number(value)}
    assert from_item(item)["n"] == value
