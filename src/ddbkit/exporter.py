"""Export a table to a file: parallel scan pages straight to a format writer, crash-safe.

The file is written under a temporary name in the target folder, fsynced and renamed into place,
so a reader never sees half a file under the real name. With ``resume`` a checkpoint beside it
records, after each flush+fsync, the byte length of the partial file and the cursor of every
segment at exactly that point (the pages handed to the writer so far). After Ctrl-C or kill -9, a
resumed export cuts the partial file back to that length and continues each segment from its
cursor, so every item lands in the file exactly once. Resuming needs a format that is a plain
sequence of lines (jsonl, ddb-json); csv and parquet are assembled at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from ddbkit import errors
from ddbkit.formats import FORMATS, PageWriter, writer_for
from ddbkit.paginate import ItemIterator
from ddbkit.where import WhereInput, as_condition

if TYPE_CHECKING:
    from ddbkit.table import Table

RESUMABLE_FORMATS = ("jsonl", "ddb-json")


def checkpoint_seconds() -> float:
    """How often --resume checkpoints (DDBKIT_CHECKPOINT_SECONDS, default 1 s).

    Each checkpoint costs an fsync; once a second bounds the work redone after a crash to about
    a second's worth of pages.
    """
    try:
        return max(0.0, float(os.environ.get("DDBKIT_CHECKPOINT_SECONDS", "1")))
    except ValueError:
        return 1.0


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    items: int
    elapsed: float
    path: str | None
    format: str
    resumed_from: int = 0  # items already in the file from an earlier, interrupted run

    @property
    def items_per_second(self) -> float:
        return (self.items - self.resumed_from) / self.elapsed if self.elapsed > 0 else 0.0


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.ddbkit-partial")


def checkpoint_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.ddbkit-checkpoint")


def export_table(
    table: Table,
    target: str | Path,
    *,
    format: str = "jsonl",
    where: WhereInput = None,
    attributes: Sequence[str] | None = None,
    segments: int | None = None,
    rate_limit: float | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write every item (matching ``where``) of ``table`` to ``target`` ("-" for stdout)."""
    if format not in FORMATS:
        raise errors.ValidationError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    condition = as_condition(where)
    if str(target) == "-":
        if resume:
            raise errors.ValidationError("--resume needs a file to write to, not stdout")
        items = table.scan(
            condition, attributes=attributes, segments=segments, rate_limit=rate_limit
        )
        began = time.monotonic()
        count = _write_pages(items, writer_for(format, sys.stdout.buffer), progress)
        sys.stdout.buffer.flush()
        return ExportResult(count, time.monotonic() - began, None, format)
    path = Path(target)
    if resume and format not in RESUMABLE_FORMATS:
        raise errors.ValidationError(
            f"--resume works with {' and '.join(RESUMABLE_FORMATS)}, not {format}"
        )
    if path.exists() and not force:
        raise errors.ValidationError(f"{path} exists: add --force to replace it")
    if not path.parent.is_dir():
        raise errors.ValidationError(f"folder {path.parent} does not exist")
    identity: dict[str, Any] = {
        "table": table.name,
        "format": format,
        "where": condition.debug() if condition is not None else None,
        "attributes": list(attributes) if attributes else None,
    }
    state = _load_checkpoint(path, identity) if resume else None
    if state is None:
        # Fresh start: forget any earlier partial run of the same target.
        with contextlib.suppress(FileNotFoundError):
            checkpoint_path(path).unlink()
    effective_segments = int(state["segments"]) if state else segments
    items = table.scan(
        condition,
        attributes=attributes,
        segments=effective_segments,
        rate_limit=rate_limit,
        start=state["cursor"] if state else None,
    )
    identity["segments"] = items.segments
    began = time.monotonic()
    done_before = int(state["items"]) if state else 0
    with _open_partial(path, int(state["offset"]) if state else None) as out:
        last_checkpoint = time.monotonic()
        interval = checkpoint_seconds()

        def checkpoint(written: int) -> None:
            nonlocal last_checkpoint
            # Once every segment is done the cursor is None, which a resume would read as
            # "start over": the last checkpoint before that stays the one to resume from.
            if items.cursor is not None and time.monotonic() - last_checkpoint >= interval:
                _checkpoint(path, out, identity, items.cursor, done_before + written)
                last_checkpoint = time.monotonic()

        written = _write_pages(
            items, writer_for(format, out), progress, after_page=checkpoint if resume else None
        )
        count = done_before + written
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial_path(path), path)
    _fsync_dir(path.parent)
    with contextlib.suppress(FileNotFoundError):
        checkpoint_path(path).unlink()
    return ExportResult(count, time.monotonic() - began, str(path), format, done_before)


def _write_pages(
    items: ItemIterator,
    writer: PageWriter,
    progress: Callable[[int], None] | None,
    *,
    after_page: Callable[[int], None] | None = None,
) -> int:
    """The export loop: raw pages straight to the writer; ``after_page(items so far)``."""
    count = 0
    for page in items.raw_pages():
        count += writer.write_page(page.items)
        if progress is not None:
            progress(len(page.items))
        if after_page is not None:
            after_page(count)
    writer.close()
    return count


def _open_partial(path: Path, offset: int | None) -> IO[bytes]:
    partial = partial_path(path)
    if offset is None:
        return partial.open("wb")
    out = partial.open("r+b")
    # Everything after the checkpointed length was written after the last checkpoint and will
    # be written again by the resumed segments: cut it off.
    out.truncate(offset)
    out.seek(offset)
    return out


def _checkpoint(
    path: Path, out: IO[bytes], identity: dict[str, Any], cursor: str | None, items: int
) -> None:
    """Make the partial file durable, then record its length and the cursors that match it."""
    out.flush()
    os.fsync(out.fileno())
    record = {**identity, "offset": out.tell(), "cursor": cursor, "items": items}
    target = checkpoint_path(path)
    temporary = target.with_name(target.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(orjson.dumps(record))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def _load_checkpoint(path: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    """The checkpoint of an interrupted export of the same table/format/where, or None."""
    try:
        record: dict[str, Any] = orjson.loads(checkpoint_path(path).read_bytes())
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError as exc:
        raise errors.ValidationError(
            f"checkpoint {checkpoint_path(path)} is damaged: delete it to start over"
        ) from exc
    if not partial_path(path).exists():
        return None
    for name, value in identity.items():
        if record.get(name) != value:
            raise errors.ValidationError(
                f"the interrupted export of {path} had a different {name} "
                f"({record.get(name)!r}): resume with the same options, or drop --resume"
            )
    return record


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder itself is synced (POSIX).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
