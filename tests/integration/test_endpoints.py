"""Endpoints that hang, lie or do not parse: bounded waits, visible retries, one line at the end."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import ddbkit
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration


@pytest.fixture
def hung_endpoint() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


class _BadChecksum(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"TableNames": ["looks-fine"]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-crc32", "12345")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_a_hung_endpoint_ends_in_one_line_naming_it_with_retries_shown(
    cli: CliRunner, hung_endpoint: str
) -> None:
    began = time.monotonic()
    done = cli(
        "--endpoint-url", hung_endpoint, "--read-timeout", "0.5", "--max-attempts", "3",
        "scan", "users",
        connect=False,
    )  # fmt: skip
    elapsed = time.monotonic() - began
    assert done.code == 1
    assert "Traceback" not in done.stderr
    assert "retrying (attempt 2 of 3)" in done.stderr
    assert "retrying (attempt 3 of 3)" in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    assert hung_endpoint in error[0] and "did not answer" in error[0]
    assert "gave up after 3 attempts" in error[0]
    assert elapsed < 30


def test_the_default_budget_is_bounded_by_read_timeout_and_attempts(hung_endpoint: str) -> None:
    db = ddbkit.connect(endpoint_url=hung_endpoint, local=True, read_timeout=0.3, max_attempts=2)
    began = time.monotonic()
    with pytest.raises(ddbkit.EndpointError, match="gave up after 2 attempts"):
        db.tables()
    assert time.monotonic() - began < 10


def test_a_reply_that_fails_its_crc32_check_is_retried_then_refused() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BadChecksum)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        db = ddbkit.connect(endpoint_url=url, local=True, max_attempts=2)
        with pytest.raises(ddbkit.EndpointError, match="CRC32"):
            db.tables()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "url", ["not a url", "", "http://127.0.0.1:99999", "http://[::1", "ftp://x", "http://:80"]
)
def test_a_bad_endpoint_url_is_one_line_naming_the_form(cli: CliRunner, url: str) -> None:
    done = cli("--endpoint-url", url, "tables", connect=False)
    assert done.code == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "http(s)://HOST[:PORT]" in done.stderr
