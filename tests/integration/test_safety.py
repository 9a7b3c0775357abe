"""Issue 7's data-loss and unsafe-default cases, each on the real engine through the real CLI."""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ddbkit
from ddbkit.database import Database
from ddbkit.read import paginate
from ddbkit.table import Table
from ddbkit.workflows import maintenance
from tests.conftest import CliRunner, raw_table

pytestmark = pytest.mark.integration


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def prefix(db: Database) -> Iterator[str]:
    value = f"adv{uuid.uuid4().hex[:8]}_"
    yield value
    for name in (f"{value}users", f"{value}orders"):
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(name, wait=False)


def test_demo_never_replaces_a_table_it_did_not_create(
    cli: CliRunner, db: Database, prefix: str
) -> None:
    users = db.create_table(f"{prefix}users", partition_key=("user_id", "S"))
    users.put({"user_id": "mine", "precious": True})
    done = cli("demo", "--prefix", prefix)
    assert done.code == 1
    assert "already exists" in one_error_line(done.stderr)
    assert users.get({"user_id": "mine"}) == {"user_id": "mine", "precious": True}
    assert f"{prefix}orders" not in db.tables()  # nothing half-made either
    refused = cli("demo", "--prefix", prefix, "--replace")
    assert refused.code == 2 and "--yes" in refused.stderr
    assert users.count() == 1


def test_demo_refuses_an_endpoint_not_on_this_machine(cli: CliRunner) -> None:
    done = cli("--endpoint-url", "http://dynamodb.example.invalid:8000", "demo", connect=False)
    assert done.code == 1
    assert "--allow-remote" in one_error_line(done.stderr)


def test_csv_with_an_unbalanced_quote_is_refused_naming_the_line(
    cli: CliRunner, table: Table, tmp_path: Path
) -> None:
    source = tmp_path / "s.csv"
    source.write_text('id,note\nr1,"oops\nr2,fine\nr3,fine\n')
    done = cli("import", table.name, str(source))
    assert done.code == 1
    assert "line 2" in one_error_line(done.stderr)
    assert table.count() == 0


def test_a_string_that_is_not_unicode_is_refused_before_sending(
    cli: CliRunner, table: Table
) -> None:
    done = cli("put", table.name, '{"id": "a", "note": "\\ud800"}')
    assert done.code == 1
    assert "'note'" in one_error_line(done.stderr) and "surrogate" in done.stderr
    with pytest.raises(ddbkit.IncompleteWriteError, match="attribute 'note'.*not valid Unicode"):
        table.put_many([{"id": "b", "note": "\ud800"}])
    assert table.count() == 0


def test_an_item_written_by_another_tool_with_a_lone_surrogate_does_not_stop_a_scan_or_export(
    endpoint: str, cli: CliRunner, tmp_path: Path
) -> None:
    with raw_table(endpoint, "id", "surrogate") as (client, name):
        for n in range(20):
            client.put_item(TableName=name, Item={"id": {"S": f"ok{n}"}})
        client.put_item(TableName=name, Item={"id": {"S": "bad"}, "note": {"S": "x\ud800y"}})
        scan = cli("scan", name, "-o", "jsonl")
        assert scan.code == 0, scan.stderr
        assert len(scan.stdout.splitlines()) == 21
        assert "warning:" in scan.stderr and "note" in scan.stderr
        target = tmp_path / "out.jsonl"
        export = cli("export", name, "-o", str(target), "-q")
        assert export.code == 0, export.stderr
        lines = target.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 21 and any('"x\ufffdy"' in line for line in lines)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_export_force_never_replaces_a_device_file(
    cli: CliRunner, table: Table, tmp_path: Path
) -> None:
    table.put({"id": "a"})
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    done = cli("export", table.name, "-o", str(device), "--force")
    assert done.code == 1
    assert "not a regular file" in one_error_line(done.stderr)
    assert stat.S_ISCHR(device.stat().st_mode)


def test_put_many_that_did_not_write_everything_raises_with_the_summary(table: Table) -> None:
    items: list[dict[str, object]] = [{"id": f"i{n}"} for n in range(101)]
    items[50] = {"no_key": 1}
    with pytest.raises(ddbkit.IncompleteWriteError, match="line 51") as raised:
        table.put_many(items)
    summary = raised.value.summary
    assert summary.read == 51 and summary.rejected == 1
    assert table.count() == summary.written == 50
    skipped = table.put_many(items, on_error="skip")  # asked to skip: no exception
    assert skipped.written == 100 and skipped.rejected == 1


@pytest.mark.parametrize("kind", ["rejects", "undo"])
def test_side_files_are_owner_only_and_unwritable_paths_are_refused_first(
    cli: CliRunner, table: Table, tmp_path: Path, kind: str
) -> None:
    table.put_many({"id": f"i{n}", "gone": True} for n in range(30))
    blocker = tmp_path / "file"
    blocker.write_text("")
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "new"}\n{"bad": 1}\n')
    if kind == "rejects":
        args = ["import", table.name, str(source), "--on-error", "skip"]
    else:
        args = ["delete", table.name, "--where", "gone = true", "--yes"]
    refused = cli(*args, f"--{kind}", str(blocker / "side.jsonl"))
    assert refused.code == 1 and "cannot write" in one_error_line(refused.stderr)
    assert table.count() == 30  # nothing written, nothing deleted
    side = tmp_path / "side.jsonl"
    done = cli(*args, f"--{kind}", str(side))
    assert done.code == 0, done.stderr
    assert stat.S_IMODE(side.stat().st_mode) == 0o600


def test_scan_with_a_million_segments_is_clamped_and_says_so(cli: CliRunner, table: Table) -> None:
    table.put_many({"id": f"i{n}"} for n in range(206))
    done = cli("scan", table.name, "--segments", "1000000", "-o", "jsonl")
    assert done.code == 0, done.stderr
    assert len(done.stdout.splitlines()) == 206
    assert "warning: using 16 segments, not 1000000" in done.stderr


def test_find_explain_shows_the_estimated_read_cost(cli: CliRunner, table: Table) -> None:
    table.put_many({"id": f"i{n}", "pad": "x" * 4000} for n in range(100))
    scan = cli("find", table.name, "--where", "pad = 'y'", "--explain")
    assert scan.code == 0, scan.stderr
    assert "estimate:" in scan.stdout and "RCU" in scan.stdout and "pages" in scan.stdout
    query = cli("find", table.name, "--where", "id = 'i1'", "--explain")
    assert "only the matching key range is read" in query.stdout
    table.info()  # the size as it is now, not as it was when the table was created
    plan = table.explain("pad = 'y'")
    assert plan.estimate is not None and plan.estimate.read_capacity_units >= 49


def test_table_output_escapes_control_characters(cli: CliRunner, table: Table) -> None:
    table.put({"id": "a", "note": "\x1b[2Jgotcha\x07"})
    done = cli("scan", table.name, "-o", "table")
    assert done.code == 0
    assert "\x1b" not in done.stdout and "\\x1b[2Jgotcha\\x07" in done.stdout


def test_named_parameters_bind_values_in_the_cli_and_the_library(
    cli: CliRunner, table: Table
) -> None:
    table.put_many({"id": f"i{n}", "name": f"n{n}", "age": n} for n in range(10))
    hostile = "zz' OR name <> 'zz"
    assert list(table.find("name = :name", params={"name": hostile})) == []
    assert table.count("age >= :min", params={"min": 7}) == 3
    done = cli("scan", table.name, "--where", "name = :n", "--param", f"n={hostile}")
    assert done.code == 0 and done.stdout == ""
    # Typed like key arguments where a parameter meets a key; JSON (or text) elsewhere.
    missing = cli("find", table.name, "--where", "id = :id AND age > :a", "--param", "id=i7")
    assert missing.code == 1 and "no value for :a" in one_error_line(missing.stderr)
    found = cli(
        "find", table.name, "-w", "id = :id AND age > :a", "--param", "id=i7", "--param", "a=3"
    )
    assert found.code == 0 and '"id":"i7"' in found.stdout.replace(" ", "")


def test_keys_holding_lone_surrogates_neither_derail_a_scan_nor_fake_a_delete(
    endpoint: str,
) -> None:
    with raw_table(endpoint, "id", "surkeys") as (client, name):
        for n in range(40):
            client.put_item(TableName=name, Item={"id": {"S": f"good{n:03d}"}, "del": {"S": "y"}})
        for n in range(3):
            client.put_item(TableName=name, Item={"id": {"S": f"bad{n}\ud800"}, "del": {"S": "y"}})
        db = ddbkit.connect(endpoint_url=endpoint, local=True)
        # One item a page: every page ends on an item, bad ones included, and the walk goes on
        # from exactly the key DynamoDB sent.
        pages = paginate.raw_pages(db, "scan", {"TableName": name, "Limit": 1}, table=name)
        assert sum(len(page.get("Items", [])) for page in pages) == 43
        with pytest.raises(ddbkit.IncompleteWriteError, match="not valid Unicode") as raised:
            maintenance.truncate(db.table(name))
        assert raised.value.summary.written == 40 and raised.value.summary.rejected == 3
        left = client.scan(TableName=name)["Items"]
        assert sorted(item["id"]["S"] for item in left) == [f"bad{n}\ud800" for n in range(3)]
