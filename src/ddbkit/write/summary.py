"""What a bulk write did: every item read is written, a duplicate, skipped, rejected or failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ddbkit import errors


@dataclass(frozen=True)
class Rejection:
    """An input item that was not written, and why."""

    line: int
    reason: str
    item: Any


@dataclass(frozen=True)
class Unaddressable:
    """An item read with strings that had to be changed (lone surrogates read as U+FFFD, see
    :func:`ddbkit.values.jsonvalues.decode_reply`): a write or delete by its key would miss the real
    item, so the batch writer rejects it instead of sending it."""

    item: Any


@dataclass(frozen=True)
class Unconvertible:
    """An input row that could not become an item (e.g. a DataFrame cell of the wrong type for
    the type asked for): the batch writer rejects it with ``reason`` instead of guessing."""

    item: Any
    reason: str


@dataclass
class WriteSummary:
    """What a bulk write did. Every item read is written, a duplicate, skipped (a copy's
    transform returned None for it), rejected or failed."""

    read: int = 0
    written: int = 0
    duplicates: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    elapsed: float = 0.0
    stopped: bool = False
    rejections: list[Rejection] = field(default_factory=list)
    rejects_path: str | None = None
    error: str | None = None  # why the run stopped before the end of its input, if it did
    interrupted: bool = False  # Ctrl-C stopped it
    stopped_at: str | None = None  # "line N: reason" of the rejection that stopped the run
    failure: str | None = None  # the reason of the first failed item

    @property
    def items_per_second(self) -> float:
        return self.written / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Every item read was written, superseded by a later duplicate, or skipped."""
        return self.written + self.duplicates + self.skipped == self.read and not self.stopped

    def shortfall(self, on_error: str = "stop") -> str | None:
        """Why this write did not do everything asked of it (one line), or None if it did.

        Rejected items are a shortfall unless the caller asked to skip them (``on_error="skip"``);
        failed items, a stop and an interrupt always are.
        """
        if not (self.failed or self.error or self.interrupted or self.stopped) and not (
            self.rejected and on_error != "skip"
        ):
            return None
        parts = [f"{self.written:,} of {self.read:,} items read were written"]
        if self.interrupted:
            parts.append("interrupted")
        elif self.error:
            parts.append(f"stopped: {self.error}")
        elif self.stopped and self.rejected:
            where = f" ({self.stopped_at})" if self.stopped_at else ""
            parts.append(
                f"stopped at the first item that cannot be written{where}; "
                "on_error='skip' (--on-error skip) goes on past such items"
            )
        elif self.rejected:
            first = self.rejections[0]  # rejections come first, in reading order
            parts.append(f"{self.rejected:,} rejected (line {first.line}: {first.reason})")
        if self.failed:
            parts.append(f"{self.failed:,} failed ({self.failure})")
        return "; ".join(parts)

    def settle(
        self,
        *,
        written: int,
        duplicates: int,
        retries: int,
        failures: list[Rejection],
        on_reject: Callable[[Rejection], None] | None,
        elapsed: float,
        fatal: bool,
    ) -> None:
        """Record how a writer's run ended (its workers all done)."""
        self.written = written
        self.duplicates = duplicates
        self.retries = retries
        self.failed = len(failures)
        if failures:
            self.failure = min(failures, key=lambda r: r.line).reason
        for failure in failures:
            self.rejections.append(failure)
            if on_reject is not None:
                on_reject(failure)
        self.elapsed = elapsed
        if fatal or self.error or self.interrupted:
            self.stopped = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "written": self.written,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "failed": self.failed,
            "retries": self.retries,
            "elapsed": round(self.elapsed, 3),
            "items_per_second": round(self.items_per_second, 1),
            "stopped": self.stopped,
            "rejects_path": self.rejects_path,
        }


def settled(
    summary: WriteSummary, what: str, on_error: str = "stop", *, resume: str | None = None
) -> WriteSummary:
    """``summary`` if the write did everything asked of it; else raise with it attached.

    Ctrl-C raises :class:`~ddbkit.errors.Interrupted` (a KeyboardInterrupt), any other
    shortfall :class:`~ddbkit.errors.IncompleteWriteError`; ``resume`` says how to finish.
    """
    problem = summary.shortfall(on_error)
    if problem is None:
        return summary
    # Running again helps after an interrupt or a failure, not past an item that can never go in.
    again = summary.interrupted or summary.failed or summary.error
    how = f"; {resume}" if resume and again else ""
    if summary.interrupted:
        raise errors.Interrupted(f"{what} interrupted: {problem}{how}", summary)
    raise errors.IncompleteWriteError(f"{what}: {problem}{how}", summary)
