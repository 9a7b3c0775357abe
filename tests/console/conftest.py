"""The console under test: the real ``ddbkit console`` process on DynamoDB Local, and a client.

``start_console`` runs the command as a user would (``--no-open``, any free port) and reads the
URL it prints. ``ConsoleClient`` talks HTTP to it with http.client, which lets a test set any
Host or Origin header, as a hostile page or a DNS-rebinding attack would.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import pytest

import ddbkit
from ddbkit.database import Database
from ddbkit.workflows import demo
from tests.conftest import ddbkit_executable

START_TIMEOUT = 60.0
URL_LINE = re.compile(r"^open: (http://127\.0\.0\.1:(\d+)/\?token=(\S+))$")


@dataclass
class RunningConsole:
    url: str  # the printed URL, token included
    port: int
    token: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)  # everything it printed (stdout and stderr)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> ConsoleClient:
        return ConsoleClient(self.port, self.token)


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class ConsoleClient:
    """HTTP to a console: signed in (the cookie) and same-origin unless told otherwise."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        cookie: bool = True,
        host: str | None = None,
        origin: str | None = "same",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        sent = {"Host": f"127.0.0.1:{self.port}" if host is None else host, **(headers or {})}
        if cookie:
            sent["Cookie"] = f"ddbkit_console_{self.port}={self.token}"
        if origin == "same":
            origin = f"http://127.0.0.1:{self.port}"
        if origin is not None and method not in ("GET", "HEAD"):
            sent["Origin"] = origin
        data = body if body is None or isinstance(body, bytes) else orjson.dumps(body)
        if data is not None:
            sent["Content-Type"] = "application/json"
        target = path + (f"?{urlencode(query)}" if query else "")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in sent.items():
                connection.putheader(name, value)
            if data is not None:
                connection.putheader("Content-Length", str(len(data)))
            connection.endheaders(data)
            response = connection.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def get(self, path: str, **query: str) -> Reply:
        return self.request("GET", path, query=query or None)


@contextlib.contextmanager
def start_console(
    endpoint: str,
    *args: str,
    executable: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> Iterator[RunningConsole]:
    """``ddbkit --endpoint-url ENDPOINT ARGS console --no-open --port 0`` (ARGS holding
    ``console`` replaces the last part), stopped by Ctrl-C. ``executable``: another venv's."""
    env = {
        **(os.environ if environment is None else environment),
        "AWS_ACCESS_KEY_ID": "ddbkit",
        "AWS_SECRET_ACCESS_KEY": "ddbkit",
        "AWS_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [executable or ddbkit_executable(), "--endpoint-url", endpoint, *args]
    if "console" not in args:
        command += ["console", "--no-open", "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: list[str] = []
    found: queue.SimpleQueue[re.Match[str] | None] = queue.SimpleQueue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            match = URL_LINE.match(line.strip())
            if match:
                found.put(match)
        found.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def finish() -> None:
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()

    try:
        match = found.get(timeout=START_TIMEOUT)
    except queue.Empty:
        match = None
    if match is None:
        process.kill()
        process.wait()
        finish()
        pytest.fail("ddbkit console printed no URL:\n" + "\n".join(lines[-30:]))
    running = RunningConsole(match.group(1), int(match.group(2)), match.group(3), process, lines)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        finish()


@pytest.fixture(scope="session")
def demo_tables(endpoint: str) -> Iterator[tuple[str, str]]:
    """The demo data set (users, orders) under a prefix of this session's own."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    prefix = f"console-{uuid.uuid4().hex[:6]}-"
    users, orders = demo.create(db, prefix=prefix)
    try:
        yield users.name, orders.name
    finally:
        for name in (users.name, orders.name):
            with contextlib.suppress(ddbkit.DdbkitError):
                db.delete_table(name, wait=False)


@pytest.fixture(scope="session")
def console(endpoint: str, demo_tables: tuple[str, str]) -> Iterator[RunningConsole]:
    """A console with writes allowed, on the engine holding the demo tables."""
    with start_console(endpoint) as running:
        yield running


@pytest.fixture
def client(console: RunningConsole) -> ConsoleClient:
    return console.client()


@pytest.fixture
def library(endpoint: str) -> Database:
    """The library's own view of the engine, to check what the console stored."""
    return ddbkit.connect(endpoint_url=endpoint, local=True)


def outward_address() -> str:
    """This machine's address on its network interface (not loopback), for a 'remote' endpoint."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        address = str(probe.getsockname()[0])
    except OSError:
        pytest.fail("this machine has no network interface besides loopback")
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.fail("this machine has no network interface besides loopback")
    return address


@contextlib.contextmanager
def forwarder(upstream: str) -> Iterator[str]:
    """A TCP relay on this machine's outward address to ``upstream``: an endpoint the library
    cannot tell from a remote one (its host is not a loopback address)."""
    target = urlsplit(upstream)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((outward_address(), 0))
    listener.listen(64)
    host, port = listener.getsockname()
    stopping = threading.Event()
    opened: list[socket.socket] = []

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        while not stopping.is_set():
            try:
                inbound, _ = listener.accept()
            except OSError:
                return
            outbound = socket.create_connection((target.hostname, target.port or 80))
            opened.extend((inbound, outbound))
            threading.Thread(target=pipe, args=(inbound, outbound), daemon=True).start()
            threading.Thread(target=pipe, args=(outbound, inbound), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://{host}:{port}"
    finally:
        stopping.set()
        listener.close()
        for connection in opened:
            connection.close()
