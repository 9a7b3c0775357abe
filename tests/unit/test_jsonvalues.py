"""JSON text for the CLI: exact numbers both ways, sets sorted, bytes as base64, typed JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.values.jsonvalues import dumps_plain, dumps_typed, loads_exact, loads_typed

MAX_N = Decimal("9.9999999999999999999999999999999999999E+125")
MIN_N = Decimal("1E-130")
DIGITS_38 = Decimal("12345678901234567890.123456789012345678")


# ---------------------------------------------------------------------------------------------
# Helpers


def tagged(value: Any) -> Any:
    """A comparable form that also tells int, Decimal, bool and the container types apart."""
    if isinstance(value, dict):
        return ("dict", tuple((key, tagged(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(tagged(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(tagged(item) for item in value))
    return (type(value).__name__, value)


def number(value: Decimal) -> int | Decimal:
    """How an exact number reads back: int when integral (and printable as int), else Decimal."""
    if value.is_zero():
        return 0
    return int(value) if value.adjusted() < 4300 and int(value) == value else value


def normalized(value: Any) -> Any:
    """What a value reads back as: floats as Decimal(repr), integral numbers as int."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return number(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [normalized(item) for item in value]
    if isinstance(value, Mapping):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return {normalized(item) for item in value}
    raise AssertionError(f"unexpected value {value!r}")


def depth(value: Any) -> int:
    if isinstance(value, (list, tuple)):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


def holds_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(holds_float(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_float(item) for item in value)
    return False


# ---------------------------------------------------------------------------------------------
# Strategies


def storable_decimals() -> st.SearchStrategy[Decimal]:
    def build(negative: bool, digits: str, adjusted: int) -> Decimal:
        exponent = adjusted - len(digits) + 1
        return Decimal(f"{'-' if negative else ''}{digits}E{exponent}")

    return st.builds(
        build,
        st.booleans(),
        st.from_regex(r"[1-9][0-9]{0,37}", fullmatch=True),
        st.integers(min_value=-130, max_value=125),
    ) | st.just(Decimal(0))


def storable_floats() -> st.SearchStrategy[float]:
    return st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda value: value == 0 or MIN_N <= Decimal(repr(value)).copy_abs() <= MAX_N
    )


def storable_values() -> st.SearchStrategy[Any]:
    """Everything DynamoDB can store, sets and bytes included."""
    numbers = st.one_of(
        st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1), storable_decimals()
    )
    scalars = st.one_of(
        st.text(),
        numbers,
        storable_floats(),
        st.binary(),
        st.booleans(),
        st.none(),
        st.sets(st.text(), min_size=1, max_size=4),
        st.frozensets(numbers, min_size=1, max_size=4),
        st.sets(st.binary(), min_size=1, max_size=4),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(min_size=1), children, max_size=4),
        ),
        max_leaves=12,
    )


def plain_values() -> st.SearchStrategy[Any]:
    """What plain JSON carries without loss: no sets, no bytes; any finite number."""
    scalars = st.one_of(
        st.text(),
        st.integers(),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)
        ),
        max_leaves=12,
    )


# ---------------------------------------------------------------------------------------------
# dumps_plain


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+100"), "1E+100"),
        (Decimal("0.1"), "0.1"),
        (Decimal("1.10"), "1.10"),
        (DIGITS_38, "12345678901234567890.123456789012345678"),
        (MAX_N, "9.9999999999999999999999999999999999999E+125"),
        (Decimal("1E-130"), "1E-130"),
        (Decimal("-0"), "-0"),
        (10**40, str(10**40)),
        (-(2**63) - 1, str(-(2**63) - 1)),
        (2**64, str(2**64)),
        ([2**64 - 1, -(2**63)], f"[{2**64 - 1},{-(2**63)}]"),
        ({"n": {10**40}}, '{"n":[' + str(10**40) + "]}"),
        (0.1, "0.1"),
        (1e16, "1e+16"),
        (1e-7, "1e-07"),
        (-0.0, "-0.0"),
        ({"b": 1, "a": 2}, '{"b":1,"a":2}'),
        ({3, 1, Decimal("2.5"), -10}, "[-10,1,2.5,3]"),
        ({"b", "a", "B", ""}, '["","B","a","b"]'),
        ({b"\x02", b"\x01", b""}, '["","AQ==","Ag=="]'),
        (frozenset({0.5, 0.25}), "[0.25,0.5]"),
        (b"hi", '"aGk="'),
        (bytearray(b"hi"), '"aGk="'),
        ((1, [2.5, None]), "[1,[2.5,null]]"),
        ({"a": {"b": [Decimal("1E+100"), {1}]}}, '{"a":{"b":[1E+100,[1]]}}'),
    ],
)
def test_dumps_plain_is_exact(value: Any, text: str) -> None:
    assert dumps_plain(value) == text
    json.loads(dumps_plain(value))  # always valid JSON


def test_dumps_plain_writes_integers_of_any_length() -> None:
    assert dumps_plain(10**5000) == "1" + "0" * 5000


def test_dumps_plain_indents_on_request() -> None:
    assert dumps_plain({"a": [1]}, indent=True) == '{\n  "a": [\n    1\n  ]\n}'


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        [float("-inf")],
        Decimal("NaN"),
        {"a": Decimal("Infinity")},
        {float("nan")},
    ],
)
def test_dumps_plain_refuses_nan_and_infinity(value: Any) -> None:
    with pytest.raises(InvalidValueError, match="cannot be written as JSON; use null or a string"):
        dumps_plain(value)


def test_dumps_plain_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(InvalidValueError, match="type object cannot be written as JSON"):
        dumps_plain({"a": object()})
    with pytest.raises(InvalidValueError, match="map keys must be strings"):
        dumps_plain({1: "a"})


# ---------------------------------------------------------------------------------------------
# loads_exact


def test_loads_exact_keeps_numbers_exact() -> None:
    text = "[12345678901234567890.123456789012345678, 1E+100, 0.1, 1.0, 2, -0.0, 1e-130]"
    assert tagged(loads_exact(text)) == tagged(
        [DIGITS_38, 10**100, Decimal("0.1"), 1, 2, 0, Decimal("1E-130")]
    )


def test_loads_exact_reads_very_long_integers_as_decimal() -> None:
    assert loads_exact("1" * 5000) == Decimal("1" * 5000)
    assert loads_exact(f"[{'9' * 4400}]") == [Decimal("9" * 4400)]
    assert loads_exact("1e999999999") == Decimal("1E+999999999")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": }', "line 1 column 7"),
        ("[1,\n 2,, 3]", "line 2 column 4"),
        ("", "line 1 column 1"),
        ("[1] x", "line 1 column 5"),
        ('{"a": NaN}', "line 1 column 7"),
        ("[1, -Infinity]", "line 1 column 6"),
        ("Infinity", "line 1 column 1"),
        ("[" * 100_000, "line 1 column"),
    ],
)
def test_loads_exact_errors_are_one_line_with_line_and_column(text: str, where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        loads_exact(text)
    message = str(caught.value)
    assert message.startswith("invalid JSON: ")
    assert message.endswith(where) or where in message
    assert "\n" not in message


def test_loads_exact_names_nan_as_not_a_number() -> None:
    with pytest.raises(ValidationError, match="NaN is not a JSON number"):
        loads_exact('{"a": NaN}')


@given(plain_values())
def test_loads_exact_never_yields_float(value: Any) -> None:
    assert not holds_float(loads_exact(json.dumps(value, default=str)))


@given(plain_values())
def test_plain_json_round_trips_exactly(value: Any) -> None:
    assert tagged(loads_exact(dumps_plain(value))) == tagged(normalized(value))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_print_as_their_repr(value: float) -> None:
    assert dumps_plain(value) == repr(value)
    assert loads_exact(dumps_plain(value)) == Decimal(repr(value))


# ---------------------------------------------------------------------------------------------
# Typed JSON


def test_dumps_typed_prints_dynamodb_json_like_the_aws_cli() -> None:
    item = {
        "id": "a1",
        "n": Decimal("1.10"),
        "f": 0.5,
        "b": b"hi",
        "ok": True,
        "none": None,
        "tags": {"y", "x"},
        "nums": {2, 1},
        "bins": {b"b", b"a"},
        "list": [1, "x"],
        "map": {"k": 10**40},
    }
    assert json.loads(dumps_typed(item)) == {
        "id": {"S": "a1"},
        "n": {"N": "1.1"},
        "f": {"N": "0.5"},
        "b": {"B": "aGk="},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "tags": {"SS": ["x", "y"]},
        "nums": {"NS": ["1", "2"]},
        "bins": {"BS": ["YQ==", "Yg=="]},
        "list": {"L": [{"N": "1"}, {"S": "x"}]},
        "map": {"M": {"k": {"N": str(10**40)}}},
    }


def test_dumps_typed_of_a_non_mapping_is_one_typed_value() -> None:
    assert dumps_typed("x") == '{"S":"x"}'
    assert dumps_typed([1]) == '{"L":[{"N":"1"}]}'
    assert dumps_typed(b"") == '{"B":""}'


def test_dumps_typed_refuses_like_the_converter() -> None:
    with pytest.raises(InvalidValueError) as caught:
        dumps_typed({"a": {"b": [float("nan")]}})
    assert caught.value.path == "a.b[0]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"S": "x"}', "x"),
        ('{"N": "1E+100"}', 10**100),
        ('{"B": "aGk="}', b"hi"),
        ('{"BS": ["aGk="]}', {b"hi"}),
        ('{"L": [{"N": "1.5"}]}', [Decimal("1.5")]),
        ('{"M": {"a": {"S": "x"}}}', {"a": "x"}),  # a typed map value (the AWS CLI's form)
        ('{"M": {}}', {}),
        ('{"id": {"S": "a"}, "n": {"N": "2"}}', {"id": "a", "n": 2}),
        ('{"S": {"S": "x"}}', {"S": "x"}),  # an item whose one attribute is named S
        ('{"M": {"S": "x"}}', {"M": "x"}),  # an item whose one attribute is named M
        ('{"L": {"L": []}}', {"L": []}),
        ("{}", {}),
        ('[{"a": {"N": "1"}}, {"S": "x"}]', [{"a": 1}, "x"]),
    ],
)
def test_loads_typed_reads_values_and_items(text: str, expected: Any) -> None:
    assert tagged(loads_typed(text)) == tagged(expected)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"a": {"N": "x"}}', "attribute 'a': a DynamoDB number must be number text"),
        ('{"a": {"M": {"b": {"L": [{"Q": 1}]}}}}', "attribute 'a.b[0]': unknown DynamoDB type 'Q'"),
        ('{"B": "!!"}', "must be base64"),
        ('{"a": 1}', "exactly one type key"),
        ("3", "invalid DynamoDB JSON: expected an object"),
        ('{"a": ', "invalid JSON: "),
        ('{"N": 1.5}', "must be number text"),
    ],
)
def test_loads_typed_refuses_malformed_dynamodb_json(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        loads_typed(text)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


@given(storable_values())
def test_typed_json_round_trips_every_value(value: Any) -> None:
    assume(depth(value) <= 31)
    assert tagged(loads_typed(dumps_typed(value))) == tagged(normalized(value))


@given(st.dictionaries(st.text(min_size=1), storable_values(), max_size=4))
def test_typed_json_round_trips_every_item(item: dict[str, Any]) -> None:
    assume(all(depth(value) <= 31 for value in item.values()))
    assert tagged(loads_typed(dumps_typed(item))) == tagged(normalized(item))


@given(
    st.sampled_from(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]),
    storable_values(),
)
def test_typed_json_round_trips_items_named_like_type_tags(name: str, value: Any) -> None:
    assume(depth(value) <= 31)
    item = {name: value}
    assert tagged(loads_typed(dumps_typed(item))) == tagged(normalized(item))
