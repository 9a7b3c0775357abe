"""How many segments a parallel scan uses.

The scanning itself is the one page loop (paginate.py) run once per segment on its own thread;
this module only decides the default. Small tables gain nothing from segments (each segment costs
at least one request), so they scan in one; larger tables get more, up to a bound that keeps a
2-core client busy without flooding it with threads.
"""

from __future__ import annotations

import math
from typing import Protocol


class _Located(Protocol):
    @property
    def on_loopback(self) -> bool: ...


BYTES_PER_SEGMENT = 8 * 1024 * 1024
MAX_AUTO_SEGMENTS = 8
# A Dask partition is held in a worker's memory whole: a size pandas handles comfortably.
BYTES_PER_PARTITION = 128 * 1024 * 1024
# More segments than 1 MB pages only add requests (each segment costs at least one). Sizes come
# from DescribeTable and may be hours old, so a generous floor keeps a freshly loaded table
# scannable in parallel all the same.
PAGE_BYTES = 1024 * 1024
MIN_USEFUL_SEGMENTS = 16
# DynamoDB Local evaluates every remaining item of a segment for each Scan page before it cuts
# the page at 1 MB, so a walk costs time quadratic in the table size (./run bench measured
# 13 s for 60k items unbounded, 2.4 s with 1,000-item pages). Real DynamoDB does not, and there
# smaller pages only mean more requests: the cap applies to loopback endpoints only.
LOCAL_ENGINE_PAGE_SIZE = 1000


def auto_segments(size_bytes: int) -> int:
    """The default segment count for a table of ``size_bytes``: 1 up to 8 MB, at most 8."""
    return max(1, min(MAX_AUTO_SEGMENTS, math.ceil(size_bytes / BYTES_PER_SEGMENT)))


def partition_segments(size_bytes: int) -> int:
    """The default Dask partitions (one segment each) for a table of ``size_bytes``: one per
    BYTES_PER_PARTITION, and never fewer than a local scan's segments."""
    return max(auto_segments(size_bytes), math.ceil(size_bytes / BYTES_PER_PARTITION))


def useful_segments(size_bytes: int) -> int:
    """The most segments a table of ``size_bytes`` can use: one per 1 MB page, at least 16."""
    return max(MIN_USEFUL_SEGMENTS, math.ceil(size_bytes / PAGE_BYTES))


def default_page_size(db: _Located) -> int | None:
    """Items per Scan page ddbkit asks for: LOCAL_ENGINE_PAGE_SIZE on loopback, else none."""
    return LOCAL_ENGINE_PAGE_SIZE if db.on_loopback else None
