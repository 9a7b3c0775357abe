"""The fault-injecting proxy, checked with a plain botocore client against DynamoDB Local."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from tests.support.faultproxy import IDLE_TIMEOUT, FaultProxy
from tests.support.faultwire import merge_unprocessed, split_batch

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
THROTTLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}


@contextmanager
def dynamodb(url: str, *, attempts: int = 1) -> Iterator[Any]:
    """A botocore client; ``attempts=1`` means no retries at all.

    Note ``retries={"max_attempts": 1}`` would still allow one retry: that key counts retries,
    ``total_max_attempts`` counts attempts.
    """
    session = boto3.session.Session(
        aws_access_key_id="ddbkit", aws_secret_access_key="ddbkit", region_name="us-east-1"
    )
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    client = session.client("dynamodb", endpoint_url=url, config=config)
    try:
        yield client
    finally:
        client.close()


def faulty(
    endpoint: str, rates: dict[str, float], *, seed: int = 0, operations: set[str]
) -> FaultProxy:
    """A proxy with rates chosen by name (a ``**`` of floats would also hit the int parameters)."""
    proxy = FaultProxy(endpoint, seed=seed, operations=operations)
    proxy.set_rates(**rates)
    return proxy


@pytest.fixture(scope="module")
def direct(endpoint: str) -> Iterator[Any]:
    with dynamodb(endpoint) as client:
        yield client


@pytest.fixture(scope="module")
def table(direct: Any) -> Iterator[str]:
    """One uuid-named table for the module; each test keeps to its own key prefix."""
    name = f"faultproxy-{uuid.uuid4().hex[:12]}"
    direct.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        direct.get_waiter("table_exists").wait(TableName=name)
        yield name
    finally:
        direct.delete_table(TableName=name)


@pytest.fixture
def prefix() -> str:
    return uuid.uuid4().hex[:8]


def item(key: str, **extra: str) -> dict[str, Any]:
    return {"id": {"S": key}, **{k: {"S": v} for k, v in extra.items()}}


def put_request(key: str) -> dict[str, Any]:
    return {"PutRequest": {"Item": item(key, v=f"value-{key}")}}


def stored_ids(client: Any, table: str, prefix: str) -> set[str]:
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="begins_with(id, :p)",
        ExpressionAttributeValues={":p": {"S": prefix}},
    )
    return {row["id"]["S"] for page in pages for row in page["Items"]}


def error_code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def outcome(call: Any) -> str:
    """'ok' or the botocore error code / exception name of one call."""
    try:
        call()
    except ClientError as exc:
        return error_code(exc)
    except ConnectionClosedError:
        return "ConnectionClosedError"
    return "ok"


def raw_request(
    url: str, operation: str, payload: dict[str, Any]
) -> tuple[int, dict[str, str], bytes]:
    """One request without botocore, to see the exact reply bytes and headers."""
    port = int(url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/",
            body=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                # DynamoDB Local wants a SigV4-shaped header but never checks the signature.
                "Authorization": "AWS4-HMAC-SHA256 Credential=ddbkit/20240101/us-east-1/"
                "dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def test_rate_zero_is_transparent(endpoint: str, direct: Any, table: str, prefix: str) -> None:
    keys = [f"{prefix}-{i:02}" for i in range(15)]
    with FaultProxy(endpoint, seed=1) as proxy, dynamodb(proxy.endpoint_url) as client:
        for key in keys[:5]:
            client.put_item(TableName=table, Item=item(key, v="single"))
        client.batch_write_item(RequestItems={table: [put_request(k) for k in keys[5:]]})

        assert stored_ids(client, table, prefix) == set(keys)
        assert stored_ids(direct, table, prefix) == set(keys)
        for key in (keys[0], keys[9], f"{prefix}-missing"):
            via_proxy = client.get_item(TableName=table, Key=item(key), ConsistentRead=True)
            straight = direct.get_item(TableName=table, Key=item(key), ConsistentRead=True)
            assert via_proxy.get("Item") == straight.get("Item")
        got = client.batch_get_item(
            RequestItems={table: {"Keys": [item(k) for k in keys], "ConsistentRead": True}}
        )
        assert got["UnprocessedKeys"] == {}
        assert sorted(r["id"]["S"] for r in got["Responses"][table]) == keys
        stats = proxy.stats
    assert stats["requests"] == stats["forwarded"] > 0
    assert not any(stats[fault] for fault in ("throttle", "error_500", "error_503", "reset"))
    assert stats["unprocessed"] == stats["withheld_items"] == 0
    assert stats["requests:PutItem"] == 5


def test_throttle_raises_every_throttling_code_and_spares_other_operations(
    endpoint: str, direct: Any, table: str, prefix: str
) -> None:
    with (
        FaultProxy(endpoint, seed=5, throttle=1.0, operations={"PutItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):
        codes: set[str] = set()
        for i in range(30):
            with pytest.raises(ClientError) as caught:
                client.put_item(TableName=table, Item=item(f"{prefix}-{i}"))
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            codes.add(error_code(caught.value))
        # Operations outside ``operations`` pass untouched.
        assert client.describe_table(TableName=table)["Table"]["TableName"] == table
        stats = proxy.stats
    assert codes == THROTTLE_CODES
    assert stored_ids(direct, table, prefix) == set()
    assert stats["throttle"] == stats["throttle:PutItem"] == 30
    assert stats["forwarded"] == stats["requests:DescribeTable"] == 1


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("error_500", 500, "InternalServerError"),
        ("error_503", 503, "ServiceUnavailable"),
        ("not_found", 400, "ResourceNotFoundException"),
    ],
)
def test_error_replies_are_not_forwarded(
    endpoint: str, direct: Any, table: str, prefix: str, fault: str, status: int, code: str
) -> None:
    with (
        faulty(endpoint, {fault: 1.0}, operations={"PutItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):
        with pytest.raises(ClientError) as caught:
            client.put_item(TableName=table, Item=item(f"{prefix}-x"))
        stats = proxy.stats
    assert error_code(caught.value) == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert stored_ids(direct, table, prefix) == set()
    assert stats[fault] == 1
    assert stats["forwarded"] == 0


def test_a_script_faults_the_first_requests_in_order_then_the_rates_apply(
    endpoint: str, table: str
) -> None:
    script = {"GetItem": ["error_503", "reset", "throttle", "not_found"]}
    with (
        FaultProxy(endpoint, operations={"GetItem"}, script=script) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):
        seen = [outcome(lambda: client.get_item(TableName=table, Key=item("k"))) for _ in range(6)]
        stats = proxy.stats
    assert seen[:2] == ["ServiceUnavailable", "ConnectionClosedError"]
    assert seen[2] in THROTTLE_CODES
    assert seen[3:] == ["ResourceNotFoundException", "ok", "ok"]
    assert stats["requests:GetItem"] == 6 and stats["forwarded"] == 3  # reset forwards
    with pytest.raises(ValueError, match="unknown fault"):
        FaultProxy(endpoint, script={"GetItem": ["slowness"]})


def test_a_scripted_hang_times_out_the_client_after_the_write_happened(
    endpoint: str, direct: Any, table: str, prefix: str
) -> None:
    session = boto3.session.Session(
        aws_access_key_id="ddbkit", aws_secret_access_key="ddbkit", region_name="us-east-1"
    )
    config = Config(read_timeout=0.3, retries={"mode": "standard", "total_max_attempts": 1})
    with FaultProxy(endpoint, operations={"PutItem"}, script={"PutItem": ["hang"]}) as proxy:
        client = session.client("dynamodb", endpoint_url=proxy.endpoint_url, config=config)
        try:
            started = time.monotonic()
            with pytest.raises(ReadTimeoutError):
                client.put_item(TableName=table, Item=item(f"{prefix}-hung"))
            waited = time.monotonic() - started
            client.put_item(TableName=table, Item=item(f"{prefix}-next"))  # the script is spent
        finally:
            client.close()
        stats = proxy.stats
    assert 0.3 <= waited < 5  # the client's read timeout, not the 30 s hold, ended the wait
    assert stored_ids(direct, table, prefix) == {f"{prefix}-hung", f"{prefix}-next"}
    assert stats["hang"] == stats["hang:PutItem"] == 1 and stats["forwarded"] == 2
    assert proxy.decisions == [("PutItem", "hang"), ("PutItem", "none")]


def test_reset_raises_connection_closed_after_the_write_happened(
    endpoint: str, direct: Any, table: str, prefix: str
) -> None:
    with (
        FaultProxy(endpoint, reset=1.0, operations={"PutItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):
        for i in range(3):
            with pytest.raises(ConnectionClosedError):
                client.put_item(TableName=table, Item=item(f"{prefix}-{i}"))
        # The pool drops the broken connection; the next request on a fresh one works.
        assert client.describe_table(TableName=table)["Table"]["TableName"] == table
        stats = proxy.stats
    assert stored_ids(direct, table, prefix) == {f"{prefix}-{i}" for i in range(3)}
    assert stats["reset"] == 3
    assert stats["forwarded"] == 4


def test_unprocessed_batch_write_withholds_items_and_writes_the_rest(
    endpoint: str, direct: Any, table: str, prefix: str
) -> None:
    keys = {f"{prefix}-{i:02}" for i in range(25)}
    requests = [put_request(k) for k in sorted(keys)]
    # Retries allowed: a wrong x-amz-crc32 would make botocore resend (and stats would show it).
    with (
        FaultProxy(endpoint, seed=11, unprocessed=1.0, operations={"BatchWriteItem"}) as proxy,
        dynamodb(proxy.endpoint_url, attempts=3) as client,
    ):
        reply = client.batch_write_item(RequestItems={table: requests})
        stats = proxy.stats
    withheld = reply["UnprocessedItems"][table]
    withheld_ids = {r["PutRequest"]["Item"]["id"]["S"] for r in withheld}
    assert 0 < len(withheld_ids) < len(keys)
    assert all(r in requests for r in withheld)  # unchanged, ready to resend
    assert stored_ids(direct, table, prefix) == keys - withheld_ids
    assert stats["requests"] == stats["unprocessed"] == stats["forwarded"] == 1
    assert stats["withheld_items"] == stats["withheld_items:BatchWriteItem"] == len(withheld)


def test_rewritten_reply_has_a_valid_crc32(endpoint: str, table: str, prefix: str) -> None:
    payload = {"RequestItems": {table: [put_request(f"{prefix}-{i}") for i in range(10)]}}
    with FaultProxy(endpoint, seed=3, unprocessed=1.0) as proxy:
        status, headers, body = raw_request(proxy.endpoint_url, "BatchWriteItem", payload)
    assert status == 200
    assert json.loads(body)["UnprocessedItems"][table]
    assert headers["x-amz-crc32"] == str(zlib.crc32(body) & 0xFFFFFFFF)
    assert headers["content-length"] == str(len(body))
    assert headers["content-type"] == "application/x-amz-json-1.0"


def test_unprocessed_batch_get_keeps_the_request_fields(
    endpoint: str, direct: Any, table: str, prefix: str
) -> None:
    keys = [f"{prefix}-{i:02}" for i in range(20)]
    direct.batch_write_item(RequestItems={table: [put_request(k) for k in keys]})
    spec = {
        "Keys": [item(k) for k in keys],
        "ProjectionExpression": "#i, v",
        "ExpressionAttributeNames": {"#i": "id"},
        "ConsistentRead": True,
    }
    with (
        FaultProxy(endpoint, seed=2, unprocessed=1.0, operations={"BatchGetItem"}) as proxy,
        dynamodb(proxy.endpoint_url, attempts=3) as client,
    ):
        reply = client.batch_get_item(RequestItems={table: spec})
        stats = proxy.stats
    unprocessed = reply["UnprocessedKeys"][table]
    assert {k: v for k, v in unprocessed.items() if k != "Keys"} == {
        k: v for k, v in spec.items() if k != "Keys"
    }
    withheld = [key["id"]["S"] for key in unprocessed["Keys"]]
    returned = [row["id"]["S"] for row in reply["Responses"][table]]
    assert withheld
    assert sorted(withheld + returned) == keys
    assert all(row["v"]["S"] == f"value-{row['id']['S']}" for row in reply["Responses"][table])
    assert stats["withheld_items"] == len(withheld)
    assert stats["requests"] == 1


def test_unprocessed_can_withhold_the_whole_batch(endpoint: str, table: str, prefix: str) -> None:
    # With one entry the only way to withhold something is to withhold everything.
    with FaultProxy(endpoint, unprocessed=1.0) as proxy, dynamodb(proxy.endpoint_url) as client:
        write = client.batch_write_item(RequestItems={table: [put_request(f"{prefix}-only")]})
        get = client.batch_get_item(RequestItems={table: {"Keys": [item(f"{prefix}-only")]}})
        stats = proxy.stats
    assert write["UnprocessedItems"] == {table: [put_request(f"{prefix}-only")]}
    assert get["Responses"] == {table: []}
    assert get["UnprocessedKeys"] == {table: {"Keys": [item(f"{prefix}-only")]}}
    assert stats["forwarded"] == 0
    assert stats["unprocessed"] == 2


def test_same_seed_gives_the_same_fault_sequence(endpoint: str, table: str) -> None:
    def run(seed: int) -> tuple[list[str], list[tuple[str, str]]]:
        rates = {"throttle": 0.3, "error_500": 0.15, "error_503": 0.15}
        with (
            faulty(endpoint, rates, seed=seed, operations={"GetItem"}) as proxy,
            dynamodb(proxy.endpoint_url) as client,
        ):
            seen = []
            for i in range(40):
                if i % 10 == 0:  # not in ``operations``: must not shift the sequence
                    client.describe_table(TableName=table)
                seen.append(outcome(lambda: client.get_item(TableName=table, Key=item("k"))))
            return seen, proxy.decisions

    first, decisions = run(42)
    assert run(42) == (first, decisions)
    assert run(43)[0] != first
    assert {"ok", "InternalServerError", "ServiceUnavailable"} <= set(first)
    assert set(first) - {"ok", "InternalServerError", "ServiceUnavailable"} <= THROTTLE_CODES
    assert len(decisions) == 40


def test_stats_match_what_the_client_saw(endpoint: str, table: str) -> None:
    rates = {"throttle": 0.25, "error_500": 0.25, "error_503": 0.25}
    with (
        faulty(endpoint, rates, seed=9, operations={"GetItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):
        seen = [outcome(lambda: client.get_item(TableName=table, Key=item("k"))) for _ in range(60)]
        client.describe_table(TableName=table)
        stats = proxy.stats
    assert stats["requests"] == 61
    assert stats["requests:GetItem"] == 60
    assert stats["requests:DescribeTable"] == 1
    assert stats["throttle"] == sum(code in THROTTLE_CODES for code in seen)
    assert stats["error_500"] == seen.count("InternalServerError")
    assert stats["error_503"] == seen.count("ServiceUnavailable")
    assert stats["forwarded"] == seen.count("ok") + 1
    assert stats["throttle:GetItem"] == stats["throttle"]


def test_latency_delays_only_the_chosen_operations(endpoint: str, table: str) -> None:
    with (
        FaultProxy(endpoint, latency=0.3, latency_jitter=0.1, operations={"GetItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):
        client.describe_table(TableName=table)
        started = time.monotonic()
        client.get_item(TableName=table, Key=item("k"))
        slow = time.monotonic() - started
        client.describe_table(TableName=table)
        stats = proxy.stats
    # The added wait is a floor (a busy machine only adds to it); which requests were held back
    # is the proxy's own record, not a stopwatch's guess.
    assert slow >= 0.3
    assert stats["delayed"] == stats["delayed:GetItem"] == 1
    assert stats["requests:DescribeTable"] == 2 and "delayed:DescribeTable" not in stats


def test_set_rates_changes_faults_while_running(endpoint: str, table: str) -> None:
    with (
        FaultProxy(endpoint, operations={"GetItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):

        def get() -> str:
            return outcome(lambda: client.get_item(TableName=table, Key=item("k")))

        assert get() == "ok"
        proxy.set_rates(error_503=1.0)
        assert get() == "ServiceUnavailable"
        proxy.set_rates(error_503=0.0)
        assert get() == "ok"
        assert proxy.rates["error_503"] == 0.0
        with pytest.raises(ValueError):
            proxy.set_rates(throttle=1.5)
        with pytest.raises(ValueError):
            proxy.set_rates(latency=-1.0)
        with pytest.raises(TypeError):
            proxy.set_rates(slowness=1.0)


def test_stop_closes_keep_alive_connections_and_frees_the_port(endpoint: str, table: str) -> None:
    before = set(threading.enumerate())
    proxy = FaultProxy(endpoint).start()
    port = proxy.port
    with dynamodb(proxy.endpoint_url) as client:
        client.describe_table(TableName=table)  # leaves a pooled keep-alive connection open
        started = set(threading.enumerate()) - before
        assert started, "the proxy serves from threads of its own"
        began = time.monotonic()
        proxy.stop()
        # Well under the idle timeout a handler would otherwise wait on its keep-alive socket.
        assert time.monotonic() - began < IDLE_TIMEOUT / 4
        proxy.stop()  # idempotent
        with pytest.raises(EndpointConnectionError):
            client.describe_table(TableName=table)
    # Every thread the proxy started ends (each is joined, not counted): a handler that already
    # left the proxy's books may take a moment.
    for thread in started:
        thread.join(timeout=10)
    assert not [thread.name for thread in started if thread.is_alive()]
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_concurrent_writers_that_resend_everything_lose_nothing(
    endpoint: str, direct: Any, table: str, prefix: str
) -> None:
    # The scenario the batch writer faces: every fault at once, from many pooled connections.
    rates = {
        "throttle": 0.15,
        "error_500": 0.05,
        "error_503": 0.05,
        "reset": 0.1,
        "unprocessed": 0.3,
    }
    keys = [f"{prefix}-{i:03}" for i in range(300)]
    chunks = [keys[i : i + 25] for i in range(0, len(keys), 25)]
    failures: list[BaseException] = []
    with (
        faulty(endpoint, rates, seed=4, operations={"BatchWriteItem"}) as proxy,
        dynamodb(proxy.endpoint_url) as client,
    ):

        def write(chunk: list[str]) -> None:
            pending: dict[str, Any] = {table: [put_request(k) for k in chunk]}
            try:
                for _ in range(200):
                    if not pending:
                        return
                    # On an error the same requests go again: puts are idempotent.
                    with contextlib.suppress(ClientError, ConnectionClosedError):
                        pending = client.batch_write_item(RequestItems=pending)["UnprocessedItems"]
                raise AssertionError(f"still pending after 200 tries: {pending}")
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=write, args=(chunk,)) for chunk in chunks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats = proxy.stats
        decisions = proxy.decisions
    assert failures == []
    assert stored_ids(direct, table, prefix) == set(keys)
    assert stats["requests"] == len(decisions)
    for fault in ("throttle", "error_500", "error_503", "reset", "unprocessed"):
        assert stats[fault] == sum(1 for _, chosen in decisions if chosen == fault) > 0


def test_unreachable_upstream_answers_502() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        dead = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
        with FaultProxy(dead) as proxy, dynamodb(proxy.endpoint_url) as client:
            with pytest.raises(ClientError) as caught:
                client.list_tables()
            stats = proxy.stats
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert stats["upstream_errors"] == 1
    assert stats["forwarded"] == 0


def test_runs_standalone_and_stops_on_sigterm(endpoint: str) -> None:
    command = [
        sys.executable,
        "-m",
        "tests.support.faultproxy",
        "--upstream",
        endpoint,
        "--seed",
        "1",
        "--throttle",
        "1",
        "--operations",
        "ListTables",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with dynamodb(url) as client:
                assert outcome(client.list_tables) in THROTTLE_CODES
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0
    assert json.loads(err.strip().splitlines()[-1])["throttle"] == 1


def test_merge_adds_to_what_the_upstream_left_unprocessed() -> None:
    # DynamoDB Local never leaves anything unprocessed itself, so the merge is checked directly.
    write = merge_unprocessed(
        "BatchWriteItem",
        {"UnprocessedItems": {"a": [1], "b": [2]}},
        {"a": [3], "c": [4]},
    )
    assert write == {"UnprocessedItems": {"a": [1, 3], "b": [2], "c": [4]}}
    get = merge_unprocessed(
        "BatchGetItem",
        {"Responses": {}, "UnprocessedKeys": {"a": {"Keys": [1], "ConsistentRead": True}}},
        {"a": {"Keys": [2], "ConsistentRead": True}, "b": {"Keys": [3]}},
    )
    assert get["UnprocessedKeys"] == {
        "a": {"Keys": [1, 2], "ConsistentRead": True},
        "b": {"Keys": [3]},
    }


def test_split_drops_tables_with_nothing_left() -> None:
    request = {
        "RequestItems": {
            "a": {"Keys": [1, 2], "ProjectionExpression": "x"},
            "b": {"Keys": [3]},
        }
    }
    forwarded, withheld = split_batch("BatchGetItem", request, [True, True, False])
    assert forwarded == {"a": {"Keys": [1, 2], "ProjectionExpression": "x"}}
    assert withheld == {"b": {"Keys": [3]}}
