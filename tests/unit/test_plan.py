"""The planner: key-condition split and find's choice between table, indexes and scan."""

from __future__ import annotations

from typing import Any

import pytest

from ddbkit.errors import PlanError, ValidationError
from ddbkit.expr.plan import plan_find, plan_query, split_for_keys
from ddbkit.expr.requests import TableRequests
from ddbkit.expr.where import parse_where
from ddbkit.models import KeyAttribute, KeySchema, ScanEstimate, TableInfo
from ddbkit.read.cursors import SegmentCursors
from ddbkit.read.paginate import Pager


def describe(**extra: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "TableName": "orders",
        "TableStatus": "ACTIVE",
        "ItemCount": 10,
        "TableSizeBytes": 5 * 1024 * 1024,
        "KeySchema": [
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "date", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "date", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "total", "AttributeType": "N"},
            {"AttributeName": "email", "AttributeType": "S"},
        ],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "total", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
                "IndexStatus": "ACTIVE",
            },
            {
                "IndexName": "by_email",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "IndexStatus": "ACTIVE",
            },
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by_total",
                "KeySchema": [
                    {"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "total", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }
    table.update(extra)
    return table


INFO = TableInfo.from_describe(describe())
KEYS = INFO.keys


def test_split_takes_partition_equality_and_one_sort_condition() -> None:
    split = split_for_keys(parse_where("customer = 'c1' AND date > '2024' AND x = 1"), KEYS)
    assert split.key_condition is not None
    assert split.key_condition.debug() == "customer = 'c1' AND date > '2024'"
    assert split.filter is not None and split.filter.debug() == "x = 1"
    assert split.has_sort_condition


def test_split_flips_a_literal_written_first() -> None:
    split = split_for_keys(parse_where("'c1' = customer AND '2024' < date"), KEYS)
    assert split.key_condition is not None
    assert split.key_condition.debug() == "customer = 'c1' AND date > '2024'"


def test_second_sort_condition_goes_to_the_filter() -> None:
    split = split_for_keys(parse_where("customer = 'c1' AND date > 'a' AND date < 'b'"), KEYS)
    assert split.filter is not None and split.filter.debug() == "date < 'b'"


@pytest.mark.parametrize(
    "where",
    [
        "customer <> 'c1'",
        "customer = 'c1' OR date = 'x'",
        "NOT customer = 'c1'",
        "customer IN ('a', 'b')",
        "begins_with(customer, 'c')",
    ],
)
def test_no_key_condition_without_top_level_equality(where: str) -> None:
    assert split_for_keys(parse_where(where), KEYS).key_condition is None


def test_sort_key_not_equal_and_contains_stay_in_filter() -> None:
    split = split_for_keys(
        parse_where("customer = 'c' AND date <> 'x' AND contains(date, 'y')"), KEYS
    )
    assert not split.has_sort_condition
    assert split.filter is not None


def test_query_without_partition_key_suggests_scan_or_find() -> None:
    with pytest.raises(PlanError, match="scan or find"):
        plan_query(
            parse_where("date = 'x'"),
            KEYS,
            index=None,
            attributes=None,
            consistent=False,
            table="orders",
        )


def test_query_refuses_wrong_key_type() -> None:
    with pytest.raises(PlanError, match="'customer' is of type S.*quote the value"):
        plan_query(
            parse_where("customer = 3"),
            KEYS,
            index=None,
            attributes=None,
            consistent=False,
            table="orders",
        )


def test_find_prefers_index_with_sort_condition() -> None:
    plan = plan_find(
        parse_where("customer = 'c' AND total > 5"), INFO, attributes=None, consistent=False
    )
    assert (plan.operation, plan.index) == ("Query", "by_total")
    assert any("table: usable" in r for r in plan.reasons)


def test_find_rejects_gsi_that_does_not_project_what_is_asked() -> None:
    whole = plan_find(parse_where("status = 'x'"), INFO, attributes=None, consistent=False)
    assert whole.operation == "Scan"
    assert any("by_status" in r and "whole item" in r for r in whole.reasons)
    narrow = plan_find(
        parse_where("status = 'x' AND total > 3"),
        INFO,
        attributes=["note", "customer"],
        consistent=False,
    )
    assert narrow.index == "by_status"
    sparse = plan_find(
        parse_where("status = 'x'"), INFO, attributes=["note", "customer"], consistent=False
    )
    assert sparse.operation == "Scan"
    assert any("holds only items with 'total'" in r for r in sparse.reasons)
    missing = plan_find(
        parse_where("status = 'x' AND color = 'red'"), INFO, attributes=["note"], consistent=False
    )
    assert missing.operation == "Scan"
    assert any("does not project color" in r for r in missing.reasons)


def test_find_skips_gsi_for_consistent_reads_and_inactive_indexes() -> None:
    consistent = plan_find(parse_where("email = 'a'"), INFO, attributes=None, consistent=True)
    assert consistent.operation == "Scan"
    creating = describe()
    creating["GlobalSecondaryIndexes"][1]["IndexStatus"] = "CREATING"
    plan = plan_find(
        parse_where("email = 'a'"),
        TableInfo.from_describe(creating),
        attributes=None,
        consistent=False,
    )
    assert plan.operation == "Scan"
    assert any("status CREATING" in r for r in plan.reasons)


def test_find_without_where_scans() -> None:
    plan = plan_find(None, INFO, attributes=None, consistent=False)
    assert plan.operation == "Scan" and plan.filter is None
    assert "operation:     Scan" in plan.describe()


def test_scan_estimate_uses_1mb_pages_and_half_rcu_per_4kb() -> None:
    assert INFO.scan_estimate == ScanEstimate(pages=5, read_capacity_units=640)
    assert ScanEstimate.for_size(0) == ScanEstimate(pages=1, read_capacity_units=0)


def test_table_info_reads_provisioned_ttl_and_streams() -> None:
    info = TableInfo.from_describe(
        describe(
            BillingModeSummary={"BillingMode": "PROVISIONED"},
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            DeletionProtectionEnabled=True,
        ),
        {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"},
    )
    assert (info.read_capacity, info.write_capacity) == (5, 7)
    assert info.ttl_attribute == "exp" and info.stream_view_type == "NEW_IMAGE"
    assert info.deletion_protection
    assert info.to_dict()["indexes"][2]["kind"] == "LSI"


@pytest.mark.parametrize(
    ("key_type", "good", "bad"),
    [("S", "x", 1), ("N", 1.5, True), ("B", b"x", "x")],
)
def test_key_attribute_accepts_only_its_type(key_type: str, good: Any, bad: Any) -> None:
    key = KeyAttribute("k", key_type)
    assert key.accepts(good) and not key.accepts(bad)
    assert KeySchema(key).names == ("k",)


# ---------------------------------------------------------------------------------------------
# explain(index=...): the plan on the index the caller chose


def on_index(where: str | None, index: str, info: TableInfo = INFO) -> Any:
    return TableRequests("orders").find_plan(info, where, index=index)


def test_an_index_bound_by_its_partition_key_is_queried() -> None:
    plan = on_index("status = 'open' AND total > 5 AND note = 'x'", "by_status")
    assert (plan.operation, plan.index) == ("Query", "by_status")
    assert plan.key_condition is not None
    assert plan.key_condition.debug() == "status = 'open' AND total > 5"
    assert plan.filter is not None and plan.filter.debug() == "note = 'x'"
    assert (
        plan.reasons[0] == "the index's partition key 'status' is bound by '=': querying the index"
    )
    assert plan.reasons[1] == "GSI by_status holds only the items that have 'status' and 'total'"


@pytest.mark.parametrize("where", [None, "email > 'a'", "email = 'a' OR email = 'b'", "x = 1"])
def test_an_index_not_bound_by_its_partition_key_is_scanned(where: str | None) -> None:
    plan = on_index(where, "by_email")
    assert (plan.operation, plan.index, plan.key_condition) == ("Scan", "by_email", None)
    assert plan.filter == (None if where is None else parse_where(where))
    assert plan.reasons[0] == (
        "the index's partition key 'email' is not bound by '=': scanning the index"
    )
    assert plan.estimate is None and "not known" in plan.cost  # DescribeTable gave no size


def test_a_scanned_index_is_estimated_from_its_own_size() -> None:
    described = describe()
    described["GlobalSecondaryIndexes"][1]["IndexSizeBytes"] = 3 * 1024 * 1024
    plan = on_index("email <> 'a'", "by_email", TableInfo.from_describe(described))
    assert plan.estimate == ScanEstimate.for_size(3 * 1024 * 1024)  # the index's, not the table's
    assert plan.to_dict()["estimate"] == {"read_capacity_units": 384, "pages": 3}
    assert "~384 RCU" in plan.describe()


def test_an_lsi_is_queried_by_the_tables_partition_key() -> None:
    plan = on_index("customer = 'c1'", "by_total")
    assert (plan.operation, plan.index) == ("Query", "by_total")
    assert "LSI by_total holds only the items that have 'customer' and 'total'" in plan.reasons


def test_explain_on_an_index_refuses_unknown_indexes_and_wrong_key_types() -> None:
    with pytest.raises(ValidationError, match="has no index 'nope' \\(indexes: by_status"):
        on_index(None, "nope")
    with pytest.raises(PlanError, match="key attribute 'total' is of type N"):
        on_index("status = 'open' AND total = 'five'", "by_status")


# -- segments of a walk ------------------------------------------------------------------------

BIG = TableInfo.from_describe(describe(TableSizeBytes=100 * 1024 * 1024))


def test_a_limit_without_a_filter_reads_one_segment_of_a_big_table() -> None:
    requests = TableRequests("orders")
    plan = requests.find_plan(BIG, None)
    assert requests.walk(BIG, plan).segments > 1  # every item: in parallel
    assert requests.walk(BIG, plan, limit=50).segments == 1  # 50 items: one small request
    filtered = requests.find_plan(BIG, "total > 3")
    assert requests.walk(BIG, filtered, limit=50).segments > 1  # a filter may read far
    assert requests.walk(BIG, plan, limit=50, segments=4).segments == 4  # as asked


def test_a_cursor_resumes_with_the_segments_it_was_made_with() -> None:
    requests = TableRequests("orders")
    plan = requests.find_plan(BIG, None)
    four = SegmentCursors(4, {0: {"customer": {"S": "c"}, "date": {"S": "d"}}}).encode()
    assert four is not None
    assert requests.walk(BIG, plan, start=four).segments == 4
    assert requests.walk(BIG, plan, start=four, limit=10).segments == 4
    with pytest.raises(ValidationError, match="segments=4"):  # asked otherwise: refused
        Pager(requests.walk(BIG, plan, start=four, segments=2))
