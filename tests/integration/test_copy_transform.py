"""copy --transform (library and CLI) on DynamoDB Local: skip, edit, and reject what raises."""

from __future__ import annotations

import contextlib
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.table import Table
from ddbkit.workflows import maintenance
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

ITEMS = 300

TRANSFORM = textwrap.dedent(
    '''
    """A transform for the tests: skips, edits, and raises for some items."""


    def fix(item):
        n = int(item["id"][1:])
        if n % 5 == 0:
            return None
        if n % 7 == 3:
            item.pop("old")  # changed, then failed: the reject file keeps the source item
            raise ValueError(f"cannot fix {item['id']}")
        item["name"] = item["name"].upper()
        item["version"] = 2
        item.pop("old", None)
        return item


    def not_a_dict(item):
        return "nope"

    NOT_CALLABLE = 3
    '''
)


def source_items() -> list[dict[str, Any]]:
    return [{"id": f"i{n}", "name": f"item {n}", "old": n} for n in range(ITEMS)]


def expected(n: int) -> dict[str, Any] | None:
    if n % 5 == 0 or n % 7 == 3:
        return None
    return {"id": f"i{n}", "name": f"ITEM {n}", "version": 2}


@pytest.fixture
def source(make_table: Callable[..., Table]) -> Table:
    t = make_table()
    assert t.put_many(source_items()).written == ITEMS
    return t


@pytest.fixture
def module_file(tmp_path: Path) -> Path:
    path = tmp_path / "fixes.py"
    path.write_text(TRANSFORM)
    return path


def _want() -> dict[str, dict[str, Any]]:
    return {item["id"]: item for n in range(ITEMS) if (item := expected(n)) is not None}


SKIPPED = sum(1 for n in range(ITEMS) if n % 5 == 0)
RAISED = sorted(f"i{n}" for n in range(ITEMS) if n % 5 and n % 7 == 3)


def test_copy_table_with_a_transform_skips_edits_and_rejects(
    endpoint: str, db: ddbkit.Database, source: Table, module_file: Path, tmp_path: Path
) -> None:
    fix = maintenance.load_transform(f"{module_file}:fix")
    target = f"{source.name}-t"
    rejects = tmp_path / "rejects.jsonl"
    try:
        summary = maintenance.copy_table(
            source, db, target, transform=fix, reject_path=rejects, segments=2
        )
        assert summary.skipped == SKIPPED and summary.rejected == len(RAISED)
        assert summary.written == ITEMS - SKIPPED - len(RAISED) and summary.read == ITEMS
        assert summary.rejects_path == str(rejects)
        got = {item["id"]: item for item in db.table(target).scan(consistent=True)}
        assert set(got) == set(_want())
        records = [json.loads(line) for line in rejects.read_text().splitlines()]
        assert sorted(r["item"]["id"] for r in records) == RAISED
        originals = {item["id"]: item for item in source_items()}
        assert all(r["item"] == originals[r["item"]["id"]] for r in records)
        assert all(
            r["reason"].startswith("transform raised ValueError: cannot fix") for r in records
        )
    finally:
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(target)


def test_cli_copy_transform(
    endpoint: str, cli: CliRunner, db: ddbkit.Database, source: Table, module_file: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    target = f"{source.name}-c"
    rejects = tmp_path / "r.jsonl"
    try:
        done = cli(
            "copy", source.name, target, "--transform", "fixes:fix", "--rejects", str(rejects),
            env={"PYTHONPATH": str(tmp_path)},
        )  # fmt: skip
        assert done.code == 1, done.stderr  # some were rejected: the copy is not whole
        assert f"skipped     {SKIPPED}" in done.stderr
        assert f"{len(RAISED)} items were not copied (see {rejects})" in done.stderr
        got = {item["id"]: item for item in db.table(target).scan(consistent=True)}
        assert set(got) == set(_want())
        for key, item in got.items():  # edited: upper-cased, versioned, "old" dropped
            assert item == {"id": key, "name": f"ITEM {key[1:]}", "version": 2}
        lines = rejects.read_text().splitlines()
        assert sorted(json.loads(line)["item"]["id"] for line in lines) == RAISED
    finally:
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(target)


def test_cli_copy_transform_that_skips_everything_rejected_nothing_exits_0(
    cli: CliRunner, db: ddbkit.Database, source: Table, tmp_path: Path
) -> None:
    (tmp_path / "none.py").write_text("def drop(item):\n    return None\n")
    target = f"{source.name}-n"
    try:
        done = cli("copy", source.name, target, "--transform", f"{tmp_path / 'none.py'}:drop")
        assert done.code == 0, done.stderr
        assert f"skipped     {ITEMS}" in done.stderr and "written     0" in done.stderr
        assert db.table(target).count() == 0
        assert not list(Path.cwd().glob(f"copy-{source.name}-to-*.jsonl"))  # empty: removed
    finally:
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(target)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fixes", "bad transform 'fixes': write MODULE:FUNCTION"),
        ("no_such_module_xyz:fix", "cannot import the transform's module 'no_such_module_xyz'"),
        ("fixes:missing", "module 'fixes' has no 'missing'"),
        ("fixes:NOT_CALLABLE", "is a int, not a function"),
    ],
)
def test_cli_copy_bad_transform_is_one_line_before_anything_is_read(
    cli: CliRunner, db: ddbkit.Database, source: Table, module_file: Path, spec: str, message: str
) -> None:
    target = f"{source.name}-bad"
    done = cli(
        "copy", source.name, target, "--transform", spec,
        env={"PYTHONPATH": str(module_file.parent)},
    )  # fmt: skip
    assert done.code == 1
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert target not in db.tables()


def test_transform_returning_something_else_rejects_the_item(
    db: ddbkit.Database, source: Table, module_file: Path, tmp_path: Path
) -> None:
    target = f"{source.name}-x"
    try:
        summary = maintenance.copy_table(
            source,
            db,
            target,
            transform=maintenance.load_transform(f"{module_file}:not_a_dict"),
            reject_path=tmp_path / "x.jsonl",
        )
        assert summary.rejected == ITEMS and summary.written == 0
        assert summary.rejections[0].reason == "transform returned str, not a dict or None"
    finally:
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(target)


def test_copy_help_names_the_new_options(cli: CliRunner) -> None:
    shown = cli("copy", "--help", connect=False)
    for flag in ("--transform", "--rejects", "--to-profile", "--to-region", "--where"):
        assert flag in shown.stdout
