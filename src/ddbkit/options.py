"""The numeric settings of reads and bulk jobs, each checked once, here, for every caller.

The library checks its arguments with these functions and the command line builds its option
types from the same functions (cli/args.py), so ``scan(segments="4")``, ``--rcu nan`` and
``rate_limit=-1`` are all refused the same way: one ValidationError that names the setting and
the range it takes. Python's float comparisons are false for NaN, so every check asks for what
is valid rather than against what is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ddbkit.errors import ValidationError

MAX_SEGMENTS = 1_000_000  # DynamoDB's own limit on TotalSegments
MAX_WORKERS = 64


@dataclass(frozen=True)
class Setting:
    """One numeric setting: its names in the library and on the command line, and its range."""

    name: str
    flag: str
    low: float
    high: float | None
    integer: bool
    meaning: str
    help: str

    def check(self, value: Any) -> Any:
        """``value`` if it is in range (ints for integer settings), else a ValidationError."""
        if self.integer:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
        if ok and value >= self.low and (self.high is None or value <= self.high):
            return value if self.integer else float(value)
        raise ValidationError(f"{self.name} ({self.flag}) {self.expects()}, not {value!r}")

    def expects(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.high is not None:
            return f"is {kind} from {_text(self.low)} to {_text(self.high)} ({self.meaning})"
        return f"is {kind} of {_text(self.low)} or more ({self.meaning})"


def _text(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else str(number)


# The bounds keep every wait a rate or timeout implies within what time.sleep and the socket
# layer take (a rate of 1e-300 units/s would ask for a wait longer than the clock can count).
RATE = Setting(
    "rate_limit",
    "--rcu",
    0.001,
    None,
    False,
    "read capacity units per second",
    "Read capacity units per second, at most, across all segments.",
)
WRITE_RATE = Setting(
    "rate_limit",
    "--wcu",
    0.001,
    None,
    False,
    "write capacity units per second",
    "Write capacity units per second, at most.",
)
SEGMENTS = Setting(
    "segments",
    "--segments",
    1,
    MAX_SEGMENTS,
    True,
    "parallel scan segments",
    "Parallel scan segments (default: from the table size, 1 for small tables; more than the "
    "table's size justifies are clamped).",
)
WORKERS = Setting(
    "workers", "--workers", 1, MAX_WORKERS, True, "parallel writers", "Parallel writers."
)
LIMIT = Setting(
    "limit", "--limit", 0, None, True, "items at most", "At most this many items (after filtering)."
)


def optional(setting: Setting, value: Any) -> Any:
    """``None`` stays ``None`` (the default applies); anything else must pass ``setting``."""
    return None if value is None else setting.check(value)


CONNECT_TIMEOUT = Setting(
    "connect_timeout",
    "--connect-timeout",
    0.001,
    3600,
    False,
    "seconds",
    "Seconds to wait for a connection before retrying (default 5).",
)
READ_TIMEOUT = Setting(
    "read_timeout",
    "--read-timeout",
    0.001,
    3600,
    False,
    "seconds",
    "Seconds to wait for each reply before retrying (default 15).",
)
MAX_ATTEMPTS = Setting(
    "max_attempts",
    "--max-attempts",
    1,
    100,
    True,
    "attempts per request",
    "Attempts per request before giving up (default: AWS_MAX_ATTEMPTS or the profile's "
    "max_attempts, else 8; throttling is retried for up to a minute).",
)


# -- shares: one host's part of a parallel scan split between hosts ------------------------------

SHARE_HELP = (
    "Read only host K's share of the --segments S (0-based K of N hosts: segments K, K+N, "
    "K+2N, ...), so N machines export one table between them, each to its own file. Give every "
    "host the same --segments (a share never clamps it); 'import' takes the parts one by one."
)
_SHARE_FORM = "K/N: this host's number counted from 0, then the number of hosts, e.g. 0/3"


def _check_pair(k: int, n: int) -> tuple[int, int]:
    if n < 1:
        raise ValidationError(f"share {k}/{n}: N is the number of hosts, 1 or more")
    if not 0 <= k < n:
        raise ValidationError(
            f"share {k}/{n}: K is this host's number counted from 0, so from 0 to {n - 1}"
        )
    return k, n


def parse_share(text: str) -> tuple[int, int]:
    """``"K/N"`` (command-line text) as ``(K, N)``, with K and N checked against each other."""
    k_text, slash, n_text = text.partition("/")
    parts = (k_text.strip(), n_text.strip())
    try:
        if not slash or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError(text)
        k, n = (int(p) for p in parts)
    except ValueError:  # also a number too long for int() to read
        raise ValidationError(f"--share takes {_SHARE_FORM}, not {text!r}") from None
    return _check_pair(k, n)


def check_share(share: Any, segments: Any) -> tuple[int, int]:
    """``share`` as ``(K, N)`` if host K of N hosts can split ``segments`` segments between them.

    Every host must scan with the same segment count, so it is never a default: ``segments``
    must be given. A ValidationError (one line, naming the fix) otherwise.
    """
    pair = tuple(share) if isinstance(share, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(_whole(v) for v in pair):
        raise ValidationError(
            f"share is (K, N): this host's number counted from 0, then the number of hosts, "
            f"e.g. share=(0, 3) (--share 0/3); not {share!r}"
        )
    k, n = _check_pair(int(pair[0]), int(pair[1]))
    if segments is None:
        raise ValidationError(
            f"share {k}/{n} needs the segment count given, the same on every host: "
            f"pass segments=S (--segments S), S of {n} or more"
        )
    segments = SEGMENTS.check(segments)
    if n > segments:
        raise ValidationError(
            f"share {k}/{n}: {n} hosts cannot split {segments} segments between them: "
            f"give segments={n} (--segments {n}) or more"
        )
    return k, n


def share_segments(segments: int, share: tuple[int, int]) -> range:
    """The segments host K of N reads: K, K+N, K+2N, ... below ``segments``."""
    k, n = share
    return range(k, segments, n)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
