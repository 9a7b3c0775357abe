"""alter's plan (pure), --add-gsi parsing, and the where-condition evaluated on stream images."""

from __future__ import annotations

from typing import Any

import pytest

from ddbkit import errors
from ddbkit.expr.evaluate import matches
from ddbkit.expr.where import parse_where
from ddbkit.jobs.alter import plan_alter
from ddbkit.jobs.tables import IndexSpec
from ddbkit.values.serialize import to_item

TABLE: dict[str, Any] = {
    "TableName": "t",
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    "GlobalSecondaryIndexes": [{"IndexName": "old", "IndexStatus": "ACTIVE"}],
}


def test_add_gsi_parses_with_and_without_types() -> None:
    parse = IndexSpec.parse
    assert parse("i:a", typed=False) == IndexSpec("i", ("a", ""))
    assert parse("i:a:b", typed=False) == IndexSpec("i", ("a", ""), ("b", ""))
    assert parse("i:a:S:b:N", typed=False) == IndexSpec("i", ("a", "S"), ("b", "N"))
    assert parse("i:a:b:N", typed=False) == IndexSpec("i", ("a", ""), ("b", "N"))
    for bad in ("i", "i:", "i:a:b:c", ":a"):
        with pytest.raises(errors.ValidationError, match="--add-gsi"):
            parse(bad, typed=False)


def test_plan_orders_steps_as_dynamodb_accepts_them() -> None:
    steps = plan_alter(
        TABLE,
        {"TimeToLiveStatus": "DISABLED"},
        billing="provisioned",
        capacity=(5, 6),
        add_indexes=[IndexSpec("new", ("id", ""))],
        delete_indexes=["old"],
        ttl="exp",
        stream="new",
        deletion_protection=True,
        pitr=True,
    )
    assert [s.what for s in steps] == [
        "delete index old",
        "switch billing to provisioned, 5 RCU / 6 WCU",
        "add index new",
        "turn the stream on (NEW_IMAGE)",
        "turn TTL on (exp)",
        "turn deletion protection on",
        "turn point-in-time recovery on",
    ]
    create = steps[2].params["GlobalSecondaryIndexUpdates"][0]["Create"]
    assert create["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6}
    assert steps[2].params["AttributeDefinitions"] == [
        {"AttributeName": "id", "AttributeType": "S"}
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"billing": "provisioned"}, "needs read and write capacity"),
        ({"capacity": (1, 1)}, "capacity is for provisioned billing"),
        ({"add_indexes": [IndexSpec("old", ("id", "S"))]}, "has an index 'old' already"),
        ({"add_indexes": [IndexSpec("xyz", ("id", "N"))]}, "'id' is S in the table, not N"),
        ({"add_indexes": [IndexSpec("xyz", ("id", "S"), local=True)]}, "only with the table"),
        ({"stream": "sideways"}, "stream view 'sideways' unknown"),
        ({"billing": "free"}, "billing mode 'free' unknown"),
        (
            {"add_indexes": [IndexSpec("gix", ("x", "S")), IndexSpec("gix", ("x", "S"))]},
            "gix given twice to add",
        ),
        ({"delete_indexes": ["old", "old"]}, "old given twice to delete"),
        (
            {"add_indexes": [IndexSpec("gix1", ("x", "S")), IndexSpec("gix2", ("x", "N"))]},
            "'x' is S in the table, not N",
        ),
    ],
)
def test_plan_refuses_before_any_request(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.ValidationError, match=message):
        plan_alter(TABLE, None, **changes)


def test_plan_ttl_on_another_attribute_says_turn_it_off_first() -> None:
    with pytest.raises(errors.ValidationError, match="turn it off first"):
        plan_alter(TABLE, {"TimeToLiveStatus": "ENABLED", "AttributeName": "a"}, ttl="b")
    off = plan_alter(TABLE, {"TimeToLiveStatus": "ENABLED", "AttributeName": "a"}, ttl=False)
    assert off[0].params["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "a"}


ITEM = to_item(
    {"id": "a", "n": 10, "s": "héllo", "tags": {"x", "y"}, "l": [1, "two"], "m": {"k": [True]},
     "b": b"\x01\x02"}
)  # fmt: skip


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("n = 10", True),
        ("n = '10'", False),  # a number never equals a string
        ("n > 9.5 AND n <= 10", True),
        ("n BETWEEN 1 AND 9", False),
        ("n IN (1, 10)", True),
        ("missing = 1", False),
        ("NOT missing = 1", True),
        ("missing <> 1", True),  # not equal: true when absent (checked on DynamoDB Local)
        ("n <> '10'", True),  # and for another type
        ("begins_with(s, 'hé')", True),
        ("contains(s, 'll')", True),
        ("contains(tags, 'x')", True),
        ("contains(l, 'two')", True),
        ("contains(l, 2)", False),
        ("attribute_exists(m.k[0])", True),
        ("attribute_exists(m.k[1])", False),
        ("attribute_type(m.k[0], 'BOOL')", True),
        ("size(s) = 6", True),  # bytes of UTF-8
        ("size(tags) = 2 OR n = 0", True),
        ("tags = <<'y', 'x'>>", True),
        ("b = x'0102'", True),
        ("l[1] = 'two' AND m.k = [true]", True),
        ("s < 'i'", True),
        ("l < [2]", False),  # lists have no order
    ],
)
def test_where_evaluates_on_an_item_as_dynamodb_does(where: str, expected: bool) -> None:
    assert matches(parse_where(where), ITEM) is expected
