"""Shared fixtures: DynamoDB Local started once per session, a uuid-named table per test.

Set DDBKIT_TEST_ENDPOINT to use an engine that is already running instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import ddbkit
from ddbkit import local
from ddbkit.client import Database
from ddbkit.table import Table
from ddbkit.tables import IndexSpec


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a DynamoDB Local engine for this test session."""
    given = os.environ.get("DDBKIT_TEST_ENDPOINT")
    if given:
        yield given
        return
    local.install()
    log = tmp_path_factory.mktemp("engine") / "dynamodb-local.log"
    engine = local.launch(port=local.free_port(), in_memory=True, log_path=log)
    try:
        yield engine.endpoint_url
    finally:
        local.stop_process(engine)


@pytest.fixture
def db(endpoint: str) -> Database:
    return ddbkit.connect(endpoint_url=endpoint, local=True)


@contextlib.contextmanager
def raw_table(endpoint: str, key: str, prefix: str) -> Iterator[tuple[Any, str]]:
    """A plain boto3 client (no retries) and a uuid-named table keyed by ``key`` (S), dropped after.

    For tests that check the converter against the engine itself, below ddbkit's Table.
    """
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="ddbkit",
        aws_secret_access_key="ddbkit",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    name = f"{prefix}-{uuid.uuid4().hex}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        yield client, name
    finally:
        client.delete_table(TableName=name)


TableFactory = Callable[..., Table]


@pytest.fixture
def make_table(db: Database) -> Iterator[TableFactory]:
    """Create uuid-named tables for one test; every one is deleted afterwards."""
    created: list[str] = []

    def make(
        partition_key: tuple[str, str] = ("id", "S"),
        sort_key: tuple[str, str] | None = None,
        indexes: list[IndexSpec] | None = None,
        **kwargs: Any,
    ) -> Table:
        name = f"t-{uuid.uuid4().hex[:12]}"
        created.append(name)
        return db.create_table(
            name, partition_key=partition_key, sort_key=sort_key, indexes=indexes or [], **kwargs
        )

    yield make
    for name in created:
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(name, wait=False)


@pytest.fixture
def table(make_table: TableFactory) -> Table:
    """A table keyed by id (S)."""
    return make_table()


@pytest.fixture
def sorted_table(make_table: TableFactory) -> Table:
    """A table keyed by pk (S) and sk (N)."""
    return make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


def ddbkit_executable() -> str:
    """The installed console script next to this interpreter (the real entry point)."""
    script = Path(sys.executable).parent / "ddbkit"
    if script.exists():
        return str(script)
    found = shutil.which("ddbkit")
    if found is None:
        raise RuntimeError("the ddbkit console script is not installed: pip install -e .")
    return found


@pytest.fixture
def cli(endpoint: str) -> CliRunner:
    """Run the real ``ddbkit`` command against the test engine."""

    def run(
        *args: str,
        stdin: str | None = None,
        connect: bool = True,
        env: dict[str, str | None] | None = None,
    ) -> CliResult:
        prefix = ["--endpoint-url", endpoint] if connect else []
        merged: dict[str, str | None] = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "ddbkit",
            "AWS_SECRET_ACCESS_KEY": "ddbkit",
            "AWS_REGION": "us-east-1",
            **(env or {}),
        }
        # None in ``env`` removes the variable.
        full_env = {k: v for k, v in merged.items() if v is not None}
        done = subprocess.run(
            [ddbkit_executable(), *prefix, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=120,
            check=False,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run
