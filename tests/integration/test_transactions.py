"""Transactions on DynamoDB Local: all or nothing, each failed action named, a retried commit
applied once (through the fault proxy), nothing sent when the block fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import ddbkit
from ddbkit.aio import AsyncDatabase, AsyncTransaction, connect_async
from ddbkit.database import Database, Transaction
from ddbkit.table import Table
from tests.conftest import CliRunner, TableFactory
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def orders(make_table: TableFactory) -> Table:
    return make_table()


@pytest.fixture
def stock(make_table: TableFactory) -> Table:
    return make_table(partition_key=("sku", "S"), sort_key=("bin", "N"))


def through(proxy: FaultProxy, **settings: Any) -> Database:
    return ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True, **settings)


def commit(db: Database, actions: Callable[[Transaction], object]) -> Transaction:
    """``actions(tx)`` inside ``with db.transaction() as tx:``."""
    with db.transaction() as tx:
        actions(tx)
    return tx


async def commit_async(
    db: AsyncDatabase, actions: Callable[[AsyncTransaction], object]
) -> AsyncTransaction:
    async with db.transaction() as tx:
        actions(tx)
    return tx


def put_then_fail(
    tx: Transaction | AsyncTransaction,
    table: Table | str,
    item: dict[str, Any],
    message: str = "changed my mind",
    *,
    fail: bool = True,
) -> bool:
    """Add a put, then (``fail``) raise as code inside a transaction's block may."""
    tx.put(table, item)
    if fail:
        raise RuntimeError(message)
    return True


# -- library ---------------------------------------------------------------------------------------


def test_transaction_applies_every_action_across_tables(
    db: Database, orders: Table, stock: Table
) -> None:
    orders.put({"id": "gone"})
    stock.put({"sku": "s1", "bin": 1, "qty": 5})
    stock.put({"sku": "s1", "bin": 2, "qty": 1})
    with db.transaction() as tx:
        tx.put(orders, {"id": "o1", "total": Decimal("9.5")}, condition="attribute_not_exists(id)")
        tx.update(stock.name, {"sku": "s1", "bin": 1}, set="qty = qty - :n", params={"n": 2})
        tx.delete(orders.name, {"id": "gone"})
        tx.check(stock, {"sku": "s1", "bin": 2}, "qty > :z", params={"z": 0})
    assert tx.committed
    assert [str(a) for a in tx.actions] == [
        f"action 1, put {orders.name} {{id: 'o1'}}",
        f"action 2, update {stock.name} {{sku: 's1', bin: 1}}",
        f"action 3, delete {orders.name} {{id: 'gone'}}",
        f"action 4, check {stock.name} {{sku: 's1', bin: 2}}",
    ]
    got = db.get_transaction(
        [(orders, {"id": "o1"}), (stock.name, {"sku": "s1", "bin": 1}), (orders, {"id": "gone"})]
    )
    assert got == [{"id": "o1", "total": Decimal("9.5")}, {"sku": "s1", "bin": 1, "qty": 3}, None]


def test_check_guards_the_whole_transaction(db: Database, orders: Table, stock: Table) -> None:
    stock.put({"sku": "s1", "bin": 1, "qty": 0})

    def actions(tx: Transaction) -> None:
        tx.put(orders, {"id": "o1"})
        tx.check(stock, {"sku": "s1", "bin": 1}, "qty > :min", params={"min": 0})

    with pytest.raises(ddbkit.TransactionCanceled) as caught:
        commit(db, actions)
    assert str(caught.value).endswith(
        f"action 2, check {stock.name} {{sku: 's1', bin: 1}}: condition failed"
    )
    assert orders.get({"id": "o1"}) is None


def test_failed_condition_changes_nothing_and_names_the_action(
    db: Database, orders: Table, stock: Table
) -> None:
    orders.put({"id": "o1", "state": "paid"})
    stock.put({"sku": "s1", "bin": 1, "qty": 5})
    tx = db.transaction()

    def actions(tx: Transaction) -> None:
        tx.update(stock, {"sku": "s1", "bin": 1}, add={"qty": -1})
        tx.update(orders, {"id": "o1"}, set={"state": "sent"}, condition="state = 'new'")
        tx.put(orders, {"id": "o2"})

    actions(tx)
    with pytest.raises(ddbkit.TransactionCanceled) as caught:
        tx.commit()
    error = caught.value
    assert str(error) == (
        "transaction canceled, nothing was applied: "
        f"action 2, update {orders.name} {{id: 'o1'}}: condition failed"
    )
    [reason] = error.reasons
    assert (reason.number, reason.code, reason.reason) == (
        2,
        "ConditionalCheckFailed",
        "condition failed",
    )
    assert reason.action == f"update {orders.name} {{id: 'o1'}}"
    assert error.code == "TransactionCanceledException"
    assert error.cause is not None  # botocore's error, kept
    assert not tx.committed
    assert stock.get({"sku": "s1", "bin": 1}) == {"sku": "s1", "bin": 1, "qty": 5}
    assert orders.get({"id": "o1"}) == {"id": "o1", "state": "paid"}
    assert orders.get({"id": "o2"}) is None


def test_exception_inside_the_block_sends_nothing(endpoint: str, orders: Table) -> None:
    with FaultProxy(endpoint) as proxy:
        db = through(proxy)
        with pytest.raises(RuntimeError, match="changed my mind"):
            commit(db, lambda tx: put_then_fail(tx, orders.name, {"id": "o1"}))
        assert proxy.stats.get("requests:TransactWriteItems", 0) == 0
    assert orders.get({"id": "o1"}) is None


def test_a_commit_retried_after_a_lost_reply_applies_once(endpoint: str, orders: Table) -> None:
    # The proxy forwards the first TransactWriteItems, then drops the connection before the
    # reply: DynamoDB applied it; ddbkit retries with the same ClientRequestToken.
    script = {"TransactWriteItems": ["reset"]}
    with FaultProxy(endpoint, operations=set(script), script=script) as proxy:
        db = through(proxy)
        with db.transaction() as tx:
            tx.update(orders.name, {"id": "counter"}, add={"n": 1})
            tx.put(orders.name, {"id": "audit"}, condition="attribute_not_exists(id)")
        stats = proxy.stats
    assert stats["reset:TransactWriteItems"] == 1
    assert stats["requests:TransactWriteItems"] == 2  # sent twice, applied once
    assert orders.get({"id": "counter"}) == {"id": "counter", "n": 1}


def test_commit_called_again_after_an_error_applies_once(endpoint: str, orders: Table) -> None:
    script = {"TransactWriteItems": ["reset"]}
    with FaultProxy(endpoint, operations=set(script), script=script) as proxy:
        db = through(proxy, max_attempts=1)  # no retries: the lost reply reaches the caller
        tx = db.transaction()
        tx.update(orders.name, {"id": "counter"}, add={"n": 1})
        with pytest.raises(ddbkit.EndpointError, match="may have been applied|broke"):
            tx.commit()
        with pytest.raises(ddbkit.ValidationError, match="sent already"):
            tx.put(orders.name, {"id": "late"})  # the token stands for the actions first sent
        tx.commit()  # the same token: DynamoDB answers with the first outcome
        assert tx.committed
    assert orders.get({"id": "counter"}) == {"id": "counter", "n": 1}


def test_more_than_100_actions_is_refused_before_sending(endpoint: str, orders: Table) -> None:
    with FaultProxy(endpoint) as proxy:
        db = through(proxy)
        many = [(orders.name, {"id": f"i{n}"}) for n in range(101)]
        with pytest.raises(ddbkit.ValidationError, match=r"action 101, put .* at most 100"):
            commit(db, lambda tx: [put_then_fail(tx, t, item, fail=False) for t, item in many])
        assert proxy.stats.get("requests:TransactWriteItems", 0) == 0


def test_two_actions_on_one_item_is_refused(db: Database, stock: Table) -> None:
    def actions(tx: Transaction) -> None:
        tx.put(stock, {"sku": "s1", "bin": 1})
        tx.update(stock, {"sku": "s1", "bin": Decimal("1.0")}, set={"qty": 1})

    with pytest.raises(ddbkit.ValidationError, match="same item as action 1"):
        commit(db, actions)
    assert stock.get({"sku": "s1", "bin": 1}) is None


def test_keys_are_checked_against_each_tables_schema(db: Database, orders: Table) -> None:
    with pytest.raises(ddbkit.InvalidKeyError, match="missing 'id'"):
        commit(db, lambda tx: tx.delete(orders, {"sku": "s1"}))
    with pytest.raises(ddbkit.ValidationError, match="needs a condition"):
        db.transaction().check(orders, {"id": "a"}, "")


def test_get_transaction_limits_and_empty(db: Database, orders: Table) -> None:
    assert db.get_transaction([]) == []
    with pytest.raises(ddbkit.ValidationError, match="at most 100"):
        db.get_transaction([(orders, {"id": f"i{n}"}) for n in range(101)])


def test_async_transaction(endpoint: str, orders: Table) -> None:
    async def run() -> None:
        async with connect_async(endpoint_url=endpoint, local=True) as db:
            async with db.transaction() as tx:
                tx.put(orders.name, {"id": "a", "n": 1})
                tx.update(orders.name, {"id": "b"}, add={"n": 2})
            assert await db.get_transaction(
                [(orders.name, {"id": "a"}), (orders.name, {"id": "b"}), (orders.name, {"id": "c"})]
            ) == [{"id": "a", "n": 1}, {"id": "b", "n": 2}, None]

            def conditional(tx: AsyncTransaction) -> None:
                tx.update(orders.name, {"id": "a"}, add={"n": 1})
                tx.delete(orders.name, {"id": "b"}, condition="n = :x", params={"x": 9})

            with pytest.raises(ddbkit.TransactionCanceled, match=r"action 2, delete .*: condition"):
                await commit_async(db, conditional)
            with pytest.raises(RuntimeError, match="nothing sent"):
                await commit_async(
                    db, lambda tx: put_then_fail(tx, orders.name, {"id": "c"}, "nothing sent")
                )

    asyncio.run(run())
    assert orders.get({"id": "a"}) == {"id": "a", "n": 1}
    assert orders.get({"id": "c"}) is None


def test_async_commit_retried_after_a_lost_reply_applies_once(endpoint: str, orders: Table) -> None:
    script = {"TransactWriteItems": ["reset"]}

    async def run(url: str) -> None:
        async with connect_async(endpoint_url=url, local=True) as db, db.transaction() as tx:
            tx.update(orders.name, {"id": "counter"}, add={"n": 1})

    with FaultProxy(endpoint, operations=set(script), script=script) as proxy:
        asyncio.run(run(proxy.endpoint_url))
        assert proxy.stats["reset:TransactWriteItems"] == 1
    assert orders.get({"id": "counter"}) == {"id": "counter", "n": 1}


# -- command line ----------------------------------------------------------------------------------


def lines(*actions: dict[str, Any]) -> str:
    return "".join(json.dumps(a) + "\n" for a in actions)


def test_cli_transact_commits_and_prints_the_actions(
    cli: CliRunner, orders: Table, stock: Table, tmp_path: Any
) -> None:
    stock.put({"sku": "s1", "bin": 1, "qty": 5})
    path = tmp_path / "tx.jsonl"
    path.write_text(
        lines(
            {"op": "put", "table": orders.name, "item": {"id": "o1", "total": 30}},
            {
                "op": "update",
                "table": stock.name,
                "key": {"sku": "s1", "bin": 1},
                "set": "qty = qty - :n",
                "condition": "qty >= :n",
                "params": {"n": 2},
            },
            {
                "op": "check",
                "table": orders.name,
                "key": {"id": "o9"},
                "condition": "attribute_not_exists(id)",
            },
        )
        + "\n"
    )
    done = cli("transact", str(path))
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"action 1, put {orders.name} {{id: 'o1'}}",
        f"action 2, update {stock.name} {{sku: 's1', bin: 1}}",
        f"action 3, check {orders.name} {{id: 'o9'}}",
    ]
    assert "committed 3 actions" in done.stderr
    assert stock.get({"sku": "s1", "bin": 1}) == {"sku": "s1", "bin": 1, "qty": 3}
    assert orders.get({"id": "o1"}) == {"id": "o1", "total": 30}


def test_cli_transact_cancel_names_the_action_and_exits_1(cli: CliRunner, orders: Table) -> None:
    orders.put({"id": "o1", "state": "paid"})
    done = cli(
        "transact",
        "-",
        stdin=lines(
            {"op": "put", "table": orders.name, "item": {"id": "o2"}},
            {
                "op": "delete",
                "table": orders.name,
                "key": {"id": "o1"},
                "condition": "state = :s",
                "params": {"s": "new"},
            },
        ),
    )
    assert done.code == 1
    assert f"action 2, delete {orders.name} {{id: 'o1'}}: condition failed" in done.stderr
    assert orders.get({"id": "o2"}) is None


def test_cli_transact_bad_line_is_one_error_naming_it(cli: CliRunner, orders: Table) -> None:
    done = cli(
        "transact",
        "-",
        stdin=lines({"op": "put", "table": orders.name, "item": {"id": "a"}})
        + lines({"op": "update", "table": orders.name, "key": {"id": "b"}}),
    )
    assert done.code == 1
    assert done.stderr.strip().splitlines() == [
        'error: stdin line 2: update needs at least one of "set", "add", "remove", "delete"'
    ]
    assert orders.get({"id": "a"}) is None
    done = cli("transact", "-", stdin=lines({"op": "put", "table": orders.name, "item": {"x": 1}}))
    assert done.code == 1 and "stdin line 1: item for table" in done.stderr


def test_cli_transact_in_help(cli: CliRunner) -> None:
    listed = cli("--help", connect=False)
    assert "transact" in listed.stdout
    own = cli("transact", "--help", connect=False)
    assert own.code == 0 and '"op": "check"' in own.stdout


def test_a_table_of_another_connection_is_refused(endpoint: str, orders: Table) -> None:
    with FaultProxy(endpoint) as proxy:
        other = through(proxy)
        with pytest.raises(ddbkit.ValidationError, match="belongs to another connection"):
            commit(other, lambda tx: tx.put(orders, {"id": "x"}))
        assert proxy.stats.get("requests:TransactWriteItems", 0) == 0
    assert orders.get({"id": "x"}) is None
