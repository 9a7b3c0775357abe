"""What the console's page is given and what it stores, over HTTP on DynamoDB Local: exact
values, cursor paging, explain, type-keeping saves, conflicts, SQL, anatomy, exports, tables."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import orjson
import pytest

from ddbkit.database import Database
from ddbkit.present import dumps_plain, dumps_typed, loads_exact
from tests.conftest import TableFactory
from tests.console.conftest import ConsoleClient, RunningConsole

pytestmark = pytest.mark.integration

ODD: dict[str, Any] = {
    "id": "odd",
    "big": Decimal("12345678901234567890.123456789012345678"),
    "tiny": Decimal("1E-130"),
    "price": Decimal("1.50"),
    "tags": {"a", "b"},
    "nums": {Decimal("1.5"), 2},
    "blobs": {b"\x00\x01", b"\xff"},
    "data": b"\x00\xffbinary",
    "nested": {"deep": {"list": [1, "two", {b"x"}, None, True]}, "city": "Lisbon"},
    "flag": False,
    "nothing": None,
    "text": "<script>alert(1)</script>",
}


def _typed_key(**key: Any) -> str:
    return dumps_typed(key)


def test_a_page_of_items_keeps_every_type_and_digit(
    client: ConsoleClient, make_table: TableFactory
) -> None:
    table = make_table()
    table.put(ODD)
    reply = client.get(f"/api/tables/{table.name}/items")
    assert reply.status == 200
    page = reply.json()
    assert page["columns"][0] == "id"  # the key first, then the others by name
    assert page["columns"][1:] == sorted(set(ODD) - {"id"})
    assert page["key_names"] == ["id"]
    (item,) = page["items"]
    assert item["big"] == {"N": "12345678901234567890.123456789012345678"}
    assert Decimal(item["tiny"]["N"]) == Decimal("1E-130")
    assert item["price"] == {"N": "1.5"}  # DynamoDB keeps a number's value, not its zeros
    assert sorted(item["tags"]["SS"]) == ["a", "b"]
    assert "BS" in item["blobs"] and "B" in item["data"]
    stored = table.get({"id": "odd"})
    assert orjson.loads(dumps_typed(stored)) == item  # exactly the library's DynamoDB JSON


def test_paging_forward_and_back_by_cursor_visits_every_item_once(
    client: ConsoleClient, make_table: TableFactory
) -> None:
    table = make_table()
    table.put_many({"id": f"i{n:03d}", "n": n} for n in range(57))
    starts: list[str | None] = [None]
    seen: list[str] = []
    while True:
        query = {"limit": "10"} | ({"start": starts[-1]} if starts[-1] else {})
        page = client.get(f"/api/tables/{table.name}/items", **query).json()
        seen += [item["id"]["S"] for item in page["items"]]
        if page["cursor"] is None:
            break
        starts.append(page["cursor"])
    assert sorted(seen) == [f"i{n:03d}" for n in range(57)]
    assert len(seen) == 57
    # back: the page remembers the cursors it used; the same cursor gives the same page
    again = client.get(f"/api/tables/{table.name}/items", limit="10", start=str(starts[2]))
    assert [item["id"]["S"] for item in again.json()["items"]] == seen[20:30]


def test_a_filtered_page_is_full_not_blank(
    console: RunningConsole, demo_tables: tuple[str, str]
) -> None:
    # dynamodb-admin shows blank pages when a filter matches nothing in a 1 MB page; ddbkit reads
    # on until the page is full.
    users = demo_tables[0]
    page = (
        console.client()
        .get(f"/api/tables/{users}/items", where="status = 'suspended' AND age > 70", limit="25")
        .json()
    )
    assert len(page["items"]) == 25
    assert all(item["status"] == {"S": "suspended"} for item in page["items"])
    assert page["plan"]["operation"] == "Scan"
    assert page["cursor"] is not None


def test_explain_names_the_plan_and_the_chosen_index(
    client: ConsoleClient, demo_tables: tuple[str, str]
) -> None:
    users = demo_tables[0]
    auto = client.get(f"/api/tables/{users}/explain", where="email = 'x@example.com'").json()
    assert auto["plan"]["operation"] == "Query"
    assert auto["plan"]["index"] == "by_email"
    assert "by_email" in auto["text"]
    assert auto["full_scan"] is False
    forced = client.get(f"/api/tables/{users}/explain", where="age > 30", index="by_email")
    plan = forced.json()["plan"]
    assert plan["operation"] == "Scan"
    assert plan["index"] == "by_email"
    assert forced.json()["confirm_needed"] is False  # the local engine costs nothing
    scan = client.get(f"/api/tables/{users}/explain", where="age > 30").json()
    assert scan["plan"]["estimate"]["pages"] >= 1
    assert scan["plan"]["reasons"]


def _open(client: ConsoleClient, table: str, **key: Any) -> dict[str, Any]:
    reply = client.get(f"/api/tables/{table}/item", key=_typed_key(**key))
    assert reply.status == 200, reply.body
    opened: dict[str, Any] = reply.json()
    return opened


def test_a_plain_edit_keeps_every_type_the_user_did_not_touch(
    client: ConsoleClient, make_table: TableFactory
) -> None:
    table = make_table()
    table.put(ODD)
    opened = _open(client, table.name, id="odd")
    assert loads_exact(opened["plain"])["price"] == Decimal("1.50")
    edited = loads_exact(opened["plain"])
    edited["nested"]["city"] = "Porto"
    edited["tags"].append("c")
    saved = client.request(
        "PUT",
        f"/api/tables/{table.name}/item",
        {"original": opened["item"], "plain": dumps_plain(edited)},
    )
    assert saved.status == 200, saved.body
    stored = table.get({"id": "odd"})
    assert stored == {**ODD, "tags": {"a", "b", "c"}, "nested": {**ODD["nested"], "city": "Porto"}}
    assert isinstance(stored["data"], bytes)
    assert isinstance(stored["blobs"], set)
    assert dumps_typed(stored["big"]) == '{"N":"12345678901234567890.123456789012345678"}'


def test_a_typed_edit_can_change_a_type(client: ConsoleClient, make_table: TableFactory) -> None:
    table = make_table()
    table.put({"id": "t", "tags": {"a"}})
    opened = _open(client, table.name, id="t")
    typed = '{"id": {"S": "t"}, "tags": {"L": [{"S": "a"}]}, "n": {"N": "0.10"}}'
    saved = client.request(
        "PUT", f"/api/tables/{table.name}/item", {"original": opened["item"], "typed": typed}
    )
    assert saved.status == 200, saved.body
    assert saved.json()["item"]["n"] == {"N": "0.1"}
    assert table.get({"id": "t"}) == {"id": "t", "tags": ["a"], "n": Decimal("0.10")}


def test_a_save_over_someone_elses_change_is_refused_and_changes_nothing(
    client: ConsoleClient, make_table: TableFactory
) -> None:
    table = make_table()
    table.put({"id": "c", "nested": {"n": 1}, "tags": {"x"}})
    opened = _open(client, table.name, id="c")
    table.update({"id": "c"}, set={"nested.n": 2})  # someone else, meanwhile
    edited = loads_exact(opened["plain"]) | {"note": "mine"}
    reply = client.request(
        "PUT",
        f"/api/tables/{table.name}/item",
        {"original": opened["item"], "plain": dumps_plain(edited)},
    )
    assert reply.status == 409
    assert reply.json()["conflict"] is True
    assert "changed" in reply.json()["error"]
    assert table.get({"id": "c"}) == {"id": "c", "nested": {"n": 2}, "tags": {"x"}}
    deleted = client.request(
        "DELETE", f"/api/tables/{table.name}/item", {"original": opened["item"]}
    )
    assert deleted.status == 409
    assert table.get({"id": "c"}) is not None


def test_a_changed_key_is_refused_and_duplicate_makes_a_new_item(
    client: ConsoleClient, make_table: TableFactory
) -> None:
    table = make_table()
    table.put({"id": "k1", "tags": {"a"}, "n": Decimal("2.50")})
    opened = _open(client, table.name, id="k1")
    moved = loads_exact(opened["plain"]) | {"id": "k2"}
    body = {"original": opened["item"], "plain": dumps_plain(moved)}
    reply = client.request("PUT", f"/api/tables/{table.name}/item", body)
    assert reply.status == 400
    assert "Duplicate" in reply.json()["error"]
    created = client.request(
        "POST", f"/api/tables/{table.name}/item", {"typed": dumps_typed({**ODD, "id": "k2"})}
    )
    assert created.status == 201, created.body
    assert table.get({"id": "k2"}) == {**ODD, "id": "k2"}
    again = client.request("POST", f"/api/tables/{table.name}/item", {"plain": '{"id": "k2"}'})
    assert again.status == 409
    assert table.get({"id": "k2"}) == {**ODD, "id": "k2"}  # never replaced
    gone = client.request("DELETE", f"/api/tables/{table.name}/item", {"original": opened["item"]})
    assert gone.status == 200
    assert table.get({"id": "k1"}) is None


def test_sql_group_by_explain_and_download(
    client: ConsoleClient, demo_tables: tuple[str, str], library: Database
) -> None:
    users = demo_tables[0]
    query = (
        f'SELECT status, count(*) AS n, max(score) AS top FROM "{users}" '
        "GROUP BY status ORDER BY status"
    )
    result = client.request("POST", "/api/sql", {"query": query}).json()
    assert result["columns"] == ["status", "n", "top"]
    expected: dict[str, int] = {}
    for item in library.table(users).scan():
        expected[item["status"]] = expected.get(item["status"], 0) + 1
    assert {row[0]: int(row[1]) for row in result["rows"]} == expected
    assert result["truncated"] is False
    limited = client.request("POST", "/api/sql", {"query": f'SELECT * FROM "{users}"', "limit": 5})
    assert len(limited.json()["rows"]) == 5
    assert limited.json()["truncated"] is True
    explained = client.request("POST", "/api/sql/explain", {"query": query}).json()
    assert "Scan" in explained["text"]
    csv_file = client.request("POST", "/api/sql/download", {"query": query, "format": "csv"})
    assert csv_file.status == 200
    assert "attachment" in csv_file.headers["content-disposition"]
    lines = csv_file.body.decode().splitlines()
    assert lines[0] == "status,n,top"
    assert len(lines) == 1 + len(expected)
    jsonl = client.request("POST", "/api/sql/download", {"query": query, "format": "jsonl"})
    rows = [loads_exact(line) for line in jsonl.body.decode().splitlines()]
    assert {row["status"]: row["n"] for row in rows} == expected


def test_anatomy_schema_and_stats(client: ConsoleClient, demo_tables: tuple[str, str]) -> None:
    users = demo_tables[0]
    schema = client.get(f"/api/tables/{users}/schema", sample="500").json()
    by_name = {a["name"]: a for a in schema["attributes"]}
    assert by_name["user_id"]["fill_rate"] == 1
    assert by_name["tags"]["types"] == {"SS": by_name["tags"]["count"]}
    assert "500" in schema["scope"]
    stats = client.get(f"/api/tables/{users}/stats", sample="0").json()
    assert stats["complete"] is True
    assert sum(bucket["items"] for bucket in stats["histogram"]) == stats["items_read"]
    assert stats["largest"][0]["size"] == stats["item_size"]["max"]
    assert stats["top_by_items"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ddb-json"])
def test_export_with_progress_then_download(
    client: ConsoleClient, make_table: TableFactory, fmt: str
) -> None:
    table = make_table()
    table.put_many({"id": f"e{n:04d}", "n": n, "big": Decimal("1.10")} for n in range(1500))
    started = client.request(
        "POST", f"/api/tables/{table.name}/exports", {"format": fmt, "where": "n >= 500"}
    )
    assert started.status == 202
    job = started.json()["id"]
    deadline = time.monotonic() + 60
    while (progress := client.get(f"/api/exports/{job}").json())["done"] is False:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert progress["error"] is None
    assert progress["items"] == 1000
    file = client.get(f"/api/exports/{job}/file")
    assert file.status == 200
    assert progress["filename"] in file.headers["content-disposition"]
    text = file.body.decode()
    if fmt == "jsonl":
        items = [loads_exact(line) for line in text.splitlines()]
        assert sorted(item["n"] for item in items) == list(range(500, 1500))
        assert all(item["big"] == Decimal("1.10") for item in items)
    else:
        assert len([line for line in text.splitlines() if line.strip()]) >= 1000
    assert client.get(f"/api/exports/{job}/file").status == 404  # sent once, then gone


def test_create_and_delete_a_table(client: ConsoleClient, library: Database) -> None:
    name = f"console-made-{uuid.uuid4().hex[:8]}"
    body = {
        "name": name,
        "partition_key": {"name": "pk", "type": "S"},
        "sort_key": {"name": "sk", "type": "N"},
        "indexes": [{"name": "by_owner", "partition_key": {"name": "owner", "type": "S"}}],
        "ttl": "expires",
    }
    created = client.request("POST", "/api/tables", body)
    assert created.status == 201, created.body
    info = library.table(name).info()
    assert (info.partition_key.name, info.sort_key and info.sort_key.type) == ("pk", "N")
    assert [index.name for index in info.indexes] == ["by_owner"]
    assert info.ttl_attribute == "expires"
    refused = client.request("DELETE", f"/api/tables/{name}", {"confirm": "wrong"})
    assert refused.status == 400
    assert name in library.tables()
    deleted = client.request("DELETE", f"/api/tables/{name}", {"confirm": name})
    assert deleted.status == 200
    assert name not in library.tables()
    bad = client.request("POST", "/api/tables", {"name": "x y", "partition_key": {"name": "id"}})
    assert bad.status == 400
    assert "invalid table name" in bad.json()["error"]
