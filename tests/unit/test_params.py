"""Named parameters in the where language: values are bound, never spliced into the text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbkit.errors import ValidationError, WhereSyntaxError
from ddbkit.expr.expressions import Compare, Path, Placeholders, Value
from ddbkit.expr.requests import TableRequests
from ddbkit.expr.where import Bindings, param_targets, parse_set_clause, parse_where
from ddbkit.models import KeyAttribute, KeySchema


def test_a_hostile_string_stays_one_value() -> None:
    hostile = "zz' OR name <> 'zz"
    condition = parse_where("name = :name", {"name": hostile})
    assert condition == Compare("=", Path(("name",)), Value(hostile))
    ph = Placeholders()
    assert condition.encode(ph) == "#n0 = :v0"
    assert ph.request_params()["ExpressionAttributeValues"] == {":v0": {"S": hostile}}


@given(st.text())
def test_any_string_binds_to_exactly_one_placeholder(text: str) -> None:
    condition = parse_where("a = :x AND b <> :x", {"x": text})
    ph = Placeholders()
    assert condition.encode(ph) == "#n0 = :v0 AND #n1 <> :v0"


@pytest.mark.parametrize(
    ("text", "params", "message"),
    [
        ("a = :x", None, "no value for :x"),
        ("a = :x", {"y": 1}, "no value for :x"),
        ("a = 1", {"x": 1}, "params :x not used"),
        ("a = : x", {"x": 1}, "a parameter is written :name"),
        ("a = :x", {"1x": 1, "x": 2}, "parameter name '1x' is not a word"),
        ("a = :x", {"x y": 1}, "is not a word"),
    ],
)
def test_missing_unused_and_badly_named_parameters_are_errors(
    text: str, params: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_where(text, params)


def test_the_missing_parameter_error_points_at_it() -> None:
    with pytest.raises(WhereSyntaxError) as raised:
        parse_where("age > 1 AND name = :who", {})
    assert raised.value.column == len("age > 1 AND name = ") + 1


def test_parameters_work_wherever_a_value_does() -> None:
    condition = parse_where(
        "a IN (:x, :y) AND b BETWEEN :lo AND :hi AND begins_with(c, :p) AND size(d) > :n",
        {"x": 1, "y": "two", "lo": Decimal("0.5"), "hi": 9, "p": "pre", "n": 3},
    )
    assert condition.debug() == (
        "a IN (1, 'two') AND b BETWEEN 0.5 AND 9 AND begins_with(c, 'pre') AND size(d) > 3"
    )
    assert parse_where("{'k'::v} = m", {"v": 1}).debug() == "{'k': 1} = m"
    assert parse_where("a = :x", {":x": 1}).debug() == "a = 1"  # boto3's spelling is accepted


def test_update_clauses_and_condition_share_one_set_of_params() -> None:
    bindings = Bindings({"n": 5, "tag": "x"})
    assert parse_set_clause("count = count + :n", bindings)[0][1].debug() == "count + 5"
    with pytest.raises(ValidationError, match=":tag not used"):
        bindings.check_used()


def test_param_targets_name_the_attributes_each_parameter_meets() -> None:
    targets = param_targets("id = :id AND sk BETWEEN :lo AND :hi OR a.b = :deep", "x IN (:in)")
    assert targets == {"id": {"id"}, "lo": {"sk"}, "hi": {"sk"}, "deep": set(), "in": {"x"}}
    assert param_targets("not ( valid") == {}


# ---------------------------------------------------------------------------------------------
# expected= on put and delete: the item as it was read, bound value by value


def test_expected_binds_every_attribute_of_the_read_item() -> None:
    keys = KeySchema(KeyAttribute("id", "S"), None)
    hostile = "x' OR attribute_exists(id) OR 'x"
    read = {"id": "a", "name": hostile, "tags": {"t"}, "m": {"k": [1]}}
    request = TableRequests("t").put_item(
        keys, {**read, "name": "new"}, condition="v = :v", params={"v": 1}, expected=read
    )
    assert request.params["ConditionExpression"] == (
        "#n0 = :v0 AND #n1 = :v1 AND #n2 = :v2 AND #n3 = :v3 AND #n4 = :v4"
    )
    assert request.params["ExpressionAttributeNames"] == {
        "#n0": "v", "#n1": "id", "#n2": "name", "#n3": "tags", "#n4": "m",
    }  # fmt: skip
    assert request.params["ExpressionAttributeValues"][":v2"] == {"S": hostile}
    assert request.params["ExpressionAttributeValues"][":v3"] == {"SS": ["t"]}
    assert not request.idempotent  # a conditional write is not resent once it may have applied
    delete = TableRequests("t").delete_item(keys, {"id": "a"}, expected={"id": "a"})
    assert delete.params["ConditionExpression"] == "#n0 = :v0"
    assert delete.changed is not None and "nothing was deleted" in delete.changed
