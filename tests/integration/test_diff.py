"""diff on DynamoDB Local: two 20k-item tables with planted differences, library and CLI."""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.table import Table
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

ITEMS = 20_000
KEY = ("pk", "sk")


def item(n: int) -> dict[str, Any]:
    value: dict[str, Any] = {
        "pk": f"p{n % 53}",
        "sk": n,
        "name": f"item {n}",
        "price": Decimal(n) / 100,
        "active": n % 3 == 0,
    }
    if n % 4 == 0:
        value.update(tags={"a", f"t{n % 5}"}, nums={1, n}, blob=bytes([n % 256]) * 3)
    if n % 4 == 1:
        value.update(nested={"m": {"l": [1, "two", {"three": Decimal("3.5")}]}}, nothing=None)
    return value


# How B's versions differ from A's, one way per planted item (cycled through).
def _changed(n: int, original: dict[str, Any]) -> dict[str, Any]:
    changed = dict(original)
    way = n % 6
    if way == 0:
        changed["price"] = original["price"] + 1
    elif way == 1:
        changed["extra"] = "new attribute"
    elif way == 2:
        del changed["name"]
    elif way == 3:
        changed["active"] = 1 if original["active"] else 0  # BOOL -> N: not the same value
    elif way == 4:
        changed["nested"] = {"m": {"l": [1, "two", {"three": Decimal("3.6")}]}}
    else:
        changed["name"] = original["name"].upper()
    return changed


def _same_written_otherwise(original: dict[str, Any]) -> dict[str, Any]:
    """The same item as DynamoDB sees it: a number written with trailing zeros."""
    return {**original, "price": Decimal(f"{original['price']:.4f}")}


class Planted:
    def __init__(self, a: Table, b: Table) -> None:
        self.a, self.b = a, b
        rng = random.Random(11)
        numbers = list(range(ITEMS))
        rng.shuffle(numbers)
        self.only_a = set(numbers[:37])
        self.different = set(numbers[37:37 + 41])  # fmt: skip
        self.only_b = set(range(ITEMS, ITEMS + 23))
        self.equal = ITEMS - len(self.only_a) - len(self.different)
        self.a_items = {n: item(n) for n in range(ITEMS)}
        self.b_items: dict[int, dict[str, Any]] = {}
        for n in range(ITEMS):
            if n in self.only_a:
                continue
            original = self.a_items[n]
            self.b_items[n] = (
                _changed(n, original) if n in self.different else _same_written_otherwise(original)
            )
        for n in self.only_b:
            self.b_items[n] = {**item(n), "born": "in b"}


@pytest.fixture(scope="module")
def planted(endpoint: str) -> Iterator[Planted]:
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    names = [f"t-diff-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    try:
        a, b = (
            db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N")) for name in names
        )
        planted = Planted(a, b)
        assert a.put_many(planted.a_items.values(), workers=8).written == ITEMS
        assert b.put_many(planted.b_items.values(), workers=8).written == len(planted.b_items)
        yield planted
    finally:
        for name in names:
            with contextlib.suppress(ddbkit.DdbkitError):
                db.delete_table(name, wait=False)


def _sk(key: dict[str, Any]) -> int:
    return int(key["sk"])


def test_diff_finds_exactly_the_planted_differences(planted: Planted) -> None:
    with planted.a.diff(planted.b, segments=4, sample=3) as report:
        assert (report.only_in_a, report.only_in_b) == (37, 23)
        assert (report.different, report.equal) == (41, planted.equal)
        assert not report.same
        assert report.items_a == ITEMS and report.items_b == len(planted.b_items)
        found: dict[str, dict[int, Any]] = {"only_in_a": {}, "only_in_b": {}, "different": {}}
        for difference in report.differences():
            assert _sk(difference.key) not in found[difference.kind]
            found[difference.kind][_sk(difference.key)] = difference
        assert set(found["only_in_a"]) == planted.only_a
        assert set(found["only_in_b"]) == planted.only_b
        assert set(found["different"]) == planted.different
        for n, difference in found["different"].items():  # both versions, as stored
            assert difference.a == planted.a_items[n]
            assert difference.b == planted.b_items[n]
        for n, difference in found["only_in_a"].items():
            assert difference.a == planted.a_items[n] and difference.b is None
        for n, difference in found["only_in_b"].items():
            assert difference.a is None and difference.b == planted.b_items[n]
        kinds = [d.kind for d in report.samples]
        assert kinds == ["only_in_a"] * 3 + ["only_in_b"] * 3 + ["different"] * 3


def test_diff_of_equal_tables_and_with_where(planted: Planted) -> None:
    same = planted.a.diff(planted.a, buckets=3)
    assert same.same and same.equal == ITEMS and not list(same.differences())
    # Only the items of one partition key, where the plants are known.
    pk = "p7"
    report = planted.b.diff(planted.a, where="pk = :pk", params={"pk": pk})
    mine = {n for n in range(ITEMS + 23) if f"p{n % 53}" == pk}
    assert report.only_in_a == len(mine & planted.only_b)  # a and b swapped
    assert report.only_in_b == len(mine & planted.only_a)
    assert report.different == len(mine & planted.different)
    report.close()
    with pytest.raises(ddbkit.ValidationError, match="closed"):
        next(report.differences())


def test_diff_spills_to_buckets_and_cleans_up(planted: Planted, tmp_path: Path) -> None:
    report = planted.a.diff(planted.b, buckets=64, spill_dir=tmp_path)
    assert report.different == 41
    (folder,) = tmp_path.iterdir()  # only the list of differences is left in it
    assert [p.name for p in folder.iterdir()] == ["differences.jsonl"]
    report.close()
    assert list(tmp_path.iterdir()) == []


def test_diff_refuses_tables_with_other_keys(planted: Planted, make_table: Any) -> None:
    other = make_table(partition_key=("pk", "S"))
    with pytest.raises(ddbkit.ValidationError, match="same key schema"):
        planted.a.diff(other)


def test_cli_diff_exit_codes_counts_and_samples(
    cli: CliRunner, planted: Planted, endpoint: str
) -> None:
    a, b = planted.a.name, planted.b.name
    same = cli("diff", a, a)
    assert same.code == 0, same.stderr
    assert "equal" in same.stdout and f"{ITEMS:,}" in same.stdout
    differ = cli("diff", a, b, "--sample", "2")
    assert differ.code == 1, differ.stderr
    lines = differ.stdout.splitlines()
    assert lines[:4] == [
        f"only in {a}  37",
        f"only in {b}  23",
        "different" + " " * (len(a) + 8 - 9) + "  41",
        "equal" + " " * (len(a) + 8 - 5) + f"  {planted.equal:,}",
    ]
    assert "different (first 2):" in differ.stdout
    # B through a second connection (--to-endpoint), the same engine here.
    away = cli("diff", a, b, "--to-endpoint", endpoint, "-o", "json")
    assert away.code == 1, away.stderr
    summary = json.loads(away.stdout)
    assert (summary["only_in_a"], summary["only_in_b"], summary["different"]) == (37, 23, 41)


def test_cli_diff_jsonl_lists_every_difference_with_both_versions(
    cli: CliRunner, planted: Planted
) -> None:
    done = cli("diff", planted.a.name, planted.b.name, "-o", "jsonl", "--segments", "3")
    assert done.code == 1, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 37 + 23 + 41
    by_kind: dict[str, dict[int, Any]] = {"only_in_a": {}, "only_in_b": {}, "different": {}}
    for record in records:
        by_kind[record["kind"]][record["key"]["sk"]] = record
    assert set(by_kind["only_in_a"]) == planted.only_a
    assert set(by_kind["only_in_b"]) == planted.only_b
    assert set(by_kind["different"]) == planted.different
    for n, record in by_kind["different"].items():
        assert record["a"]["sk"] == n and record["b"]["sk"] == n
        # True and 1 are == in Python: the JSON text tells BOOL from N.
        assert json.dumps(record["a"], sort_keys=True) != json.dumps(record["b"], sort_keys=True)
        assert record["a"]["name"] == planted.a_items[n]["name"]
    typed = cli("diff", planted.a.name, planted.b.name, "-o", "jsonl", "--typed", "-q")
    first = json.loads(typed.stdout.splitlines()[0])
    assert set(first["key"]["sk"]) == {"N"} and typed.stderr == ""


def test_cli_diff_help_and_bad_flags(cli: CliRunner) -> None:
    listed = cli("--help", connect=False)
    assert "diff" in listed.stdout
    shown = cli("diff", "--help", connect=False)
    assert shown.code == 0 and "--to-profile" in shown.stdout and "jsonl" in shown.stdout
    both = cli("diff", "a-table", "b-table", "--to-local", "--to-endpoint", "http://x")
    assert both.code == 2 and "not both" in both.stderr
