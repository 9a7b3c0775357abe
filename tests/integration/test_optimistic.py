"""Optimistic saves on DynamoDB Local: put/delete with ``expected`` write only an unchanged item."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import ddbkit
from ddbkit.aio import connect_async
from ddbkit.table import Table
from tests.support.truth import canon_item

pytestmark = pytest.mark.integration

CHANGED = "the item changed since it was read: nothing was"


def stored(table: Table, key: dict[str, Any]) -> Any:
    """The item as the engine holds it, in a type-strict form."""
    item = table.get(key, consistent=True)
    return None if item is None else canon_item(item)


@pytest.fixture
def read(table: Table) -> dict[str, Any]:
    """An item of every kind of value DynamoDB compares, as it was read."""
    table.put(
        {
            "id": "a",
            "n": Decimal("1.5"),
            "tags": {"x", "y"},
            "nums": {1, 2},
            "blobs": {b"\x01", b"\x02"},
            "blob": b"\x00\xff",
            "profile": {"name": "Ada", "langs": {"en"}, "deep": {"k": [1, "two"]}},
            "list": [1, {"m": "v"}, b"b"],
            "nothing": None,
            "flag": True,
            "empty": "",
        }
    )
    item = table.get({"id": "a"}, consistent=True)
    assert item is not None
    return item


def test_an_unchanged_item_is_written_and_deleted(table: Table, read: dict[str, Any]) -> None:
    saved = {**read, "n": 2, "new": "yes"}
    table.put(saved, expected=read)
    assert stored(table, {"id": "a"}) == canon_item(saved)
    table.delete({"id": "a"}, expected=saved)
    assert stored(table, {"id": "a"}) is None


Change = Callable[[Table], object]  # someone else's write; its result is not used
CHANGES: dict[str, Change] = {
    "a nested map member": lambda t: t.update({"id": "a"}, set={"profile.deep.k[1]": "2"}),
    "a member of a set in a map": lambda t: t.update({"id": "a"}, add={"profile.langs": {"fr"}}),
    "a set member": lambda t: t.update({"id": "a"}, delete={"tags": {"x"}}),
    "a binary set member": lambda t: t.update({"id": "a"}, add={"blobs": {b"\x03"}}),
    "a number": lambda t: t.update({"id": "a"}, add={"n": 1}),
    "a binary": lambda t: t.update({"id": "a"}, set={"blob": b"\x00"}),
    "a list member": lambda t: t.update({"id": "a"}, set={"list[1].m": "w"}),
    "an attribute removed": lambda t: t.update({"id": "a"}, remove=["nothing"]),
    "the item deleted": lambda t: t.delete({"id": "a"}),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_since_the_read_refuses_the_save_and_keeps_the_item(
    table: Table, read: dict[str, Any], change: str
) -> None:
    CHANGES[change](table)
    now = stored(table, {"id": "a"})
    with pytest.raises(ddbkit.ConditionFailedError) as put_refused:
        table.put({**read, "n": 99}, expected=read)
    assert str(put_refused.value) == f"{CHANGED} written (read it again)"
    with pytest.raises(ddbkit.ConditionFailedError) as delete_refused:
        table.delete({"id": "a"}, expected=read, return_old=True)
    assert str(delete_refused.value) == f"{CHANGED} deleted (read it again)"
    assert stored(table, {"id": "a"}) == now


def test_expected_combines_with_a_condition_by_and(table: Table, read: dict[str, Any]) -> None:
    with pytest.raises(ddbkit.ConditionFailedError, match="or the condition was false"):
        table.put({**read, "n": 3}, condition="flag = :f", params={"f": False}, expected=read)
    assert stored(table, {"id": "a"}) == canon_item(read)
    table.put({**read, "n": 3}, condition="flag = :f", params={"f": True}, expected=read)
    assert table.get({"id": "a"}, consistent=True) == {**read, "n": 3}


def test_a_condition_alone_still_fails_as_before(table: Table, read: dict[str, Any]) -> None:
    with pytest.raises(ddbkit.ConditionFailedError, match="condition failed"):
        table.delete({"id": "a"}, condition="flag = :f", params={"f": False})


def test_expected_for_another_key_or_empty_is_refused_before_sending(
    table: Table, read: dict[str, Any]
) -> None:
    with pytest.raises(ddbkit.ValidationError, match="expected is another item"):
        table.put({**read, "id": "b"}, expected=read)
    with pytest.raises(ddbkit.ValidationError, match="expected is empty"):
        table.delete({"id": "a"}, expected={})
    assert stored(table, {"id": "a"}) == canon_item(read)


def test_async_put_and_delete_take_expected(
    endpoint: str, table: Table, read: dict[str, Any]
) -> None:
    async def save() -> None:
        async with connect_async(endpoint_url=endpoint, local=True) as adb:
            t = adb.table(table.name)
            await t.put({**read, "n": 5}, expected=read)
            with pytest.raises(ddbkit.ConditionFailedError, match=CHANGED):
                await t.put({**read, "n": 6}, expected=read)
            with pytest.raises(ddbkit.ConditionFailedError, match=CHANGED):
                await t.delete({"id": "a"}, expected=read)
            assert await t.delete({"id": "a"}, expected={**read, "n": 5}, return_old=True)

    asyncio.run(save())
    assert stored(table, {"id": "a"}) is None


def test_expected_checks_up_to_150_attributes_and_refuses_more_before_sending(
    table: Table,
) -> None:
    # DynamoDB allows 300 operators in a condition: 150 '=' and 149 'AND'.
    wide = {"id": "w", **{f"attribute_with_a_long_name_{k}": {"m": [k]} for k in range(149)}}
    table.put(wide)
    table.put({**wide, "attribute_with_a_long_name_0": 0}, expected=wide)
    wider = {**wide, "one_more": 1}
    with pytest.raises(ddbkit.ValidationError, match="expected has 151 attributes.*at most 300"):
        table.put(wider, expected=wider)
    assert table.get({"id": "w"}, consistent=True) == {**wide, "attribute_with_a_long_name_0": 0}
