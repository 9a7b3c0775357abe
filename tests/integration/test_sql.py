"""db.sql on DynamoDB Local: answers equal what the written items say; requests are pushed down.

Every expected answer is computed in Python from the items the fixtures wrote, numbers compared
exactly (Decimal for Decimal, int for int), never taken from DuckDB over ddbkit's own export.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")

from ddbkit.database import Database  # noqa: E402
from ddbkit.jobs.tables import IndexSpec  # noqa: E402
from ddbkit.table import Table  # noqa: E402
from tests.conftest import CliRunner, TableFactory  # noqa: E402


def _users(n: int = 120) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i in range(n):
        item: dict[str, Any] = {
            "id": f"u{i:03d}",
            "city": ["Berlin", "Rome", "Paris", "Oslo"][i % 4],
            "age": 18 + i % 50,
            "score": Decimal(i) / 8,
            "profile": {"email": f"u{i}@x.org", "langs": ["en", "de"][: 1 + i % 2]},
            "tags": {"a", "b"} if i % 3 else {"c"},
            "mixed": i if i % 2 else f"s{i}",
        }
        if i % 5 == 0:
            item["nick"] = None
        elif i % 5 == 1:
            item["nick"] = f"n{i}"
        items.append(item)
    return items


@pytest.fixture
def users(make_table: TableFactory) -> Table:
    t = make_table(partition_key=("id", "S"))
    t.put_many(USERS)
    return t


@pytest.fixture
def orders(make_table: TableFactory) -> Table:
    t = make_table(
        partition_key=("uid", "S"),
        sort_key=("n", "N"),
        indexes=[IndexSpec("by_status", partition_key=("status", "S"), sort_key=("total", "N"))],
    )
    t.put_many(ORDERS)
    return t


USERS = _users()
ORDERS: list[dict[str, Any]] = [
    {"uid": f"u{i % 40:03d}", "n": i, "total": i * 3 % 97, "status": ["paid", "sent"][i % 2]}
    for i in range(200)
]
CITY = {u["id"]: u["city"] for u in USERS}


def _by_city(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for city, value in rows:
        totals[city] = totals.get(city, 0) + value
    return list(totals.items())


def _city_counts_and_mean_age() -> list[tuple[Any, ...]]:
    older = [u for u in USERS if u["age"] > 30]
    rows = []
    for city in {u["city"] for u in older}:
        ages = [u["age"] for u in older if u["city"] == city]
        rows.append((city, len(ages), sum(ages) / len(ages)))
    return rows


# Each query with its answer computed in Python from the items the fixtures wrote.
QUERIES: list[tuple[str, Callable[[], list[tuple[Any, ...]]]]] = [
    (
        "SELECT city, count(*), avg(age) FROM {u} WHERE age > 30 GROUP BY city ORDER BY 2 DESC",
        _city_counts_and_mean_age,
    ),
    (
        "SELECT id, age FROM {u} WHERE age BETWEEN 20 AND 25 AND city IN ('Rome', 'Oslo')",
        lambda: [
            (u["id"], u["age"])
            for u in USERS
            if 20 <= u["age"] <= 25 and u["city"] in ("Rome", "Oslo")
        ],
    ),
    (
        "SELECT id FROM {u} WHERE city LIKE 'Be%' AND age >= 40",
        lambda: [(u["id"],) for u in USERS if u["city"].startswith("Be") and u["age"] >= 40],
    ),
    (
        "SELECT count(*) FROM {u} WHERE nick IS NULL",
        lambda: [(sum(u.get("nick") is None for u in USERS),)],
    ),
    (
        "SELECT count(*) FROM {u} WHERE nick IS NOT NULL",
        lambda: [(sum(u.get("nick") is not None for u in USERS),)],
    ),
    ("SELECT count(*) FROM {u}", lambda: [(len(USERS),)]),
    (
        "SELECT id, profile->>'email' FROM {u} WHERE id = 'u007'",
        lambda: [(u["id"], u["profile"]["email"]) for u in USERS if u["id"] == "u007"],
    ),
    (
        "SELECT sum(score) FROM {u} WHERE score > 3.5",
        lambda: [(sum(u["score"] for u in USERS if u["score"] > Decimal("3.5")),)],
    ),
    (
        "SELECT id, len(tags) FROM {u} WHERE list_contains(tags, 'c')",
        lambda: [(u["id"], len(u["tags"])) for u in USERS if "c" in u["tags"]],
    ),
    (
        "SELECT u.city, sum(o.total) FROM {u} u JOIN {o} o ON o.uid = u.id "
        "WHERE o.status = 'paid' GROUP BY u.city",
        lambda: _by_city([(CITY[o["uid"]], o["total"]) for o in ORDERS if o["status"] == "paid"]),
    ),
    (
        "SELECT count(*) FROM {u} u LEFT JOIN {o} o ON o.uid = u.id WHERE o.total > 50",
        lambda: [(sum(o["uid"] in CITY and o["total"] > 50 for o in ORDERS),)],
    ),
]


def exact(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[str, Any], ...]]:
    """Rows in a stable order, each value with its type: 3 is not 3.0, nor Decimal('3')."""
    typed = [tuple((type(v).__name__, v) for v in row) for row in rows]
    return sorted(typed, key=repr)


@pytest.mark.parametrize(("query", "answer"), QUERIES, ids=[q for q, _ in QUERIES])
def test_sql_answers_equal_the_answer_computed_from_the_items(
    db: Database, users: Table, orders: Table, query: str, answer: Callable[[], Any]
) -> None:
    got = db.sql(query.format(u=f'"{users.name}"', o=f'"{orders.name}"')).fetchall()
    assert exact(got) == exact(answer())


def test_sql_mixed_type_attribute_is_json_and_filters_stay_right(
    db: Database, users: Table
) -> None:
    rel = db.sql(f'SELECT mixed FROM "{users.name}"')
    assert [str(t) for t in rel.types] == ["JSON"]
    # the guarded filter keeps the S values and the N value 3: both types, so read unfiltered
    from ddbkit.integrations.sql.engine import SqlSession

    session = SqlSession(db)
    session.prepare(f'SELECT mixed FROM "{users.name}" WHERE mixed = 3')
    loaded = session.loaded[users.name]
    assert loaded.refetched
    assert [c.sql_type for c in loaded.columns] == ["JSON"]


def test_sql_column_types(db: Database, users: Table) -> None:
    rel = db.sql(f'SELECT id, age, score, tags, profile, nick FROM "{users.name}"')
    types = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    assert types["id"] == "VARCHAR"
    assert types["age"] == "BIGINT"
    assert types["score"].startswith("DECIMAL(38,")
    assert types["tags"] == "VARCHAR[]"
    assert types["profile"] == "JSON"


# -- pushdown: which requests were sent ------------------------------------------------------


@pytest.fixture
def requests(db: Database) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    original = db.call_raw

    def record(operation: str, *, table: str | None = None, **params: Any) -> bytes:
        sent.append((operation, params))
        return original(operation, table=table, **params)

    db.call_raw = record  # type: ignore[method-assign]
    yield sent
    db.call_raw = original  # type: ignore[method-assign]


def test_partition_key_equality_is_a_query(
    db: Database, orders: Table, requests: list[tuple[str, dict[str, Any]]]
) -> None:
    rows = db.sql(
        f"SELECT sum(total) FROM \"{orders.name}\" WHERE uid = 'u001' AND n > 50"
    ).fetchall()
    assert rows[0][0] == sum(i * 3 % 97 for i in range(200) if i % 40 == 1 and i > 50)
    operations = {op for op, _ in requests}
    assert operations == {"query"}
    params = requests[0][1]
    assert "KeyConditionExpression" in params and "IndexName" not in params


def test_gsi_equality_with_sort_range_queries_the_index(
    db: Database, orders: Table, requests: list[tuple[str, dict[str, Any]]]
) -> None:
    got = db.sql(
        f"SELECT count(*) FROM \"{orders.name}\" WHERE status = 'sent' AND total < 10"
    ).fetchall()
    assert got == [(sum(1 for i in range(200) if i % 2 == 1 and i * 3 % 97 < 10),)]
    assert [(op, p.get("IndexName")) for op, p in requests] == [("query", "by_status")]


def test_only_referenced_attributes_are_projected(
    db: Database, users: Table, requests: list[tuple[str, dict[str, Any]]]
) -> None:
    db.sql(f'SELECT city, max(age) FROM "{users.name}" GROUP BY city').fetchall()
    params = requests[0][1]
    projected = sorted(
        params["ExpressionAttributeNames"].get(p.strip(), p.strip())
        for p in params["ProjectionExpression"].split(",")
    )
    assert projected == ["age", "city"]
    assert requests[0][0] == "scan"


def test_limit_stops_the_scan_early(
    db: Database, users: Table, requests: list[tuple[str, dict[str, Any]]]
) -> None:
    rows = db.sql(f'SELECT id FROM "{users.name}" LIMIT 5').fetchall()
    assert len(rows) == 5
    assert len(requests) == 1 and requests[0][1].get("Limit") == 5


def test_filter_is_guarded_against_other_types(
    db: Database, users: Table, requests: list[tuple[str, dict[str, Any]]]
) -> None:
    db.sql(f'SELECT count(*) FROM "{users.name}" WHERE age > 30').fetchall()
    assert "attribute_type" in requests[0][1]["FilterExpression"]


def test_explain_names_the_request_and_duckdb_plan(db: Database, orders: Table) -> None:
    text = db.sql_explain(f"SELECT count(*) FROM \"{orders.name}\" WHERE uid = 'u001'")
    assert "operation:     Query" in text and "DuckDB plan" in text


def test_table_to_arrow(users: Table) -> None:
    table = users.to_arrow("age > 60", attributes=["id", "age"])
    assert table.num_rows == sum(1 for i in range(120) if 18 + i % 50 > 60)
    assert sorted(table.column_names) == ["age", "id"]


def test_pandas_and_polars_frames_match_arrow(users: Table) -> None:
    arrow = users.to_arrow("age > 60", attributes=["id", "age"])
    frame = users.to_pandas("age > 60", attributes=["id", "age"])
    polars_frame = users.to_polars("age > 60", attributes=["id", "age"])
    expected = sorted(
        zip(arrow.column("id").to_pylist(), arrow.column("age").to_pylist(), strict=True)
    )
    assert sorted(zip(frame["id"], frame["age"], strict=True)) == expected
    pairs = zip(polars_frame["id"].to_list(), polars_frame["age"].to_list(), strict=True)
    assert sorted(pairs) == expected


def test_ddb_json_file_is_read_typed(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        '{"Item": {"id": {"S": "a"}, "n": {"N": "3"}}}\n'
        '{"Item": {"id": {"S": "b"}, "n": {"N": "4"}}}\n'
    )
    assert db.sql(f"SELECT sum(n) FROM '{path}'").fetchall() == [(7,)]


def test_cli_sql_prints_json(cli: CliRunner, users: Table) -> None:
    result = cli("sql", f'SELECT count(*) AS n FROM "{users.name}"', "-o", "json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": len(USERS)}]


# -- a table of several 1 MB pages: the SQL load follows every cursor ---------------------------


def _big_items() -> list[dict[str, Any]]:
    rng = random.Random(17)
    return [
        {
            "k": f"k{n:04d}",
            "g": f"g{n % 6}",
            "v": Decimal(rng.randint(-(10**9), 10**9)) / 1000,
            "pad": "x" * 12_000,
        }
        for n in range(400)
    ]


BIG = _big_items()


@pytest.fixture
def big(make_table: TableFactory) -> Table:
    """About 5 MB: five or more 1 MB Scan pages."""
    t = make_table(partition_key=("k", "S"))
    t.put_many(BIG)
    return t


def _groups() -> list[tuple[Any, ...]]:
    rows = []
    for group in sorted({i["g"] for i in BIG}):
        members = [i for i in BIG if i["g"] == group]
        keys = sorted(i["k"] for i in members)
        rows.append((group, len(members), sum(i["v"] for i in members), keys[0], keys[-1]))
    return rows


@pytest.mark.parametrize("segments", [1, 3])
def test_sql_over_many_pages_and_segments_reads_every_item(
    db: Database, big: Table, requests: list[tuple[str, dict[str, Any]]], segments: int
) -> None:
    query = f'SELECT g, count(*), sum(v), min(k), max(k) FROM "{big.name}" GROUP BY g'
    got = db.sql(query, segments=segments).fetchall()
    assert exact(got) == exact(_groups())
    scans = [params for operation, params in requests if operation == "scan"]
    by_segment: dict[int, list[dict[str, Any]]] = {}
    for params in scans:
        by_segment.setdefault(params.get("Segment", 0), []).append(params)
    assert sorted(by_segment) == list(range(segments))
    for pages in by_segment.values():
        # Each segment was read page after page, each page from the previous one's end.
        assert len(pages) >= 2
        assert "ExclusiveStartKey" not in pages[0]
        assert all("ExclusiveStartKey" in p for p in pages[1:])
