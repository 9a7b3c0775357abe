"""Fixtures of the hostile-input suite: one table per module, reset to the module's ``SEED``
items before each case that might write, and the in-process CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddbkit.table import Table
from tests.support.hostile import Runner, make_runner, reset_table, seeded_table


@pytest.fixture(scope="module")
def shared(endpoint: str) -> Iterator[Table]:
    with seeded_table(endpoint) as table:
        yield table


@pytest.fixture
def fresh(request: pytest.FixtureRequest, endpoint: str, shared: Table) -> Table:
    """A table holding exactly the module's SEED items, for cases that might write."""
    reset_table(endpoint, shared, request.module.SEED)
    return shared


@pytest.fixture
def run(
    endpoint: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Runner:
    return make_runner(endpoint, capfd, monkeypatch, tmp_path)
