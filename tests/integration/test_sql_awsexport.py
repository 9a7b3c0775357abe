"""db.sql and ddbkit sql over AWS export folders: exact values, checked manifests, counted items."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")

from ddbkit.database import Database  # noqa: E402
from ddbkit.errors import ValidationError  # noqa: E402
from ddbkit.values.jsonvalues import dumps_plain, loads_exact  # noqa: E402
from tests.conftest import CliRunner, TableFactory  # noqa: E402
from tests.support.awsexport import (  # noqa: E402
    BuiltExport,
    build_export,
    ddb_json_line,
    every_type_items,
    rewrite_manifest,
)

N = 30


@pytest.fixture
def built(tmp_path: Path) -> BuiltExport:
    return build_export(tmp_path / "sync", every_type_items(N), files=3)


def expected(built: BuiltExport) -> list[dict[str, Any]]:
    return sorted((i for chunk in built.items_per_file for i in chunk), key=lambda i: i["id"])


def test_every_layout_counts_the_export(db: Database, built: BuiltExport) -> None:
    for path in (built.root, built.folder.parent, built.folder):
        assert db.sql(f"SELECT count(*) FROM '{path}'").fetchall() == [(N,)]


def test_values_are_exactly_the_exported_items(db: Database, built: BuiltExport) -> None:
    rel = db.sql(
        "SELECT id, text, big, small, whole, raw, flag, nothing, doc, seq, names, scores, "
        f"blobs, rare FROM '{built.folder}' ORDER BY id"
    )
    types = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    assert types["big"] == "DECIMAL(38,0)"
    assert types["small"] == "DECIMAL(38,37)"
    assert types["rare"] == "JSON"  # 23 significant digits at 1E+100: only text is exact
    rows = rel.fetchall()
    want = expected(built)
    assert [row[0] for row in rows] == [item["id"] for item in want]
    for row, item in zip(rows, want, strict=True):
        got = dict(zip(rel.columns, row, strict=True))
        assert got["text"] == item["text"]
        for name in ("big", "small", "whole"):
            assert isinstance(got[name], Decimal)
            assert got[name] == Decimal(item[name])
        assert got["raw"] == item["raw"]
        assert got["flag"] is item["flag"]
        assert got["nothing"] is None
        assert loads_exact(got["doc"]) == loads_exact(dumps_plain(item["doc"]))
        assert loads_exact(got["seq"]) == loads_exact(dumps_plain(item["seq"]))
        assert got["names"] == sorted(item["names"])
        assert got["scores"] == sorted(Decimal(v) for v in item["scores"])
        assert all(isinstance(v, Decimal) for v in got["scores"])
        assert got["blobs"] == sorted(item["blobs"])
        if "rare" in item:
            assert Decimal(got["rare"]) == item["rare"]
        else:
            assert got["rare"] is None


def test_an_export_joins_a_dynamodb_table(
    db: Database, built: BuiltExport, make_table: TableFactory
) -> None:
    table = make_table(partition_key=("id", "S"))
    table.put_many({"id": f"item-{i:04d}", "owner": f"o{i % 2}"} for i in range(0, N, 5))
    rows = db.sql(
        f"SELECT t.owner, count(*) FROM '{built.root}' e JOIN \"{table.name}\" t ON t.id = e.id "
        "GROUP BY t.owner ORDER BY 1"
    ).fetchall()
    assert rows == [("o0", 3), ("o1", 3)]


def test_items_missing_from_a_data_file_are_refused(db: Database, built: BuiltExport) -> None:
    # The md5 is made to match, so only the loaded count can tell the item is gone.
    lines = [ddb_json_line(item) for item in built.items_per_file[0]][:-1]
    body = gzip.compress(b"".join(lines))
    built.data_files[0].write_bytes(body)

    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[0]["md5Checksum"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        return entries

    rewrite_manifest(built.folder, "manifest-files.json", change)
    with pytest.raises(ValidationError, match="read 29 items .* says 30") as caught:
        db.sql(f"SELECT count(*) FROM '{built.folder}'")
    assert "\n" not in str(caught.value)


def test_a_missing_data_file_is_refused_before_reading(db: Database, built: BuiltExport) -> None:
    built.data_files[2].unlink()
    with pytest.raises(ValidationError, match=f"first: data/{built.data_files[2].name}"):
        db.sql(f"SELECT count(*) FROM '{built.root}'")


def test_several_exports_ask_for_one(db: Database, tmp_path: Path) -> None:
    build_export(tmp_path, every_type_items(2), export_id="01700000000000-aaaaaaaa")
    build_export(tmp_path, every_type_items(2), export_id="01700000000001-bbbbbbbb")
    with pytest.raises(ValidationError, match="holds 2 exports"):
        db.sql(f"SELECT count(*) FROM '{tmp_path}'")


def test_an_export_of_no_items_says_so(db: Database, tmp_path: Path) -> None:
    built = build_export(tmp_path, [], files=2)
    with pytest.raises(ValidationError, match="holds no items"):
        db.sql(f"SELECT count(*) FROM '{built.folder}'")


def test_explain_describes_the_export(db: Database, built: BuiltExport) -> None:
    text = db.sql_explain(f"SELECT count(*) FROM '{built.folder}'")
    assert f"AWS export of Things at 2026-11-20T07:28:34.028Z: {N} items in 4 data files" in text
    assert "DuckDB plan" in text


def test_cli_sql_reads_an_export_folder(cli: CliRunner, built: BuiltExport) -> None:
    done = cli("sql", f"SELECT count(*) AS n, sum(whole) AS s FROM '{built.root}'", "-o", "json")
    assert done.code == 0, done.stderr
    [row] = json.loads(done.stdout, parse_float=Decimal)
    assert row["n"] == N
    assert Decimal(row["s"]) == sum(i["whole"] for i in expected(built))


def test_cli_sql_names_a_broken_export_in_one_line(cli: CliRunner, built: BuiltExport) -> None:
    rewrite_manifest(built.folder, "manifest-summary.json", lambda s: {**s, "outputFormat": "ION"})
    done = cli("sql", f"SELECT count(*) FROM '{built.root}'")
    assert done.code != 0
    assert "Amazon Ion export" in done.stderr and "DYNAMODB_JSON" in done.stderr
    assert "Traceback" not in done.stderr
