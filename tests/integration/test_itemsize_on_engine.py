"""item_size agrees with the engine: accepted at exactly 400 KB, refused one byte over."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ddbkit.itemsize import MAX_ITEM_SIZE, item_size

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(endpoint: str) -> Iterator[tuple[Any, str]]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="ddbkit",
        aws_secret_access_key="ddbkit",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    name = f"itemsize-{uuid.uuid4().hex}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        yield client, name
    finally:
        client.delete_table(TableName=name)


@pytest.mark.integration
def test_the_engine_refuses_exactly_the_items_item_size_calls_too_big(
    engine: tuple[Any, str],
) -> None:
    client, name = engine
    values = [
        {"N": "-123.45"},
        {"M": {"k": {"L": [{"N": "1"}, {"NULL": True}, {"SS": ["ab", "c"]}]}}},
        {"BS": [b"\x00" * 7, b"\x01"]},
        {"NS": ["0.001", "-12345678901234567890"]},
    ]
    for value in values:
        item = {"id": {"S": "a"}, "v": value, "p": {"S": ""}}
        filler = MAX_ITEM_SIZE - item_size(item)
        item["p"] = {"S": "x" * filler}
        assert item_size(item) == MAX_ITEM_SIZE
        client.put_item(TableName=name, Item=item)  # accepted at the limit
        item["p"] = {"S": "x" * (filler + 1)}
        with pytest.raises(ClientError, match="size"):
            client.put_item(TableName=name, Item=item)  # refused one byte over
