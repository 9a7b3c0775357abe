"""Table metadata, listing, creating and deleting, and connecting."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.stub import Stubber

import ddbkit
from ddbkit import local
from ddbkit.database import Database
from ddbkit.jobs.tables import IndexSpec
from ddbkit.models import STATS_NOTE
from ddbkit.table import Table
from tests.support import skipguard

pytestmark = pytest.mark.integration


def test_info_describes_keys_indexes_ttl_and_estimate(make_table: Callable[..., Table]) -> None:
    t = make_table(
        partition_key=("customer", "S"),
        sort_key=("order_date", "S"),
        indexes=[
            IndexSpec("by_status", ("status", "S"), ("total", "N"), projection="KEYS_ONLY"),
            IndexSpec(
                "by_total", ("customer", "S"), ("total", "N"), local=True, projection=["status"]
            ),
        ],
        ttl="expires_at",
    )
    t.put({"customer": "c1", "order_date": "2024-01-01", "status": "new", "total": 3})
    info = t.info()
    assert info.name == t.name and info.status == "ACTIVE"
    assert (info.partition_key.name, info.partition_key.type) == ("customer", "S")
    assert info.sort_key is not None and info.sort_key.name == "order_date"
    assert info.billing_mode == "PAY_PER_REQUEST" and info.read_capacity is None
    gsi = info.index("by_status")
    lsi = info.index("by_total")
    assert gsi is not None and gsi.kind == "GSI" and gsi.projection == "KEYS_ONLY"
    assert gsi.sort_key is not None and gsi.sort_key.type == "N"
    assert lsi is not None and lsi.kind == "LSI" and lsi.projected_attributes == ("status",)
    assert info.ttl_attribute == "expires_at"
    assert info.created_at is not None
    assert info.scan_estimate.pages >= 1
    as_dict = info.to_dict()
    assert as_dict["stats_note"] == STATS_NOTE
    assert as_dict["indexes"][0]["name"] in ("by_status", "by_total")


def test_provisioned_table_reports_capacity(make_table: Callable[..., Table]) -> None:
    t = make_table(billing="PROVISIONED", capacity=(3, 4))
    info = t.info()
    assert (info.billing_mode, info.read_capacity, info.write_capacity) == ("PROVISIONED", 3, 4)


def test_tables_lists_names_and_follows_pages(db: Database, table: Table) -> None:
    assert table.name in db.tables()
    paged = ddbkit.connect(endpoint_url=db.endpoint_url, local=True)
    with Stubber(paged.client) as stub:
        stub.add_response(
            "list_tables", {"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"}
        )
        stub.add_response(
            "list_tables", {"TableNames": ["ccc"]}, {"ExclusiveStartTableName": "bbb"}
        )
        assert paged.tables() == ["aaa", "bbb", "ccc"]


def test_create_then_delete_table(db: Database) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    db.create_table(name, partition_key=("id", "N"))
    try:
        assert db.table(name).info().partition_key.type == "N"
        with pytest.raises(ddbkit.DdbkitError, match="ResourceInUse|exist"):
            db.create_table(name)
    finally:
        db.delete_table(name)
    assert name not in db.tables()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"partition_key": ("id", "X")}, "key types are S"),
        ({"billing": "FREE"}, "billing mode"),
        ({"billing": "PROVISIONED"}, "needs capacity"),
        ({"indexes": [IndexSpec("idx", ("other", "S"), local=True)]}, "must use the table's"),
    ],
)
def test_create_table_refuses_bad_specs_before_sending(
    db: Database, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ddbkit.ValidationError, match=message):
        db.create_table("never-created", **kwargs)  # type: ignore[arg-type]


def test_unreachable_endpoint_names_the_fix() -> None:
    db = ddbkit.connect(endpoint_url="http://127.0.0.1:9", local=True)
    with pytest.raises(ddbkit.EndpointError, match=r"cannot reach .*ddbkit local start"):
        db.tables()


def test_local_connection_ignores_aws_profiles_and_endpoints(
    session_engine: local.EngineState | None,
    table: Table,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if session_engine is None:
        pytest.skip(skipguard.ENGINE_GIVEN)
    # connect(local=True) with no endpoint finds the engine by its record, as after
    # 'ddbkit local start', and must not let the AWS settings below send it anywhere else.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    local.write_state(session_engine)
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    db = ddbkit.connect(local=True)
    assert db.endpoint_url == session_engine.endpoint_url
    assert db.region == "us-east-1"
    assert table.name in db.tables()


def test_missing_profile_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ddbkit.CredentialsError, match="profile 'nope-nope' not found"):
        ddbkit.connect(profile="nope-nope")


def test_missing_credentials_is_a_clear_error(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    db = ddbkit.connect(endpoint_url=endpoint, region="us-east-1")
    with pytest.raises(ddbkit.CredentialsError, match="no AWS credentials"):
        db.tables()


def test_retry_mode_defaults_to_standard(endpoint: str) -> None:
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    assert db.client.meta.config.retries["mode"] == "standard"
