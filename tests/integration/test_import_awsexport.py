"""ddbkit import of a DynamoDB export to S3 as AWS lays it out, checked against the source items."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddbkit.errors import ValidationError
from tests.conftest import CliRunner, TableFactory
from tests.support.awsexport import build_export, every_type_items, rewrite_manifest


def test_import_of_an_export_folder_writes_every_item_value_for_value(
    make_table: TableFactory, tmp_path: Path, cli: CliRunner
) -> None:
    built = build_export(tmp_path / "sync", every_type_items(30), files=3)
    table = make_table()
    # The folder above AWSDynamoDB/ is what `aws s3 sync s3://bucket/prefix/ DIR` gives.
    done = cli("import", table.name, str(built.root), "-q")
    assert done.code == 0, done.stderr
    expected = {i["id"]: i for chunk in built.items_per_file for i in chunk}
    got = {item["id"]: item for item in table.scan()}
    assert got == expected


def test_import_of_a_damaged_export_writes_nothing(
    make_table: TableFactory, tmp_path: Path
) -> None:
    built = build_export(tmp_path / "sync", every_type_items(12), files=2)
    rewrite_manifest(built.folder, "manifest-summary.json", lambda s: {**s, "itemCount": 13})
    table = make_table()
    with pytest.raises(ValidationError, match="itemCount|13"):
        table.import_file(built.folder)
    assert table.count() == 0
