"""The shared capacity budget, on a fake clock."""

from __future__ import annotations

import pytest

from ddbkit.errors import ValidationError
from ddbkit.read.segments import auto_segments
from ddbkit.transport.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limit_holds_the_long_run_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100.0, clock=clock.time, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
        limiter.consume(40.0)  # each page costs 40 units
    # 2,000 units at 100/s take about 19 s after the first second's burst.
    assert 18.0 <= clock.now <= 21.0
    assert limiter.consumed == 2000.0


def test_no_waiting_under_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1000.0, clock=clock.time, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire()
        limiter.consume(5.0)
    assert clock.slept == []


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_rate_must_be_a_finite_number_above_zero(rate: float) -> None:
    with pytest.raises(ValidationError, match="above 0"):
        RateLimiter(rate)


@pytest.mark.parametrize(
    ("size", "segments"),
    [(0, 1), (1024, 1), (8 * 1024 * 1024, 1), (20 * 1024 * 1024, 3), (10**12, 8)],
)
def test_auto_segments_grow_with_size(size: int, segments: int) -> None:
    assert auto_segments(size) == segments
