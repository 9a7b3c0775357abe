"""The ddbkit command, run through its real console-script entry point."""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ddbkit import local
from ddbkit.table import Table
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration


@pytest.fixture
def users(table: Table) -> Table:
    table.put(
        {
            "id": "u1",
            "name": "Ada",
            "age": 36,
            "score": 0.1,
            "tags": {"b", "a"},
            "avatar": b"\x00\x01",
            "big": 12345678901234567890123456789012345678,
        }
    )
    table.put({"id": "u2", "name": "Bob", "age": 20, "address": {"city": "Oslo"}})
    return table


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_tables_lists_the_table(cli: CliRunner, table: Table) -> None:
    result = cli("tables", "--output", "json")
    assert result.code == 0, result.stderr
    assert table.name in json.loads(result.stdout)["tables"]


def test_info_readable_and_json(cli: CliRunner, users: Table) -> None:
    human = cli("info", users.name, "--output", "table")
    assert human.code == 0, human.stderr
    assert "partition key        id (S)" in human.stdout
    assert "six hours" in human.stdout
    as_json = json.loads(cli("--output", "json", "info", users.name).stdout)
    assert as_json["partition_key"] == {"name": "id", "type": "S"}
    assert as_json["full_scan_estimate"]["pages"] >= 1


def test_get_prints_plain_exact_json(cli: CliRunner, users: Table) -> None:
    result = cli("get", users.name, "id=u1", "--output", "jsonl")
    assert result.code == 0, result.stderr
    assert '"big":12345678901234567890123456789012345678' in result.stdout.replace(" ", "")
    assert '"score":0.1' in result.stdout.replace(" ", "")
    item = json.loads(result.stdout)
    assert item["tags"] == ["a", "b"]
    assert base64.b64decode(item["avatar"]) == b"\x00\x01"


def test_get_typed_prints_dynamodb_json(cli: CliRunner, users: Table) -> None:
    item = json.loads(cli("get", users.name, '{"id": "u1"}', "--typed", "-o", "json").stdout)
    assert item["age"] == {"N": "36"}
    assert item["name"] == {"S": "Ada"}


def test_get_missing_item_exits_1(cli: CliRunner, users: Table) -> None:
    result = cli("get", users.name, "id=nope")
    assert result.code == 1
    assert "no item" in result.stderr


def test_put_from_argument_stdin_and_file(cli: CliRunner, table: Table, tmp_path: Path) -> None:
    assert cli("put", table.name, '{"id": "a", "n": 1.50}').code == 0
    piped = cli("put", table.name, stdin='{"id": "b"}\n{"id": "c", "deep": {"x": [1]}}\n')
    assert piped.code == 0 and "put 2 items" in piped.stderr
    source = tmp_path / "items.jsonl"
    source.write_text('{"id": "d"}\n', encoding="utf-8")
    assert cli("put", table.name, "--file", str(source)).code == 0
    assert sorted(i["id"] for i in table.scan()) == ["a", "b", "c", "d"]
    assert table.get({"id": "a"}) == {"id": "a", "n": __import__("decimal").Decimal("1.5")}


def test_put_bad_json_line_names_the_line(cli: CliRunner, table: Table) -> None:
    result = cli("put", table.name, stdin='{"id": "ok"}\n{"id": \n')
    assert result.code == 1
    assert "stdin line 2" in result.stderr


def test_update_with_condition(cli: CliRunner, users: Table) -> None:
    result = cli(
        "update",
        users.name,
        "id=u1",
        "--set",
        "age = 37",
        "--add",
        "logins = 1",
        "--remove",
        "score",
        "--if",
        "attribute_exists(id)",
        "-o",
        "json",
    )
    assert result.code == 0, result.stderr
    new = json.loads(result.stdout)
    assert new["age"] == 37 and new["logins"] == 1 and "score" not in new
    failed = cli("update", users.name, "id=u1", "--set", "age = 1", "--if", "age = 99")
    assert failed.code == 1
    assert failed.stderr.startswith("error: condition failed")
    assert "Traceback" not in failed.stderr


def test_delete_by_key(cli: CliRunner, users: Table) -> None:
    result = cli("delete", users.name, "id=u2", "--return-old", "-o", "jsonl")
    assert result.code == 0
    assert json.loads(result.stdout)["name"] == "Bob"
    assert users.get({"id": "u2"}) is None


def test_scan_outputs_jsonl_json_csv(cli: CliRunner, users: Table) -> None:
    as_lines = lines(cli("scan", users.name, "-o", "jsonl").stdout)
    assert sorted(str(i["id"]) for i in as_lines) == ["u1", "u2"]
    as_array = json.loads(cli("scan", users.name, "-o", "json").stdout)
    assert len(as_array) == 2
    rows = list(csv.DictReader(io.StringIO(cli("scan", users.name, "-o", "csv").stdout)))
    assert {r["id"] for r in rows} == {"u1", "u2"}
    by_id = {r["id"]: r for r in rows}
    assert json.loads(by_id["u2"]["address"]) == {"city": "Oslo"}
    assert by_id["u2"]["age"] == "20" and by_id["u2"]["score"] == ""


def test_scan_where_limit_attributes(cli: CliRunner, users: Table) -> None:
    result = cli("scan", users.name, "--where", "age > 30", "--attributes", "id,name")
    assert lines(result.stdout) == [{"id": "u1", "name": "Ada"}]
    limited = cli("scan", users.name, "--limit", "1")
    assert len(lines(limited.stdout)) == 1


def test_scan_table_output_when_asked(cli: CliRunner, users: Table) -> None:
    result = cli("scan", users.name, "-o", "table", env={"COLUMNS": "300"})
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = [cell.strip() for cell in lines[1].strip().strip("┃").split("┃")]
    rows = [[cell.strip() for cell in line.strip().strip("│").split("│")] for line in lines[3:-1]]
    assert lines[0].startswith("┏") and lines[2].startswith("┡") and lines[-1].startswith("└")
    shown = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    # One row per item, one column per attribute, each cell the value as written.
    assert shown == {
        "u1": {
            "id": "u1",
            "name": "Ada",
            "age": "36",
            "score": "0.1",
            "tags": '["a","b"]',
            "avatar": "AAE=",
            "big": "12345678901234567890123456789012345678",
            "address": "",
        },
        "u2": {
            "id": "u2",
            "name": "Bob",
            "age": "20",
            "score": "",
            "tags": "",
            "avatar": "",
            "big": "",
            "address": '{"city":"Oslo"}',
        },
    }


def test_query_cursor_and_start(cli: CliRunner, sorted_table: Table) -> None:
    for n in range(5):
        sorted_table.put({"pk": "a", "sk": n})
    first = cli("query", sorted_table.name, "--where", "pk = 'a'", "--limit", "2", "--cursor")
    assert [i["sk"] for i in lines(first.stdout)] == [0, 1]
    cursor = first.stderr.split("cursor: ", 1)[1].strip()
    rest = cli("query", sorted_table.name, "--where", "pk = 'a'", "--start", cursor)
    assert [i["sk"] for i in lines(rest.stdout)] == [2, 3, 4]
    reverse = cli("query", sorted_table.name, "--where", "pk = 'a' AND sk < 3", "--reverse")
    assert [i["sk"] for i in lines(reverse.stdout)] == [2, 1, 0]


def test_find_explain_and_run(cli: CliRunner, users: Table) -> None:
    plan = cli("find", users.name, "--where", "id = 'u1' AND age > 3", "--explain")
    assert plan.code == 0
    assert "operation:     Query" in plan.stdout and "filter:        age > 3" in plan.stdout
    as_json = json.loads(
        cli("find", users.name, "--where", "age > 3", "--explain", "-o", "json").stdout
    )
    assert as_json["operation"] == "Scan"
    found = lines(cli("find", users.name, "--where", "id = 'u1'").stdout)
    assert [i["id"] for i in found] == ["u1"]


def test_count(cli: CliRunner, users: Table) -> None:
    assert cli("count", users.name).stdout.strip() == "2"
    assert json.loads(cli("count", users.name, "--where", "age < 30", "-o", "json").stdout) == {
        "count": 1
    }


def test_create_and_delete_table(cli: CliRunner) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    made = cli(
        "create-table",
        name,
        "--pk",
        "customer:S",
        "--sk",
        "date:S",
        "--gsi",
        "by_status:status:S:date:S",
        "--ttl",
        "expires",
    )
    assert made.code == 0, made.stderr
    info = json.loads(cli("info", name, "-o", "json").stdout)
    assert info["indexes"][0]["name"] == "by_status" and info["ttl_attribute"] == "expires"
    refused = cli("delete-table", name)
    assert refused.code == 1 and "--yes" in refused.stderr
    assert cli("delete-table", name, "--yes").code == 0
    assert name not in cli("tables", "-o", "json").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "no-such-table", "id=1"), "table 'no-such-table' not found"),
        (("scan", "{table}", "--where", "age >> 3"), "column 5"),
        (("get", "{table}", "nope=1"), "missing 'id'"),
        (("query", "{table}", "--where", "age > 3"), "use scan or find"),
        (("scan", "{table}", "--start", "garbage"), "invalid cursor"),
        (("create-table", "x", "--pk", "id"), "NAME:TYPE"),
    ],
)
def test_errors_are_one_clear_line_and_exit_1(
    cli: CliRunner, users: Table, args: tuple[str, ...], message: str
) -> None:
    result = cli(*[a.format(table=users.name) for a in args])
    assert result.code == 1, result.stdout
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_where_syntax_error_shows_caret(cli: CliRunner, users: Table) -> None:
    result = cli("scan", users.name, "--where", "age >> 3")
    err_lines = result.stderr.splitlines()
    text_line = next(line for line in err_lines if "age >> 3" in line)
    caret_line = err_lines[err_lines.index(text_line) + 1]
    assert caret_line.index("^") == text_line.index(">> 3")


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    assert cli("scan").code == 2
    assert cli("no-such-command").code == 2
    assert cli("scan", "users", "--rcu", "nan").code == 2


def test_local_with_an_endpoint_url_talks_to_that_engine_without_aws_credentials(
    cli: CliRunner, endpoint: str
) -> None:
    no_keys: dict[str, str | None] = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    result = cli("--local", "--endpoint-url", endpoint, "tables", connect=False, env=no_keys)
    assert result.code == 0, result.stderr


def test_unreachable_endpoint(cli: CliRunner) -> None:
    result = cli("--endpoint-url", "http://127.0.0.1:9", "tables", connect=False)
    assert result.code == 1 and "cannot reach http://127.0.0.1:9" in result.stderr


def test_no_credentials(cli: CliRunner, endpoint: str) -> None:
    result = cli(
        "--endpoint-url",
        endpoint,
        "tables",
        connect=False,
        env={
            "AWS_ACCESS_KEY_ID": None,
            "AWS_SECRET_ACCESS_KEY": None,
            "AWS_PROFILE": None,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    assert result.code == 1 and "no AWS credentials" in result.stderr


def test_local_engine_not_running(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("--local", "tables", connect=False, env={"XDG_STATE_HOME": str(tmp_path)})
    assert result.code == 1 and "ddbkit local start" in result.stderr


def test_debug_logs_requests_and_tracebacks_but_never_credentials(
    cli: CliRunner, users: Table
) -> None:
    planted = {
        "AWS_ACCESS_KEY_ID": "AKIDplanted" + uuid.uuid4().hex[:12].upper(),
        "AWS_SECRET_ACCESS_KEY": "SECRETkeyNEVERprint" + uuid.uuid4().hex,
        "AWS_SESSION_TOKEN": "TOKENneverPRINT" + uuid.uuid4().hex,
    }
    private = "PRIVATEvalue" + uuid.uuid4().hex
    done = cli("--debug", "put", users.name, json.dumps({"id": "u9", "note": private}), env=planted)
    failed = cli("--debug", "get", "no-such-table", "id=1", env=planted)
    assert done.code == 0, done.stderr
    assert failed.code == 1
    # The request log is there: every request, by operation and table...
    assert f"debug: put_item {{'TableName': '{users.name}'" in done.stderr
    assert "debug: describe_table {'TableName': 'no-such-table'}" in failed.stderr
    assert "Traceback" in failed.stderr
    # ...and holds no credential, signature or item content.
    combined = done.stdout + done.stderr + failed.stdout + failed.stderr
    for secret in (*planted.values(), private):
        assert secret not in combined
    assert "Signature=" not in combined and "Authorization" not in combined
    assert users.get({"id": "u9"}) == {"id": "u9", "note": private}


def planted_credentials() -> dict[str, str | None]:
    """Keys no test output may show, planted where the credential chain finds them first."""
    tag = uuid.uuid4().hex.upper()
    return {
        "AWS_ACCESS_KEY_ID": f"AKIDplanted{tag[:12]}",
        "AWS_SECRET_ACCESS_KEY": f"SECRETkeyNEVERprint/{tag}",
        "AWS_SESSION_TOKEN": f"TOKENneverPRINT{tag}",
        "AWS_PROFILE": None,
    }


def test_debug_never_prints_a_secret_or_a_signature_on_the_lean_paths(
    cli: CliRunner, users: Table, tmp_path: Path
) -> None:
    planted = planted_credentials()
    private = "PRIVATEvalue" + uuid.uuid4().hex
    source = tmp_path / "many.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"m{n}", "note": private}) + "\n" for n in range(60))
    )
    unreachable = ["--endpoint-url", f"http://127.0.0.1:{local.free_port()}", "--max-attempts", "1"]
    put = json.dumps({"id": "p1", "note": private})
    refused = json.dumps({"id": "u1", "note": private})
    runs = {
        "scan": cli("--debug", "scan", users.name, "-o", "jsonl", env=planted),
        "put": cli("--debug", "put", users.name, put, env=planted),
        "import": cli("--debug", "import", users.name, str(source), "-q", env=planted),
        "refused": cli(
            "--debug", "put", users.name, refused, "--if", "note = :n", "--param", f"n={private}",
            env=planted,
        ),
        "unreachable": cli(
            "--debug", *unreachable, "get", users.name, "id=u1", connect=False, env=planted
        ),
    }  # fmt: skip
    codes = {name: (run.code, run.stderr) for name, run in runs.items()}
    assert [code for code, _ in codes.values()] == [0, 0, 0, 1, 1], codes
    # The request log is there, from the lean path (scan, put, import) as from botocore's client...
    assert f"debug: scan {{'TableName': '{users.name}'" in runs["scan"].stderr
    assert f"debug: put_item {{'TableName': '{users.name}'" in runs["put"].stderr
    assert "debug: batch_write_item {'RequestItems': " in runs["import"].stderr
    assert "condition failed" in runs["refused"].stderr and "Traceback" in runs["refused"].stderr
    assert "Traceback" in runs["unreachable"].stderr
    # ...and holds no credential, no signature, no Authorization header, no item content.
    for name, run in runs.items():
        shown = run.stdout + run.stderr
        for secret in (*filter(None, planted.values()), private):
            assert secret not in shown, f"{name}: {secret!r} printed"
        for sign in ("Signature=", "Credential=", "AWS4-HMAC-SHA256", "X-Amz-Security-Token"):
            assert sign not in shown, f"{name}: {sign!r} printed"
        assert "authorization" not in shown.lower(), name
    assert users.get({"id": "p1"}) == {"id": "p1", "note": private}
    assert sum(1 for _ in users.scan("begins_with(id, 'm')")) == 60


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ddbkit", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "ddbkit" in done.stdout
