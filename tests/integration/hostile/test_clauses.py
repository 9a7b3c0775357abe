"""Hostile where-clauses, update clauses and named parameters on the command line.

A clause that cannot run must be refused with one error (the caret display under it is fine)
before anything is read, written, deleted or saved to an undo file; a value bound as a named
parameter (``--param name=VALUE``) can never change what a condition means.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ddbkit.table import Table
from tests.support.hostile import (
    Runner,
    assert_clean_stderr,
    assert_refused,
    unchanged,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SEED = [
    {"id": "a", "name": "Ada", "age": 36, "tags": {"x", "y"}},
    {"id": "b", "name": "Bob", "age": 20},
    {"id": "c", "name": "zz", "age": 50},
]
# A value that, spliced into the clause instead of bound, would match every item.
INJECTION = "zz' OR name <> 'zz"
GENERIC = ("where", "condition", "expression", "syntax")


# -- where-clauses ---------------------------------------------------------------------------

WHERES: dict[str, tuple[str, tuple[str, ...]]] = {
    "open-paren": ("(age > 1", (")", "paren")),
    "close-paren": ("age > 1)", (")", "paren", "trailing")),
    "open-quote": ("name = 'abc", ("quote", "string", "'")),
    "open-double-quote": ('name = "abc', ("quote", "string", '"')),
    "open-backtick": ("`abc = 1", ("backtick",)),
    "10000-parens": ("(" * 10_000 + "age = 1" + ")" * 10_000, ("nest", "deep")),
    "101-in-values": ("age IN (" + ", ".join(map(str, range(101))) + ")", ("100",)),
    "200-digit-number": ("age = 1" + "0" * 200, ("number", "digit")),
    "huge-exponent": ("age = 1e999999999", ("number", "range")),
    "bang-equals": ("age != 1", ("<>",)),
    "empty": ("", ("empty",)),
    "spaces": ("   ", ("empty",)),
    "tab-newline": ("\t\n", ("empty",)),
    "sql-comment": ("name = 'x' OR 1=1 --", GENERIC),
    "sql-stacked": ("name = 'x'; DROP TABLE users", GENERIC),
    "sql-quote-break": ("name = 'x'' OR ''1''=''1'", GENERIC),
    "escape-sequence": ("\x1b[2J = 1", GENERIC),
    "too-long": (" AND ".join(f"a{n} = {n}" for n in range(1500)), ("expression", "long")),
    "between-reversed": ("age BETWEEN 50 AND 10", ("between",)),
    "function-arity": ("begins_with(name)", ("begins_with", "argument")),
    "unknown-function": ("drop_table(name)", ("drop_table",)),
    "half-surrogate-escape": ("name = '\\ud800'", ("surrogate",)),
}


@pytest.mark.parametrize(("where", "mentions"), WHERES.values(), ids=WHERES.keys())
@pytest.mark.parametrize("command", ["scan", "delete"])
def test_bad_where_is_refused_before_anything_runs(
    run: Runner,
    endpoint: str,
    fresh: Table,
    tmp_path: Path,
    command: str,
    where: str,
    mentions: tuple[str, ...],
) -> None:
    if command == "scan":
        argv = ["scan", fresh.name, "--where", where]
    else:
        undo = tmp_path / "undo.jsonl"
        argv = ["delete", fresh.name, "--where", where, "--yes", "--undo", str(undo)]
    with unchanged(endpoint, fresh.name, folder=tmp_path):
        outcome = run(*argv)
    assert_refused(outcome, *mentions)


@pytest.mark.parametrize(
    "where",
    [WHERES["10000-parens"][0], WHERES["101-in-values"][0], WHERES["escape-sequence"][0]],
    ids=["10000-parens", "101-in-values", "escape-sequence"],
)
def test_bad_condition_on_update_changes_nothing(
    run: Runner, endpoint: str, fresh: Table, where: str
) -> None:
    with unchanged(endpoint, fresh.name):
        outcome = run("update", fresh.name, "id=a", "--set", "age = 1", "--if", where)
    assert_refused(outcome)


# -- update clauses --------------------------------------------------------------------------

UPDATES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "set-empty": (["--set", ""], ("set", "empty")),
    "set-blank": (["--set", "   "], ("set", "empty")),
    "set-no-value": (["--set", "age = "], ("set", "value")),
    "set-no-path": (["--set", "= 1"], ("set", "path", "name")),
    "set-dangling-plus": (["--set", "age = age +"], ("set", "value")),
    "set-open-paren": (["--set", "age = (1"], ("set", ")")),
    "set-key": (["--set", "id = 'x'"], ("id",)),
    "set-twice": (["--set", "age = 1, age = 2"], ("twice", "age")),
    "set-huge-number": (["--set", "age = 1e999"], ("number", "range")),
    "set-half-surrogate": (["--set", "name = '\\ud800'"], ("surrogate",)),
    "set-function-arity": (["--set", "age = if_not_exists(age)"], ("if_not_exists",)),
    "add-dangling": (["--add", "age = -"], ("add", "value")),
    "add-string": (["--add", "name = 'x'"], ("add", "number", "set")),
    "remove-empty": (["--remove", ""], ("remove", "empty")),
    "remove-key": (["--remove", "id"], ("id",)),
    "remove-negative-index": (["--remove", "tags[-1]"], ("remove", "index")),
    "delete-not-a-set": (["--delete", "tags = 1"], ("delete", "set")),
    "nothing": ([], ("nothing", "set")),
    "set-and-remove-same": (["--set", "age = 1", "--remove", "age"], ("age",)),
    "if-dangling": (["--set", "age = 1", "--if", "age >"], ("condition", "value")),
}


@pytest.mark.parametrize(("clauses", "mentions"), UPDATES.values(), ids=UPDATES.keys())
def test_bad_update_changes_nothing(
    run: Runner,
    endpoint: str,
    fresh: Table,
    tmp_path: Path,
    clauses: list[str],
    mentions: tuple[str, ...],
) -> None:
    with unchanged(endpoint, fresh.name, folder=tmp_path):
        outcome = run("update", fresh.name, "id=a", *clauses)
    assert_refused(outcome, *mentions)


# -- named parameters (--param NAME=VALUE) ---------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "find", "count"])
def test_bound_parameter_never_matches_more(run: Runner, fresh: Table, command: str) -> None:
    outcome = run(command, fresh.name, "--where", "name = :name", "--param", f"name={INJECTION}")
    assert_clean_stderr(outcome)
    assert outcome.code == 0, outcome.describe()
    expected = "0\n" if command == "count" else ""
    assert outcome.stdout == expected, outcome.describe()


def test_bound_parameter_deletes_nothing_extra(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path
) -> None:
    undo = tmp_path / "undo.jsonl"
    with unchanged(endpoint, fresh.name):
        outcome = run(
            "delete",
            fresh.name,
            "--where",
            "name = :name",
            "--param",
            f"name={INJECTION}",
            "--yes",
            "--undo",
            str(undo),
        )
    assert_clean_stderr(outcome)
    assert outcome.code == 0, outcome.describe()


def test_bound_parameter_in_update_condition(run: Runner, endpoint: str, fresh: Table) -> None:
    with unchanged(endpoint, fresh.name):
        outcome = run(
            "update",
            fresh.name,
            "id=a",
            "--set",
            "age = 99",
            "--if",
            "name = :name",
            "--param",
            f"name={INJECTION}",
        )
    # The condition is false (no item is named INJECTION): nothing changes, exit 1.
    line = assert_refused(outcome, "condition")
    assert "param" not in line.lower(), outcome.describe()


PARAM_MISTAKES: dict[str, tuple[str, list[str], tuple[str, ...]]] = {
    "missing": ("name = :name", [], ("name",)),
    "unused": ("name = 'Ada'", ["--param", "zzunused=1"], ("zzunused",)),
    "name-with-space": ("name = 'Ada'", ["--param", "a b=1"], ("a b",)),
    "name-with-dash": ("name = 'Ada'", ["--param", "a-b=1"], ("a-b",)),
    "no-equals": ("name = 'Ada'", ["--param", "noequals"], ("noequals",)),
    "empty-name": ("name = 'Ada'", ["--param", "=1"], ("=1", "empty")),
    "given-twice": (
        "name = :name",
        ["--param", "name=a", "--param", "name=b"],
        ("twice", "more than once", "repeated", "duplicate"),
    ),
}


@pytest.mark.parametrize(
    ("where", "params", "mentions"), PARAM_MISTAKES.values(), ids=PARAM_MISTAKES.keys()
)
def test_parameter_mistake_is_one_clear_error(
    run: Runner,
    endpoint: str,
    fresh: Table,
    where: str,
    params: list[str],
    mentions: tuple[str, ...],
) -> None:
    with unchanged(endpoint, fresh.name):
        outcome = run("scan", fresh.name, "--where", where, *params)
    line = assert_refused(outcome).lower()
    assert "param" in line, f"the error does not say it is about a parameter: {line!r}"
    assert any(m in line for m in mentions), f"the error names none of {mentions}: {line!r}"
