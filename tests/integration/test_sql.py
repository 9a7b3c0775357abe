"""db.sql on DynamoDB Local: answers equal DuckDB over a jsonl export; requests are pushed down."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")

from ddbkit.client import Database  # noqa: E402
from ddbkit.table import Table  # noqa: E402
from ddbkit.tables import IndexSpec  # noqa: E402
from tests.conftest import TableFactory  # noqa: E402


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
    t.put_many(_users())
    return t


@pytest.fixture
def orders(make_table: TableFactory) -> Table:
    t = make_table(
        partition_key=("uid", "S"),
        sort_key=("n", "N"),
        indexes=[IndexSpec("by_status", partition_key=("status", "S"), sort_key=("total", "N"))],
    )
    t.put_many(
        {"uid": f"u{i % 40:03d}", "n": i, "total": i * 3 % 97, "status": ["paid", "sent"][i % 2]}
        for i in range(200)
    )
    return t


def _reference(tmp_path: Path, tables: dict[str, Table]) -> Any:
    """DuckDB over plain jsonl exports of the same tables."""
    con = duckdb.connect()
    for alias, t in tables.items():
        path = tmp_path / f"{t.name}.jsonl"
        t.export(str(path), format="jsonl")
        con.execute(
            f"CREATE TABLE \"{alias}\" AS SELECT * FROM read_json('{path}', "
            "format='newline_delimited', sample_size=-1)"
        )
    return con


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 6)
    if isinstance(value, list):
        return tuple(_norm(v) for v in value)
    return str(value)


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)


QUERIES = [
    "SELECT city, count(*), avg(age) FROM {u} WHERE age > 30 GROUP BY city ORDER BY 2 DESC",
    "SELECT id, age FROM {u} WHERE age BETWEEN 20 AND 25 AND city IN ('Rome', 'Oslo')",
    "SELECT id FROM {u} WHERE city LIKE 'Be%' AND age >= 40",
    "SELECT count(*) FROM {u} WHERE nick IS NULL",
    "SELECT count(*) FROM {u} WHERE nick IS NOT NULL",
    "SELECT count(*) FROM {u}",
    "SELECT id, profile->>'email' FROM {u} WHERE id = 'u007'",
    "SELECT sum(score) FROM {u} WHERE score > 3.5",
    "SELECT id, len(tags) FROM {u} WHERE list_contains(tags, 'c')",
    "SELECT u.city, sum(o.total) FROM {u} u JOIN {o} o ON o.uid = u.id "
    "WHERE o.status = 'paid' GROUP BY u.city",
    "SELECT count(*) FROM {u} u LEFT JOIN {o} o ON o.uid = u.id WHERE o.total > 50",
]


@pytest.mark.parametrize("query", QUERIES)
def test_sql_answers_equal_duckdb_over_export(
    db: Database, users: Table, orders: Table, tmp_path: Path, query: str
) -> None:
    ref = _reference(tmp_path, {"u_ref": users, "o_ref": orders})
    got = db.sql(query.format(u=f'"{users.name}"', o=f'"{orders.name}"')).fetchall()
    want = ref.execute(query.format(u="u_ref", o="o_ref")).fetchall()
    assert _rows(got) == _rows(want)


def test_sql_mixed_type_attribute_is_json_and_filters_stay_right(
    db: Database, users: Table
) -> None:
    rel = db.sql(f'SELECT mixed FROM "{users.name}"')
    assert [str(t) for t in rel.types] == ["JSON"]
    # the guarded filter keeps the S values and the N value 3: both types, so read unfiltered
    from ddbkit.sql import SqlSession

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


def test_cli_sql_prints_json(db: Database, users: Table, endpoint: str, monkeypatch: Any) -> None:
    import json

    from click.testing import CliRunner

    from ddbkit.cli import main, sql_cmd

    if "sql" not in main.cli.commands:
        main.cli.add_command(sql_cmd.sql_command)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ddbkit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ddbkit")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = CliRunner().invoke(
        main.cli,
        [
            "--endpoint-url",
            endpoint,
            "sql",
            f'SELECT count(*) AS n FROM "{users.name}"',
            "-o",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"n": 120}]
