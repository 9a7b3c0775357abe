"""The batch writer's guarantees, against a scripted stand-in for DynamoDB (no sleeping).

Here each failure mode is forced exactly. On DynamoDB Local through the fault proxy:
unprocessed items, throttling, 5xx and resets in tests/integration/test_bulk_faults.py (import)
and tests/integration/test_jobs_under_faults.py (delete_many, copy, truncate, delete --where);
a batch refused as a whole, a fatal error mid-run and endless throttling or errors in
tests/integration/test_jobs_under_faults.py too.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pytest

from ddbkit import errors
from ddbkit.models import KeyAttribute, KeySchema
from ddbkit.transport.retry import Backoff, call_with_retries
from ddbkit.values.serialize import from_item
from ddbkit.write.batch import BatchWriter, Rejection

KEYS = KeySchema(KeyAttribute("id", "S"))


class FakeDb:
    """Applies BatchWriteItem to a dict; ``script`` can fail or trim each call."""

    def __init__(self, script: Callable[[int, list[dict[str, Any]]], Any] | None = None) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self.batches: list[list[str]] = []
        self.script = script
        self.lock = threading.Lock()

    def call(self, operation: str, *, table: str | None = None, **params: Any) -> dict[str, Any]:
        assert operation == "batch_write_item"
        requests = params["RequestItems"][table]
        with self.lock:
            self.calls += 1
            number = self.calls
            ids = [self._id(r) for r in requests]
            assert len(ids) == len(set(ids)), "two items with one key in one batch"
            assert len(requests) <= 25
            self.batches.append(ids)
        outcome = self.script(number, requests) if self.script else None
        if isinstance(outcome, Exception):
            raise outcome
        unprocessed = outcome or []
        with self.lock:
            for request in requests:
                if request in unprocessed:
                    continue
                if "PutRequest" in request:
                    item = from_item(request["PutRequest"]["Item"])
                    self.stored[item["id"]] = item
                else:
                    self.stored.pop(from_item(request["DeleteRequest"]["Key"])["id"], None)
        return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}

    def send_once(self, operation: str, params: Mapping[str, Any], *, table: str) -> bytes:
        return orjson.dumps(self.call(operation, table=table, **params))

    @staticmethod
    def _id(request: dict[str, Any]) -> str:
        if "PutRequest" in request:
            return str(request["PutRequest"]["Item"]["id"]["S"])
        return str(request["DeleteRequest"]["Key"]["id"]["S"])


class VirtualTime:
    """A clock that moves only when slept on: retry budgets run out without real waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds

    def clock(self) -> float:
        return self.now


def no_sleep() -> Backoff:
    time = VirtualTime()
    return Backoff(sleep=time.sleep, clock=time.clock, rng=random.Random(1))


def writer(db: FakeDb, **kwargs: Any) -> BatchWriter:
    return BatchWriter(db, "t", KEYS, backoff=no_sleep, **kwargs)  # type: ignore[arg-type]


def records(n: int) -> list[tuple[int, dict[str, Any]]]:
    return [(i + 1, {"id": f"k{i}", "n": i}) for i in range(n)]


def test_every_item_is_written_in_batches_of_25() -> None:
    db = FakeDb()
    summary = writer(db, workers=3).write(records(200))
    assert summary.written == 200 and summary.read == 200 and summary.complete
    assert len(db.stored) == 200
    assert max(len(b) for b in db.batches) == 25


def test_unprocessed_items_are_resent_until_written() -> None:
    rng = random.Random(7)

    def trim(_n: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in requests if rng.random() < 0.5]

    db = FakeDb(trim)
    summary = writer(db, workers=4).write(records(300))
    assert summary.written == 300 and len(db.stored) == 300
    assert summary.retries > 0


def test_throttled_and_failed_calls_keep_their_items() -> None:
    rng = random.Random(3)
    failures = [
        errors.ThrottledError("slow down", code="ThrottlingException"),
        errors.ServiceError("boom", code="InternalServerError", retryable=True),
        errors.EndpointError("connection reset"),
    ]

    def flaky(_n: int, _requests: list[dict[str, Any]]) -> Any:
        return rng.choice(failures) if rng.random() < 0.4 else None

    db = FakeDb(flaky)
    summary = writer(db, workers=4).write(records(500))
    assert summary.written == 500 and summary.complete
    assert sorted(db.stored) == sorted(f"k{i}" for i in range(500))


def test_later_line_with_the_same_key_wins_and_is_counted() -> None:
    db = FakeDb()
    data = [(1, {"id": "a", "v": 1}), (2, {"id": "b", "v": 1}), (3, {"id": "a", "v": 2})]
    summary = writer(db, workers=2).write(data)
    assert db.stored["a"]["v"] == 2
    assert summary.read == 3
    assert summary.written + summary.duplicates == 3


def test_same_key_across_many_batches_keeps_input_order() -> None:
    rng = random.Random(5)

    def trim(_n: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in requests if rng.random() < 0.3]

    db = FakeDb(trim)
    data = [(i, {"id": f"k{i % 7}", "v": i}) for i in range(1, 400)]
    summary = writer(db, workers=4).write(data)
    last = {f"k{i % 7}": i for i in range(1, 400)}
    assert {k: v["v"] for k, v in db.stored.items()} == last
    assert summary.written + summary.duplicates == summary.read == 399


def test_items_dynamodb_can_never_take_are_rejected_alone_with_their_line() -> None:
    rejected: list[Rejection] = []
    db = FakeDb()
    data: list[tuple[int, Any]] = [
        (1, {"id": "ok1"}),
        (2, {"no_key": 1}),
        (3, {"id": 5}),
        (4, {"id": "big", "blob": "x" * 410_000}),
        (5, {"id": "nan", "f": float("nan")}),
        (6, "not an object"),
        (7, {"id": "ok2"}),
    ]
    summary = writer(db, on_error="skip", on_reject=rejected.append).write(data)
    assert sorted(db.stored) == ["ok1", "ok2"]
    assert [r.line for r in rejected] == [2, 3, 4, 5, 6]
    assert "400 KB" in rejected[2].reason and "NaN" in rejected[3].reason
    assert summary.rejected == 5 and summary.written == 2


def test_on_error_stop_stops_reading_but_settles_what_was_read() -> None:
    db = FakeDb()
    data: list[tuple[int, Any]] = [(1, {"id": "a"}), (2, {"bad": 1}), (3, {"id": "c"})]
    summary = writer(db, on_error="stop").write(data)
    assert summary.stopped and summary.read == 2
    assert list(db.stored) == ["a"]


def test_a_batch_refused_as_a_whole_is_split_to_find_the_culprit() -> None:
    def refuse_poison(_n: int, requests: list[dict[str, Any]]) -> Any:
        ids = [FakeDb._id(r) for r in requests]
        if "poison" in ids:
            return errors.ValidationError(
                "ValidationException: bad item", code="ValidationException"
            )
        return None

    rejected: list[Rejection] = []
    db = FakeDb(refuse_poison)
    data = [(i, {"id": "poison" if i == 10 else f"k{i}"}) for i in range(1, 21)]
    summary = writer(db, workers=1, on_error="skip", on_reject=rejected.append).write(data)
    assert summary.written == 19 and summary.failed == 1
    assert [r.line for r in rejected] == [10]
    assert "poison" not in db.stored


def test_a_fatal_error_reports_every_unwritten_item_as_failed() -> None:
    def gone(n: int, _requests: list[dict[str, Any]]) -> Any:
        return errors.TableNotFoundError("table 't' not found") if n > 2 else None

    rejected: list[Rejection] = []
    db = FakeDb(gone)
    summary = writer(db, workers=1, on_reject=rejected.append).write(records(200))
    assert summary.stopped
    assert summary.written == 50 == len(db.stored)
    assert summary.written + summary.failed == summary.read
    assert {r.line for r in rejected} == set(range(51, summary.read + 1))
    assert all("not found" in r.reason for r in rejected)


def test_endless_throttling_gives_up_and_reports_instead_of_hanging() -> None:
    db = FakeDb(lambda _n, _r: errors.ThrottledError("slow down"))
    summary = writer(db, workers=1).write(records(30))
    assert summary.written == 0 and summary.failed == 30
    assert not summary.complete


def test_deletes_use_the_same_machinery() -> None:
    db = FakeDb()
    writer(db).write(records(60))
    summary = writer(db, action="delete").write([(i, {"id": f"k{i}"}) for i in range(40)])
    assert summary.written == 40 and len(db.stored) == 20


def test_backoff_is_full_jitter_and_capped() -> None:
    backoff = Backoff(base=0.1, cap=2.0, rng=random.Random(0))
    for attempt in range(40):
        delay = backoff.delay(attempt)
        assert 0 <= delay <= min(2.0, 0.1 * 2**attempt)


def test_call_with_retries_retries_only_retryable_errors() -> None:
    calls: list[int] = []

    def throttled_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise errors.ThrottledError("slow")
        return "ok"

    assert call_with_retries(throttled_twice, no_sleep()) == "ok" and len(calls) == 3

    def invalid() -> str:
        calls.append(1)
        raise errors.ValidationError("bad")

    calls.clear()
    with pytest.raises(errors.ValidationError):
        call_with_retries(invalid, no_sleep())
    assert len(calls) == 1


def test_no_progress_for_the_whole_budget_stops_the_job_and_reports_every_item() -> None:
    def first_200_calls_unprocessed_then_every_first_try(n: int, requests: list[Any]) -> Any:
        if n <= 200 or n % 2 == 0:
            return list(requests)
        return None

    db = FakeDb(first_200_calls_unprocessed_then_every_first_try)
    summary = writer(db, workers=1).write(records(50))
    # Rounds of nothing outlast the 60 s budget: the job stops instead of going on batch after
    # batch, and no item is dropped.
    assert summary.written == 0 and summary.failed == 50 and summary.stopped
    assert "unprocessed" in (summary.failure or "")
    assert summary.shortfall() is not None


def test_errors_count_against_max_attempts_and_throttling_against_time() -> None:
    calls: list[int] = []

    def fail(error: errors.DdbkitError) -> Any:
        def script(n: int, _requests: list[Any]) -> Any:
            calls.append(n)
            return error

        return script

    writer(FakeDb(fail(errors.EndpointError("reset"))), workers=1).write(records(3))
    assert len(calls) == 8  # Backoff's default max_attempts
    calls.clear()
    summary = writer(FakeDb(fail(errors.ThrottledError("slow"))), workers=1).write(records(3))
    assert len(calls) > 8 and summary.failed == 3  # throttling: until 60 s of virtual time
