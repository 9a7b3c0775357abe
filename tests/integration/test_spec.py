"""ConnectionSpec: db.spec rebuilds an equal connection in another process; secrets stay masked."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import ddbkit
from ddbkit.table import Table

pytestmark = pytest.mark.integration

CHILD = """
import pickle, sys
import ddbkit
spec = pickle.loads(sys.stdin.buffer.read())
db = ddbkit.connect(spec)
item = db.table(sys.argv[1]).get({"id": "a1"})
assert db.spec == spec
print(item["note"], db.read_timeout, db.retry.max_attempts)
"""


def test_a_pickled_spec_rebuilds_the_connection_in_a_child_process(
    endpoint: str, table: Table
) -> None:
    table.put({"id": "a1", "note": "from the parent"})
    db = ddbkit.connect(endpoint_url=endpoint, local=True, read_timeout=7, max_attempts=3)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, table.name],
        input=pickle.dumps(db.spec),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["from", "the", "parent", "7.0", "3"]


def test_explicit_keys_reach_the_endpoint_and_never_the_repr(
    endpoint: str, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No other source of credentials: only the explicit keys can sign the request.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ddbkit.CredentialsError):
        ddbkit.connect(endpoint_url=endpoint, region="us-east-1").tables()
    db = ddbkit.connect(
        endpoint_url=endpoint,
        region="us-east-1",
        aws_access_key_id="AKIAEXAMPLEKEY12345",
        aws_secret_access_key="very-secret-value",
        aws_session_token="session-token-value",
    )
    assert db.table(table.name).get({"id": "missing"}) is None  # signed with those keys
    shown = repr(db.spec)
    assert "very-secret-value" not in shown and "session-token-value" not in shown
    assert "AKIAEXAMPLEKEY12345" not in shown and "***2345" in shown
    assert pickle.loads(pickle.dumps(db.spec)) == db.spec


def test_a_local_spec_records_the_engine_it_found(endpoint: str) -> None:
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    assert db.spec.local and db.spec.endpoint_url == endpoint


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ddbkit.connect(ddbkit.ConnectionSpec(), region="eu-west-1"), "not both"),
        (lambda: ddbkit.connect("http://x"), "ConnectionSpec"),  # type: ignore[arg-type]
        (lambda: ddbkit.ConnectionSpec(read_timeout=0), "read_timeout"),
        (lambda: ddbkit.ConnectionSpec(max_attempts=0), "max_attempts"),
    ],
)
def test_bad_specs_are_one_validation_error(call: object, message: str) -> None:
    with pytest.raises(ddbkit.ValidationError, match=message):
        call()  # type: ignore[operator]
