"""Start one engine process on 127.0.0.1 and wait until it serves there and nowhere else.

DynamoDB Local runs through a small Java launcher (``_java/LoopbackLauncher.java``) because it has
no bind-address option of its own and would listen on every interface. The launcher binds
127.0.0.1 and exits rather than serve if it cannot prove that; on Linux ddbkit checks the
process's listening sockets once more in ``/proc`` (see :mod:`ddbkit.local.process`).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ddbkit.errors import LocalEngineError
from ddbkit.local.paths import (
    ENGINE_DYNAMODB_LOCAL,
    ENGINE_MOTO,
    HOST,
    JAR,
    LAUNCHER,
    LIB,
    _write_atomic,
    cache_dir,
    default_data_dir,
)
from ddbkit.local.process import _CHILDREN, _check_loopback_only, _terminate
from ddbkit.local.state import EngineState

DUMMY_CREDENTIAL = "ddbkit"
READY_TIMEOUT = 90.0
JAVAC_TIMEOUT = 120.0
POLL_INTERVAL = 0.2
# Held (flock) by the engine that uses a data folder, for as long as it runs.
DATA_LOCK = ".ddbkit-engine.lock"

# The launcher's exit codes (see LoopbackLauncher.java).
_EXIT_START_FAILED = 2
_EXIT_NOT_LOOPBACK = 3


# --------------------------------------------------------------------------------------------------
# Java and the launcher


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


def _wanted_data_dir(data_dir: Path | None, in_memory: bool) -> Path | None:
    """Return the resolved folder an engine started with these options keeps its tables in."""
    if in_memory:
        if data_dir is not None:
            raise LocalEngineError("--data and --in-memory exclude each other: pick one")
        return None
    return (data_dir if data_dir is not None else default_data_dir()).expanduser().resolve()


def _resolve_data_dir(data_dir: Path | None, in_memory: bool) -> Path | None:
    folder = _wanted_data_dir(data_dir, in_memory)
    if folder is None:
        return None
    if folder.exists() and not folder.is_dir():
        raise LocalEngineError(f"--data {folder} is not a folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _lock_data_dir(folder: Path) -> int:
    """Lock ``folder`` for one engine and return the lock's descriptor, to hand to that engine.

    Two DynamoDB Local processes on one -sharedDb file corrupt it. The flock belongs to the open
    file, which the engine inherits: it is released exactly when the engine exits (kill -9 too),
    and it also guards engines that no state file knows (``launch``, other users of the folder).
    """
    import fcntl  # POSIX only, like the rest of process handling here

    path = folder / DATA_LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise LocalEngineError(f"cannot lock the data folder {folder}: {error.strerror}") from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if isinstance(error, BlockingIOError):
            raise LocalEngineError(
                f"data folder {folder} is in use by another engine and two engines must never "
                "share one: give another --data, or --in-memory"
            ) from error
        raise LocalEngineError(f"cannot lock the data folder {folder}: {error.strerror}") from error
    return fd


def _spawn(
    command: list[str], log_path: Path, workdir: Path, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
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
            pass_fds=pass_fds,
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
    lock = _lock_data_dir(data_dir) if data_dir is not None else None
    try:
        # DynamoDB Local writes dynamodb-local-metadata.json into its working folder.
        process = _spawn(command, log_path, workdir, () if lock is None else (lock,))
    finally:
        if lock is not None:
            os.close(lock)  # the engine holds its own copy now
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
