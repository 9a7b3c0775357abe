"""The console is safe by default: the token, the Host and Origin checks, read-only mode, the
loopback-only listener, and nothing secret in its terminal output."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess

import pytest

from ddbkit.database import Database
from tests.console.conftest import ConsoleClient, RunningConsole, forwarder, start_console

pytestmark = pytest.mark.integration


def test_without_the_token_every_request_is_refused(console: RunningConsole) -> None:
    anonymous = console.client()
    for path in ("/", "/api/tables", "/api/session", "/static/app.js", "/nowhere"):
        reply = anonymous.request("GET", path, cookie=False)
        assert reply.status == 403, path
        assert "open the URL that `ddbkit console` printed" in reply.json()["error"]
    wrong = ConsoleClient(console.port, "x" * len(console.token))
    assert wrong.get("/api/tables").status == 403
    assert anonymous.request("GET", "/", query={"token": "guess"}, cookie=False).status == 403


def test_the_printed_url_trades_its_token_for_a_strict_cookie(console: RunningConsole) -> None:
    reply = console.client().request("GET", "/", query={"token": console.token}, cookie=False)
    assert reply.status == 303
    assert reply.headers["location"] == "/"  # the token leaves the address bar
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"ddbkit_console_{console.port}={console.token};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    page = console.client().get("/")
    assert page.status == 200
    assert b"/static/app.js" in page.body
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:1", "evil.example", "0.0.0.0:{port}", ""]
)
def test_a_foreign_host_header_is_refused(console: RunningConsole, host: str) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own name as Host.
    reply = console.client().request("GET", "/api/tables", host=host.format(port=console.port))
    assert reply.status == 403
    assert "loopback" in reply.json()["error"]


def test_localhost_is_the_console_too(console: RunningConsole) -> None:
    reply = console.client().request("GET", "/api/session", host=f"localhost:{console.port}")
    assert reply.status == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None, "http://127.0.0.1:1"])
def test_a_cross_origin_write_is_refused_and_changes_nothing(
    console: RunningConsole, demo_tables: tuple[str, str], library: Database, origin: str | None
) -> None:
    users = demo_tables[0]
    body = {"plain": '{"user_id": "u-csrf", "name": "mallory"}'}
    reply = console.client().request("POST", f"/api/tables/{users}/item", body, origin=origin)
    assert reply.status == 403
    assert "console's own page" in reply.json()["error"]
    assert library.table(users).get({"user_id": "u-csrf"}) is None


def test_read_only_hides_and_refuses_every_write(
    endpoint: str, demo_tables: tuple[str, str], library: Database
) -> None:
    users = demo_tables[0]
    before = library.table(users).get({"user_id": "u00007"})
    assert before is not None
    with start_console(endpoint, "console", "--no-open", "--port", "0", "--read-only") as running:
        assert "read-only" in running.lines[0]
        client = running.client()
        assert client.get("/api/session").json()["read_only"] is True
        opened = client.get(f"/api/tables/{users}/item", key='{"user_id": {"S": "u00007"}}')
        assert opened.status == 200  # reading is fine
        original = opened.json()["item"]
        writes = [
            ("PUT", f"/api/tables/{users}/item", {"original": original, "plain": "{}"}),
            ("POST", f"/api/tables/{users}/item", {"plain": '{"user_id": "u-ro"}'}),
            ("DELETE", f"/api/tables/{users}/item", {"original": original}),
            ("DELETE", f"/api/tables/{users}", {"confirm": users}),
            ("POST", "/api/tables", {"name": "ro-new", "partition_key": {"name": "id"}}),
        ]
        for method, path, body in writes:
            reply = client.request(method, path, body)
            assert reply.status == 403, (method, path)
            assert "--allow-writes" in reply.json()["error"]
    assert library.table(users).get({"user_id": "u00007"}) == before
    assert library.table(users).get({"user_id": "u-ro"}) is None
    assert "ro-new" not in library.tables()


def test_a_remote_endpoint_starts_read_only_and_asks_before_a_full_scan(
    endpoint: str, demo_tables: tuple[str, str]
) -> None:
    users = demo_tables[0]
    with forwarder(endpoint) as remote, start_console(remote) as running:
        assert "read-only" in running.lines[0]
        client = running.client()
        facts = client.get("/api/session").json()
        assert facts["local"] is False
        assert facts["read_only"] is True
        plan = client.get(f"/api/tables/{users}/explain", where="age > 30").json()
        assert plan["full_scan"] is True
        assert plan["confirm_needed"] is True
        asked = client.get(f"/api/tables/{users}/items", where="age > 30", limit="5")
        assert asked.status == 428
        assert asked.json()["confirm"] == "scan"
        assert asked.json()["plan"]["operation"] == "Scan"
        confirmed = client.get(
            f"/api/tables/{users}/items", where="age > 30", limit="5", confirm="1"
        )
        assert confirmed.status == 200
        assert len(confirmed.json()["items"]) == 5
        by_key = client.get(f"/api/tables/{users}/items", where="user_id = 'u00001'")
        assert by_key.status == 200  # a Query reads only its key: no question asked
        browse = client.get(f"/api/tables/{users}/items", limit="5")
        assert browse.status == 200  # a Scan without a filter reads only the page's items
        assert client.get(f"/api/tables/{users}/explain").json()["confirm_needed"] is False
        export = client.request("POST", f"/api/tables/{users}/exports", {"format": "jsonl"})
        assert export.status == 428  # an export reads every page
    with (
        forwarder(endpoint) as remote,
        start_console(remote, "console", "--no-open", "--port", "0", "--allow-writes") as running,
    ):
        assert running.client().get("/api/session").json()["read_only"] is False


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2), installed by ./run")
def test_ss_shows_only_a_loopback_listener(console: RunningConsole) -> None:
    listing = subprocess.run(
        ["ss", "-ltnpH"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    mine = [line for line in listing if f"pid={console.process.pid}," in line]
    assert mine, listing
    local_addresses = {line.split()[3] for line in mine}
    assert local_addresses == {f"127.0.0.1:{console.port}"}


def test_debug_logs_requests_without_the_token(endpoint: str, demo_tables: tuple[str, str]) -> None:
    with start_console(endpoint, "--debug") as running:
        client = running.client()
        signed_in = client.request("GET", "/", query={"token": running.token}, cookie=False)
        assert signed_in.status == 303
        assert client.get(f"/api/tables/{demo_tables[0]}").status == 200
        assert client.get("/api/tables/no-such-table").status == 404
    output = "\n".join(running.lines)
    assert re.search(r"GET /api/tables/\S+ -> 200", output), output
    assert output.count(running.token) == 1  # the printed URL, and nowhere else
    assert "Traceback" not in output
    assert "console stopped" in output
    assert running.process.returncode == 0


def test_errors_are_one_readable_line(client: ConsoleClient, demo_tables: tuple[str, str]) -> None:
    users = demo_tables[0]
    cases = [
        (client.get("/api/tables/no-such-table"), 404, "not found"),
        (client.get(f"/api/tables/{users}/items", where="age >"), 400, "where"),
        (client.get(f"/api/tables/{users}/items", limit="0"), 400, "limit"),
        (client.get(f"/api/tables/{users}/item", key="{not json"), 400, "JSON"),
        (client.request("POST", "/api/sql", {"query": "SELEC 1"}), 400, "syntax error"),
        (client.request("POST", "/api/sql", b"\xff"), 400, "JSON"),
        (client.get("/api/exports/nothing"), 404, "no such export"),
        (
            client.get(f"/api/tables/{users}/item", key='{"user_id": {"S": "nobody"}}'),
            404,
            "no item",
        ),
    ]
    for reply, status, words in cases:
        assert reply.status == status, reply.body
        message = reply.json()["error"]
        assert words.lower() in message.lower(), message
        assert "\n" not in message
        assert "Traceback" not in message


def test_a_taken_port_is_one_line_naming_the_fix(endpoint: str) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        from tests.conftest import ddbkit_executable

        done = subprocess.run(
            [ddbkit_executable(), "--endpoint-url", endpoint, "console", "--no-open", "--port",
             str(port)],
            capture_output=True, text=True, timeout=60, check=False,
            env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1",
                 "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    finally:
        taken.close()
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr
