"""The local engine for real: DynamoDB Local through the loopback launcher, and moto as fallback.

Every test runs in temporary XDG folders. The engine is installed once per session into a shared
temporary cache from ``$DDBKIT_DYNAMODB_LOCAL`` (or from the user's already-installed copy, or, as
a last resort, from ddbkit's normal download sources), so the tests never touch the user's state.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ddbkit import local
from ddbkit.errors import LocalEngineError
from ddbkit.local import launcher, process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def engine_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An unpacked DynamoDB Local folder to install from, found without touching user state."""
    if launcher._find_java_tool("java") is None:
        pytest.skip("DynamoDB Local needs Java")
    given = os.environ.get(local.ENV_ENGINE_DIR)
    if given:
        return Path(given)
    if local.is_installed(local.engine_dir()):
        return local.engine_dir()  # the user's cached copy: read, never modified
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("download-cache")))
        return local.install()


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_source: Path, shared_cache: Path
) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    monkeypatch.setenv(local.ENV_ENGINE_DIR, str(engine_source))
    return tmp_path


@pytest.fixture
def engine(xdg: Path) -> Iterator[local.EngineState]:
    state = local.launch(port=local.free_port(), in_memory=True)
    try:
        yield state
    finally:
        local.stop_process(state)


def _client(endpoint_url: str) -> Any:
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="ddbkit",
        aws_secret_access_key="ddbkit",
    )


def _table_names(endpoint_url: str) -> list[str]:
    client = _client(endpoint_url)
    try:
        names: list[str] = client.list_tables()["TableNames"]
        return names
    finally:
        client.close()


def _listen_lines(port: int) -> list[str]:
    """The local addresses `ss -ltn` shows listening on ``port``."""
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].rsplit(":", 1)[-1] == str(port):
            found.append(fields[3])
    return found


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_launch_answers_on_a_free_port(engine: local.EngineState) -> None:
    assert engine.engine == local.ENGINE_DYNAMODB_LOCAL
    assert engine.endpoint_url == f"http://127.0.0.1:{engine.port}"
    assert _table_names(engine.endpoint_url) == []


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_engine_listens_on_loopback_only(engine: local.EngineState) -> None:
    assert _listen_lines(engine.port) == [f"127.0.0.1:{engine.port}"]  # no *:, 0.0.0.0:, [::]:
    assert local.listening_sockets(engine.pid) == [("127.0.0.1", engine.port)]
    outward = _outward_address()
    if outward is not None:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((outward, engine.port), timeout=5).close()


def test_tables_persist_across_restart_with_a_data_dir(xdg: Path) -> None:
    data = xdg / "tables"
    first = local.launch(port=local.free_port(), data_dir=data)
    try:
        client = _client(first.endpoint_url)
        client.create_table(
            TableName="kept",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.close()
    finally:
        local.stop_process(first)
    second = local.launch(port=local.free_port(), data_dir=data)
    try:
        assert second.data_dir == str(data.resolve())
        assert _table_names(second.endpoint_url) == ["kept"]
    finally:
        local.stop_process(second)


def test_stop_ends_only_our_engine_and_removes_the_state_file(xdg: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        state = local.start(port=local.free_port(), in_memory=True)
        assert local.read_state() == state
        assert local.running_endpoint() == state.endpoint_url
        assert local.start(port=local.free_port()) == state  # reports, never starts a second

        assert local.stop() == state
        assert not local.state_file().exists()
        assert not process._pid_alive(state.pid)
        assert bystander.poll() is None
        assert local.stop() is None

        # The record of an engine that has gone is stale: not running, and cleaned up.
        local.write_state(state)
        assert local.status() is None
        assert not local.state_file().exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_install_from_an_unpacked_folder(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg / "fresh-cache"))
    messages: list[str] = []
    folder = local.install(progress=messages.append)
    assert folder == local.engine_dir()
    assert (folder / local.JAR).is_file()
    assert local.installed_source(folder) == "$DDBKIT_DYNAMODB_LOCAL"
    assert any("installed DynamoDB Local from $DDBKIT_DYNAMODB_LOCAL" in m for m in messages)
    assert local.install() == folder  # cached: a no-op


def test_install_from_a_folder_without_the_jar_fails_clearly(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = xdg / "not-dynamodb-local"
    empty.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg / "fresh-cache"))
    monkeypatch.setenv(local.ENV_ENGINE_DIR, str(empty))
    with pytest.raises(LocalEngineError, match=r"has no DynamoDBLocal\.jar"):
        local.install()
    assert not local.engine_dir().exists()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux)")
def test_public_listener_is_refused(xdg: Path) -> None:
    port = local.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "0.0.0.0", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not local.listening_sockets(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        state = local.EngineState(server.pid, port, local.ENGINE_MOTO, None, time.time())
        with pytest.raises(LocalEngineError, match=r"listens on 0\.0\.0\.0"):
            process._check_loopback_only(state)
    finally:
        server.kill()
        server.wait()


def test_moto_stands_in_without_java(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("moto.server")
    empty_path = xdg / "no-java-here"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv(local.ENV_ENGINE_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg / "fresh-cache"))
    messages: list[str] = []
    state = local.start(port=local.free_port(), progress=messages.append)
    try:
        assert state.engine == local.ENGINE_MOTO
        assert state.data_dir is None
        assert any("fidelity is lower" in m for m in messages)
        assert _table_names(state.endpoint_url) == []
        assert local.listening_sockets(state.pid) == [("127.0.0.1", state.port)]
    finally:
        local.stop()
