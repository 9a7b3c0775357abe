"""The lean transports sign with the credentials the AWS CLI would use, and never log them.

Not ``local=True`` (which signs with dummy keys on purpose): a plain ``connect(endpoint_url=...,
region=...)`` through tests/support/recorder.py in front of DynamoDB Local, with the
credentials planted in the environment or in config and credentials files (monkeypatched, in
tmp_path). Every request the proxy saw, the hot ones sent by the lean paths and the control-plane
ones by botocore's client, names the expected access key in ``Credential=``, carries the
expected session token, and has the signature the expected secret key makes for it. The
``ddbkit`` logger at DEBUG (what ``--debug`` prints; tests/integration/test_cli.py checks the
command) shows requests and retries, never a key, a token, a signature or an item's values.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.credentials import Credentials

import ddbkit
from ddbkit.aio import connect_async
from tests.conftest import TableFactory
from tests.support.faultproxy import FaultProxy
from tests.support.recorder import RecordingProxy, signed_with

pytestmark = pytest.mark.integration

REGION = "us-east-1"
HOT = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem",
}  # fmt: skip
PROFILE = "ddbkit-test"
# Every variable botocore reads credentials, a profile or its files from.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_REGION", "AWS_DEFAULT_REGION",
)  # fmt: skip


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str

    @classmethod
    def made(cls, name: str) -> Keys:
        tag = uuid.uuid4().hex.upper()
        # DynamoDB Local takes access key ids of letters and digits only.
        return cls(f"AKIA{name.upper()}{tag[:12]}", f"{name}Secret/{tag}", f"{name}Token{tag}")

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, self.session_token)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS variable of the host's; empty config and credentials files; no instance metadata."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("")
    credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def plant_env(monkeypatch: pytest.MonkeyPatch, keys: Keys) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", keys.session_token)


def plant_profile(folder: Path, keys: Keys, default: Keys) -> None:
    """The profile in the config file (region) and the credentials file (keys), next to a
    default profile with other keys that must not be used."""
    (folder / "config").write_text(
        f"[default]\nregion = eu-west-1\n\n[profile {PROFILE}]\nregion = {REGION}\n"
    )
    (folder / "credentials").write_text(
        f"[default]\naws_access_key_id = {default.access_key_id}\n"
        f"aws_secret_access_key = {default.secret_access_key}\n\n"
        f"[{PROFILE}]\naws_access_key_id = {keys.access_key_id}\n"
        f"aws_secret_access_key = {keys.secret_access_key}\n"
        f"aws_session_token = {keys.session_token}\n"
    )


def sync_calls(proxy: RecordingProxy, table: str, profile: str | None) -> None:
    with ddbkit.connect(endpoint_url=proxy.endpoint_url, region=REGION, profile=profile) as db:
        t = db.table(table)
        t.put({"id": "a", "v": 1})
        assert t.get({"id": "a"}) == {"id": "a", "v": 1}
        t.update({"id": "a"}, set={"v": 2})
        assert [i["v"] for i in t.query("id = 'a'")] == [2]
        t.put_many([{"id": "b"}, {"id": "c"}])
        assert len(list(t.get_many([{"id": "a"}, {"id": "b"}]))) == 2
        t.delete({"id": "c"})
        assert sorted(i["id"] for i in t.scan()) == ["a", "b"]


def async_calls(proxy: RecordingProxy, table: str, profile: str | None) -> None:
    async def calls() -> None:
        url = proxy.endpoint_url
        async with connect_async(endpoint_url=url, region=REGION, profile=profile) as db:
            t = db.table(table)
            await t.put({"id": "a", "v": 1})
            assert await t.get({"id": "a"}) == {"id": "a", "v": 1}
            await t.update({"id": "a"}, set={"v": 2})
            assert [i["v"] async for i in t.query("id = 'a'")] == [2]
            await t.put_many([{"id": "b"}, {"id": "c"}])
            assert len([i async for i in t.get_many([{"id": "a"}, {"id": "b"}])]) == 2
            await t.delete({"id": "c"})
            assert sorted([i["id"] async for i in t.scan()]) == ["a", "b"]

    asyncio.run(calls())


CALLS = {"sync": sync_calls, "async": async_calls}


def assert_signed_by(proxy: RecordingProxy, keys: Keys) -> None:
    """Every request was signed by ``keys``; the hot ones were sent by the lean path."""
    requests = proxy.requests
    assert {r.operation for r in requests} >= HOT, "a hot operation was never sent"
    for request in requests:
        assert request.access_key_id == keys.access_key_id, request.operation
        assert request.header("X-Amz-Security-Token") == keys.session_token, request.operation
        assert signed_with(request, keys.credentials, REGION), f"{request.operation}: signature"
        if request.operation in HOT:
            assert (request.header("User-Agent") or "").startswith("ddbkit/"), request.operation


@pytest.fixture
def recorded(endpoint: str) -> Iterator[RecordingProxy]:
    with RecordingProxy(endpoint) as proxy:
        yield proxy


@pytest.mark.parametrize("transport", ["sync", "async"])
def test_keys_from_the_environment_sign_every_request(
    monkeypatch: pytest.MonkeyPatch,
    clean_env: Path,
    make_table: TableFactory,
    recorded: RecordingProxy,
    transport: str,
) -> None:
    table = make_table()
    keys = Keys.made("env")
    plant_env(monkeypatch, keys)
    CALLS[transport](recorded, table.name, None)
    assert_signed_by(recorded, keys)


@pytest.mark.parametrize("how", ["AWS_PROFILE", "profile="])
@pytest.mark.parametrize("transport", ["sync", "async"])
def test_a_profile_from_the_aws_files_signs_every_request(
    monkeypatch: pytest.MonkeyPatch,
    clean_env: Path,
    make_table: TableFactory,
    recorded: RecordingProxy,
    transport: str,
    how: str,
) -> None:
    table = make_table()
    keys, default = Keys.made("profile"), Keys.made("default")
    plant_profile(clean_env, keys, default)
    if how == "AWS_PROFILE":
        monkeypatch.setenv("AWS_PROFILE", PROFILE)
        profile = None
    else:
        # An explicit profile wins over keys in the environment, as with `aws --profile`.
        plant_env(monkeypatch, Keys.made("ignored"))
        profile = PROFILE
    CALLS[transport](recorded, table.name, profile)
    assert_signed_by(recorded, keys)


def test_a_signature_made_with_another_secret_does_not_match(
    monkeypatch: pytest.MonkeyPatch,
    clean_env: Path,
    make_table: TableFactory,
    recorded: RecordingProxy,
) -> None:
    """The check above can fail: the same key id with another secret or token is told apart."""
    table = make_table()
    keys = Keys.made("env")
    plant_env(monkeypatch, keys)
    with ddbkit.connect(endpoint_url=recorded.endpoint_url, region=REGION) as db:
        db.table(table.name).put({"id": "x"})
    (put,) = [r for r in recorded.requests if r.operation == "PutItem"]
    assert signed_with(put, keys.credentials, REGION)
    other_secret = Credentials(keys.access_key_id, keys.secret_access_key + "x", keys.session_token)
    other_token = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token + "x")
    assert not signed_with(put, other_secret, REGION)
    assert not signed_with(put, other_token, REGION)


# -- what the logs show ---------------------------------------------------------------------------


def test_the_ddbkit_logger_at_debug_shows_no_secret_or_signature_during_async_calls(
    monkeypatch: pytest.MonkeyPatch,
    clean_env: Path,
    endpoint: str,
    make_table: TableFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = make_table()
    keys = Keys.made("logged")
    plant_env(monkeypatch, keys)
    private = f"PRIVATEvalue{uuid.uuid4().hex}"
    # The first requests of each write meet a throttle, a 500 and a reset: retry lines too.
    script = {op: ["throttle", "error_500", "reset"] for op in ("PutItem", "BatchWriteItem")}
    caplog.set_level(logging.DEBUG, logger="ddbkit")

    async def calls(url: str) -> list[str]:
        failures: list[str] = []
        async with connect_async(endpoint_url=url, region=REGION) as db:
            t = db.table(table.name)
            await t.put({"id": "a", "note": private})
            await t.update({"id": "a"}, set="v = :v", params={"v": private})
            assert (await t.get({"id": "a"}) or {})["v"] == private
            await t.put_many({"id": f"m{n}", "note": private} for n in range(40))
            assert len([i async for i in t.scan("note = :p", params={"p": private})]) == 41
            assert len([i async for i in t.get_many([{"id": "a"}, {"id": "m1"}])]) == 2
            assert [i async for i in t.query("id = :id", params={"id": private})] == []
            for failing in (
                t.put({"id": "a"}, condition="note <> :p", params={"p": private}),
                db.table("no-such-table").get({"id": private}),
                t.delete({"id": "a"}, condition="v = :x", params={"x": private + "x"}),
            ):
                with pytest.raises(ddbkit.DdbkitError) as raised:
                    await failing
                failures.append(str(raised.value))
        return failures

    with FaultProxy(endpoint, operations=set(script), script=script) as proxy:
        failures = asyncio.run(calls(proxy.endpoint_url))
        assert proxy.stats["reset"] == 2
    records = [r for r in caplog.records if r.name.startswith("ddbkit")]
    logged = "\n".join(r.getMessage() for r in records)
    # The log is there: every request by operation, and the retries...
    for method in ("put_item", "update_item", "get_item", "batch_write_item", "scan", "query"):
        assert f"{method} {{" in logged, f"no debug line for {method}"
    assert "batch_get_item {" in logged and "describe_table {" in logged
    assert sum(m.startswith("retrying") for m in logged.splitlines()) >= 4
    # ...with no credential, signature, Authorization header or item content in it.
    shown = logged + "\n".join(failures)
    for secret in (keys.access_key_id, keys.secret_access_key, keys.session_token, private):
        assert secret not in shown, f"{secret!r} logged"
    for sign in ("Signature=", "Credential=", "AWS4-HMAC-SHA256", "X-Amz-Security-Token"):
        assert sign not in shown, f"{sign!r} logged"
    assert "authorization" not in shown.lower()
