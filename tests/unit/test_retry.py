"""The one retry budget: errors count against max_attempts, throttling against time alone."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

import pytest

from ddbkit import errors
from ddbkit.transport.retry import Backoff, Stopped, call_with_retries


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock, **kwargs: float) -> Backoff:
    return Backoff(sleep=clock.sleep, clock=clock, rng=random.Random(0), **kwargs)  # type: ignore[arg-type]


def failing(error: errors.DdbkitError, calls: list[int]) -> Callable[[], None]:
    def call() -> None:
        calls.append(1)
        raise error

    return call


def test_a_hung_endpoint_is_given_up_after_max_attempts_naming_it() -> None:
    clock, calls = Clock(), list[int]()
    timeout = errors.EndpointError("http://10.0.0.1:8000 did not answer Scan within 15s")
    with pytest.raises(errors.EndpointError, match=r"10\.0\.0\.1.*gave up after 8 attempts"):
        call_with_retries(failing(timeout, calls), policy(clock))
    assert len(calls) == 8


def test_throttling_is_retried_until_the_time_budget_not_the_attempt_count() -> None:
    clock, calls = Clock(), list[int]()
    throttled = errors.ThrottledError("ProvisionedThroughputExceededException: slow down")
    with pytest.raises(errors.ThrottledError, match="gave up after"):
        call_with_retries(failing(throttled, calls), policy(clock, max_seconds=60))
    assert len(calls) > 8
    assert clock.now <= 60


def test_no_retry_starts_after_max_seconds() -> None:
    clock, calls = Clock(), list[int]()
    error = errors.EndpointError("reset")
    with pytest.raises(errors.EndpointError):
        call_with_retries(
            failing(error, calls), policy(clock, base=10, cap=10, max_seconds=15, max_attempts=99)
        )
    assert clock.now <= 15


def test_each_retry_is_announced_as_one_line(caplog: pytest.LogCaptureFixture) -> None:
    clock, calls = Clock(), list[int]()
    caplog.set_level(logging.INFO, logger="ddbkit")
    with pytest.raises(errors.EndpointError):
        call_with_retries(
            failing(errors.EndpointError("cannot reach x"), calls), policy(clock, max_attempts=3)
        )
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "retrying (attempt 2 of 3): cannot reach x",
        "retrying (attempt 3 of 3): cannot reach x",
    ]


def test_errors_that_cannot_pass_on_retry_are_raised_at_once() -> None:
    clock, calls = Clock(), list[int]()
    with pytest.raises(errors.ValidationError):
        call_with_retries(failing(errors.ValidationError("bad"), calls), policy(clock))
    assert len(calls) == 1 and clock.sleeps == []


def test_a_set_stop_event_ends_the_wait_between_attempts() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        stop.set()
        raise errors.EndpointError("reset")

    with pytest.raises(Stopped):
        call_with_retries(call, Backoff(base=30, cap=30), stop=stop)
    assert len(calls) == 1


def test_a_write_that_may_have_been_applied_is_not_sent_again() -> None:
    clock, calls = Clock(), list[int]()
    lost_reply = errors.EndpointError("http://x did not answer UpdateItem within 15s")
    lost_reply.maybe_applied = True
    with pytest.raises(errors.EndpointError, match="may have been applied"):
        call_with_retries(failing(lost_reply, calls), policy(clock), idempotent=False)
    assert len(calls) == 1
    refused = errors.EndpointError("cannot reach http://x")  # never arrived: safe to resend
    with pytest.raises(errors.EndpointError, match="gave up after 8"):
        call_with_retries(failing(refused, calls), policy(clock), idempotent=False)
