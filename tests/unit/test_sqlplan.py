"""sqlplan: attributes used, pushable conjuncts, early LIMIT, guarded conditions."""

from __future__ import annotations

import pytest

pytest.importorskip("duckdb")

from ddbkit.integrations.sql.plan import analyze


def test_attributes_and_conjuncts_of_one_table() -> None:
    a = analyze("SELECT city, count(*), avg(age) FROM users WHERE age > 30 GROUP BY city")
    use = a.tables["users"]
    assert use.attrs == {"city", "age"}
    assert [(c.attr, c.op) for c in use.conjuncts] == [("age", ">")]
    assert a.limit is None


def test_star_reads_all_attributes_and_limit_stops_early() -> None:
    a = analyze("SELECT * FROM users WHERE city = 'Berlin' LIMIT 10 OFFSET 2")
    assert a.tables["users"].attrs is None
    assert a.limit == 12


def test_order_by_or_aggregate_disables_early_limit() -> None:
    assert analyze("SELECT id FROM users ORDER BY id LIMIT 3").limit is None
    assert analyze("SELECT count(*) FROM users LIMIT 3").limit is None


def test_outer_join_null_side_is_not_filtered() -> None:
    a = analyze(
        "SELECT u.name FROM users u LEFT JOIN orders o ON u.id = o.uid "
        "WHERE o.total > 3 AND u.age > 5"
    )
    assert a.tables["orders"].conjuncts == []
    assert [c.attr for c in a.tables["users"].conjuncts] == ["age"]


def test_like_prefix_becomes_begins_with_only_for_plain_prefixes() -> None:
    a = analyze("SELECT id FROM t WHERE name LIKE 'ab%' AND x LIKE 'a_c%'")
    assert [(c.attr, c.op) for c in a.tables["t"].conjuncts] == [("name", "begins_with")]


def test_table_used_twice_gets_no_filter() -> None:
    a = analyze("SELECT a.id FROM users a JOIN users b ON a.g = b.g WHERE a.x > 5")
    assert a.tables["users"].conjuncts == []


def test_cte_names_are_not_dynamodb_tables() -> None:
    a = analyze("WITH big AS (SELECT g, x FROM users WHERE x > 1) SELECT g FROM big")
    assert set(a.tables) == {"users"}
