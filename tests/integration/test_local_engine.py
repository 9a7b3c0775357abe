"""The local engine for real: DynamoDB Local through the loopback launcher, and moto as fallback.

Every test runs in temporary XDG folders. The engine is installed once per session into a shared
temporary cache from ``$DDBKIT_DYNAMODB_LOCAL`` (or from the user's already-installed copy, or, as
a last resort, from ddbkit's normal download sources), so the tests never touch the user's state.
"""

from __future__ import annotations

import contextlib
import json
import os
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
from ddbkit.cli.local_cmd import describe as _describe
from ddbkit.errors import LocalEngineError
from ddbkit.local import launcher, process
from tests.conftest import ddbkit_executable

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


def _proc_address(word_hex: str) -> str:
    """An address as /proc/net/tcp{,6} prints it: 32-bit words in host byte order."""
    words = [word_hex[i : i + 8] for i in range(0, len(word_hex), 8)]
    packed = b"".join(int(word, 16).to_bytes(4, sys.byteorder) for word in words)
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, packed)


def _listen_lines(port: int) -> list[str]:
    """Every address:port that any process on this machine listens on at ``port`` (TCP).

    Read from /proc by the test itself, as ``ss -ltn`` would show it, so it needs no iproute2
    and shares no code with ddbkit's own check (which looks at one process's sockets only).
    """
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].split(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.append(f"{_proc_address(address)}:{port}")
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


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux)")
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
        assert local.read_state(state.port) == state
        assert local.running_endpoint() == state.endpoint_url
        assert local.start(port=state.port, in_memory=True) == state  # reports, never restarts

        assert local.stop() == state
        assert not local.state_file(state.port).exists()
        assert not process._pid_alive(state.pid)
        assert bystander.poll() is None
        assert local.stop() is None

        # The record of an engine that has gone is stale: not running, and cleaned up.
        local.write_state(state)
        assert local.status() is None
        assert not local.state_file(state.port).exists()
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


# -- several engines side by side, through the real command --------------------------------------


def _ddbkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``ddbkit``; it inherits the xdg fixture's temporary XDG folders."""
    return subprocess.run(
        [ddbkit_executable(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=180,
        check=False,
    )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def _create_table(endpoint_url: str, name: str) -> None:
    client = _client(endpoint_url)
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    finally:
        client.close()


def _answers(endpoint_url: str) -> bool:
    try:
        _table_names(endpoint_url)
    except Exception:
        return False
    return True


@pytest.fixture
def two_engines(xdg: Path) -> Iterator[tuple[local.EngineState, local.EngineState]]:
    """One engine in memory and one with a data folder, started by `ddbkit local start`."""
    try:
        first = _ddbkit("local", "start", "--port", str(local.free_port()), "--in-memory")
        assert first.returncode == 0, first.stderr
        data = xdg / "tables"
        second = _ddbkit("local", "start", "--port", str(local.free_port()), "--data", str(data))
        assert second.returncode == 0, second.stderr
        memory, disk = local.running()  # by port: which is which is read from the records
        if memory.data_dir is not None:
            memory, disk = disk, memory
        assert memory.data_dir is None
        assert disk.data_dir == str(data.resolve())
        yield memory, disk
    finally:
        local.stop_all()


def test_two_engines_run_side_by_side_each_with_its_own_tables(
    two_engines: tuple[local.EngineState, local.EngineState],
) -> None:
    memory, disk = two_engines
    _create_table(memory.endpoint_url, "in_memory_only")
    _create_table(disk.endpoint_url, "on_disk_only")
    assert _table_names(memory.endpoint_url) == ["in_memory_only"]
    assert _table_names(disk.endpoint_url) == ["on_disk_only"]
    assert (Path(str(disk.data_dir)) / "shared-local-instance.db").is_file()

    status = _ddbkit("local", "status")
    assert status.returncode == 0, status.stderr
    assert f"running on {memory.endpoint_url} (pid {memory.pid}, data: in memory" in status.stdout
    assert (
        f"running on {disk.endpoint_url} (pid {disk.pid}, data: {disk.data_dir})" in status.stdout
    )

    # Several engines and none on 8000: --local refuses to guess and names them all.
    refused = _one_line_error(_ddbkit("--local", "tables"))
    assert memory.endpoint_url in refused and disk.endpoint_url in refused
    assert "--endpoint-url http://127.0.0.1:PORT" in refused
    # The way out it names works (any credentials do for a local engine).
    dummy = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
    chosen = _ddbkit("--endpoint-url", disk.endpoint_url, "tables", "-o", "jsonl", env=dummy)
    assert chosen.returncode == 0, chosen.stderr
    assert "on_disk_only" in chosen.stdout and "in_memory_only" not in chosen.stdout
    # Among several, the engine on the default port wins.
    assert local.choose(local.running(), default_port=disk.port) == disk


def test_start_with_other_settings_on_a_running_port_exits_1_and_says_what_to_do(
    xdg: Path, two_engines: tuple[local.EngineState, local.EngineState]
) -> None:
    memory, disk = two_engines
    asked_data = _ddbkit("local", "start", "--port", str(memory.port), "--data", str(xdg / "x"))
    message = _one_line_error(asked_data)
    assert f"port {memory.port} already runs DynamoDB Local (pid {memory.pid}, data in memory)" in (
        message
    )
    assert f"not data in {(xdg / 'x').resolve()} as asked" in message
    assert f"'ddbkit local stop --port {memory.port}'" in message
    asked_memory = _ddbkit("local", "start", "--port", str(disk.port), "--in-memory")
    assert f"'ddbkit local stop --port {disk.port}'" in _one_line_error(asked_memory)

    same = _ddbkit("local", "start", "--port", str(memory.port), "--in-memory")
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith(f"already running: {_describe(memory)}")
    same = _ddbkit("local", "start", "--port", str(disk.port), "--data", str(disk.data_dir))
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith(f"already running: {_describe(disk)}")
    assert set(local.running()) == {memory, disk}  # same pids: nothing was restarted

    # A third engine on the second one's data folder is refused, by the records...
    third = local.free_port()
    shared = _ddbkit("local", "start", "--port", str(third), "--data", str(disk.data_dir))
    assert f"already used by the engine on port {disk.port}" in _one_line_error(shared)
    assert local.port_is_free(third) and local.read_state(third) is None
    # ...and by the folder's lock where no record speaks (an engine started by launch()).
    with pytest.raises(LocalEngineError, match="in use by another engine"):
        local.launch(port=third, data_dir=Path(str(disk.data_dir)))
    assert local.port_is_free(third)


def test_stop_port_stops_only_that_engine(
    two_engines: tuple[local.EngineState, local.EngineState],
) -> None:
    memory, disk = two_engines
    _create_table(disk.endpoint_url, "on_disk_only")

    ambiguous = _one_line_error(_ddbkit("local", "stop"))
    assert memory.endpoint_url in ambiguous and disk.endpoint_url in ambiguous
    assert "--port PORT" in ambiguous
    assert _answers(memory.endpoint_url) and _answers(disk.endpoint_url)

    stopped = _ddbkit("local", "stop", "--port", str(memory.port))
    assert stopped.returncode == 0, stopped.stderr
    assert (
        stopped.stdout == f"stopped the local engine on {memory.endpoint_url} (pid {memory.pid})\n"
    )
    assert not _answers(memory.endpoint_url)
    assert _table_names(disk.endpoint_url) == ["on_disk_only"]
    status = _ddbkit("local", "status")
    assert status.returncode == 0
    assert status.stdout.splitlines() == [
        f"DynamoDB Local running on {disk.endpoint_url} (pid {disk.pid}, data: {disk.data_dir})"
    ]

    # One engine left: --local uses it, and stop without --port stops it.
    tables = _ddbkit("--local", "tables", "-o", "jsonl")
    assert tables.returncode == 0, tables.stderr
    assert "on_disk_only" in tables.stdout
    assert _ddbkit("local", "stop").returncode == 0
    assert not _answers(disk.endpoint_url)
    assert _ddbkit("local", "status").returncode == 3


def test_engine_recorded_by_the_previous_version_is_found_and_stopped(xdg: Path) -> None:
    data = xdg / "old-data"
    old = local.launch(port=local.free_port(), data_dir=data)
    try:
        # ddbkit 0.1 recorded its one engine in local.json, in this very format.
        record = {
            "pid": old.pid,
            "port": old.port,
            "engine": "dynamodb-local",
            "data_dir": old.data_dir,
            "started_at": old.started_at,
        }
        local.legacy_state_file().parent.mkdir(parents=True, exist_ok=True)
        local.legacy_state_file().write_text(json.dumps(record, indent=2) + "\n")

        status = _ddbkit("local", "status")
        assert status.returncode == 0, status.stderr
        assert f"running on {old.endpoint_url} (pid {old.pid}, data: {old.data_dir})" in (
            status.stdout
        )
        assert local.running_endpoint() == old.endpoint_url
        same = _ddbkit("local", "start", "--port", str(old.port), "--data", str(data))
        assert same.stdout.startswith("already running: "), same.stderr
        other = _ddbkit("local", "start", "--port", str(old.port), "--in-memory")
        assert f"'ddbkit local stop --port {old.port}'" in _one_line_error(other)
        shared = _ddbkit("local", "start", "--port", str(local.free_port()), "--data", str(data))
        assert f"already used by the engine on port {old.port}" in _one_line_error(shared)

        stopped = _ddbkit("local", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped the local engine on {old.endpoint_url}" in stopped.stdout
        assert not process._pid_alive(old.pid)
        assert not local.legacy_state_file().exists()
        assert _ddbkit("local", "status").returncode == 3
    finally:
        local.stop_process(old)
