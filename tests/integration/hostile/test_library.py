"""Hostile library calls: every bad argument is a ddbkit error (ValidationError for arguments),
never a bare TypeError/ValueError/KeyError/AttributeError or an orjson error, and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.table import Table
from tests.support.hostile import (
    listing,
    raises_library_error,
    stored_items,
    table_names,
    unchanged,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SEED = [
    {"id": "a", "name": "Ada", "age": 36},
    {"id": "b", "name": "Bob", "age": 20},
    {"id": "c", "name": "zz", "age": 50},
]
INJECTION = "zz' OR name <> 'zz"
NAN = float("nan")
Call = Callable[[Any], Any]  # the table, untyped: hostile calls break the signatures


def loose(table: Table) -> Any:
    """The table without static types: hostile calls pass what the signatures do not allow."""
    return table


def check(endpoint: str, table: Table, call: Call, *mentions: str) -> None:
    """``call(table)`` raises a ValidationError naming one of ``mentions`` and changes nothing."""
    with unchanged(endpoint, table.name):
        raises_library_error(lambda: call(loose(table)), *mentions, kind=ddbkit.ValidationError)


# -- reading arguments -----------------------------------------------------------------------

SCAN_ARGUMENTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "segments-str": ({"segments": "4"}, ("segments",)),
    "segments-float": ({"segments": 2.5}, ("segments",)),
    "segments-bool": ({"segments": True}, ("segments",)),
    "segments-zero": ({"segments": 0}, ("segments",)),
    "segments-negative": ({"segments": -1}, ("segments",)),
    "segments-too-many": ({"segments": 1_000_001}, ("segments",)),
    "rate-negative": ({"rate_limit": -1}, ("rate",)),
    "rate-zero": ({"rate_limit": 0}, ("rate",)),
    "rate-nan": ({"rate_limit": NAN}, ("rate",)),
    "rate-inf": ({"rate_limit": float("inf")}, ("rate",)),
    "rate-str": ({"rate_limit": "5"}, ("rate",)),
    "rate-bool": ({"rate_limit": True}, ("rate",)),
    "limit-str": ({"limit": "3"}, ("limit",)),
    "limit-negative": ({"limit": -1}, ("limit",)),
    "limit-float": ({"limit": 2.5}, ("limit",)),
    "attributes-int": ({"attributes": 5}, ("attributes",)),
    "attributes-empty-name": ({"attributes": [""]}, ("attribute", "name", "path")),
    "start-garbage": ({"start": "garbage"}, ("cursor",)),
    "start-int": ({"start": 123}, ("cursor",)),
    "index-missing": ({"index": "nope"}, ("nope",)),
    "where-int": ({"where": 123}, ("condition", "where")),
    "where-bytes": ({"where": b"age > 1"}, ("condition", "where")),
}


@pytest.mark.parametrize(("kwargs", "mentions"), SCAN_ARGUMENTS.values(), ids=SCAN_ARGUMENTS)
def test_bad_scan_argument(
    endpoint: str, fresh: Table, kwargs: dict[str, Any], mentions: tuple[str, ...]
) -> None:
    check(endpoint, fresh, lambda t: t.scan(**kwargs), *mentions)


COUNT_ARGUMENTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "segments-str": ({"segments": "4"}, ("segments",)),
    "segments-zero": ({"segments": 0}, ("segments",)),
    "rate-nan": ({"rate_limit": NAN}, ("rate",)),
    "rate-negative": ({"rate_limit": -5}, ("rate",)),
}


@pytest.mark.parametrize(("kwargs", "mentions"), COUNT_ARGUMENTS.values(), ids=COUNT_ARGUMENTS)
def test_bad_count_argument(
    endpoint: str, fresh: Table, kwargs: dict[str, Any], mentions: tuple[str, ...]
) -> None:
    check(endpoint, fresh, lambda t: t.count(**kwargs), *mentions)


EXPORT_ARGUMENTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "segments-str": ({"segments": "2"}, ("segments",)),
    "rate-nan": ({"rate_limit": NAN}, ("rate",)),
    "format-unknown": ({"format": "xml"}, ("xml",)),
    "attributes-dict": ({"attributes": {"id": 1}}, ("attributes",)),
}


def test_attributes_as_one_string_are_a_list_of_paths_not_of_letters(
    fresh: Table, tmp_path: Path
) -> None:
    items = list(fresh.scan(attributes="id, name"))
    assert items and all(set(item) <= {"id", "name"} for item in items)
    target = tmp_path / "out.jsonl"
    fresh.export(target, attributes="id")
    lines = target.read_text().splitlines()
    assert lines and all(set(json.loads(line)) == {"id"} for line in lines)


@pytest.mark.parametrize(("kwargs", "mentions"), EXPORT_ARGUMENTS.values(), ids=EXPORT_ARGUMENTS)
def test_bad_export_argument(
    endpoint: str, fresh: Table, tmp_path: Path, kwargs: dict[str, Any], mentions: tuple[str, ...]
) -> None:
    check(endpoint, fresh, lambda t: t.export(tmp_path / "out.jsonl", **kwargs), *mentions)
    assert listing(tmp_path) == []


# -- writing arguments -----------------------------------------------------------------------

PUT_MANY_ARGUMENTS: dict[str, tuple[Call, tuple[str, ...]]] = {
    "workers-zero": (lambda t: t.put_many([{"id": "n1"}], workers=0), ("workers",)),
    "workers-str": (lambda t: t.put_many([{"id": "n1"}], workers="8"), ("workers",)),
    "workers-float": (lambda t: t.put_many([{"id": "n1"}], workers=2.5), ("workers",)),
    "rate-nan": (lambda t: t.put_many([{"id": "n1"}], rate_limit=NAN), ("rate",)),
    "rate-negative": (lambda t: t.put_many([{"id": "n1"}], rate_limit=-1), ("rate",)),
    "on-error-unknown": (lambda t: t.put_many([{"id": "n1"}], on_error="ignore"), ("on_error",)),
    "items-none": (lambda t: t.put_many(None), ("items", "iterable")),
    "items-str": (lambda t: t.put_many("abc"), ("items", "str")),
    "items-one-dict": (lambda t: t.put_many({"id": "n1"}), ("items", "dict")),
    "import-workers-zero": (lambda t: t.import_file("in.jsonl", workers=0), ("workers",)),
    "import-format-unknown": (lambda t: t.import_file("in.jsonl", format="xml"), ("xml",)),
    "import-source-int": (lambda t: t.import_file(123), ("123", "source", "file")),
}


@pytest.mark.parametrize(("call", "mentions"), PUT_MANY_ARGUMENTS.values(), ids=PUT_MANY_ARGUMENTS)
def test_bad_bulk_write_argument(
    endpoint: str,
    fresh: Table,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: Call,
    mentions: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text('{"id": "n1"}\n')
    check(endpoint, fresh, call, *mentions)
    assert listing(tmp_path) == ["in.jsonl"]


SINGLE_CALLS: dict[str, tuple[Call, tuple[str, ...]]] = {
    "get-key-str": (lambda t: t.get("a"), ("key",)),
    "get-key-none": (lambda t: t.get(None), ("key",)),
    "get-key-wrong-type": (lambda t: t.get({"id": 1}), ("'id'",)),
    "get-key-empty": (lambda t: t.get({}), ("'id'",)),
    "get-key-extra": (lambda t: t.get({"id": "a", "x": 1}), ("'x'",)),
    "put-none": (lambda t: t.put(None), ("item", "dict")),
    "put-list": (lambda t: t.put([("id", "n1")]), ("item", "dict")),
    "put-int-name": (lambda t: t.put({"id": "n1", 1: "x"}), ("name", "int")),
    "put-nan": (lambda t: t.put({"id": "n1", "x": NAN}), ("'x'",)),
    "put-object": (lambda t: t.put({"id": "n1", "x": object()}), ("'x'",)),
    "put-empty-set": (lambda t: t.put({"id": "n1", "s": set()}), ("'s'",)),
    "put-huge-decimal": (lambda t: t.put({"id": "n1", "x": Decimal("1e999")}), ("'x'",)),
    "put-empty-key": (lambda t: t.put({"id": ""}), ("'id'",)),
    "put-too-deep": (lambda t: t.put({"id": "n1", "d": _nested(40)}), ("'d", "deep", "nest")),
    "put-condition-int": (lambda t: t.put({"id": "n1"}, condition=123), ("condition",)),
    "put-surrogate-key": (lambda t: t.put({"id": "\ud800"}), ("'id'",)),
    "put-surrogate-value": (lambda t: t.put({"id": "n1", "note": "\udfff"}), ("note",)),
    "put-surrogate-name": (lambda t: t.put({"id": "n1", "\ud800": 1}), ("name", "surrogate")),
    "put-surrogate-in-map": (lambda t: t.put({"id": "n1", "m": {"k": "\ud800"}}), ("'m.k'",)),
    "put-surrogate-in-list": (lambda t: t.put({"id": "n1", "l": ["\ud800"]}), ("'l[0]'",)),
    "put-surrogate-in-set": (lambda t: t.put({"id": "n1", "s": {"\ud800"}}), ("'s'",)),
    "update-surrogate": (lambda t: t.update({"id": "a"}, set={"note": "\ud800"}), ("note",)),
    "update-nan": (lambda t: t.update({"id": "a"}, set={"x": NAN}), ("'x'",)),
    "update-nothing": (lambda t: t.update({"id": "a"}), ("nothing",)),
    "update-dangling": (lambda t: t.update({"id": "a"}, set="x = "), ("set",)),
    "update-remove-empty": (lambda t: t.update({"id": "a"}, remove=[""]), ("remove", "path")),
    "update-key": (lambda t: t.update({"id": "a"}, set={"id": "b"}), ("'id'",)),
    "update-condition": (
        lambda t: t.update({"id": "a"}, set={"x": 1}, condition="age >"),
        ("syntax", "condition"),
    ),
    "delete-key-wrong-type": (lambda t: t.delete({"id": 1}), ("'id'",)),
    "delete-key-extra": (lambda t: t.delete({"id": "a", "x": 1}), ("'x'",)),
    "delete-condition": (lambda t: t.delete({"id": "a"}, condition="("), ("syntax", "condition")),
    "get-many-wrong-type": (lambda t: t.get_many([{"id": 1}]), ("'id'",)),
    "get-many-str": (lambda t: t.get_many("abc"), ("key",)),
    "get-many-none-key": (lambda t: t.get_many([None]), ("key",)),
}


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(("call", "mentions"), SINGLE_CALLS.values(), ids=SINGLE_CALLS)
def test_bad_item_call(endpoint: str, fresh: Table, call: Call, mentions: tuple[str, ...]) -> None:
    check(endpoint, fresh, call, *mentions)


# -- tables ----------------------------------------------------------------------------------

TABLE_CALLS: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {
    "scan-empty-name": (lambda db: db.table("").scan(), ("table", "name")),
    "scan-int-name": (lambda db: db.table(123).scan(), ("table", "name")),
    "create-space": (lambda db: db.create_table("has space"), ("table", "name")),
    "create-key-type": (lambda db: db.create_table("hkt", partition_key=("id", "X")), ("X",)),
    "create-key-empty": (lambda db: db.create_table("hkt", partition_key=("", "S")), ("key",)),
    "create-billing": (lambda db: db.create_table("hkt", billing="FREE"), ("FREE",)),
    "create-two-chars": (lambda db: db.create_table("hk"), ("'hk'", "3 to 255")),
    "delete-empty-name": (lambda db: db.delete_table(""), ("table", "name")),
}


@pytest.mark.parametrize(("call", "mentions"), TABLE_CALLS.values(), ids=TABLE_CALLS)
def test_bad_table_call(
    endpoint: str, call: Callable[[Any], Any], mentions: tuple[str, ...]
) -> None:
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    before = table_names(endpoint)
    try:
        raises_library_error(lambda: call(db), *mentions, kind=ddbkit.ValidationError)
    finally:
        if "hkt" in table_names(endpoint):
            db.delete_table("hkt", wait=False)
    assert table_names(endpoint) == before


# -- named parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["find", "scan", "query-index", "count"])
def test_bound_parameter_matches_nothing_extra(fresh: Table, method: str) -> None:
    t = loose(fresh)
    params = {"name": INJECTION}
    if method == "count":
        assert t.count("name = :name", params=params) == 0
    elif method == "query-index":
        assert list(t.query("id = :id", params={"id": "a' OR id <> 'a"})) == []
    else:
        assert list(getattr(t, method)("name = :name", params=params)) == []


def test_bound_parameter_in_a_condition_protects_the_item(endpoint: str, fresh: Table) -> None:
    t = loose(fresh)
    with unchanged(endpoint, fresh.name):
        raises_library_error(
            lambda: t.delete({"id": "c"}, condition="name = :name", params={"name": INJECTION}),
            "condition",
            kind=ddbkit.ConditionFailedError,
        )


PARAM_MISTAKES: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "missing": ("name = :name", {}, (":name", "name")),
    "missing-none": ("name = :name", None, (":name", "name")),
    "unused": ("name = 'Ada'", {"zzunused": 1}, ("zzunused",)),
    "unused-no-where": ("", {"zzunused": 1}, ("zzunused",)),
    "name-space": ("name = 'Ada'", {"a b": 1}, ("a b",)),
    "name-empty": ("name = 'Ada'", {"": 1}, ("''", "empty")),
    "name-digit-first": ("name = 'Ada'", {"1a": 1}, ("1a",)),
    "name-dash": ("name = 'Ada'", {"a-b": 1}, ("a-b",)),
    "not-a-dict": ("name = :name", ["name"], ("params", "dict", "mapping")),
    "value-nan": ("age = :v", {"v": NAN}, ("'v'", ":v")),
    "value-object": ("age = :v", {"v": object()}, ("'v'", ":v")),
    "value-surrogate": ("name = :v", {"v": "\ud800"}, ("'v'", ":v")),
}


@pytest.mark.parametrize(
    ("where", "params", "mentions"), PARAM_MISTAKES.values(), ids=PARAM_MISTAKES
)
def test_parameter_mistake(
    endpoint: str, fresh: Table, where: str, params: Any, mentions: tuple[str, ...]
) -> None:
    def call(t: Any) -> Any:
        return t.scan(where or None, params=params)

    with unchanged(endpoint, fresh.name):
        raises_library_error(lambda: call(fresh), "param", kind=ddbkit.ValidationError)
        raises_library_error(lambda: call(fresh), *mentions, kind=ddbkit.ValidationError)


def test_parameter_names_may_keep_boto3s_colon(fresh: Table) -> None:
    # boto3 users write {":name": ...}; both spellings bind :name.
    assert list(loose(fresh).scan("name = :name", params={":name": INJECTION})) == []


def test_put_many_of_only_an_unstorable_item_raises_naming_the_attribute(
    endpoint: str, fresh: Table
) -> None:
    with unchanged(endpoint, fresh.name):
        raises_library_error(
            lambda: fresh.put_many([{"id": "n1", "v": "\ud800"}]),
            "'v'",
            kind=ddbkit.IncompleteWriteError,
        )


# -- put_many: one bad item among 101 --------------------------------------------------------

BAD_AMONG_GOOD: dict[str, Any] = {
    "lone-surrogate": {"id": "k050", "note": "\ud800"},
    "nan": {"id": "k050", "x": NAN},
    "not-a-dict": 50,
    "no-key": {"name": "keyless"},
}


def _items_with(bad: Any) -> list[Any]:
    items: list[Any] = [{"id": f"k{n:03d}", "n": n} for n in range(101)]
    items[50] = bad
    return items


@pytest.mark.parametrize("bad", BAD_AMONG_GOOD.values(), ids=BAD_AMONG_GOOD)
def test_put_many_reports_a_bad_item_with_the_summary(
    endpoint: str, fresh: Table, bad: Any
) -> None:
    with pytest.raises(ddbkit.DdbkitError) as caught:
        fresh.put_many(_items_with(bad))
    incomplete = getattr(ddbkit, "IncompleteWriteError", None)
    assert incomplete is not None, "ddbkit.IncompleteWriteError is not exported"
    assert isinstance(caught.value, incomplete), repr(caught.value)
    assert "51" in str(caught.value).splitlines()[0], str(caught.value)
    summary: Any = getattr(caught.value, "summary", None)
    assert summary is not None, "the error carries no .summary"
    written = len(stored_items(endpoint, fresh.name)) - len(SEED)
    assert summary.written == written
    assert summary.rejected + summary.failed >= 1
    assert summary.read == summary.written + summary.duplicates + summary.rejected + summary.failed


@pytest.mark.parametrize("bad", list(BAD_AMONG_GOOD.values())[:2], ids=list(BAD_AMONG_GOOD)[:2])
def test_put_many_skip_writes_every_other_item(endpoint: str, fresh: Table, bad: Any) -> None:
    summary = fresh.put_many(_items_with(bad), on_error="skip")
    assert summary.written == 100, summary.to_dict()
    assert summary.rejected == 1, summary.to_dict()
    assert summary.rejections[0].line == 51
    assert len(stored_items(endpoint, fresh.name)) == len(SEED) + 100
