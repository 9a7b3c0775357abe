"""Hostile command lines: numbers and flags, names, keys, items and what reaches the terminal.

Each refused command must exit 1 or 2 with exactly one ``error:`` line naming the problem,
nothing on stdout, no traceback, and no table, item or file changed (see tests/support/hostile.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddbkit.table import Table
from tests.support.hostile import (
    Runner,
    assert_clean_stderr,
    assert_refused,
    drop_table,
    seeded_table,
    unchanged,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SEED = [
    {"id": "a", "name": "Ada", "age": 36, "tags": {"x", "y"}},
    {"id": "b", "name": "Bob", "age": 20},
    {"id": "c", "name": "zz", "age": 50},
]


@pytest.fixture(scope="module")
def users(endpoint: str) -> Iterator[Table]:
    """Three items keyed by id (S); every case checks it is left as it was."""
    with seeded_table(endpoint, SEED) as table:
        yield table


@pytest.fixture(scope="module")
def numbered(endpoint: str) -> Iterator[Table]:
    """Two items keyed by num (N)."""
    with seeded_table(endpoint, [{"num": 1}, {"num": 2}], partition_key=("num", "N")) as table:
        yield table


def item_file(folder: Path, *items: str) -> Path:
    path = folder / "in.jsonl"
    path.write_text("".join(line + "\n" for line in items), encoding="utf-8")
    return path


# -- numbers and flags -----------------------------------------------------------------------

BAD_RATES = ["nan", "inf", "-1", "0", "1e309", "abc", "-inf", ""]


def _read_command(command: str, table: str, folder: Path) -> list[str]:
    return {
        "scan": ["scan", table],
        "count": ["count", table],
        "export": ["export", table, "-o", str(folder / "out.jsonl")],
        "copy": ["copy", table, f"{table}-copy"],
    }[command]


@pytest.mark.parametrize("value", BAD_RATES)
@pytest.mark.parametrize("command", ["scan", "count", "export", "copy"])
def test_bad_rcu_is_refused(
    run: Runner, endpoint: str, users: Table, tmp_path: Path, command: str, value: str
) -> None:
    try:
        with unchanged(endpoint, users.name, folder=tmp_path):
            outcome = run(*_read_command(command, users.name, tmp_path), "--rcu", value)
    finally:
        drop_table(endpoint, f"{users.name}-copy")
    assert_refused(outcome, "rcu")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "abc"])
def test_bad_wcu_on_import_is_refused(
    run: Runner, endpoint: str, users: Table, tmp_path: Path, value: str
) -> None:
    source = item_file(tmp_path, '{"id": "new1"}')
    with unchanged(endpoint, users.name, folder=tmp_path):
        outcome = run("import", users.name, str(source), "--wcu", value)
    assert_refused(outcome, "wcu")


@pytest.mark.parametrize("value", ["nan", "inf", "1e309"])
def test_bad_wcu_on_copy_is_refused(
    run: Runner, endpoint: str, users: Table, tmp_path: Path, value: str
) -> None:
    try:
        with unchanged(endpoint, users.name, folder=tmp_path):
            outcome = run("copy", users.name, f"{users.name}-copy", "--wcu", value)
    finally:
        drop_table(endpoint, f"{users.name}-copy")
    assert_refused(outcome, "wcu")


@pytest.mark.parametrize(
    ("command", "value"),
    [
        ("scan", "0"),
        ("scan", "-3"),
        ("scan", "abc"),
        ("scan", "1000001"),
        ("scan", "2.5"),
        ("count", "0"),
        ("count", "1000001"),
        ("export", "0"),
        ("export", "1000001"),
        ("copy", "-1"),
    ],
)
def test_bad_segments_are_refused(
    run: Runner, endpoint: str, users: Table, tmp_path: Path, command: str, value: str
) -> None:
    try:
        with unchanged(endpoint, users.name, folder=tmp_path):
            outcome = run(*_read_command(command, users.name, tmp_path), "--segments", value)
    finally:
        drop_table(endpoint, f"{users.name}-copy")
    assert_refused(outcome, "segments")


@pytest.mark.parametrize(
    ("command", "value"),
    [("scan", "-1"), ("find", "-1"), ("query", "-1"), ("scan", "abc"), ("scan", "2.5")],
)
def test_bad_limit_is_refused(run: Runner, users: Table, command: str, value: str) -> None:
    extra = ["--where", "id = 'a'"] if command == "query" else []
    assert_refused(run(command, users.name, *extra, "--limit", value), "limit")


@pytest.mark.parametrize(
    ("command", "value"),
    [
        ("import", "0"),
        ("import", "65"),
        ("import", "-1"),
        ("import", "abc"),
        ("copy", "0"),
        ("copy", "65"),
    ],
)
def test_bad_workers_are_refused(
    run: Runner, endpoint: str, users: Table, tmp_path: Path, command: str, value: str
) -> None:
    if command == "import":
        argv = ["import", users.name, str(item_file(tmp_path, '{"id": "new1"}'))]
    else:
        argv = ["copy", users.name, f"{users.name}-copy"]
    try:
        with unchanged(endpoint, users.name, folder=tmp_path):
            outcome = run(*argv, "--workers", value)
    finally:
        drop_table(endpoint, f"{users.name}-copy")
    assert_refused(outcome, "workers")


# -- names -----------------------------------------------------------------------------------

BAD_TABLE_NAMES = {
    "empty": "",
    "too-long": "x" * 256,
    "space": "has space",
    "unicode": "ünïcödé",
    "dotdot": "../x",
    "tab": "tab\tname",
    "escape": "\x1b[2J",
    "nul": "nul\x00name",
}


def _table_command(command: str, name: str, folder: Path) -> list[str]:
    return {
        "scan": ["scan", name],
        "create-table": ["create-table", name, "--pk", "id:S"],
        "put": ["put", name, '{"id": "a"}'],
        "export": ["export", name, "-o", str(folder / "out.jsonl")],
        "delete-table": ["delete-table", name, "--yes"],
    }[command]


@pytest.mark.parametrize("name", BAD_TABLE_NAMES.values(), ids=BAD_TABLE_NAMES.keys())
@pytest.mark.parametrize("command", ["scan", "create-table", "put", "export", "delete-table"])
def test_bad_table_name_is_one_clear_error(
    run: Runner, endpoint: str, tmp_path: Path, command: str, name: str
) -> None:
    with unchanged(endpoint, folder=tmp_path):
        outcome = run(*_table_command(command, name, tmp_path))
    assert_refused(outcome, "table")


BAD_ATTRIBUTES = {
    "empty": "",
    "comma": ",",
    "blank-parts": " , ",
    "double-dot": "a..b",
    "unbalanced-backtick": "`unbalanced",
    "word-index": "a[x]",
    "trailing-dot": "a.",
    "bare-index": "[0]",
}


@pytest.mark.parametrize("text", BAD_ATTRIBUTES.values(), ids=BAD_ATTRIBUTES.keys())
@pytest.mark.parametrize("command", ["scan", "get"])
def test_bad_attributes_are_refused(run: Runner, users: Table, command: str, text: str) -> None:
    argv = ["scan", users.name] if command == "scan" else ["get", users.name, "id=a"]
    # A path error that shows the offending text (with a caret under it) names it well enough.
    shown = (text.strip(),) if text.strip(" ,") else ()
    assert_refused(run(*argv, "--attributes", text), "attribute", *shown)


@pytest.mark.parametrize("command", ["scan", "query", "find"])
def test_missing_index_is_named(run: Runner, users: Table, command: str) -> None:
    if command == "find":
        # find has no --index: the planner picks one; an unknown option is a usage error.
        argv = ["find", users.name, "--index", "nope", "--where", "id = 'a'"]
    elif command == "query":
        argv = ["query", users.name, "--index", "nope", "--where", "name = 'Ada'"]
    else:
        argv = ["scan", users.name, "--index", "nope"]
    assert_refused(run(*argv), "nope", "--index")


# -- keys ------------------------------------------------------------------------------------

BAD_KEYS = {
    "other-attribute": ("users", ["x=1"], "'x'"),
    "extra-attribute": ("users", ["id=a", "x=1"], "'x'"),
    "empty-string": ("users", ["id="], "'id'"),
    "json-wrong-type": ("users", ['{"id": 1}'], "'id'"),
    "json-broken": ("users", ["{bad json"], "json"),
    "json-array": ("users", ["[1, 2]"], "key"),
    "no-name": ("users", ["=a"], "key"),
    "twice": ("users", ["id=a", "id=b"], "'id'"),
    "not-a-number": ("numbered", ["num=abc"], "num"),
    "empty-number": ("numbered", ["num="], "num"),
    "number-out-of-range": ("numbered", ["num=1e999"], "num"),
    "nan": ("numbered", ["num=NaN"], "num"),
}


@pytest.mark.parametrize(("which", "key", "mention"), BAD_KEYS.values(), ids=BAD_KEYS.keys())
@pytest.mark.parametrize("command", ["get", "delete", "update"])
def test_bad_key_is_refused_before_any_change(
    run: Runner,
    endpoint: str,
    fresh: Table,
    numbered: Table,
    command: str,
    which: str,
    key: list[str],
    mention: str,
) -> None:
    table = fresh if which == "users" else numbered
    extra = ["--set", "touched = 1"] if command == "update" else []
    with unchanged(endpoint, table.name):
        outcome = run(command, table.name, *key, *extra)
    assert_refused(outcome, mention, mention.strip("'") + "=")


# -- items -----------------------------------------------------------------------------------

BAD_ITEMS = {
    "array": ("[1]", "object"),
    "string": ('"str"', "object"),
    "number": ("1", "object"),
    "null": ("null", "object"),
    "no-key": ("{}", "'id'"),
    "key-wrong-type": ('{"id": 1}', "'id'"),
    "key-empty": ('{"id": ""}', "'id'"),
    "nan": ('{"id": "new1", "x": NaN}', "nan"),
    "empty-name": ('{"id": "new1", "": 1}', "name"),
    "lone-surrogate-key": ('{"id": "\\ud800"}', "'id'"),
    "lone-surrogate-value": ('{"id": "new1", "note": "\\udfff"}', "note"),
    "lone-surrogate-map-key": ('{"id": "new1", "m": {"\\ud800": 1}}', "'m'"),
    "truncated": ('{"id": "new1"', "json"),
    "two-objects": ('{"id": "new1"} {"id": "new2"}', "json"),
    "too-deep": ('{"id": "new1", "d": ' + "[" * 40 + "]" * 40 + "}", "'d"),
    "out-of-range": ('{"id": "new1", "x": 1e999}', "'x'"),
    "too-big": ('{"id": "new1", "blob": "' + "x" * 410_000 + '"}', "size"),
}


@pytest.mark.parametrize(("text", "mention"), BAD_ITEMS.values(), ids=BAD_ITEMS.keys())
def test_bad_item_is_refused_before_sending(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, text: str, mention: str
) -> None:
    with unchanged(endpoint, fresh.name, folder=tmp_path):
        outcome = run("put", fresh.name, text)
    assert_refused(outcome, mention)


@pytest.mark.parametrize("source", ["stdin", "file"])
def test_lone_surrogate_in_put_lines_is_refused(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, source: str
) -> None:
    users = fresh
    lines = ['{"id": "new1", "note": "\\ud800"}', '{"id": "new2", "note": "fine"}']
    if source == "file":
        path = item_file(tmp_path, *lines)
        with unchanged(endpoint, users.name, folder=tmp_path):
            outcome = run("put", users.name, "--file", str(path))
    else:
        with unchanged(endpoint, users.name, folder=tmp_path):
            outcome = run("put", users.name, stdin="".join(line + "\n" for line in lines))
    assert_refused(outcome, "note")


# -- what reaches the terminal ---------------------------------------------------------------

CONTROL_VALUES = {
    "clear-screen": "\x1b[2J",
    "carriage-return": "ok\rEVIL",
    "bell": "ding\x07",
    "backspace": "abc\x08\x08\x08xyz",
    "c1-csi": "\x9b2J",
    "delete": "del\x7f",
    "title-osc": "\x1b]0;pwned\x07",
}
RAW_CONTROL = {"\x1b", "\r", "\x07", "\x08", "\x9b", "\x7f"}


@pytest.fixture(scope="module")
def controls(endpoint: str) -> Iterator[Table]:
    items = [{"id": f"k-{n}", "value": v} for n, v in enumerate(CONTROL_VALUES.values())]
    items.append({"id": "named", "\x1b[31mred": "v"})
    with seeded_table(endpoint, items) as table:
        yield table


@pytest.mark.parametrize("index", range(len(CONTROL_VALUES)), ids=CONTROL_VALUES.keys())
@pytest.mark.parametrize("command", ["scan", "get"])
def test_control_characters_are_escaped_in_table_output(
    run: Runner, controls: Table, command: str, index: int
) -> None:
    if command == "scan":
        argv = ["scan", controls.name, "--where", f"id = 'k-{index}'", "-o", "table"]
    else:
        argv = ["get", controls.name, f"id=k-{index}", "-o", "table"]
    outcome = run(*argv)
    assert_clean_stderr(outcome)
    assert outcome.code == 0, outcome.describe()
    assert f"k-{index}" in outcome.stdout, outcome.describe()
    leaked = {c for c in RAW_CONTROL if c in outcome.stdout}
    assert not leaked, f"raw control characters {sorted(map(repr, leaked))} reached stdout"


@pytest.mark.parametrize("command", ["scan", "get"])
def test_control_characters_in_attribute_names_are_escaped(
    run: Runner, controls: Table, command: str
) -> None:
    if command == "scan":
        argv = ["scan", controls.name, "--where", "id = 'named'", "-o", "table"]
    else:
        argv = ["get", controls.name, "id=named", "-o", "table"]
    outcome = run(*argv)
    assert_clean_stderr(outcome)
    assert outcome.code == 0, outcome.describe()
    assert "\x1b" not in outcome.stdout, "a raw ESC in an attribute name reached stdout"


def test_jsonl_output_keeps_control_characters_as_json_escapes(
    run: Runner, controls: Table
) -> None:
    outcome = run("scan", controls.name, "-o", "jsonl")
    assert outcome.code == 0, outcome.describe()
    assert "\x1b" not in outcome.stdout
    values = {json.loads(line)["id"] for line in outcome.stdout.splitlines()}
    assert len(values) == len(CONTROL_VALUES) + 1


# -- cursors, table specs and type lists -----------------------------------------------------

BAD_CURSORS = {
    "garbage": "garbage!",
    "parallel-garbage": "Pnot-base64-json",
    "empty-object": "e30",  # base64 of {}
    "other-key": "eyJ4Ijp7IlMiOiJhIn19",  # base64 of {"x":{"S":"a"}}: not this table's key
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS)
def test_bad_cursor_is_refused(run: Runner, users: Table, cursor: str) -> None:
    assert_refused(run("scan", users.name, "--start", cursor), "cursor", "start", "key")


BAD_TABLE_SPECS = {
    "key-type": ["--pk", "id:X"],
    "key-no-name": ["--pk", ":S"],
    "key-no-type": ["--pk", "id"],
    "gsi-missing-parts": ["--pk", "id:S", "--gsi", "by_x"],
    "lsi-without-sort-key": ["--pk", "id:S", "--lsi", "by_x:id:S:x:S"],
    "rcu-without-wcu": ["--pk", "id:S", "--billing", "PROVISIONED", "--rcu", "5"],
}


@pytest.mark.parametrize("flags", BAD_TABLE_SPECS.values(), ids=BAD_TABLE_SPECS)
def test_bad_table_spec_creates_nothing(run: Runner, endpoint: str, flags: list[str]) -> None:
    name = f"hostile-spec-{'-'.join(flags).replace(':', '').replace('_', '')[:40]}"
    try:
        with unchanged(endpoint):
            outcome = run("create-table", name, *flags)
    finally:
        drop_table(endpoint, name)
    assert_refused(outcome, "--pk", "--gsi", "--lsi", "--rcu", "--wcu", "key", "ind")


@pytest.mark.parametrize("types", ["tags:XX", ":S", "tags:", "tags"], ids=str)
def test_bad_types_list_is_refused(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, types: str
) -> None:
    source = item_file(tmp_path, '{"id": "new1", "tags": ["a"]}')
    with unchanged(endpoint, fresh.name, folder=tmp_path):
        outcome = run("import", fresh.name, str(source), "--types", types)
    assert_refused(outcome, "types", "type", types)
