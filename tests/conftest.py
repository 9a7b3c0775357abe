"""Shared fixtures: DynamoDB Local started once per session, a uuid-named table per test.

Set DDBKIT_TEST_ENDPOINT to use an engine that is already running instead; either way the engine
must answer as DynamoDB Local (moto, the fallback without Java, is refused). With the dev extras
installed an unexpected skip fails the run (tests/support/skipguard.py).
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
from ddbkit.database import Database
from ddbkit.jobs.tables import IndexSpec
from ddbkit.table import Table
from tests.support import skipguard


def pytest_configure(config: pytest.Config) -> None:
    skipguard.install(config)


def engine_answering(url: str) -> str:
    """What answers at ``url``: its HTTP Server header (DynamoDB Local's is Jetty's)."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="ddbkit",
        aws_secret_access_key="ddbkit",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )
    try:
        headers = client.list_tables(Limit=1)["ResponseMetadata"]["HTTPHeaders"]
    finally:
        client.close()
    return str(headers.get("server", "no Server header"))


def require_dynamodb_local(url: str, where: str) -> None:
    """Integration tests run on AWS's DynamoDB Local; moto or anything else is refused."""
    server = engine_answering(url)
    if not server.startswith("Jetty"):
        pytest.exit(
            f"{where} ({url}) answers as {server!r}, not DynamoDB Local: the integration tests "
            "run on AWS's DynamoDB Local (Java 17+ and 'ddbkit local install')",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@pytest.fixture(scope="session")
def session_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local.EngineState | None]:
    """The DynamoDB Local engine this session started; None when DDBKIT_TEST_ENDPOINT is set."""
    given = os.environ.get("DDBKIT_TEST_ENDPOINT")
    if given:
        require_dynamodb_local(given, "DDBKIT_TEST_ENDPOINT")
        yield None
        return
    local.install()
    log = tmp_path_factory.mktemp("engine") / "dynamodb-local.log"
    engine = local.launch(port=local.free_port(), in_memory=True, log_path=log)
    try:
        # Without Java, launch falls back to moto's server: refused here, never tested on.
        require_dynamodb_local(engine.endpoint_url, "the engine started for the tests")
        yield engine
    finally:
        local.stop_process(engine)


@pytest.fixture(scope="session")
def endpoint(session_engine: local.EngineState | None) -> str:
    """The URL of a DynamoDB Local engine for this test session."""
    if session_engine is None:
        return os.environ["DDBKIT_TEST_ENDPOINT"]
    return session_engine.endpoint_url


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
