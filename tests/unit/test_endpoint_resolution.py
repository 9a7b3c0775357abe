"""The lean transport sends each operation where a boto3 client would, signed for the same scope.

No request leaves the process: the botocore client's dry run (transport/wire.py) answers itself.
"""

from __future__ import annotations

import pytest

import ddbkit
from ddbkit.transport.wire import Target

GET = {"TableName": "t", "Key": {"id": {"S": "1"}}}


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRESOLVE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")


def target(**settings: str) -> Target:
    db = ddbkit.connect(**settings)  # type: ignore[arg-type]
    return db.transport.resolver.target("get_item", "t", lambda: GET)


def test_a_region_resolves_to_its_public_endpoint() -> None:
    assert target(region="eu-west-1") == Target(
        "https://dynamodb.eu-west-1.amazonaws.com/", "dynamodb", "eu-west-1"
    )


def test_fips_and_dual_stack_settings_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    assert target(region="us-east-1").url == "https://dynamodb-fips.us-east-1.amazonaws.com/"
    monkeypatch.delenv("AWS_USE_FIPS_ENDPOINT")
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true")
    assert target(region="us-east-1").url == "https://dynamodb.us-east-1.api.aws/"


def test_the_dynamodb_endpoint_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4566")
    assert target(region="eu-west-1") == Target("http://127.0.0.1:4566/", "dynamodb", "eu-west-1")


def test_an_explicit_endpoint_is_used_as_given() -> None:
    assert target(endpoint_url="http://127.0.0.1:8000", region="ap-south-1") == Target(
        "http://127.0.0.1:8000/", "dynamodb", "ap-south-1"
    )


def test_an_explicit_endpoint_wins_over_fips_as_in_botocore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    assert target(endpoint_url="http://127.0.0.1:8000", region="us-east-1") == Target(
        "http://127.0.0.1:8000/", "dynamodb", "us-east-1"
    )
