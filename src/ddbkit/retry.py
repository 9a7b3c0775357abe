"""Backoff with full jitter: the one retry policy of the bulk loops.

botocore retries each request itself (mode ``standard``), but its retry quota runs dry under
sustained throttling and then it gives up at once. The page loop and the batch writer put their
own patient retry around it, so a long export or import rides out throttling, 5xx replies and
dropped connections instead of failing an hour in. Only errors marked ``retryable`` are retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ddbkit.errors import DdbkitError

T = TypeVar("T")


@dataclass
class Backoff:
    """Exponential backoff with full jitter (AWS's recommendation): sleep U(0, min(cap, base*2^n)).

    ``sleep`` and ``rng`` are replaceable so tests need no real waiting.
    """

    base: float = 0.05
    cap: float = 5.0
    max_attempts: int = 15
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], object] = time.sleep

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.cap, self.base * (2 ** min(attempt, 30))))

    def wait(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))


def call_with_retries(
    call: Callable[[], T],
    backoff: Backoff,
    *,
    on_retry: Callable[[DdbkitError], None] | None = None,
) -> T:
    """``call()``, retried with backoff while it fails with a retryable error."""
    attempt = 0
    while True:
        try:
            return call()
        except DdbkitError as exc:
            attempt += 1
            if not exc.retryable or attempt >= backoff.max_attempts:
                raise
            if on_retry is not None:
                on_retry(exc)
            backoff.wait(attempt - 1)
