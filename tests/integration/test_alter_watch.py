"""ddbkit alter and ddbkit watch on DynamoDB Local: an added index is used, a stream is followed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import orjson
import pytest

import ddbkit
from ddbkit.table import Table
from tests.conftest import CliRunner, ddbkit_executable

pytestmark = pytest.mark.integration


def test_alter_adds_a_gsi_and_find_then_uses_it(table: Table, cli: CliRunner) -> None:
    table.put({"id": "1", "email": "a@example.com"})
    table.put({"id": "2", "email": "b@example.com"})
    before = table.explain("email = 'a@example.com'")
    assert before.operation == "Scan"

    done = cli("alter", table.name, "--add-gsi", "by_email:email:S")
    assert done.code == 0, done.stderr
    assert "add index by_email" in done.stdout

    explained = cli("find", table.name, "--where", "email = 'a@example.com'", "--explain")
    assert explained.code == 0, explained.stderr
    assert "by_email" in explained.stdout and "Query" in explained.stdout
    found = cli("find", table.name, "--where", "email = 'a@example.com'", "-o", "jsonl")
    assert [orjson.loads(line)["id"] for line in found.stdout.splitlines()] == ["1"]


def test_alter_library_applies_several_changes_in_order_and_skips_what_is_in_place(
    table: Table,
) -> None:
    steps: list[str] = []
    done = table.alter(
        add_indexes=[ddbkit.IndexSpec("by_n", ("n", "N"), projection="KEYS_ONLY")],
        stream="new-and-old",
        ttl="expires",
        progress=lambda _done, _total, text: steps.append(text),
    )
    assert done == [
        "add index by_n",
        "turn the stream on (NEW_AND_OLD_IMAGES)",
        "turn TTL on (expires)",
    ]
    assert steps[0] == "add index by_n" and steps[-1] == "done"
    info = table.info()
    assert [i.name for i in info.indexes] == ["by_n"] and info.indexes[0].status == "ACTIVE"
    assert info.stream_view_type == "NEW_AND_OLD_IMAGES" and info.ttl_attribute == "expires"
    assert table.alter(stream="new-and-old", ttl="expires") == []
    # A new view type needs the stream off first: alter does both.
    assert table.alter(stream="keys") == ["turn the stream off", "turn the stream on (KEYS_ONLY)"]
    assert table.alter(delete_indexes=["by_n"], stream=False, ttl=False) == [
        "delete index by_n",
        "turn the stream off",
        "turn TTL off",
    ]
    assert table.info().indexes == ()


def test_alter_add_gsi_takes_the_type_from_the_table(sorted_table: Table, cli: CliRunner) -> None:
    done = cli("alter", sorted_table.name, "--add-gsi", "by_sk:sk:pk", "--projection", "keys")
    assert done.code == 0, done.stderr
    (index,) = sorted_table.info().indexes
    assert (index.partition_key.type, index.sort_key and index.sort_key.type) == ("N", "S")
    assert index.projection == "KEYS_ONLY"


def test_alter_billing_round_trip(table: Table) -> None:
    table.alter(add_indexes=[ddbkit.IndexSpec("by_x", ("x", "S"))])
    table.alter(billing="provisioned", capacity=(3, 4))
    info = table.info()
    assert (info.billing_mode, info.read_capacity, info.write_capacity) == ("PROVISIONED", 3, 4)
    table.alter(billing="on-demand")
    assert table.info().billing_mode == "PAY_PER_REQUEST"


def test_alter_what_the_engine_lacks_is_one_line_with_its_own_message(
    table: Table, cli: CliRunner
) -> None:
    done = cli("alter", table.name, "--deletion-protection", "on", "--pitr", "on")
    assert done.code == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "UpdateContinuousBackups" in line and "An unknown operation was requested" in line
    assert "done before it: turn deletion protection on" in line
    cli("alter", table.name, "--deletion-protection", "off")


def test_alter_refuses_bad_requests_before_sending_anything(table: Table, cli: CliRunner) -> None:
    missing = cli("alter", table.name, "--delete-gsi", "nope", "--stream", "new")
    assert missing.code == 1 and "has no global index 'nope'" in missing.stderr
    untyped = cli("alter", table.name, "--add-gsi", "by_email:email")
    assert untyped.code == 1 and "give the type of 'email'" in untyped.stderr
    assert not table.info().stream_enabled
    nothing = cli("alter", table.name)
    assert nothing.code == 1 and "nothing to change" in nothing.stderr


def test_watch_without_a_stream_names_the_alter_command(table: Table, cli: CliRunner) -> None:
    done = cli("watch", table.name)
    assert done.code == 1
    assert done.stderr.strip() == (
        f"error: table {table.name!r} has no stream: turn one on with "
        f"'ddbkit alter {table.name} --stream new-and-old' (Table.alter(stream='new-and-old'))"
    )


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "ddbkit",
        "AWS_SECRET_ACCESS_KEY": "ddbkit",
        "AWS_REGION": "us-east-1",
    }


def _lines(process: subprocess.Popen[str], count: int, timeout: float = 30) -> list[dict[str, Any]]:
    assert process.stdout is not None
    lines: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(lines) < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            lines.append(orjson.loads(line))
    return lines


def test_watch_sees_insert_modify_remove_by_another_process_in_order(
    endpoint: str, table: Table, cli: CliRunner
) -> None:
    assert cli("alter", table.name, "--stream", "new-and-old").code == 0
    table.put({"id": "old", "n": 0})  # before the watch starts: --from latest leaves it out
    watcher = subprocess.Popen(
        [ddbkit_executable(), "--endpoint-url", endpoint, "watch", table.name, "--poll", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        time.sleep(2)  # the watcher has its LATEST iterators
        assert cli("put", table.name, '{"id": "a", "n": 1, "tags": ["x"]}').code == 0
        assert cli("update", table.name, '{"id": "a"}', "--set", "n = n + 1").code == 0
        assert cli("delete", table.name, '{"id": "a"}').code == 0
        changes = _lines(watcher, 3)
        watcher.send_signal(signal.SIGINT)
        _, stderr = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert [c["event"] for c in changes] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(c["keys"] == {"id": "a"} for c in changes)
    assert changes[0]["new"] == {"id": "a", "n": 1, "tags": ["x"]} and "old" not in changes[0]
    assert changes[1]["old"]["n"] == 1 and changes[1]["new"]["n"] == 2
    assert changes[2]["old"] == {"id": "a", "n": 2, "tags": ["x"]} and "new" not in changes[2]
    assert watcher.returncode == 0, stderr
    assert "Traceback" not in stderr and "stopped watching" in stderr


def test_watch_from_trim_horizon_with_where(endpoint: str, table: Table, cli: CliRunner) -> None:
    table.alter(stream="new-and-old")
    table.put({"id": "a", "status": "new"})
    table.put({"id": "b", "status": "paid"})
    table.update({"id": "a"}, set="status = :s", params={"s": "paid"})
    table.delete({"id": "b"})
    watcher = subprocess.Popen(
        [ddbkit_executable(), "--endpoint-url", endpoint, "watch", table.name, "--from",
         "trim-horizon", "--where", "status = :s", "--param", "s=paid", "--poll", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        changes = _lines(watcher, 3)
        watcher.send_signal(signal.SIGINT)
        watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert [(c["event"], c["keys"]["id"]) for c in changes] == [
        ("INSERT", "b"),
        ("MODIFY", "a"),
        ("REMOVE", "b"),
    ]


def test_changes_library_stops_when_asked(table: Table) -> None:
    import threading

    table.alter(stream="keys")
    stop = threading.Event()
    table.put({"id": "k"})
    seen = []
    for change in table.changes(start="trim-horizon", stop=stop, poll_interval=0.05):
        seen.append(change)
        stop.set()
    assert [(c.event, c.keys, c.old, c.new) for c in seen] == [("INSERT", {"id": "k"}, None, None)]
