"""Transactions built without sending: the entries, the token, the checks, the cancellation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

import ddbkit
from ddbkit import errors
from ddbkit.expr.requests import TableRequests
from ddbkit.expr.transaction import GetActions, WriteActions, key_text
from ddbkit.models import KeyAttribute, KeySchema
from ddbkit.transport.botoerrors import Context
from ddbkit.transport.wire import check_reply
from ddbkit.workflows.transact import parse_action

KEYS = KeySchema(KeyAttribute("id", "S"))
SORTED = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("n", "N"))


def test_entries_are_the_single_item_requests_without_return_values() -> None:
    tx = WriteActions()
    tx.put("T", KEYS, {"id": "a", "x": 1}, condition="attribute_not_exists(id)")
    tx.update("T", KEYS, {"id": "b"}, add={"n": 1}, condition="n < :m", params={"m": 5})
    tx.delete("U", SORTED, {"pk": "p", "n": 2})
    tx.check("U", SORTED, {"pk": "p", "n": 3}, "attribute_exists(pk)")
    request = tx.request()
    put, update, delete, check = request["TransactItems"]
    single = (
        TableRequests("T")
        .update_item(KEYS, {"id": "b"}, add={"n": 1}, condition="n < :m", params={"m": 5})
        .params
    )
    assert update == {"Update": {k: v for k, v in single.items() if k != "ReturnValues"}}
    assert put["Put"]["Item"] == {"id": {"S": "a"}, "x": {"N": "1"}}
    assert "ConditionExpression" in put["Put"]
    assert delete == {"Delete": {"TableName": "U", "Key": {"pk": {"S": "p"}, "n": {"N": "2"}}}}
    assert set(check["ConditionCheck"]) == {
        "TableName", "Key", "ConditionExpression", "ExpressionAttributeNames"
    }  # fmt: skip


def test_the_token_is_made_once_and_sent_every_time() -> None:
    tx = WriteActions()
    tx.put("T", KEYS, {"id": "a"})
    first, again = tx.request(), tx.request()
    assert first["ClientRequestToken"] == again["ClientRequestToken"] == tx.token
    assert 0 < len(tx.token) <= 36
    assert WriteActions().token != tx.token


def test_one_action_per_item_whatever_the_number_spelling() -> None:
    tx = WriteActions()
    tx.put("U", SORTED, {"pk": "p", "n": 1})
    tx.put("T", SORTED, {"pk": "p", "n": 1})  # another table: another item
    with pytest.raises(errors.ValidationError, match="action 3, check U {pk: 'p', n: 1.00}"):
        tx.check("U", SORTED, {"pk": "p", "n": Decimal("1.00")}, "attribute_exists(pk)")
    assert len(tx) == 2


def test_at_most_100_actions() -> None:
    tx = WriteActions()
    for n in range(100):
        tx.delete("T", KEYS, {"id": str(n)})
    with pytest.raises(errors.ValidationError, match="action 101, delete T {id: 'x'} is one too"):
        tx.delete("T", KEYS, {"id": "x"})
    gets = GetActions()
    for n in range(100):
        gets.get("T", KEYS, {"id": str(n)})
    with pytest.raises(errors.ValidationError, match="at most 100"):
        gets.get("T", KEYS, {"id": "x"})


def test_check_needs_a_condition_and_empty_transactions_have_no_request() -> None:
    with pytest.raises(errors.ValidationError, match="needs a condition"):
        WriteActions().check("T", KEYS, {"id": "a"}, None)
    with pytest.raises(errors.ValidationError, match="at least one action"):
        WriteActions().request()


def test_gets_decode_in_order_with_none_for_missing() -> None:
    gets = GetActions()
    gets.get("T", KEYS, {"id": "a"}, attributes=["x"])
    gets.get("T", KEYS, {"id": "b"})
    entry = gets.request()["TransactItems"][0]["Get"]
    assert "ConsistentRead" not in entry and entry["ProjectionExpression"]
    reply = {"Responses": [{"Item": {"id": {"S": "a"}, "x": {"N": "2"}}}, {}]}
    assert gets.items(reply) == [{"id": "a", "x": 2}, None]


def canceled_reply(*codes: str) -> Any:
    reasons = [{"Code": c, "Message": "The conditional request failed"} for c in codes]
    body = (
        b'{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",'
        b'"message":"Transaction cancelled","CancellationReasons":'
        + repr(reasons).replace("'", '"').encode()
        + b"}"
    )
    with pytest.raises(errors.TransactionCanceled) as caught:
        check_reply(400, {}, body, "TransactWriteItems", Context(endpoint="http://x"))
    return caught.value


def test_a_cancellation_names_each_failed_action() -> None:
    raw = canceled_reply("None", "ConditionalCheckFailed", "TransactionConflict")
    assert isinstance(raw.cause, ClientError)
    assert [r.number for r in raw.reasons] == [2, 3]
    tx = WriteActions()
    tx.put("T", KEYS, {"id": "a"})
    tx.update("orders", KEYS, {"id": "o1"}, set={"s": 1})
    tx.delete("T", KEYS, {"id": "c"})
    named = tx.canceled(raw)
    assert str(named) == (
        "transaction canceled, nothing was applied: "
        "action 2, update orders {id: 'o1'}: condition failed; "
        "action 3, delete T {id: 'c'}: another transaction or write was changing the item "
        "(try again)"
    )
    assert str(named.reasons[0]) == "action 2, update orders {id: 'o1'}: condition failed"
    assert named.cause is raw.cause and named.code == "TransactionCanceledException"


def test_key_text() -> None:
    assert (
        key_text({"id": "o1", "n": Decimal("3"), "b": b"\x00"}) == "{id: 'o1', n: 3, b: b'\\x00'}"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1]", "an action is a JSON object"),
        ('{"table": "T"}', 'needs "op"'),
        ('{"op": "upsert", "table": "T"}', "op must be one of put, update, delete, check"),
        ('{"op": "put"}', 'put needs "table"'),
        ('{"op": "put", "table": "T"}', 'put needs "item"'),
        ('{"op": "check", "table": "T", "key": {}}', 'check needs "condition"'),
        ('{"op": "delete", "table": "T", "key": {}, "set": "a = 1"}', 'delete takes no "set"'),
        ('{"op": "update", "table": "T", "key": {}}', "at least one of"),
        ('{"op": "put", "table": "T", "item": {}, "params": [1]}', '"params" is an object'),
        ("{nope", "invalid JSON"),
    ],
)
def test_bad_action_lines(line: str, message: str) -> None:
    with pytest.raises(errors.ValidationError, match=message):
        parse_action(line)


def test_a_table_of_another_connection_is_refused_before_any_request() -> None:
    here = ddbkit.connect(endpoint_url="http://127.0.0.1:9", local=True)
    there = ddbkit.connect(endpoint_url="http://127.0.0.1:9", local=True)
    tx = here.transaction()
    with pytest.raises(ddbkit.ValidationError, match="belongs to another connection"):
        tx.put(there.table("orders"), {"id": "o1"})
