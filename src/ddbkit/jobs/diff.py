"""Compare two tables item by item in bounded memory: what only one holds, what differs.

Both tables are read with the parallel scan (the one page loop). Every item is spilled to one of
``buckets`` files per side, chosen by a hash of its key, as one line ``KEY \\t DIGEST \\t ITEM``:
the key and item in DynamoDB JSON, the digest a BLAKE2b of the item's canonical form. Then the
buckets are compared one at a time: A's bucket is held in memory (a dict by key), B's streamed
past it. So memory holds one bucket of one table, never a whole table; the disk holds both.

Items compare as DynamoDB compares values: typed (``{"N": "1"}`` is not ``{"S": "1"}``, nor
``{"BOOL": true}``), numbers by value (``1``, ``1.0`` and ``1E+0`` are one number), sets without
order (``{"SS": ["a", "b"]}`` equals ``{"SS": ["b", "a"]}``), lists in order, maps by name. The
canonical form is :func:`~ddbkit.values.serialize.to_item` of
:func:`~ddbkit.values.serialize.from_item`: canonical number text, sorted set members.

Every difference is also written to a file in the spill folder, so
:meth:`DiffReport.differences` can list them all after the comparison, however many there are;
the folder is removed by :meth:`DiffReport.close` (or ``with report:``, or when the report is
garbage collected).
"""

from __future__ import annotations

import base64
import hashlib
import math
import shutil
import tempfile
import time
import weakref
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from ddbkit import errors
from ddbkit.expr.where import WhereInput, as_condition
from ddbkit.values.serialize import from_item, to_item

if TYPE_CHECKING:
    from ddbkit.jobs.source import TableSource

Kind = Literal["only_in_a", "only_in_b", "different"]
KINDS: tuple[Kind, ...] = ("only_in_a", "only_in_b", "different")

MIN_BUCKETS = 16
MAX_BUCKETS = 4096
BUCKET_BYTES = 32 * 1024 * 1024  # of spill text per bucket: about what one bucket holds in RAM
BUFFER_BYTES = 64 * 1024 * 1024  # spill text buffered across all buckets before writing out


@dataclass(frozen=True)
class Difference:
    """One key whose item is not the same in both tables; ``a``/``b`` are None where absent."""

    kind: Kind
    key: dict[str, Any]
    a: dict[str, Any] | None
    b: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class DiffReport:
    """How two tables differ: counts, the first ``sample`` differences of each kind, and every
    difference through :meth:`differences` (read back from the spill folder)."""

    a: str
    b: str
    only_in_a: int
    only_in_b: int
    different: int
    equal: int
    samples: tuple[Difference, ...]
    elapsed: float
    _path: Path | None = field(default=None, repr=False, compare=False)

    @property
    def same(self) -> bool:
        """The two tables (the items matching the where-clause) hold the same items."""
        return not (self.only_in_a or self.only_in_b or self.different)

    @property
    def items_a(self) -> int:
        return self.only_in_a + self.different + self.equal

    @property
    def items_b(self) -> int:
        return self.only_in_b + self.different + self.equal

    def differences(self) -> Iterator[Difference]:
        """Every difference, bucket by bucket (in no particular order); plain Python values."""
        if self._path is None or not self._path.exists():
            raise errors.ValidationError(
                "this diff report is closed: its differences were removed with it"
            )
        with self._path.open("rb") as lines:
            for line in lines:
                kind, key, a, b = orjson.loads(line)
                yield _difference(kind, key, a, b)

    def close(self) -> None:
        """Remove the spill folder (after this, :meth:`differences` refuses)."""
        if self._path is not None:
            shutil.rmtree(self._path.parent, ignore_errors=True)

    def __enter__(self) -> DiffReport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "only_in_a": self.only_in_a,
            "only_in_b": self.only_in_b,
            "different": self.different,
            "equal": self.equal,
            "same": self.same,
            "elapsed": round(self.elapsed, 3),
            "samples": [d.to_dict() for d in self.samples],
        }


def diff_tables(
    a: TableSource,
    b: TableSource,
    *,
    where: WhereInput = None,
    params: Mapping[str, Any] | None = None,
    segments: int | None = None,
    sample: int = 10,
    buckets: int | None = None,
    rate_limit: float | None = None,
    spill_dir: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> DiffReport:
    """Compare the items of ``a`` and ``b`` (those matching ``where`` in each) by key.

    ``buckets`` spill files per table (default: from the tables' sizes, so one bucket is about
    32 MB); ``spill_dir`` is where the temporary folder goes (default: the system's).
    """
    if sample < 0:
        raise errors.ValidationError(f"sample must be 0 or more, not {sample}")
    if buckets is not None and not 1 <= buckets <= MAX_BUCKETS:
        raise errors.ValidationError(f"buckets must be 1 .. {MAX_BUCKETS}, not {buckets}")
    condition = as_condition(where, params)
    keys_a, keys_b = a.keys, b.keys
    if keys_a != keys_b:
        raise errors.ValidationError(
            f"{a.name!r} has keys {_shown(keys_a)} but {b.name!r} has {_shown(keys_b)}: "
            "only tables with the same key schema can be compared"
        )
    names = keys_a.names
    began = time.monotonic()
    scans = [
        t.scan(condition, segments=segments, rate_limit=rate_limit) for t in (a, b)
    ]  # both plans checked (and the where-clause with them) before anything is read
    count = buckets or _bucket_count(a, b)
    folder = Path(tempfile.mkdtemp(prefix="ddbkit-diff-", dir=spill_dir))
    try:
        for side, scan in zip("ab", scans, strict=True):
            spill = _Spill(folder, side, count)
            for page in scan.raw_pages():
                for raw in page.items:
                    spill.add(raw, names)
                if progress is not None:
                    progress(len(page.items))
            spill.close()
        path = folder / "differences.jsonl"
        counts, samples = _compare(folder, count, path, sample)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    report = DiffReport(
        a.name,
        b.name,
        counts["only_in_a"],
        counts["only_in_b"],
        counts["different"],
        counts["equal"],
        tuple(sorted(samples, key=lambda d: KINDS.index(d.kind))),
        time.monotonic() - began,
        path,
    )
    weakref.finalize(report, shutil.rmtree, folder, ignore_errors=True)
    return report


def canonical(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` (DynamoDB JSON) in the one form equal items share: numbers as canonical text,
    set members sorted (binary as bytes)."""
    return to_item(from_item(raw))


def _dumps(value: Any, option: int = 0) -> bytes:
    return orjson.dumps(value, default=_base64, option=option)


def _base64(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)


class _Spill:
    """One table's items in ``count`` bucket files, buffered so memory stays bounded."""

    def __init__(self, folder: Path, side: str, count: int) -> None:
        self.paths = [folder / f"{side}.{n}" for n in range(count)]
        self.buffers = [bytearray() for _ in range(count)]
        self.buffered = 0
        for path in self.paths:
            path.touch()

    def add(self, raw: Mapping[str, Any], names: tuple[str, ...]) -> None:
        form = canonical(raw)
        try:
            key = _dumps({n: form[n] for n in names})
        except KeyError as exc:  # a scan never returns one: a key attribute is always there
            raise errors.ValidationError(f"an item read lacks the key attribute {exc}") from None
        digest = hashlib.blake2b(_dumps(form, orjson.OPT_SORT_KEYS), digest_size=16)
        bucket = zlib.crc32(key) % len(self.paths)
        line = b"%s\t%s\t%s\n" % (key, digest.hexdigest().encode(), orjson.dumps(raw))
        self.buffers[bucket] += line
        self.buffered += len(line)
        if self.buffered >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        for path, buffer in zip(self.paths, self.buffers, strict=True):
            if buffer:
                with path.open("ab") as out:
                    out.write(buffer)
                buffer.clear()
        self.buffered = 0

    def close(self) -> None:
        self.flush()


def _compare(
    folder: Path, count: int, path: Path, sample: int
) -> tuple[dict[str, int], list[Difference]]:
    """Bucket by bucket: A's bucket in a dict, B's streamed past it; every difference to
    ``path``, the first ``sample`` of each kind kept as Python values."""
    counts = dict.fromkeys((*KINDS, "equal"), 0)
    samples: list[Difference] = []

    with path.open("wb") as out:

        def record(kind: Kind, key: bytes, a: bytes | None, b: bytes | None) -> None:
            counts[kind] += 1
            line = b"[%s,%s,%s,%s]\n" % (orjson.dumps(kind), key, a or b"null", b or b"null")
            out.write(line)
            if counts[kind] <= sample:
                samples.append(_difference(*orjson.loads(line)))

        for n in range(count):
            held: dict[bytes, tuple[bytes, bytes]] = {}
            with (folder / f"a.{n}").open("rb") as lines:
                for line in lines:
                    key, digest, raw = line.rstrip(b"\n").split(b"\t", 2)
                    held[key] = (digest, raw)
            (folder / f"a.{n}").unlink()
            with (folder / f"b.{n}").open("rb") as lines:
                for line in lines:
                    key, digest, raw = line.rstrip(b"\n").split(b"\t", 2)
                    mine = held.pop(key, None)
                    if mine is None:
                        record("only_in_b", key, None, raw)
                    elif mine[0] != digest:
                        record("different", key, mine[1], raw)
                    else:
                        counts["equal"] += 1
            (folder / f"b.{n}").unlink()
            for key, (_, raw) in held.items():
                record("only_in_a", key, raw, None)
    return counts, samples


def _difference(kind: Kind, key: dict[str, Any], a: Any, b: Any) -> Difference:
    return Difference(
        kind,
        from_item(key),
        from_item(a) if a is not None else None,
        from_item(b) if b is not None else None,
    )


def _bucket_count(a: TableSource, b: TableSource) -> int:
    """Enough buckets that one holds about BUCKET_BYTES of the bigger table (sizes are
    DescribeTable's, up to six hours old: the floor allows for a table that grew since)."""
    size = max(a.info().size_bytes or 0, b.info().size_bytes or 0)
    return max(MIN_BUCKETS, min(MAX_BUCKETS, math.ceil(2 * size / BUCKET_BYTES)))


def _shown(keys: Any) -> str:
    return ", ".join(map(str, keys.attributes))
