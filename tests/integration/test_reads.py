"""query / scan / find / count over every page, on DynamoDB Local."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key

import ddbkit
from ddbkit.jobs.tables import IndexSpec
from ddbkit.table import Table

pytestmark = pytest.mark.integration

# ~100 KB per item: 12 items make well over one 1 MB page.
PAD = "p" * 100_000


def fill(table: Table, items: list[dict[str, Any]]) -> None:
    for item in items:
        table.put(item)


@pytest.fixture
def events(sorted_table: Table) -> Table:
    fill(
        sorted_table,
        [{"pk": "a", "sk": n, "kind": "odd" if n % 2 else "even", "n": n} for n in range(1, 41)],
    )
    fill(sorted_table, [{"pk": "b", "sk": n, "kind": "other"} for n in range(1, 6)])
    return sorted_table


@pytest.fixture
def big_pages(make_table: Callable[..., Table]) -> Table:
    """36 items of ~100 KB: a scan needs at least four 1 MB pages."""
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    fill(t, [{"pk": "p", "sk": n, "pad": PAD, "match": n % 9 == 0} for n in range(36)])
    return t


def test_query_splits_key_condition_and_filter(events: Table) -> None:
    items = list(events.query("pk = 'a' AND sk BETWEEN 5 AND 12 AND kind = 'odd'"))
    assert [i["sk"] for i in items] == [5, 7, 9, 11]
    params = events.query("pk = 'a' AND sk > 3 AND kind = 'odd'").params
    assert "KeyConditionExpression" in params and "FilterExpression" in params
    assert "kind" not in params["FilterExpression"]  # names travel as placeholders


def test_query_reverse_and_begins_with(make_table: Callable[..., Table]) -> None:
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "S"))
    fill(t, [{"pk": "x", "sk": s} for s in ["2024-01", "2024-02", "2025-01", "2023-12"]])
    assert [i["sk"] for i in t.query("pk = 'x' AND begins_with(sk, '2024')", reverse=True)] == [
        "2024-02",
        "2024-01",
    ]


def test_query_accepts_boto3_key_conditions(events: Table) -> None:
    items = list(events.query(Key("pk").eq("a") & Key("sk").lte(3)))
    assert [i["sk"] for i in items] == [1, 2, 3]


def test_query_without_partition_key_equality_suggests_scan_or_find(events: Table) -> None:
    with pytest.raises(ddbkit.PlanError, match="partition key 'pk'.*use scan or find"):
        events.query("sk > 3")


def test_query_key_of_wrong_type_is_refused_before_sending(events: Table) -> None:
    with pytest.raises(ddbkit.PlanError, match="'sk' is of type N"):
        list(events.query("pk = 'a' AND sk = '3'"))


def test_scan_keeps_filter_on_every_page(big_pages: Table) -> None:
    pages = list(big_pages.scan("match = true").pages())
    assert len(pages) >= 4
    matched = sorted(i["sk"] for p in pages for i in p.items)
    assert matched == [0, 9, 18, 27]
    assert sum(p.scanned_count for p in pages) == 36


def test_empty_pages_with_a_cursor_do_not_end_the_iteration(big_pages: Table) -> None:
    # Only the last item matches: the first pages come back empty but carry a cursor.
    pages = list(big_pages.scan("sk = 35").pages())
    assert pages[0].items == [] and pages[0].cursor is not None
    assert [i["sk"] for p in pages for i in p.items] == [35]


def test_limit_counts_items_after_filtering(big_pages: Table) -> None:
    items = list(big_pages.scan("match = true", limit=3, attributes=["sk"]))
    assert [i["sk"] for i in items] == [0, 9, 18]
    assert items[0] == {"sk": 0}
    assert list(big_pages.scan(limit=0)) == []


def test_limit_without_filter_reads_only_what_it_needs(events: Table) -> None:
    result = events.query("pk = 'a'", limit=7)
    assert [i["sk"] for i in result] == [1, 2, 3, 4, 5, 6, 7]
    assert result.scanned_count == 7


def test_cursor_resumes_exactly_after_a_limit_mid_page(events: Table) -> None:
    first = events.query("pk = 'a' AND kind = 'even'", limit=3, attributes=["n"])
    got = [i["n"] for i in first]
    assert got == [2, 4, 6]
    assert first.cursor is not None
    rest = [i["n"] for i in events.query("pk = 'a' AND kind = 'even'", start=first.cursor)]
    assert rest == list(range(8, 41, 2))


def test_pages_expose_counts_and_resume_from_cursor(big_pages: Table) -> None:
    pages = big_pages.scan().pages()
    first = next(pages)
    assert first.count == len(first.items) > 0 and first.cursor
    rest = [i["sk"] for p in big_pages.scan(start=first.cursor).pages() for i in p.items]
    assert sorted([i["sk"] for i in first.items] + rest) == list(range(36))


def test_invalid_cursor_is_a_clear_error(events: Table) -> None:
    with pytest.raises(ddbkit.ValidationError, match="invalid cursor"):
        list(events.scan(start="not-a-cursor!"))


def test_projection_uses_placeholders_for_nested_paths(table: Table) -> None:
    table.put(
        {"id": "p1", "address": {"city": "Oslo", "zip": "0150"}, "tags": ["a", "b"], "name": "x"}
    )
    items = list(table.scan(attributes=["address.city", "tags[1]", "name"]))
    assert items == [{"address": {"city": "Oslo"}, "tags": ["b"], "name": "x"}]


def test_scan_where_every_operator(table: Table) -> None:
    fill(
        table,
        [
            {"id": "1", "age": 30, "name": "Ada", "tags": {"x"}, "nick": "a", "l": [1, 2, 3]},
            {"id": "2", "age": 40, "name": "Bob", "tags": {"y"}, "m": {"k": 1}},
            {"id": "3", "age": 50, "name": "Al", "n": None},
        ],
    )

    def ids(where: Any) -> list[str]:
        return sorted(i["id"] for i in table.scan(where))

    assert ids("age >= 40") == ["2", "3"]
    assert ids("age <> 40") == ["1", "3"]
    assert ids("age BETWEEN 30 AND 40") == ["1", "2"]
    assert ids("age IN (30, 50)") == ["1", "3"]
    assert ids("begins_with(name, 'A')") == ["1", "3"]
    assert ids("contains(tags, 'y')") == ["2"]
    assert ids("attribute_exists(nick)") == ["1"]
    assert ids("attribute_not_exists(nick) AND NOT age = 50") == ["2"]
    assert ids("attribute_type(m, 'M')") == ["2"]
    assert ids("size(l) > 2") == ["1"]
    assert ids("n = null") == ["3"]
    assert ids("m.k = 1 OR l[0] = 1") == ["1", "2"]
    assert ids(Attr("age").gt(35) & ~Attr("name").begins_with("B")) == ["3"]


def test_find_uses_a_gsi_bound_by_the_where_clause(make_table: Callable[..., Table]) -> None:
    t = make_table(indexes=[IndexSpec("by_email", ("email", "S"))])
    fill(t, [{"id": str(n), "email": f"u{n}@x.io", "age": n} for n in range(10)])
    plan = t.explain("email = 'u3@x.io' AND age > 1")
    assert plan.operation == "Query" and plan.index == "by_email"
    assert plan.filter is not None and plan.filter.debug() == "age > 1"
    assert [i["id"] for i in t.find("email = 'u3@x.io'")] == ["3"]


def test_find_prefers_table_and_explains_why_not_indexes(make_table: Callable[..., Table]) -> None:
    t = make_table(
        partition_key=("pk", "S"),
        sort_key=("sk", "N"),
        indexes=[
            IndexSpec("by_kind", ("kind", "S"), projection="KEYS_ONLY"),
            IndexSpec("by_n", ("pk", "S"), ("n", "N"), local=True),
        ],
    )
    fill(t, [{"pk": "a", "sk": i, "kind": "k", "n": 100 - i} for i in range(5)])
    plan = t.explain("kind = 'k'")
    assert plan.operation == "Scan"
    assert any("by_kind" in r and "KEYS_ONLY" in r for r in plan.reasons)
    keys_only = t.explain("kind = 'k'", attributes=["pk", "sk"])
    assert keys_only.operation == "Query" and keys_only.index == "by_kind"
    lsi = t.explain("pk = 'a' AND n < 98")
    assert lsi.index == "by_n" and lsi.filter is None
    assert sorted(i["sk"] for i in t.find("pk = 'a' AND n < 98")) == [3, 4]
    table_plan = t.explain("pk = 'a' AND sk = 2")
    assert table_plan.index is None
    assert "Query" in table_plan.describe()


def test_find_with_consistent_read_skips_gsis(make_table: Callable[..., Table]) -> None:
    t = make_table(indexes=[IndexSpec("by_email", ("email", "S"))])
    plan = t.explain("email = 'a'", consistent=True)
    assert plan.operation == "Scan"
    assert any("consistent" in r for r in plan.reasons)


def test_count_is_exact_over_pages_and_uses_query_when_it_can(
    big_pages: Table, events: Table
) -> None:
    assert big_pages.count() == 36
    assert big_pages.count("match = true") == 4
    assert events.count("pk = 'a' AND sk > 30") == 10
    assert events.count("kind = 'other'") == 5


def test_scan_an_index(make_table: Callable[..., Table]) -> None:
    t = make_table(indexes=[IndexSpec("by_email", ("email", "S"))])
    fill(t, [{"id": "1", "email": "a"}, {"id": "2"}])
    assert [i["id"] for i in t.scan(index="by_email")] == ["1"]
    with pytest.raises(ddbkit.ValidationError, match="has no index 'nope'"):
        t.scan(index="nope")


def test_explain_on_an_index_queries_or_scans_it_and_runs(
    make_table: Callable[..., Table],
) -> None:
    t = make_table(indexes=[IndexSpec("by_email", ("email", "S"), ("age", "N"))])
    fill(t, [{"id": str(n), "email": f"u{n % 3}", "age": n} for n in range(9)] + [{"id": "x"}])
    query = t.explain("email = :e AND age > 2", index="by_email", params={"e": "u1"})
    assert (query.operation, query.index) == ("Query", "by_email")
    assert sorted(i["id"] for i in t.run(query)) == ["4", "7"]
    scan = t.explain("age >= 6", index="by_email")
    assert (scan.operation, scan.index) == ("Scan", "by_email")
    assert "not bound by '='" in scan.reasons[0] and scan.estimate is not None
    assert sorted(i["id"] for i in t.run(scan)) == ["6", "7", "8"]
    everything = t.explain(index="by_email")
    assert sorted(i["id"] for i in t.run(everything)) == [str(n) for n in range(9)]  # not "x"
