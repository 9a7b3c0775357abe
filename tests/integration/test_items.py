"""get / put / update / delete with plain Python values, on DynamoDB Local."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

import ddbkit
from ddbkit.table import Table

pytestmark = pytest.mark.integration


def test_put_then_get_returns_every_type_unchanged(table: Table) -> None:
    item: dict[str, Any] = {
        "id": "all-types",
        "s": "héllo wörld ✓ 日本",
        "i": 42,
        "neg": -7,
        "f": 0.1,
        "d": Decimal("3.14159265358979323846264338327950288"),
        "big": 10**37,
        "t": True,
        "false": False,
        "none": None,
        "b": b"\x00\xffbinary",
        "list": [1, "two", [3], {"four": 4}],
        "tuple": (1, 2),
        "map": {"nested": {"deeper": {"deepest": "yes"}}},
        "ss": {"a", "b"},
        "ns": {1, Decimal("2.5")},
        "bs": {b"x", b"y"},
        "empty_string": "",
        "empty_list": [],
        "empty_map": {},
    }
    table.put(item)
    got = table.get({"id": "all-types"})
    assert got is not None
    expected = {**item, "f": Decimal("0.1"), "tuple": [1, 2]}
    assert got == expected
    assert got["t"] is True and got["false"] is False
    assert isinstance(got["i"], int) and isinstance(got["f"], Decimal)


def test_reserved_words_and_odd_names_are_plain_attribute_names(table: Table) -> None:
    table.put(
        {
            "id": "r1",
            "name": "n",
            "status": "s",
            "data": 1,
            "year": 2024,
            "size": 3,
            "count": 4,
            "first name": "Ada",
            "dotted.name": "dot",
        }
    )
    updated = table.update(
        {"id": "r1"},
        set={"status": "t", "`first name`": "Grace"},
        add={"count": 1},
        condition="name = 'n' AND size = 3 AND `dotted.name` = 'dot'",
    )
    assert updated["status"] == "t"
    assert updated["first name"] == "Grace"
    assert updated["count"] == 5
    got = table.get({"id": "r1"}, attributes=["name", "`first name`", "year"])
    assert got == {"name": "n", "first name": "Grace", "year": 2024}


def test_get_missing_item_returns_none(table: Table) -> None:
    assert table.get({"id": "nope"}) is None


def test_numbers_at_dynamodb_limits_read_back(table: Table) -> None:
    values = {
        "max": Decimal("9.9999999999999999999999999999999999999E+125"),
        "min_pos": Decimal("1E-130"),
        "min_neg": Decimal("-9.9999999999999999999999999999999999999E+125"),
        "e100": Decimal("1E+100"),
        "digits38": 12345678901234567890123456789012345678,
        "zeros38": 12345678901234567890000000000000000000,
        "tiny": Decimal("-1E-130"),
    }
    table.put({"id": "limits", **values})
    got = table.get({"id": "limits"})
    assert got is not None
    for name, value in values.items():
        assert got[name] == value, name


def test_item_near_400kb_round_trips(table: Table) -> None:
    big = "x" * (400 * 1024 - 200)
    table.put({"id": "big", "blob": big})
    got = table.get({"id": "big"})
    assert got is not None and got["blob"] == big


def test_item_over_400kb_is_refused_with_a_clear_error(table: Table) -> None:
    with pytest.raises(ddbkit.ValidationError, match="size"):
        table.put({"id": "huge", "blob": "x" * (401 * 1024)})


def test_put_with_false_condition_raises_and_keeps_the_item(table: Table) -> None:
    table.put({"id": "c1", "v": 1})
    with pytest.raises(ddbkit.ConditionFailedError, match="condition failed"):
        table.put({"id": "c1", "v": 2}, condition="attribute_not_exists(id)")
    assert table.get({"id": "c1"}) == {"id": "c1", "v": 1}


def test_boto3_condition_objects_are_accepted(table: Table) -> None:
    table.put({"id": "b1", "v": 1})
    table.put({"id": "b1", "v": 2}, condition=Attr("v").eq(1) & Attr("id").exists())
    with pytest.raises(ddbkit.ConditionFailedError):
        table.put({"id": "b1", "v": 3}, condition=Attr("v").lt(2))
    assert table.get({"id": "b1"}) == {"id": "b1", "v": 2}


def test_update_set_add_remove_delete_returns_the_new_item(table: Table) -> None:
    table.put({"id": "u1", "age": 30, "nick": "x", "tags": {"a", "b", "c"}, "logins": 1})
    new = table.update(
        {"id": "u1"},
        set={"age": 31},
        add={"logins": 2, "tags": {"d"}},
        remove=["nick"],
        condition="attribute_exists(id)",
    )
    assert new == {"id": "u1", "age": 31, "tags": {"a", "b", "c", "d"}, "logins": 3}
    newer = table.update({"id": "u1"}, delete={"tags": {"a", "b"}})
    assert newer["tags"] == {"c", "d"}


def test_update_from_text_clauses(table: Table) -> None:
    table.put({"id": "u2", "n": 1, "items": [1]})
    new = table.update(
        {"id": "u2"},
        set="n = n + 1, items = list_append(items, [2, 3]), seen = if_not_exists(seen, 0)",
        add="visits = 1",
    )
    assert new == {"id": "u2", "n": 2, "items": [1, 2, 3], "seen": 0, "visits": 1}


def test_update_refuses_key_attribute_before_sending(table: Table) -> None:
    with pytest.raises(ddbkit.ValidationError, match="key attribute 'id'"):
        table.update({"id": "u3"}, set={"id": "other"})


def test_update_on_missing_item_with_condition_fails(table: Table) -> None:
    with pytest.raises(ddbkit.ConditionFailedError):
        table.update({"id": "ghost"}, set={"a": 1}, condition="attribute_exists(id)")
    assert table.get({"id": "ghost"}) is None


def test_delete_returns_old_item_when_asked(table: Table) -> None:
    table.put({"id": "d1", "v": 1})
    assert table.delete({"id": "d1"}, return_old=True) == {"id": "d1", "v": 1}
    assert table.get({"id": "d1"}) is None
    assert table.delete({"id": "d1"}, return_old=True) is None


def test_delete_with_false_condition_keeps_item(table: Table) -> None:
    table.put({"id": "d2", "v": 1})
    with pytest.raises(ddbkit.ConditionFailedError):
        table.delete({"id": "d2"}, condition="v = 2")
    assert table.get({"id": "d2"}) is not None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ({}, "missing 'id'"),
        ({"id": "a", "extra": 1}, "unexpected 'extra'"),
        ({"id": 3}, "of type S, got int"),
        ({"id": ""}, "cannot be empty"),
        ("a", "is a dict"),
    ],
)
def test_bad_keys_fail_before_any_request(table: Table, key: Any, message: str) -> None:
    with pytest.raises(ddbkit.InvalidKeyError, match=message):
        table.get(key)


def test_composite_key_types_are_checked(sorted_table: Table) -> None:
    sorted_table.put({"pk": "a", "sk": 1, "v": "x"})
    assert sorted_table.get({"pk": "a", "sk": 1}) == {"pk": "a", "sk": 1, "v": "x"}
    with pytest.raises(ddbkit.InvalidKeyError, match="'sk' of table .* is of type N, got str"):
        sorted_table.get({"pk": "a", "sk": "1"})
    with pytest.raises(ddbkit.InvalidKeyError, match="got bool"):
        sorted_table.get({"pk": "a", "sk": True})


def test_put_without_key_attribute_is_refused(table: Table) -> None:
    with pytest.raises(ddbkit.InvalidKeyError, match="item for table .* missing 'id'"):
        table.put({"name": "no key"})


def test_invalid_values_name_the_attribute_path(table: Table) -> None:
    with pytest.raises(ddbkit.InvalidValueError, match=r"a\.b\[1\]"):
        table.put({"id": "bad", "a": {"b": [1, float("nan")]}})
    with pytest.raises(ddbkit.InvalidValueError, match="empty"):
        table.put({"id": "bad", "tags": set()})


def test_unknown_table_error_names_the_fix(db: ddbkit.Database) -> None:
    with pytest.raises(ddbkit.TableNotFoundError, match="'no-such-table' not found.*ddbkit tables"):
        db.table("no-such-table").get({"id": "x"})
