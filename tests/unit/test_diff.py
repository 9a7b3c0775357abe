"""diff_tables over in-memory tables: DynamoDB's equality, and every bucket count finds the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbkit.jobs.diff import diff_tables
from ddbkit.models import KeyAttribute, KeySchema
from ddbkit.values.serialize import to_item


@dataclass
class _Page:
    items: list[dict[str, Any]]
    changed: set[int] = field(default_factory=set)


class _Scan:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def raw_pages(self) -> Iterator[_Page]:
        for start in range(0, len(self.items), 7):
            yield _Page(self.items[start : start + 7])


class _Table:
    """Just enough of a TableSource for diff_tables."""

    def __init__(self, name: str, items: list[dict[str, Any]]) -> None:
        self.name = name
        self.items = items

    @property
    def keys(self) -> KeySchema:
        return KeySchema(KeyAttribute("id", "S"))

    def scan(self, *_: Any, **__: Any) -> _Scan:
        return _Scan(self.items)

    def info(self) -> Any:
        raise AssertionError("buckets are given: no size needed")


def _diff(a: list[dict[str, Any]], b: list[dict[str, Any]], buckets: int = 4) -> Any:
    return diff_tables(_Table("a", a), _Table("b", b), buckets=buckets)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ({"N": "1"}, {"N": "1.0"}, True),
        ({"N": "100"}, {"N": "1E+2"}, True),
        ({"N": "0"}, {"N": "-0.00"}, True),
        ({"NS": ["2", "1"]}, {"NS": ["1.0", "2"]}, True),
        ({"SS": ["b", "a"]}, {"SS": ["a", "b"]}, True),
        ({"BS": ["AQ==", "AA=="]}, {"BS": ["AA==", "AQ=="]}, True),
        ({"M": {"x": {"N": "1.50"}}}, {"M": {"x": {"N": "1.5"}}}, True),
        ({"N": "1"}, {"S": "1"}, False),
        ({"N": "1"}, {"BOOL": True}, False),
        ({"N": "0"}, {"BOOL": False}, False),
        ({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]}, False),
        ({"SS": ["a"]}, {"L": [{"S": "a"}]}, False),
        ({"NULL": True}, {"S": ""}, False),
        ({"B": "AA=="}, {"S": "AA=="}, False),
    ],
)
def test_items_compare_as_dynamodb_compares_values(
    left: dict[str, Any], right: dict[str, Any], same: bool
) -> None:
    report = _diff([{"id": {"S": "k"}, "v": left}], [{"id": {"S": "k"}, "v": right}])
    assert (report.equal, report.different) == ((1, 0) if same else (0, 1))
    assert report.same is same


values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.text(max_size=5),
    st.booleans(),
    st.frozensets(st.text(max_size=3), min_size=1, max_size=3),
    st.lists(st.integers(0, 9), max_size=3),
)
tables = st.dictionaries(st.text(min_size=1, max_size=4), values, max_size=30)


@settings(max_examples=60, deadline=None)
@given(a=tables, b=tables, buckets=st.integers(1, 9))
def test_diff_counts_match_a_plain_comparison(
    a: dict[str, Any], b: dict[str, Any], buckets: int
) -> None:
    def wire(table: dict[str, Any]) -> list[dict[str, Any]]:
        return [to_item({"id": key, "v": value}) for key, value in table.items()]

    report = _diff(wire(a), wire(b), buckets)
    both = a.keys() & b.keys()
    # Python's == takes True for 1: compare with the type too.
    different = {k for k in both if (type(a[k]), a[k]) != (type(b[k]), b[k])}
    assert report.only_in_a == len(a.keys() - b.keys())
    assert report.only_in_b == len(b.keys() - a.keys())
    assert report.different == len(different)
    assert report.equal == len(both) - len(different)
    listed = {(d.kind, d.key["id"]) for d in report.differences()}
    assert listed == (
        {("only_in_a", k) for k in a.keys() - b.keys()}
        | {("only_in_b", k) for k in b.keys() - a.keys()}
        | {("different", k) for k in different}
    )
    report.close()


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="sample"):
        diff_tables(_Table("a", []), _Table("b", []), sample=-1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buckets"):
        _diff([], [], buckets=0)
