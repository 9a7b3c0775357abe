"""Helpers for the hostile-input suite (tests/integration/hostile/).

Every hostile case asserts the same contract: a refused command exits 1 (a library error) or 2
(a usage error), prints nothing on stdout, prints no traceback, prints exactly one line starting
with ``error:``/``Error:`` that names the problem, and leaves nothing behind (no table, no item
written or deleted, no file, hidden files included). A library call raises a ``DdbkitError``
(``ValidationError`` for bad arguments) whose first line names the problem.

CLI cases run in-process through ``ddbkit.cli.main.run`` (an exception escaping it is the
traceback a user would see) or, when they need their own environment, a signal or a hard time
bound, in a fresh ``ddbkit`` process that is killed, with its whole process group, at a deadline.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from tests.conftest import ddbkit_executable
from tests.support.truth import raw_client

# Environment variables that would let a fresh process find real credentials or settings.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "AWS_CA_BUNDLE",
)
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ddbkit",
    "AWS_SECRET_ACCESS_KEY": "ddbkit",
    "AWS_REGION": "us-east-1",
}
RETRY_LINE = "retrying (attempt "


@dataclass
class Outcome:
    """What one command did: exit status, both streams, and how long it took."""

    code: int
    stdout: str
    stderr: str
    seconds: float = 0.0
    timed_out: bool = False

    def describe(self) -> str:
        return (
            f"exit {self.code} after {self.seconds:.1f}s"
            f"{' (KILLED at the deadline)' if self.timed_out else ''}\n"
            f"--- stdout ---\n{self.stdout[:3000]}\n--- stderr ---\n{self.stderr[:3000]}"
        )


# -- running the command ---------------------------------------------------------------------


def run_in_process(
    argv: Sequence[str],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    stdin: str | bytes = b"",
) -> Outcome:
    """``ddbkit ARGV`` in this process; an exception escaping ``run()`` becomes its traceback."""
    from ddbkit.cli import main, runner

    data = stdin.encode("utf-8", "surrogatepass") if isinstance(stdin, str) else stdin
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    capfd.readouterr()
    escaped = ""
    began = time.monotonic()
    try:
        code = main.run(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            escaped = exc.code + "\n"
    except BaseException:
        code = -1
        escaped = traceback.format_exc()
    finally:
        runner.show_tracebacks(False)
    seconds = time.monotonic() - began
    captured = capfd.readouterr()
    return Outcome(code, captured.out, captured.err + escaped, seconds)


Runner = Callable[..., Outcome]


def make_runner(
    endpoint: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
) -> Runner:
    """``run(*argv, stdin=...)``: ddbkit in-process against ``endpoint``, run inside ``folder``.

    Running inside ``folder`` makes a file a command drops in the working directory (a default
    reject or undo file) show up in that folder's listing.
    """
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(folder)

    def run(*argv: str, stdin: str | bytes = b"", connect: bool = True) -> Outcome:
        prefix = ["--endpoint-url", endpoint] if connect else []
        return run_in_process([*prefix, *argv], capfd, monkeypatch, stdin=stdin)

    return run


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    deadline: float = 60.0,
    stdin: str | None = None,
    interrupt_after: float | None = None,
) -> Outcome:
    """``ddbkit ARGV`` as a fresh process, killed with its process group at ``deadline``.

    ``env`` is merged over os.environ (None removes a variable). ``interrupt_after`` sends
    SIGINT (Ctrl-C) that many seconds after the start.
    """
    return run_command(
        [ddbkit_executable(), *argv],
        env=env,
        deadline=deadline,
        stdin=stdin,
        interrupt_after=interrupt_after,
    )


def run_python(
    code: str, *, env: Mapping[str, str | None] | None = None, deadline: float = 60.0
) -> Outcome:
    """``python -c CODE`` with this interpreter, killed at ``deadline``."""
    return run_command([sys.executable, "-c", code], env=env, deadline=deadline)


def run_command(
    command: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    deadline: float = 60.0,
    stdin: str | None = None,
    interrupt_after: float | None = None,
) -> Outcome:
    """Run ``command`` in its own process group; kill the group at ``deadline``."""
    merged: dict[str, str | None] = {**os.environ, **(env or {})}
    full_env = {k: v for k, v in merged.items() if v is not None}
    began = time.monotonic()
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        start_new_session=True,
    )
    timed_out = False
    timer = None
    if interrupt_after is not None:
        timer = threading.Timer(interrupt_after, _signal_group, (process, signal.SIGINT))
        timer.daemon = True
        timer.start()
    try:
        out, err = process.communicate(
            (stdin or "").encode("utf-8", "surrogatepass"), timeout=deadline
        )
    except subprocess.TimeoutExpired:
        timed_out = True
        _signal_group(process, signal.SIGKILL)
        out, err = process.communicate()
    finally:
        if timer is not None:
            timer.cancel()
    seconds = time.monotonic() - began
    return Outcome(
        process.returncode,
        out.decode("utf-8", "backslashreplace"),
        err.decode("utf-8", "backslashreplace"),
        seconds,
        timed_out,
    )


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def isolated_env(home: Path, **extra: str | None) -> dict[str, str | None]:
    """An environment that sees no AWS setting of this machine: HOME and ~/.aws under ``home``."""
    env: dict[str, str | None] = dict.fromkeys(AWS_VARIABLES)
    env.update(
        {
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",  # never wait on an instance metadata service
        }
    )
    env.update(extra)
    return env


# -- the contract ----------------------------------------------------------------------------


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "Error:"))]


def error_message(stderr: str) -> str:
    """The first error line with the indented lines under it (a where-clause's caret display)."""
    lines = stderr.splitlines()
    for at, line in enumerate(lines):
        if line.startswith(("error:", "Error:")):
            block = [line]
            for follow in lines[at + 1 :]:
                if not follow.startswith((" ", "\t")):
                    break
                block.append(follow)
            return "\n".join(block)
    return ""


def assert_clean_stderr(outcome: Outcome) -> None:
    """No traceback and no raw terminal escape in what the user reads."""
    assert "Traceback" not in outcome.stderr, outcome.describe()
    assert "\x1b" not in outcome.stderr, f"a raw ESC reached the terminal\n{outcome.describe()}"
    assert not outcome.timed_out, outcome.describe()
    assert outcome.code != -1, outcome.describe()


def assert_refused(
    outcome: Outcome,
    *mentions: str,
    codes: Iterable[int] = (1, 2),
    stdout_empty: bool = True,
) -> str:
    """The refusal contract; returns the one error line.

    ``mentions``: the error line names at least one of these (case-insensitive).
    """
    assert_clean_stderr(outcome)
    assert outcome.code in tuple(codes), outcome.describe()
    lines = error_lines(outcome.stderr)
    assert len(lines) == 1, f"want exactly one error line, got {len(lines)}\n{outcome.describe()}"
    line = lines[0]
    if mentions:
        message = error_message(outcome.stderr).lower()
        assert any(m.lower() in message for m in mentions), (
            f"the error names none of {mentions!r}: {line!r}\n{outcome.describe()}"
        )
    if stdout_empty:
        assert outcome.stdout == "", f"a refused command printed on stdout\n{outcome.describe()}"
    return line


def assert_library_error(
    error: BaseException,
    *mentions: str,
    kind: type[ddbkit.DdbkitError] = ddbkit.DdbkitError,
) -> None:
    """A ddbkit error of ``kind`` whose first line names one of ``mentions``."""
    assert isinstance(error, kind), (
        f"want {kind.__name__}, got {type(error).__module__}.{type(error).__name__}: {error!r}"
    )
    first = str(error).splitlines()[0] if str(error) else ""
    if mentions:
        assert any(m.lower() in first.lower() for m in mentions), (
            f"the message's first line names none of {mentions!r}: {first!r}"
        )


def raises_library_error(
    call: Any, *mentions: str, kind: type[ddbkit.DdbkitError] = ddbkit.DdbkitError
) -> None:
    """``call()`` must raise a ddbkit error of ``kind`` naming one of ``mentions``."""
    try:
        result = call()
        if hasattr(result, "__next__"):
            list(result)
    except BaseException as exc:  # every escape is judged here
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        assert_library_error(exc, *mentions, kind=kind)
        return
    raise AssertionError(f"no error raised; want {kind.__name__} naming one of {mentions!r}")


# -- side effects ----------------------------------------------------------------------------


def listing(folder: Path) -> list[str]:
    """Every path under ``folder`` (dotfiles too), relative, sorted."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(found)


def table_names(endpoint: str) -> list[str]:
    client = raw_client(endpoint)
    names: list[str] = []
    params: dict[str, Any] = {}
    while True:
        page = client.list_tables(**params)
        names += page.get("TableNames", [])
        if not page.get("LastEvaluatedTableName"):
            return sorted(names)
        params["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def stored_items(endpoint: str, table: str) -> list[dict[str, Any]]:
    """Every item of ``table`` in DynamoDB JSON, sorted, read with a plain boto3 client."""
    client = raw_client(endpoint)
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**params)
        items += page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return sorted(items, key=repr)
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextlib.contextmanager
def unchanged(endpoint: str, *tables: str, folder: Path | None = None) -> Iterator[None]:
    """Assert that the block changes no table list, no item of ``tables`` and no file."""
    names = table_names(endpoint)
    items = {t: stored_items(endpoint, t) for t in tables}
    files = listing(folder) if folder is not None else []
    yield
    now = table_names(endpoint)
    assert now == names, (
        f"the command created tables {sorted(set(now) - set(names))} "
        f"and deleted tables {sorted(set(names) - set(now))}"
    )
    for t in tables:
        after = stored_items(endpoint, t)
        assert after == items[t], (
            f"the command changed the items of {t}: added "
            f"{[i for i in after if i not in items[t]]!r:.500}, removed "
            f"{[i for i in items[t] if i not in after]!r:.500}"
        )
    if folder is not None:
        left = listing(folder)
        assert left == files, (
            f"the command changed files in {folder}: added {sorted(set(left) - set(files))}, "
            f"removed {sorted(set(files) - set(left))}"
        )


# -- endpoints that misbehave ----------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class HungServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers a byte."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, name="hung-server", daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                continue
            self.accepted += 1
            self._held.append(connection)  # read nothing, answer nothing, close nothing

    def __enter__(self) -> HungServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self._held:
            with contextlib.suppress(OSError):
                connection.close()
        self._socket.close()


# -- tables ----------------------------------------------------------------------------------


@contextlib.contextmanager
def seeded_table(
    endpoint: str,
    items: Iterable[Mapping[str, Any]] = (),
    *,
    partition_key: tuple[str, str] = ("id", "S"),
    sort_key: tuple[str, str] | None = None,
) -> Iterator[ddbkit.Table]:
    """A uuid-named table holding ``items``, deleted afterwards."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    name = f"hostile-{uuid.uuid4().hex[:12]}"
    table = db.create_table(name, partition_key=partition_key, sort_key=sort_key)
    for item in items:
        table.put(item)
    try:
        yield table
    finally:
        with contextlib.suppress(ddbkit.DdbkitError):
            db.delete_table(name, wait=False)


def drop_table(endpoint: str, name: str) -> None:
    """Delete ``name`` if a case created it after all."""
    with contextlib.suppress(Exception):
        raw_client(endpoint).delete_table(TableName=name)


def reset_table(endpoint: str, table: ddbkit.Table, items: Iterable[Mapping[str, Any]]) -> None:
    """Make ``table`` hold exactly ``items`` again (cheaper than a new table per case)."""
    client = raw_client(endpoint)
    names = table.keys.names
    for stored in stored_items(endpoint, table.name):
        client.delete_item(TableName=table.name, Key={name: stored[name] for name in names})
    for item in items:
        table.put(item)
