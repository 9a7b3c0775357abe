"""A capacity-unit rate limit shared by every thread of one bulk operation.

A token bucket refilled at ``rate`` units per second. Callers ``acquire()`` before a request and
``consume(units)`` after it with what DynamoDB reports as consumed (ReturnConsumedCapacity=TOTAL),
since the real cost of a Scan page or a batch is only known afterwards. The bucket may go into
debt; the next acquire then waits until it is paid back, so the long-run rate holds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ddbkit.errors import ValidationError


class RateLimiter:
    """Shared capacity budget: ``rate`` units per second on average, bursts of up to a second."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        burst: bool = True,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):  # NaN fails every comparison: ask for valid
            raise ValidationError(
                f"a rate limit is a number of units per second above 0, not {rate}"
            )
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # Without the first second's burst, a job's consumption over any span from its start
        # stays within rate x span (plus the page in flight): what a budget split over
        # many workers needs, since each worker's burst would add up.
        self._tokens = rate if burst else 0.0
        self._updated = clock()
        self.consumed = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def acquire(self, stop: threading.Event | None = None) -> None:
        """Wait until the budget is not in debt, or until ``stop`` is set (then return at once:
        the caller checks ``stop``)."""
        while stop is None or not stop.is_set():
            with self._lock:
                self._refill()
                if self._tokens > 0:
                    return
                wait = -self._tokens / self.rate
            # Short naps, so a set stop is seen soon even when the debt takes minutes to repay.
            nap = min(max(wait, 0.001), 0.5)
            if stop is None:
                self._sleep(nap)
            else:
                stop.wait(nap)

    def debt_wait(self) -> float:
        """Seconds until the budget is out of debt (0 if it is not): for a caller that waits
        its own way (the async page loop, on its event loop)."""
        with self._lock:
            self._refill()
            return 0.0 if self._tokens > 0 else -self._tokens / self.rate

    def consume(self, units: float) -> None:
        with self._lock:
            self._refill()
            self._tokens -= units
            self.consumed += units
