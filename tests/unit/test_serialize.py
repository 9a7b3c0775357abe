"""The one value converter: every type, every refusal, and properties over generated values."""

from __future__ import annotations

import datetime
import enum
import fractions
import types
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ddbkit.errors import InvalidValueError, ValidationError
from ddbkit.values.serialize import (
    MAX_DEPTH,
    format_number,
    from_attribute,
    from_item,
    parse_number,
    to_attribute,
    to_item,
)

MAX_N = Decimal("9.9999999999999999999999999999999999999E+125")
MAX_N_NEGATIVE = Decimal("-9.9999999999999999999999999999999999999E+125")
MIN_N = Decimal("1E-130")
# Decimal arithmetic (even unary minus, abs()) rounds to 28 digits: tests build numbers from text.


# ---------------------------------------------------------------------------------------------
# Helpers


def tagged(value: Any) -> Any:
    """A comparable form that also tells int, Decimal, bool and the container types apart."""
    if isinstance(value, dict):
        return ("dict", tuple((key, tagged(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(tagged(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, frozenset(tagged(item) for item in value))
    return (type(value).__name__, value)


def number(value: Decimal) -> int | Decimal:
    """What a stored number reads back as: int when integral, else the Decimal itself."""
    return int(value) if int(value) == value else value


def normalized(value: Any) -> Any:
    """What ``from_attribute(to_attribute(value))`` must give."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return number(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [normalized(item) for item in value]
    if isinstance(value, Mapping):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return {normalized(item) for item in value}
    raise AssertionError(f"not a storable value: {value!r}")


def depth(value: Any) -> int:
    if isinstance(value, (list, tuple)):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


def refusal(func: Callable[..., Any], *args: Any) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as caught:
        func(*args)
    return caught.value


def nested(levels: int, leaf: Any = "x") -> Any:
    value = leaf
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


# ---------------------------------------------------------------------------------------------
# Strategies


def storable_decimals() -> st.SearchStrategy[Decimal]:
    """Any Decimal DynamoDB can store: <= 38 significant digits, adjusted exponent -130..125."""

    def build(negative: bool, digits: str, adjusted: int, zeros: int) -> Decimal:
        coefficient = digits + "0" * zeros  # trailing zeros do not count as significant
        exponent = adjusted - len(coefficient) + 1
        return Decimal(f"{'-' if negative else ''}{coefficient}E{exponent}")

    nonzero = st.builds(
        build,
        st.booleans(),
        st.from_regex(r"[1-9][0-9]{0,37}", fullmatch=True),
        st.integers(min_value=-130, max_value=125),
        st.integers(min_value=0, max_value=5),
    )
    return st.one_of(nonzero, st.just(Decimal("0")), st.just(Decimal("-0.000")), st.just(MAX_N))


def storable_ints() -> st.SearchStrategy[int]:
    small = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
    with_zeros = st.builds(
        lambda significant, power: significant * 10**power,
        st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
        st.integers(min_value=0, max_value=87),
    )
    return st.one_of(small, with_zeros.filter(lambda value: abs(value) < 10**126))


def storable_floats() -> st.SearchStrategy[float]:
    return st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda value: value == 0 or MIN_N <= Decimal(repr(value)).copy_abs() <= MAX_N
    )


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(),
        storable_ints(),
        storable_decimals(),
        storable_floats(),
        st.binary(),
        st.booleans(),
        st.none(),
        st.sets(st.text(), min_size=1, max_size=4),
        st.frozensets(st.one_of(storable_ints(), storable_decimals()), min_size=1, max_size=4),
        st.sets(st.binary(), min_size=1, max_size=4),
    )


def storable_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.tuples(children, children),
            st.dictionaries(st.text(min_size=1), children, max_size=4),
        ),
        max_leaves=12,
    )


def junk_values() -> st.SearchStrategy[Any]:
    """Anything at all: the converter may only answer or raise InvalidValueError."""
    odd_types: st.SearchStrategy[Any] = st.sampled_from(
        [
            complex,
            fractions.Fraction,
            datetime.datetime,
            datetime.date,
            uuid.UUID,
            range,
            bytearray,
            slice,
            type,
            object,
        ]
    ).flatmap(st.from_type)
    hashable = st.one_of(
        st.text(max_size=3),
        st.integers(),
        st.floats(),
        st.decimals(allow_nan=False),  # a signalling NaN cannot even be hashed into a set
        st.binary(max_size=3),
        st.booleans(),
        st.none(),
        st.complex_numbers(),
        st.tuples(st.integers()),
    )
    leaves = st.one_of(
        hashable,
        st.integers(min_value=-(10**300), max_value=10**300),
        st.decimals(allow_nan=True, allow_infinity=True),
        odd_types,
        st.sets(hashable, max_size=3),
        st.frozensets(hashable, max_size=3),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.tuples(children),
            st.dictionaries(hashable, children, max_size=3),
        ),
        max_leaves=10,
    )


# ---------------------------------------------------------------------------------------------
# Writing: every type


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", {"S": "text"}),
        ("", {"S": ""}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (None, {"NULL": True}),
        (0, {"N": "0"}),
        (-42, {"N": "-42"}),
        (10**40, {"N": str(10**40)}),
        (
            12345678901234567890123456789012345678 * 1000,
            {"N": "12345678901234567890123456789012345678000"},
        ),
        (1.5, {"N": "1.5"}),
        (0.1, {"N": "0.1"}),
        (1.0, {"N": "1"}),
        (-0.0, {"N": "0"}),
        (1e16, {"N": "10000000000000000"}),
        (1e-7, {"N": "0.0000001"}),
        (Decimal("1.10"), {"N": "1.1"}),
        (Decimal("100.00"), {"N": "100"}),
        (Decimal("-0"), {"N": "0"}),
        (Decimal("0E+500"), {"N": "0"}),
        (Decimal("1E+2"), {"N": "100"}),
        (Decimal("1E+100"), {"N": "1" + "0" * 100}),
        (Decimal("1E-130"), {"N": "0." + "0" * 129 + "1"}),
        (Decimal("-1E-130"), {"N": "-0." + "0" * 129 + "1"}),
        (MAX_N, {"N": "9" * 38 + "0" * 88}),
        (MAX_N_NEGATIVE, {"N": "-" + "9" * 38 + "0" * 88}),
        (b"\x00\xff", {"B": b"\x00\xff"}),
        (b"", {"B": b""}),
        (bytearray(b"ab"), {"B": b"ab"}),
        (memoryview(b"ab"), {"B": b"ab"}),
        ([], {"L": []}),
        ([1, "a"], {"L": [{"N": "1"}, {"S": "a"}]}),
        ((1, "a"), {"L": [{"N": "1"}, {"S": "a"}]}),
        ({}, {"M": {}}),
        ({"a": {"b": [None]}}, {"M": {"a": {"M": {"b": {"L": [{"NULL": True}]}}}}}),
        ({"b", "a", ""}, {"SS": ["", "a", "b"]}),
        (frozenset({3, Decimal("1.5"), -2}), {"NS": ["-2", "1.5", "3"]}),
        ({b"b", b"a", b""}, {"BS": [b"", b"a", b"b"]}),
    ],
)
def test_to_attribute_converts_every_type(value: Any, expected: dict[str, Any]) -> None:
    assert to_attribute(value) == expected


def test_bool_is_bool_not_number() -> None:
    assert to_attribute(True) == {"BOOL": True}
    assert from_attribute({"BOOL": True}) is True
    assert to_attribute([True, 1]) == {"L": [{"BOOL": True}, {"N": "1"}]}


def test_subclasses_convert_as_their_base_type() -> None:
    class Color(enum.IntEnum):
        RED = 1

    class Name(str, enum.Enum):
        ALICE = "alice"

    class Point(NamedTuple):
        x: int
        y: int

    assert to_attribute(Color.RED) == {"N": "1"}
    assert to_attribute(Name.ALICE) == {"S": "alice"}
    assert type(to_attribute(Name.ALICE)["S"]) is str
    assert to_attribute(Point(1, 2)) == {"L": [{"N": "1"}, {"N": "2"}]}
    assert to_attribute(OrderedDict(a=1)) == {"M": {"a": {"N": "1"}}}
    assert to_attribute(types.MappingProxyType({"a": 1})) == {"M": {"a": {"N": "1"}}}


def test_number_set_merges_members_that_are_the_same_number() -> None:
    # 0.1 != Decimal("0.1") in Python, but both store as the number 0.1; DynamoDB refuses
    # duplicate set members, so the converter keeps one.
    assert to_attribute({0.1, Decimal("0.1")}) == {"NS": ["0.1"]}
    assert to_attribute({1.5, Decimal("1.50")}) == {"NS": ["1.5"]}


def test_sets_come_out_sorted_so_requests_are_deterministic() -> None:
    assert to_attribute({10, 9, Decimal("9.5"), -1}) == {"NS": ["-1", "9", "9.5", "10"]}
    assert to_attribute({"b", "B", "a"}) == {"SS": ["B", "a", "b"]}


def test_to_item_converts_each_attribute() -> None:
    assert to_item({"id": "a1", "n": 3, "tags": {"x"}}) == {
        "id": {"S": "a1"},
        "n": {"N": "3"},
        "tags": {"SS": ["x"]},
    }


def test_nesting_up_to_the_engine_limit_is_accepted() -> None:
    value = nested(MAX_DEPTH)
    assert from_attribute(to_attribute(value)) == value
    assert to_attribute(nested(MAX_DEPTH - 1, leaf={"x"}))  # a set is not a level


# ---------------------------------------------------------------------------------------------
# Writing: every refusal names the path and the fix


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (float("nan"), "NaN cannot be stored in DynamoDB; use null or a string"),
        (float("inf"), "Infinity cannot be stored"),
        (float("-inf"), "-Infinity cannot be stored"),
        (Decimal("NaN"), "NaN cannot be stored"),
        (Decimal("sNaN"), "NaN cannot be stored"),
        (Decimal("-Infinity"), "-Infinity cannot be stored"),
        (int("1" * 39), "39 significant digits but DynamoDB keeps at most 38"),
        (10**38 + 1, "39 significant digits"),
        (Decimal("1." + "1" * 38), "39 significant digits"),
        (Decimal("0.000" + "1" * 39), "39 significant digits"),
        (Decimal("9.99999999999999999999999999999999999999E+125"), "39 significant digits"),
        (Decimal("1E+126"), "too large for DynamoDB"),
        (Decimal("10E+125"), "too large"),
        (10**126, "too large"),
        (-(10**126), "too large"),
        pytest.param(10**5000, "too large", id="int-of-5001-digits"),
        (1e200, "too large"),
        (Decimal("1E-131"), "too close to zero"),
        (Decimal("9.9999999999999999999999999999999999999E-131"), "too close to zero"),
        (5e-324, "too close to zero"),
        (set(), "an empty set cannot be stored"),
        (frozenset(), "an empty set cannot be stored"),
        ({1, "a"}, "mixes int, str; use a list"),
        ({b"a", "a"}, "mixes bytes, str"),
        ({True}, "sets can hold only strings, numbers or bytes, not bool"),
        ({None}, "not NoneType"),
        ({(1, 2)}, "not tuple"),
        ({float("nan")}, "a member of this number set: NaN cannot be stored"),
        ({10**200}, "a member of this number set"),
        ({1: "a"}, "map keys must be strings, not int"),
        ({"": "a"}, "an empty map key cannot be stored"),
        ({"k" * 65536: 1}, "longer than DynamoDB's 65535 bytes"),
        ({"\u20ac" * 21846: 1}, "longer than"),  # 65538 bytes in UTF-8
        (object(), "values of type object cannot be stored in DynamoDB; convert it"),
        (datetime.date(2024, 1, 2), "type date cannot be stored"),
        (1j, "complex numbers cannot be stored"),
        (nested(MAX_DEPTH + 1), "more than 31 levels deep"),
    ],
)
def test_to_attribute_refuses_what_dynamodb_refuses(value: Any, words: str) -> None:
    error = refusal(to_attribute, value, "attr")
    assert words in str(error)
    assert error.path == "attr" or error.path.startswith("attr[0].k")  # too deep: where it is
    assert str(error).startswith(f"attribute {error.path!r}: ")
    assert "\n" not in str(error)


def test_long_names_within_the_byte_limit_are_accepted() -> None:
    assert to_attribute({"k" * 65535: 1})
    assert to_attribute({"\u20ac" * 21845: 1})  # 65535 bytes


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": {"b": [1, 2, float("nan")]}}, "a.b[2]"),
        ({"a": [[{"c": set()}]]}, "a[0][0].c"),
        ({"a": {"b": {1: 2}}}, "a.b"),
        ({"a": [None, {"x": object()}]}, "a[1].x"),
        ({"a": {"b": {(1, "x")}}}, "a.b"),
    ],
)
def test_to_item_refusal_names_the_attribute_path(value: dict[str, Any], path: str) -> None:
    assert refusal(to_item, value).path == path


def test_to_attribute_path_starts_from_the_given_path() -> None:
    assert refusal(to_attribute, [1, {"x": float("nan")}], "a.b").path == "a.b[1].x"
    assert refusal(to_attribute, [1, {"x": float("nan")}]).path == "[1].x"


def test_to_item_refuses_bad_attribute_names_and_non_items() -> None:
    assert "an empty attribute name" in str(refusal(to_item, {"": 1}))
    assert "attribute names must be strings" in str(refusal(to_item, {1: 1}))
    assert "an item must be a dict" in str(refusal(to_item, [("a", 1)]))


def test_self_containing_values_are_refused_not_recursed_forever() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert "levels deep" in str(refusal(to_attribute, loop))


def test_released_memoryview_is_refused() -> None:
    view = memoryview(b"abc")
    view.release()
    assert "binary value cannot be read" in str(refusal(to_attribute, view, "a"))


def test_refusals_are_validation_errors() -> None:
    error = refusal(to_attribute, float("nan"))
    assert isinstance(error, ValidationError)
    assert isinstance(error, ValueError)


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (7, "7"),
        (-7, "-7"),
        (10**40, str(10**40)),
        (0.5, "0.5"),
        (1e16, "10000000000000000"),
        (123456789.125, "123456789.125"),
        (1e125, "1" + "0" * 125),
        (Decimal("1.10"), "1.1"),
        (Decimal("-1.10E+3"), "-1100"),
        (Decimal("0.00012300"), "0.000123"),
        (Decimal("1E-130"), "0." + "0" * 129 + "1"),
        (
            Decimal("1.0000000000000000000000000000000000001E-130"),
            "0." + "0" * 129 + "1" + "0" * 36 + "1",
        ),
    ],
)
def test_format_number_gives_the_text_dynamodb_returns(value: Any, text: str) -> None:
    assert format_number(value) == text


def test_format_number_refuses_non_numbers_naming_the_path() -> None:
    assert refusal(format_number, True, "k").path == "k"
    assert "a bool is not a number" in str(refusal(format_number, True))
    assert "expected a number" in str(refusal(format_number, "1"))
    assert "NaN" in str(refusal(format_number, float("nan"), "a.b"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-42", -42),
        ("+5", 5),
        ("-0", 0),
        ("0.0", 0),
        ("1.0", 1),
        ("5.", 5),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("-12.25", Decimal("-12.25")),
        ("1E+100", 10**100),
        ("1e16", 10**16),
        ("1.5E1", 15),
        ("1" + "0" * 100, 10**100),  # how DynamoDB returns 1E+100; boto3 raises on it
        ("12345678901234567890123456789012345678000", 12345678901234567890123456789012345678000),
        ("11111111110000000000000000000000000000", 11111111110000000000000000000000000000),
        ("9" * 38 + "0" * 88, int(MAX_N)),
        ("1E-130", Decimal("1E-130")),
        ("0." + "0" * 129 + "1", Decimal("1E-130")),
        ("0." + "1" * 38, Decimal("0." + "1" * 38)),
    ],
)
def test_parse_number_reads_every_form(text: str, value: int | Decimal) -> None:
    result = parse_number(text)
    assert tagged(result) == tagged(value)


def test_parse_number_keeps_giant_integers_as_decimal() -> None:
    assert parse_number("1E+999999999") == Decimal("1E+999999999")
    assert type(parse_number("1E+999999999")) is Decimal
    assert type(parse_number("1" * 5000)) is Decimal
    assert parse_number("1" * 5000) == Decimal("1" * 5000)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "NaN", "Infinity", "-inf", "0x10", "1e"])
def test_parse_number_refuses_non_numbers(text: str) -> None:
    assert isinstance(refusal(parse_number, text), InvalidValueError)


# ---------------------------------------------------------------------------------------------
# Reading


@pytest.mark.parametrize(
    ("av", "expected"),
    [
        ({"S": "x"}, "x"),
        ({"S": ""}, ""),
        ({"N": "3"}, 3),
        ({"N": "-3.5"}, Decimal("-3.5")),
        ({"N": "1" + "0" * 100}, 10**100),
        ({"BOOL": False}, False),
        ({"NULL": True}, None),
        ({"B": b"\x00"}, b"\x00"),
        ({"B": "AAE="}, b"\x00\x01"),  # base64 text, as in raw wire JSON
        ({"B": b""}, b""),
        ({"L": []}, []),
        ({"M": {}}, {}),
        ({"M": {"a": {"L": [{"N": "1"}, {"S": "s"}]}}}, {"a": [1, "s"]}),
        ({"SS": ["a", "b", ""]}, {"a", "b", ""}),
        ({"NS": ["1", "1.5", "1E+100"]}, {1, Decimal("1.5"), 10**100}),
        ({"BS": [b"a", "Yg=="]}, {b"a", b"b"}),
        ({"L": ({"N": "1"},)}, [1]),
        ({"M": types.MappingProxyType({"a": {"S": "x"}})}, {"a": "x"}),
    ],
)
def test_from_attribute_reads_every_type(av: dict[str, Any], expected: Any) -> None:
    assert tagged(from_attribute(av)) == tagged(expected)


def test_from_item_reads_an_item() -> None:
    item: dict[str, dict[str, Any]] = {
        "id": {"S": "a"},
        "n": {"N": "2"},
        "f": {"N": "0.5"},
        "m": {"M": {"x": {"NULL": True}}},
    }
    assert from_item(item) == {"id": "a", "n": 2, "f": Decimal("0.5"), "m": {"x": None}}


@pytest.mark.parametrize(
    ("av", "words"),
    [
        ({}, "exactly one type key"),
        ({"S": "a", "N": "1"}, "exactly one type key"),
        ({"X": "a"}, "unknown DynamoDB type 'X'"),
        ({"S": 1}, "a DynamoDB S value must be a string"),
        ({"N": 1.5}, "must be number text"),
        ({"N": "abc"}, "must be number text"),
        ({"N": "NaN"}, "NaN cannot be stored"),
        ({"NULL": False}, "a DynamoDB NULL value must be true"),
        ({"BOOL": "true"}, "a DynamoDB BOOL value must be true or false"),
        ({"B": "not base64!"}, "must be base64"),
        ({"B": 1}, "must be bytes or base64 text"),
        ({"SS": ["a", 1]}, "a DynamoDB SS value must be a list of strings"),
        ({"NS": "1"}, "a DynamoDB NS value must be a list of number texts"),
        ({"L": "x"}, "a DynamoDB L value must be a list"),
        ({"M": []}, "a DynamoDB M value must be a map"),
        ("S", "exactly one type key"),
    ],
)
def test_from_attribute_refuses_malformed_values(av: Any, words: str) -> None:
    assert words in str(refusal(from_attribute, av))


def test_from_item_refusal_names_the_path() -> None:
    item = {"a": {"M": {"b": {"L": [{"S": "ok"}, {"NULL": False}]}}}}
    assert refusal(from_item, item).path == "a.b[1]"
    assert refusal(from_item, {"n": {"N": "x"}}).path == "n"
    assert refusal(from_attribute, {"L": [{"S": "a"}, {"M": {"k": {}}}]}).path == "[1].k"
    assert "a DynamoDB item must be a map" in str(refusal(from_item, ["a"]))


# ---------------------------------------------------------------------------------------------
# Properties


@given(storable_values())
def test_every_storable_value_round_trips(value: Any) -> None:
    assume(depth(value) <= MAX_DEPTH)
    assert tagged(from_attribute(to_attribute(value))) == tagged(normalized(value))


@given(st.dictionaries(st.text(min_size=1), storable_values(), max_size=5))
def test_every_storable_item_round_trips(item: dict[str, Any]) -> None:
    assume(all(depth(value) <= MAX_DEPTH for value in item.values()))
    assert tagged(from_item(to_item(item))) == tagged(normalized(item))


@given(storable_decimals())
def test_every_storable_decimal_round_trips_exactly(value: Decimal) -> None:
    text = format_number(value)
    assert "E" not in text and "e" not in text
    assert text == "0" or not ("." in text and text.endswith("0"))
    result = parse_number(text)
    assert result == value
    assert type(result) is (int if int(value) == value else Decimal)


@given(storable_ints())
def test_every_storable_int_round_trips_as_int(value: int) -> None:
    result = parse_number(format_number(value))
    assert type(result) is int
    assert result == value


@given(storable_floats())
def test_floats_store_as_their_repr(value: float) -> None:
    assert parse_number(format_number(value)) == Decimal(repr(value))


def significant_digits(value: Decimal) -> int:
    return len("".join(map(str, value.as_tuple().digits)).strip("0"))


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(10**200), max_value=10**200)
)
def test_any_number_is_stored_or_refused_by_the_documented_limits(value: Decimal | int) -> None:
    exact = Decimal(value)
    storable = exact.is_zero() or (
        significant_digits(exact) <= 38 and MIN_N <= exact.copy_abs() <= MAX_N
    )
    if storable:
        assert parse_number(format_number(value)) == exact
    else:
        assert isinstance(refusal(format_number, value), InvalidValueError)


@given(junk_values())
def test_junk_values_raise_only_invalid_value_error(value: Any) -> None:
    try:
        attribute = to_attribute(value, "junk")
    except InvalidValueError as error:
        refused = error
    else:
        from_attribute(attribute)  # whatever was accepted reads back
        return
    assert refused.path.startswith("junk")
    assert "\n" not in str(refused)


def malformed_attribute_values() -> st.SearchStrategy[Any]:
    """Attribute values right and wrong: bad tags, bad raw types, several keys, non-maps."""
    tags = st.sampled_from(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "X"])
    raws = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=3),
        st.binary(max_size=3),
        st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=2),
    )
    leaves = st.one_of(st.dictionaries(tags, raws, max_size=2), st.none(), st.text(max_size=2))
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.builds(lambda entries: {"M": entries}, st.dictionaries(st.text(), children)),
            st.builds(lambda members: {"L": members}, st.lists(children, max_size=3)),
            st.lists(children, max_size=2),
        ),
        max_leaves=8,
    )


@given(malformed_attribute_values())
def test_junk_attribute_values_raise_only_invalid_value_error(av: Any) -> None:
    try:
        from_attribute(av)
    except InvalidValueError as error:
        refused = error
    else:
        return
    assert "\n" not in str(refused)
