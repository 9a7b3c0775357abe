"""Requests a clumsy or hostile user sends: each gets one line, nothing is lost, and the console
neither freezes nor leaves files behind when stopped."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from ddbkit.present import dumps_plain, loads_exact
from tests.conftest import TableFactory
from tests.console.conftest import ConsoleClient, RunningConsole, start_console

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("limit", [b"1e50000000", b"1e5000", b"true", b"2.9", b'"1e3"', b"-1"])
def test_a_hostile_number_is_refused_at_once(client: ConsoleClient, limit: bytes) -> None:
    began = time.monotonic()
    body = b'{"query": "select 1", "limit": ' + limit + b"}"
    reply = client.request("POST", "/api/sql", body)
    assert reply.status == 400
    assert reply.json()["error"].startswith("limit must be a whole number")
    assert time.monotonic() - began < 10  # int("1e50000000") would take minutes
    assert client.get("/api/session").status == 200


def test_a_name_holding_a_newline_gets_one_line(client: ConsoleClient) -> None:
    reply = client.request("DELETE", "/api/tables/a%0Ab", {"confirm": "x"})
    assert reply.status == 400
    assert "\n" not in reply.json()["error"]
    assert "invalid table name" in reply.json()["error"]


def test_an_existing_table_is_not_an_item_conflict(
    client: ConsoleClient, demo_tables: tuple[str, str]
) -> None:
    body = {"name": demo_tables[0], "partition_key": {"name": "id", "type": "S"}}
    reply = client.request("POST", "/api/tables", body)
    assert reply.status == 409
    assert "conflict" not in reply.json()  # the page's "item changed" path is not taken


def test_a_save_never_drops_an_attribute_someone_else_added(
    client: ConsoleClient, make_table: TableFactory
) -> None:
    table = make_table()
    table.put({"id": "a", "s": "old"})
    opened = client.get(f"/api/tables/{table.name}/item", key='{"id": {"S": "a"}}').json()
    table.update({"id": "a"}, set={"theirs": 1})  # someone else adds an attribute meanwhile
    edited = loads_exact(opened["plain"]) | {"s": "mine"}
    body = {"original": opened["item"], "plain": dumps_plain(edited)}
    saved = client.request("PUT", f"/api/tables/{table.name}/item", body)
    assert saved.status == 409
    assert saved.json()["conflict"] is True
    deleted = client.request(
        "DELETE", f"/api/tables/{table.name}/item", {"original": opened["item"]}
    )
    assert deleted.status == 409
    assert table.get({"id": "a"}) == {"id": "a", "s": "old", "theirs": 1}


def test_a_sql_download_that_fails_at_once_is_an_error_not_a_broken_file(
    client: ConsoleClient,
) -> None:
    body = {"query": "select error('boom') from range(3)", "format": "csv"}
    reply = client.request("POST", "/api/sql/download", body)
    assert reply.status == 400
    assert "boom" in reply.json()["error"]


def test_cancelling_an_export_prints_no_traceback(
    console: RunningConsole, client: ConsoleClient, demo_tables: tuple[str, str]
) -> None:
    seen = len(console.lines)
    started = client.request("POST", f"/api/tables/{demo_tables[0]}/exports", {"format": "csv"})
    job = started.json()["id"]
    assert client.request("DELETE", f"/api/exports/{job}").json() == {"cancelled": True}
    assert client.get(f"/api/exports/{job}").status == 404
    time.sleep(2)  # the export's thread notices at its next page
    assert "Traceback" not in "\n".join(console.lines[seen:])


def test_ctrl_c_stops_a_console_busy_with_a_long_query_and_removes_its_files(
    endpoint: str, demo_tables: tuple[str, str], tmp_path: Path
) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    with start_console(endpoint, environment=environment) as running:
        client = running.client()
        exported = client.request("POST", f"/api/tables/{demo_tables[1]}/exports", {})
        job = exported.json()["id"]
        while not client.get(f"/api/exports/{job}").json()["done"]:
            time.sleep(0.1)
        assert list(tmp_path.glob("ddbkit-console-*/*/*.jsonl"))  # ready, never downloaded
        query = {"query": "select count(*) from range(2000000000000) a"}
        replies: list[int] = []
        threading.Thread(
            target=lambda: replies.append(client.request("POST", "/api/sql", query).status),
            daemon=True,
        ).start()
        time.sleep(1)
        began = time.monotonic()
    # start_console's exit sent Ctrl-C and waited for the process
    assert time.monotonic() - began < 15
    assert running.process.returncode == 0
    assert "abandoned" in running.lines[-1]
    assert "Traceback" not in "\n".join(running.lines)
    assert not list(tmp_path.glob("ddbkit-console-*"))
