"""Retries: one budget, one backoff, for every request ddbkit sends.

botocore's own retries are off (``total_max_attempts=1``): ddbkit retries each request itself, so
one budget bounds the whole wait. Before, botocore's three attempts ran inside ddbkit's fifteen,
and an endpoint that accepted connections and never answered kept a scan retrying silently for
most of an hour. Now a request is retried only while it fails with a ``retryable`` error
(throttling, 5xx, a dropped or timed-out connection): other failures at most ``max_attempts``
times, throttling for as long as it takes, and neither starting a retry more than
``max_seconds`` after the first attempt. Each retry is logged at INFO on
the ``ddbkit`` logger as ``retrying (attempt n of m): reason``; the command line shows those lines
on stderr. When the budget is spent the last error is raised, its message saying how long it tried.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ddbkit.errors import DdbkitError, ThrottledError, annotated

T = TypeVar("T")
log = logging.getLogger("ddbkit")

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_MAX_SECONDS = 60.0


class Stopped(Exception):
    """The caller's stop event was set while a request waited for its next attempt."""


@dataclass
class Backoff:
    """Exponential backoff with full jitter (AWS's recommendation): sleep U(0, min(cap, base*2^n)).

    ``max_attempts`` and ``max_seconds`` are the retry budget of one request (or, for the batch
    writer, of one run of rounds without progress). ``sleep``, ``clock`` and ``rng`` are
    replaceable so tests need no real waiting.
    """

    base: float = 0.05
    cap: float = 5.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_seconds: float = DEFAULT_MAX_SECONDS
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.cap, self.base * (2 ** min(attempt, 30))))

    def wait(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))

    def spent(self, failures: int, started: float, delay: float) -> bool:
        """Whether the budget is spent: ``failures`` errors that count against ``max_attempts``
        (throttling does not: it is DynamoDB asking to slow down, bounded by time alone), or no
        time left for a retry that would wait ``delay`` seconds after ``started``."""
        return failures >= self.max_attempts or self.clock() - started + delay > self.max_seconds

    def announce(self, attempt: int, error: DdbkitError) -> None:
        """Log one retry as the line the command line shows."""
        if isinstance(error, ThrottledError):
            log.info(
                "retrying (attempt %d, for up to %.0fs while throttled): %s",
                attempt,
                self.max_seconds,
                error,
            )
        else:
            log.info("retrying (attempt %d of %d): %s", attempt, self.max_attempts, error)

    def stoppable(self, stop: threading.Event | None) -> Backoff:
        """This policy with waits that end as soon as ``stop`` is set."""
        if stop is None:
            return self
        return dataclasses.replace(self, sleep=stop.wait)


def gave_up(error: DdbkitError, attempts: int, seconds: float) -> DdbkitError:
    """``error`` with a note of the spent budget, as the one line a user sees."""
    plural = "s" if attempts != 1 else ""
    return annotated(error, f"gave up after {attempts} attempt{plural} in {seconds:.0f}s")


class Attempts:
    """The retry decisions for one request, apart from how it is sent and how it waits: one
    budget for the sync loop and the async loop alike."""

    def __init__(self, policy: Backoff, *, idempotent: bool = True) -> None:
        self.policy = policy
        self.idempotent = idempotent
        self.attempt = self.failures = 0
        self.started = policy.clock()

    def next_delay(self, exc: DdbkitError) -> float:
        """How long to wait before the next attempt after ``exc``; raises when there is none."""
        policy = self.policy
        self.attempt += 1
        if not exc.retryable:
            raise exc
        if not self.idempotent and getattr(exc, "maybe_applied", False):
            raise annotated(
                exc, "the request may have been applied: check before sending it again"
            ) from exc
        if not isinstance(exc, ThrottledError):
            self.failures += 1
        delay = policy.delay(self.attempt - 1)
        if policy.spent(self.failures, self.started, delay):
            raise gave_up(exc, self.attempt, policy.clock() - self.started) from exc
        policy.announce(self.attempt + 1, exc)
        return delay


def call_with_retries(
    call: Callable[[], T],
    backoff: Backoff,
    *,
    stop: threading.Event | None = None,
    on_retry: Callable[[DdbkitError], None] | None = None,
    idempotent: bool = True,
) -> T:
    """``call()``, retried with backoff while it fails with a retryable error, within the budget.

    With ``stop``, a wait ends when it is set and :class:`Stopped` is raised instead of retrying.
    A call that is not ``idempotent`` is not repeated after an error that says it may have been
    applied (``maybe_applied``): a second ADD would count twice, a second conditional write
    would report its own first success as a failed condition.
    """
    policy = backoff.stoppable(stop)
    attempts = Attempts(policy, idempotent=idempotent)
    while True:
        try:
            return call()
        except DdbkitError as exc:
            delay = attempts.next_delay(exc)
            if on_retry is not None:
                on_retry(exc)
            policy.sleep(delay)
            if stop is not None and stop.is_set():
                raise Stopped from exc


async def call_with_retries_async(
    call: Callable[[], Awaitable[T]], backoff: Backoff, *, idempotent: bool = True
) -> T:
    """:func:`call_with_retries` for a coroutine: the same budget, waits on the event loop
    (cancelling the task ends a wait at once)."""
    attempts = Attempts(backoff, idempotent=idempotent)
    while True:
        try:
            return await call()
        except DdbkitError as exc:
            await asyncio.sleep(attempts.next_delay(exc))
