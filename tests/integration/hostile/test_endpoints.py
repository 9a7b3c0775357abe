"""Hostile endpoints, credentials, the demo, and runs that must end in bounded time.

These cases run ``ddbkit`` as a fresh process (their own environment, a signal, or a hard
deadline after which the whole process group is killed), in an environment that sees no AWS
setting of this machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ddbkit
from ddbkit.table import Table
from tests.conftest import ddbkit_executable
from tests.support.faultproxy import FaultProxy
from tests.support.hostile import (
    LOCAL_CREDENTIALS,
    RETRY_LINE,
    HungServer,
    Outcome,
    assert_clean_stderr,
    assert_refused,
    closed_port,
    drop_table,
    isolated_env,
    listing,
    raises_library_error,
    run_process,
    run_python,
    seeded_table,
    stored_items,
    table_names,
)
from tests.support.truth import raw_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

FAST = 20.0  # seconds: a refusal that needs no waiting on the network
HUNG_BOUND = 90.0  # seconds: the most a single command may wait on an endpoint that never answers


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """No AWS setting of this machine, dummy keys for the local engine."""
    return isolated_env(tmp_path, **LOCAL_CREDENTIALS)


@pytest.fixture(scope="module")
def small(endpoint: str) -> Iterator[Table]:
    with seeded_table(endpoint, [{"id": "a"}, {"id": "b"}, {"id": "c"}]) as table:
        yield table


def assert_fast_refusal(outcome: Outcome, *mentions: str) -> str:
    line = assert_refused(outcome, *mentions)
    assert outcome.seconds < FAST, f"took {outcome.seconds:.1f}s\n{outcome.describe()}"
    return line


# -- endpoint URLs ---------------------------------------------------------------------------

BAD_URLS = {
    "not-a-url": "not a url",
    "empty": "",
    "port-out-of-range": "http://127.0.0.1:99999",
    "unclosed-ipv6": "http://[::1",
    "ftp": "ftp://x",
    "no-host": "http://",
    "no-scheme": "127.0.0.1:8000",
    "control-character": "http://127.0.0.1:8000/\x1b[2J",
}


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS)
def test_bad_endpoint_url_is_one_fast_error(env: dict[str, str | None], url: str) -> None:
    outcome = run_process(["--endpoint-url", url, "tables"], env=env, deadline=30)
    mentions = ("endpoint",) if not url.strip() else (url.replace("\x1b", ""), "endpoint")
    assert_fast_refusal(outcome, *mentions)


def test_endpoint_password_never_printed(env: dict[str, str | None]) -> None:
    url = f"http://user:s3cret-pw@127.0.0.1:{closed_port()}"
    outcome = run_process(["--endpoint-url", url, "tables"], env=env, deadline=30)
    assert_fast_refusal(outcome, "127.0.0.1")
    assert "s3cret-pw" not in outcome.stderr + outcome.stdout


def test_copy_to_a_bad_endpoint_creates_nothing(
    env: dict[str, str | None], endpoint: str, small: Table
) -> None:
    before = table_names(endpoint)
    outcome = run_process(
        ["--endpoint-url", endpoint, "copy", small.name, "elsewhere", "--to-endpoint", "not a url"],
        env=env,
        deadline=30,
    )
    assert_fast_refusal(outcome, "not a url", "--to-endpoint")
    assert table_names(endpoint) == before


@pytest.mark.parametrize(
    "url", ["not a url", "http://[::1", "ftp://x", "http://127.0.0.1:99999"], ids=str
)
def test_library_connect_to_a_bad_url(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    raises_library_error(
        lambda: ddbkit.connect(endpoint_url=url).tables(), "endpoint", url, kind=ddbkit.DdbkitError
    )


@pytest.mark.parametrize("command", ["tables", "scan", "put"])
def test_closed_port_is_one_fast_error(env: dict[str, str | None], command: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    argv = {"tables": ["tables"], "scan": ["scan", "tab1"], "put": ["put", "tab1", '{"id": "a"}']}
    outcome = run_process(["--endpoint-url", url, *argv[command]], env=env, deadline=45)
    assert_fast_refusal(outcome, url, "127.0.0.1")


@pytest.mark.timeout(130)
def test_hung_endpoint_ends_with_one_line_naming_it(env: dict[str, str | None]) -> None:
    commands = {"scan": ["scan", "tab1"], "get": ["get", "tab1", "id=a"]}
    outcomes: dict[str, Outcome] = {}
    with HungServer() as server:

        def go(name: str) -> None:
            argv = ["--endpoint-url", server.endpoint_url, *commands[name]]
            outcomes[name] = run_process(argv, env=env, deadline=HUNG_BOUND + 15)

        threads = [threading.Thread(target=go, args=(n,)) for n in commands]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        url = server.endpoint_url
    for name, outcome in outcomes.items():
        assert outcome.seconds <= HUNG_BOUND, f"{name}: {outcome.describe()}"
        assert_refused(outcome, url, "127.0.0.1")
    retries = [ln for ln in outcomes["scan"].stderr.splitlines() if RETRY_LINE in ln]
    assert retries, f"no retry lines while waiting\n{outcomes['scan'].describe()}"
    assert all(re.search(r"retrying \(attempt \d+ of \d+\)", ln) for ln in retries), retries


def test_ctrl_c_on_a_parallel_scan_of_a_hung_endpoint(env: dict[str, str | None]) -> None:
    with HungServer() as server:
        outcome = run_process(
            ["--endpoint-url", server.endpoint_url, "scan", "tab1", "--segments", "4"],
            env=env,
            deadline=40,
            interrupt_after=3,
        )
    assert_clean_stderr(outcome)
    assert outcome.code == 130, outcome.describe()
    assert outcome.seconds < 3 + 10, f"Ctrl-C took {outcome.seconds - 3:.1f}s to end the scan"


# -- runs that must stay small ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "count", "export"])
def test_a_million_segments_on_a_small_table_is_clamped(
    env: dict[str, str | None], endpoint: str, small: Table, tmp_path: Path, command: str
) -> None:
    argv = {
        "scan": ["scan", small.name],
        "count": ["count", small.name],
        "export": ["export", small.name, "-o", str(tmp_path / "out.jsonl")],
    }[command]
    outcome = run_process(
        ["--endpoint-url", endpoint, *argv, "--segments", "1000000"], env=env, deadline=15
    )
    assert_clean_stderr(outcome)
    assert outcome.code == 0, outcome.describe()
    assert outcome.seconds < 12, outcome.describe()
    assert "segment" in outcome.stderr.lower(), f"no note about the clamp\n{outcome.describe()}"
    if command == "scan":
        assert sorted(json.loads(ln)["id"] for ln in outcome.stdout.splitlines()) == ["a", "b", "c"]
    elif command == "count":
        assert outcome.stdout.strip() == "3"
    else:
        assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3


def test_library_put_many_with_a_hundred_thousand_workers(endpoint: str, small: Table) -> None:
    code = (
        "import ddbkit\n"
        f"t = ddbkit.connect(endpoint_url={endpoint!r}, local=True).table({small.name!r})\n"
        "try:\n"
        "    t.put_many([{'id': 'w1'}], workers=100_000)\n"
        "except ddbkit.ValidationError as e:\n"
        "    print('refused:', e)\n"
    )
    outcome = run_python(code, deadline=15)
    assert outcome.code == 0 and outcome.stdout.startswith("refused:"), outcome.describe()
    assert "workers" in outcome.stdout
    assert {"id": {"S": "w1"}} not in stored_items(endpoint, small.name)


# -- credentials -----------------------------------------------------------------------------


def _aws_files(home: Path, credentials: str | None = None, config: str | None = None) -> None:
    folder = home / ".aws"
    folder.mkdir(exist_ok=True)
    if credentials is not None:
        (folder / "credentials").write_text(credentials)
    if config is not None:
        (folder / "config").write_text(config)


def _process(tmp_path: Path, text: str) -> str:
    """A credential_process script printing ``text`` (or failing when text is 'FAIL')."""
    script = tmp_path / "creds.sh"
    body = "exit 3" if text == "FAIL" else f"cat <<'EOF'\n{text}\nEOF"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o700)
    return str(script)


EXPIRED = json.dumps(
    {"Version": 1, "AccessKeyId": "x", "SecretAccessKey": "y", "SessionToken": "z"}
    | {"Expiration": "2000-01-01T00:00:00Z"}
)
CREDENTIAL_CASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # name: (which file, its text or a credential_process output, what the error names)
    "malformed-credentials": ("credentials", "[default]\naws_access_key_id\n= x\n[[\n", ("cred",)),
    "malformed-config": ("config", "[default\nregion = us-east-1\n", ("config",)),
    "process-fails": ("process", "FAIL", ("credential",)),
    "process-not-json": ("process", "this is not json", ("credential",)),
    "process-missing-keys": ("process", '{"Version": 1}', ("credential",)),
    "process-expired": ("process", EXPIRED, ("expired", "credential")),
}


@pytest.mark.parametrize(
    ("kind", "text", "mentions"), CREDENTIAL_CASES.values(), ids=CREDENTIAL_CASES
)
def test_broken_credentials_are_one_error(
    tmp_path: Path, endpoint: str, kind: str, text: str, mentions: tuple[str, ...]
) -> None:
    if kind == "credentials":
        _aws_files(tmp_path, credentials=text)
    elif kind == "config":
        _aws_files(tmp_path, config=text)
    else:
        _aws_files(tmp_path, config=f"[default]\ncredential_process = {_process(tmp_path, text)}\n")
    env = isolated_env(tmp_path, AWS_REGION="us-east-1")
    outcome = run_process(["--endpoint-url", endpoint, "tables"], env=env, deadline=30)
    assert_fast_refusal(outcome, *mentions)


@pytest.mark.parametrize("how", ["flag", "env"])
def test_missing_profile_is_named(tmp_path: Path, endpoint: str, how: str) -> None:
    _aws_files(
        tmp_path, credentials="[default]\naws_access_key_id = a\naws_secret_access_key = b\n"
    )
    env = isolated_env(tmp_path, AWS_REGION="us-east-1")
    argv = ["--endpoint-url", endpoint, "tables"]
    if how == "flag":
        argv = ["--profile", "nope-profile", *argv]
    else:
        env["AWS_PROFILE"] = "nope-profile"
    assert_fast_refusal(run_process(argv, env=env, deadline=30), "nope-profile")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AWS_SESSION_TOKEN", "tok3n-secret\nmore"), ("AWS_ACCESS_KEY_ID", "k3y-secret\r\nmore")],
    ids=["token-newline", "key-newline"],
)
def test_credentials_that_cannot_go_in_a_header(
    tmp_path: Path, endpoint: str, variable: str, value: str
) -> None:
    env = isolated_env(tmp_path, **LOCAL_CREDENTIALS)
    env[variable] = value
    outcome = run_process(["--endpoint-url", endpoint, "tables"], env=env, deadline=30)
    assert_fast_refusal(outcome, variable, "credential", "token")
    secret = value.split("\n")[0].strip()
    assert secret not in outcome.stderr, "a credential was printed"
    assert "Signature=" not in outcome.stderr, "a request signature was printed"


def test_garbage_session_token_against_the_local_engine(
    tmp_path: Path, endpoint: str, small: Table
) -> None:
    env = isolated_env(tmp_path, **LOCAL_CREDENTIALS, AWS_SESSION_TOKEN="garbage-" + "x" * 500)
    outcome = run_process(["--endpoint-url", endpoint, "count", small.name], env=env, deadline=30)
    assert_clean_stderr(outcome)
    if outcome.code == 0:
        assert outcome.stdout.strip() == "3"
    else:
        assert_fast_refusal(outcome, "credential", "token")


# -- the demo --------------------------------------------------------------------------------


@pytest.fixture
def demo_prefix(endpoint: str) -> Iterator[str]:
    prefix = f"adv{uuid.uuid4().hex[:8]}_"
    yield prefix
    for name in ("users", "orders"):
        drop_table(endpoint, prefix + name)


@pytest.mark.timeout(90)
def test_demo_never_drops_an_existing_table(
    env: dict[str, str | None], endpoint: str, demo_prefix: str
) -> None:
    client = raw_client(endpoint)
    users = demo_prefix + "users"
    client.create_table(
        TableName=users,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=users, Item={"user_id": {"S": "mine"}, "keep": {"S": "me"}})
    created = client.describe_table(TableName=users)["Table"]["CreationDateTime"]
    outcome = run_process(
        ["--endpoint-url", endpoint, "demo", "--prefix", demo_prefix], env=env, deadline=75
    )
    assert_refused(outcome, users, "exists", "--replace")
    assert stored_items(endpoint, users) == [{"user_id": {"S": "mine"}, "keep": {"S": "me"}}]
    assert client.describe_table(TableName=users)["Table"]["CreationDateTime"] == created
    assert demo_prefix + "orders" not in table_names(endpoint)


def test_demo_refuses_a_remote_endpoint(env: dict[str, str | None]) -> None:
    outcome = run_process(
        ["--endpoint-url", "http://example.invalid:8000", "demo", "--prefix", "adv_"],
        env=env,
        deadline=45,
    )
    assert_fast_refusal(outcome, "--allow-remote", "remote")


# -- interrupted and cut-off output ----------------------------------------------------------


@pytest.fixture(scope="module")
def big(endpoint: str) -> Iterator[Table]:
    """Enough items (about 300 KB of output) to fill a pipe and more than one scan page."""
    with seeded_table(endpoint) as table:
        table.put_many({"id": f"k{n:05d}", "pad": "p" * 150} for n in range(2000))
        yield table


def test_ctrl_c_during_export_leaves_no_hidden_file(
    env: dict[str, str | None], endpoint: str, big: Table, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with FaultProxy(endpoint, operations={"Scan"}, latency=8) as proxy:
        outcome = run_process(
            ["--endpoint-url", proxy.endpoint_url, "export", big.name, "-o", str(out / "x.jsonl")],
            env=env,
            deadline=30,
            interrupt_after=3,
        )
    assert_clean_stderr(outcome)
    assert outcome.code in (1, 130), outcome.describe()
    assert listing(out) == [], "an interrupted export (without --resume) left files behind"


@pytest.mark.parametrize("command", ["scan", "export"])
def test_reader_going_away_is_not_an_error(
    env: dict[str, str | None], endpoint: str, big: Table, command: str
) -> None:
    argv = ["scan", big.name] if command == "scan" else ["export", big.name, "-o", "-"]
    merged = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    process = subprocess.Popen(
        [ddbkit_executable(), "--endpoint-url", endpoint, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=merged,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)
    process.stdout.close()  # like `| head -c 100`
    try:
        stderr = process.stderr.read().decode("utf-8", "replace")
        code = process.wait(timeout=30)
    finally:
        process.kill()
        process.stderr.close()
    assert "Traceback" not in stderr, stderr
    assert code == 0, f"exit {code}\n{stderr}"
    assert stderr.strip() == "", stderr
