"""item_size agrees with the engine: accepted at exactly 400 KB, refused one byte over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ddbkit.values.itemsize import MAX_ITEM_SIZE, item_size
from tests.conftest import raw_table

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(endpoint: str) -> Iterator[tuple[Any, str]]:
    """A boto3 client on the session's engine and a uuid-named table keyed by ``id`` (S)."""
    with raw_table(endpoint, "id", "itemsize") as engine:
        yield engine


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
