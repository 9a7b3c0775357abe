"""The demo runs every step as expected on a real engine."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import CliRunner

pytestmark = pytest.mark.integration


def test_demo_walks_through_every_operation(cli: CliRunner) -> None:
    prefix = f"demo-{uuid.uuid4().hex[:8]}-"
    result = cli("demo", "--prefix", prefix)
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    for step in (
        "$ ddbkit info",
        "$ ddbkit get",
        "$ ddbkit put",
        "$ ddbkit update",
        "$ ddbkit query",
        "--explain",
        "$ ddbkit scan",
        "$ ddbkit count",
    ):
        assert step in out
    assert "index:         by_email" in out
    assert "page 3:" in out  # the filtered scan crosses several 1 MB pages
    assert "every step behaved as expected" in out
    assert "Traceback" not in result.stderr
    cli("delete-table", f"{prefix}users", "--yes")
    cli("delete-table", f"{prefix}orders", "--yes")
