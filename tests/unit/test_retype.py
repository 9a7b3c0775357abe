"""retype: an item edited as plain JSON keeps the DynamoDB type of every value not retyped."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ddbkit.errors import ValidationError
from ddbkit.present import dumps_plain, loads_exact, retype
from ddbkit.values.serialize import from_item, to_item
from tests.unit.test_jsonvalues import depth, storable_values, tagged


def as_read(item: dict[str, Any]) -> dict[str, Any]:
    """The item as Table.get hands it back (floats as exact numbers, tuples as lists)."""
    return from_item(to_item(item))


def edited_text(item: dict[str, Any]) -> Any:
    """What a person's editor holds: the item's plain JSON, read back as loads_exact reads it."""
    return loads_exact(dumps_plain(item, indent=True))


def same(left: Any, right: Any) -> bool:
    """Equal type for type, and a number digit for digit (1.50 is not 1.5)."""
    return tagged(left) == tagged(right) and dumps_plain(left) == dumps_plain(right)


items = st.dictionaries(st.text(min_size=1), storable_values(), min_size=1, max_size=5).map(as_read)


def storable(item: dict[str, Any]) -> bool:
    return all(depth(value) <= 30 for value in item.values())


# ---------------------------------------------------------------------------------------------
# Nothing edited: the item comes back exactly


@given(items)
def test_an_unedited_item_keeps_every_type(item: dict[str, Any]) -> None:
    assume(storable(item))
    assert same(retype(item, edited_text(item)), item)


def test_an_unedited_item_keeps_sets_bytes_and_decimal_digits() -> None:
    item = {
        "id": "a",
        "price": Decimal("1.50"),
        "tags": {"x", "y"},
        "scores": {1, Decimal("2.50")},
        "blob": b"\x00\xff",
        "blobs": {b"\x01", b"\x02"},
        "nested": {"deep": [{"s": {"q"}}, b"hi"]},
    }
    assert same(retype(item, edited_text(item)), item)
    assert '"price":1.50' in dumps_plain(retype(item, edited_text(item)))


# ---------------------------------------------------------------------------------------------
# One value edited: the others keep their types


paths = st.sampled_from(["top", "map_member", "list_member"])


@given(items, st.text(), paths)
def test_editing_one_value_keeps_every_other_type(
    item: dict[str, Any], new: str, where: str
) -> None:
    assume(storable(item))
    item = {
        **item,
        "leaf": "old",
        "outer": {"inner": {"leaf": "old", "tags": {"t"}}},
        "l": ["old", b"b"],
    }
    assume(new != "old")
    edited = edited_text(item)
    expected = {**item}
    if where == "top":
        edited["leaf"] = new
        expected["leaf"] = new
    elif where == "map_member":
        edited["outer"]["inner"]["leaf"] = new
        expected["outer"] = {"inner": {"leaf": new, "tags": {"t"}}}
    else:
        edited["l"][0] = new
        expected["l"] = [new, b"b"]
    assert same(retype(item, edited), expected)


@given(items, st.sampled_from(["string", "number", "binary"]))
def test_adding_a_member_to_a_set_keeps_it_a_set_of_its_kind(
    item: dict[str, Any], kind: str
) -> None:
    assume(storable(item))
    sets: dict[str, Any] = {"string": {"a"}, "number": {Decimal("1.50")}, "binary": {b"\x01"}}
    added: dict[str, Any] = {"string": "b", "number": 7, "binary": "Ag=="}
    stored: dict[str, Any] = {"string": "b", "number": 7, "binary": b"\x02"}
    item = {**item, "s": sets[kind]}
    edited = edited_text(item)
    edited["s"].append(added[kind])
    assert same(retype(item, edited), {**item, "s": sets[kind] | {stored[kind]}})


def test_a_set_member_removed_and_duplicates_collapse() -> None:
    item = {"id": "a", "tags": {"x", "y", "z"}}
    assert same(retype(item, {"id": "a", "tags": ["x", "x", "q"]}), {"id": "a", "tags": {"x", "q"}})


def test_a_binary_edited_as_base64_text_stays_binary() -> None:
    item = {"id": "a", "blob": b"hi", "text": "aGk="}
    edited = {"id": "a", "blob": "aGV5", "text": "aGV5"}
    assert same(retype(item, edited), {"id": "a", "blob": b"hey", "text": "aGV5"})


def test_an_edited_number_takes_the_digits_written() -> None:
    item = {"id": "a", "n": Decimal("1.50"), "m": 2}
    edited = loads_exact('{"id": "a", "n": 1.5, "m": 2.25}')
    assert same(retype(item, edited), {"id": "a", "n": Decimal("1.5"), "m": Decimal("2.25")})


def test_new_and_removed_attributes() -> None:
    item = {"id": "a", "gone": {"x"}, "m": {"k": b"v"}}
    edited = {"id": "a", "new": ["aGk="], "m": {"k": "dg==", "added": "dg=="}}
    assert same(
        retype(item, edited),
        {"id": "a", "new": ["aGk="], "m": {"k": b"v", "added": "dg=="}},
    )


def test_a_list_that_grew_keeps_the_types_of_the_positions_it_had() -> None:
    item = {"id": "a", "l": [b"x", {"s"}]}
    edited = {"id": "a", "l": ["eA==", ["s", "t"], "eA=="]}
    assert same(retype(item, edited), {"id": "a", "l": [b"x", {"s", "t"}, "eA=="]})


def test_a_value_given_another_json_type_is_taken_as_written() -> None:
    item = {"id": "a", "tags": {"x"}, "blob": b"x", "m": {"k": 1}}
    edited = {"id": "a", "tags": "x", "blob": 5, "m": ["k"]}
    assert same(retype(item, edited), edited)


# ---------------------------------------------------------------------------------------------
# Refusals: one line naming the path and the fix


@pytest.mark.parametrize(
    ("item", "edited", "path", "words"),
    [
        ({"tags": {"a"}}, {"tags": ["a", 1]}, "tags", "string set cannot hold 1"),
        ({"n": {1, 2}}, {"n": [1, "2"]}, "n", 'number set cannot hold "2"'),
        ({"n": {1}}, {"n": [True]}, "n", "number set cannot hold true"),
        ({"m": {"b": {b"x"}}}, {"m": {"b": ["eA==", "not base64!"]}}, "m.b", "base64"),
        ({"m": {"b": {b"x"}}}, {"m": {"b": [1]}}, "m.b", "binary set cannot hold 1"),
        ({"l": [b"x"]}, {"l": ["%%%"]}, "l[0]", "base64 text, and '%%%' is not"),
        ({"b": b"x"}, {"b": "eA="}, "b", "base64"),
        ({"b": b"x"}, {"b": "é"}, "b", "base64"),
    ],
)
def test_a_set_or_binary_that_cannot_keep_its_type_is_refused(
    item: dict[str, Any], edited: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        retype(item, edited)
    message = str(caught.value)
    assert message.startswith(f"attribute {path!r}: ")
    assert words in message
    if "set cannot hold" in words or "base64" in words:
        assert "edit it in the DynamoDB JSON view to change its type" in message
    assert "\n" not in message


@pytest.mark.parametrize("original", [{"a"}, {1}, {b"a"}])
def test_an_emptied_set_says_to_remove_the_attribute(original: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        retype({"id": "a", "m": {"s": original}}, {"id": "a", "m": {"s": []}})
    assert str(caught.value).startswith("attribute 'm.s': ")
    assert "remove the attribute instead" in str(caught.value)


def test_a_long_bad_member_is_cut_short_in_the_message() -> None:
    with pytest.raises(ValidationError) as caught:
        retype({"tags": {"a"}}, {"tags": [{"k": "v" * 500}]})
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("edited", [[1], "text", None, 5])
def test_an_edited_item_must_be_an_object(edited: Any) -> None:
    with pytest.raises(ValidationError, match="an item is a JSON object"):
        retype({"id": "a"}, edited)
