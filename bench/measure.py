"""Timing: variants run interleaved, repeated, and kept as best-of and median rates.

Each repetition runs every variant once, in an order rotated by one per repetition, so that a
burst of load on this shared machine lands on baselines and ddbkit alike. The reported rate is the
best (fastest) run: noise only ever slows a run down, so the fastest of a few interleaved runs is
the closest to each variant's own cost. The median is kept beside it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A run returns how many items it handled, or that plus details worth reporting.
RunOutcome = int | tuple[int, dict[str, Any]]
# Missing or not-yet-written API: the variant cannot run at all, so it is not retried.
UNAVAILABLE = (AttributeError, TypeError, NotImplementedError, ImportError)


def log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


@dataclass
class Result:
    key: str
    label: str
    items: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # this process, all threads
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.seconds)

    @property
    def best_rate(self) -> float | None:
        return self.items / min(self.seconds) if self.ok else None

    @property
    def median_rate(self) -> float | None:
        return self.items / statistics.median(self.seconds) if self.ok else None

    @property
    def cpu_us_per_item(self) -> float | None:
        """Client CPU per item, in microseconds, of the least costly run."""
        if not self.ok or not self.cpu_seconds or not self.items:
            return None
        return min(self.cpu_seconds) / self.items * 1e6

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "cpu_us_per_item": _round(self.cpu_us_per_item),
            "items": self.items,
            "seconds": [round(s, 4) for s in self.seconds],
            "best_items_per_s": _round(self.best_rate),
            "median_items_per_s": _round(self.median_rate),
            "error": self.error,
            "info": self.info,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Variant:
    """One thing to time. ``setup``/``teardown``/``check`` run around it, untimed."""

    key: str
    label: str
    run: Callable[[], RunOutcome]
    items: int
    setup: Callable[[], None] | None = None
    teardown: Callable[[], None] | None = None
    # Returns an error message when the run's effect is wrong (for example a short table).
    check: Callable[[], str | None] | None = None


def run_interleaved(variants: Sequence[Variant], reps: int) -> dict[str, Result]:
    """Run every variant ``reps`` times, interleaved; a failing variant is not run again."""
    results = {v.key: Result(v.key, v.label, v.items) for v in variants}
    for rep in range(reps):
        shift = rep % len(variants) if variants else 0
        for variant in [*variants[shift:], *variants[:shift]]:
            result = results[variant.key]
            if result.error is None:
                _run_once(variant, result, rep, reps)
    return results


def _run_once(variant: Variant, result: Result, rep: int, reps: int) -> None:
    try:
        if variant.setup is not None:
            variant.setup()
        start, cpu_start = time.perf_counter(), time.process_time()
        outcome = variant.run()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        count, info = outcome if isinstance(outcome, tuple) else (outcome, {})
        problem = variant.check() if variant.check is not None else None
    except UNAVAILABLE as error:
        result.error = f"unavailable: {type(error).__name__}: {error}"
        log(f"{variant.label}: {result.error}")
        return
    except Exception as error:
        result.error = f"failed: {type(error).__name__}: {error}"
        log(f"{variant.label}: {result.error}")
        return
    finally:
        if variant.teardown is not None:
            variant.teardown()
    if count != variant.items:
        problem = problem or f"handled {count} items, expected {variant.items}"
    if problem is not None:
        result.error = f"wrong result: {problem}"
        log(f"{variant.label}: {result.error}")
        return
    result.seconds.append(elapsed)
    result.cpu_seconds.append(cpu)
    result.info.update(info)
    log(f"[{rep + 1}/{reps}] {variant.label}: {count / elapsed:,.0f} items/s ({elapsed:.2f} s)")


def best_of(results: dict[str, Result], keys: Sequence[str]) -> Result | None:
    """The variant with the highest best rate among ``keys`` (None if none ran)."""
    ran = [results[k] for k in keys if k in results and results[k].ok]
    return max(ran, key=lambda r: r.best_rate or 0.0, default=None)
