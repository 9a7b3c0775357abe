"""Export a table to a file: parallel scan pages straight to a format writer, crash-safe.

The file is written under a temporary name in the target folder, fsynced and renamed into place,
so a reader never sees half a file under the real name. With ``resume`` a checkpoint beside it
records, after each flush+fsync, the byte length of the partial file and the cursor of every
segment at exactly that point (the pages handed to the writer so far). After Ctrl-C or kill -9, a
resumed export cuts the partial file back to that length and continues each segment from its
cursor, so every item lands in the file exactly once. Resuming needs a format that is a plain
sequence of lines (jsonl, ddb-json); csv and parquet are assembled at the end.

With ``share=(K, N)`` the export reads only host K's share of the ``segments`` parallel-scan
segments (K, K+N, K+2N, ...), so N hosts export one table between them, each to its own file: the
walk starts from a cursor in which every other segment is already done. The share is part of the
checkpoint's identity, so each part resumes on its own and never as another share.
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
from ddbkit.errors import annotated
from ddbkit.expr.builders import attribute_paths
from ddbkit.expr.where import WhereInput, as_condition
from ddbkit.files import cannot_write, check_new_file, open_private
from ddbkit.formats import FORMATS, PageWriter, writer_for
from ddbkit.formats.parquet import import_pyarrow
from ddbkit.options import check_share
from ddbkit.read.cursors import SegmentCursors
from ddbkit.read.paginate import ItemIterator

if TYPE_CHECKING:
    from ddbkit.jobs.source import TableSource

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
    table: TableSource,
    target: str | Path,
    *,
    format: str = "jsonl",
    where: WhereInput = None,
    attributes: Sequence[str] | None = None,
    segments: int | None = None,
    share: tuple[int, int] | None = None,
    rate_limit: float | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write every item (matching ``where``) of ``table`` to ``target`` ("-" for stdout); with
    ``share=(K, N)``, only host K's share of the ``segments`` (see the module docstring)."""
    if format not in FORMATS:
        raise errors.ValidationError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    share_start = None
    if share is not None:
        share = check_share(share, segments)
        assert segments is not None  # check_share refuses a share without it
        share_start = SegmentCursors.share(segments, *share).encode()
    condition = as_condition(where)
    attributes = attribute_paths(attributes)
    if not isinstance(target, (str, os.PathLike)):
        raise errors.ValidationError(f"target is a file path or '-', not {type(target).__name__}")
    if str(target) == "-":
        if resume:
            raise errors.ValidationError("--resume needs a file to write to, not stdout")
        items = table.scan(
            condition,
            attributes=attributes,
            segments=segments,
            rate_limit=rate_limit,
            start=share_start,
        )
        began = time.monotonic()
        count = _write_pages(items, writer_for(format, sys.stdout.buffer), progress)
        sys.stdout.buffer.flush()
        return ExportResult(count, time.monotonic() - began, None, format)
    if (
        not str(target)
        or str(target).endswith(("/", os.sep))
        or Path(target).name in ("", ".", "..")
    ):
        raise errors.ValidationError(
            f"export target {str(target)!r} names a folder, not a file: give a file name, "
            "e.g. -o users.jsonl"
        )
    path = Path(target)
    if resume and format not in RESUMABLE_FORMATS:
        raise errors.ValidationError(
            f"--resume works with {' and '.join(RESUMABLE_FORMATS)}, not {format}"
        )
    if format == "parquet":
        import_pyarrow()  # a missing extra is refused before any file is made
    identity: dict[str, Any] = {
        "table": table.name,
        "format": format,
        "where": condition.debug() if condition is not None else None,
        "attributes": list(attributes) if attributes else None,
        "share": list(share) if share else None,
    }
    if share is not None:
        # A plain export resumes with the segment count it settled on (maybe clamped); a share
        # is one part of a split every host made with the same count, which must not change.
        identity["segments"] = segments
    state = _load_checkpoint(path, identity) if resume else None
    if state is None:
        check_new_file(path, force=force, what="export file")
    effective_segments = int(state["segments"]) if state else segments
    items = table.scan(
        condition,
        attributes=attributes,
        segments=effective_segments,
        rate_limit=rate_limit,
        start=state["cursor"] if state else share_start,
    )
    if state is None:
        # Fresh start: forget any earlier partial run of the same target.
        with contextlib.suppress(FileNotFoundError):
            checkpoint_path(path).unlink()
    identity["segments"] = items.segments
    began = time.monotonic()
    done_before = int(state["items"]) if state else 0
    # Line formats are checkpointed whether or not --resume was asked for, so an interrupted
    # export can always be resumed; csv and parquet are assembled at the end and cannot be.
    resumable = format in RESUMABLE_FORMATS
    written = 0
    try:
        with _open_partial(path, int(state["offset"]) if state else None) as out:
            last_checkpoint = time.monotonic()
            interval = checkpoint_seconds()

            def after_page(count: int) -> None:
                nonlocal last_checkpoint, written
                written = count
                # Once every segment is done the cursor is None, which a resume would read as
                # "start over": the last checkpoint before that stays the one to resume from.
                due = time.monotonic() - last_checkpoint >= interval
                if resumable and due and items.cursor is not None:  # a cursor costs: last
                    _checkpoint(path, out, identity, items.cursor, done_before + count)
                    last_checkpoint = time.monotonic()

            written = _write_pages(items, writer_for(format, out), progress, after_page=after_page)
            out.flush()
            os.fsync(out.fileno())
    except KeyboardInterrupt:
        note = _leftover(path, resumable, done_before + written)
        raise errors.Interrupted(f"export of {table.name!r} interrupted: {note}") from None
    except OSError as exc:  # the disk filled up, the folder went away...
        note = _leftover(path, resumable, done_before + written)
        raise errors.ValidationError(f"{cannot_write(partial_path(path), exc)}; {note}") from None
    except errors.DdbkitError as exc:  # e.g. the endpoint stopped answering
        raise annotated(exc, _leftover(path, resumable, done_before + written)) from exc
    os.replace(partial_path(path), path)
    _fsync_dir(path.parent)
    with contextlib.suppress(FileNotFoundError):
        checkpoint_path(path).unlink()
    return ExportResult(
        done_before + written, time.monotonic() - began, str(path), format, done_before
    )


def _leftover(path: Path, resumable: bool, items: int) -> str:
    """What an export that stopped early leaves, said in one clause: a partial file that
    ``--resume`` continues, or nothing (the partial file of a format that cannot resume is
    removed)."""
    partial = partial_path(path)
    if resumable and checkpoint_path(path).exists():
        return (
            f"about {items:,} items are in {partial}: run the same command with --resume to go "
            f"on from the last checkpoint (or delete {partial} to start over)"
        )
    for leftover in (partial, checkpoint_path(path)):
        with contextlib.suppress(OSError):
            leftover.unlink()
    return f"nothing was written to {path}; run it again"


def _write_pages(
    items: ItemIterator,
    writer: PageWriter,
    progress: Callable[[int], None] | None,
    *,
    after_page: Callable[[int], None] | None = None,
) -> int:
    """The export loop: raw pages straight to the writer; ``after_page(items so far)``."""
    count = 0
    try:
        for page in items.raw_pages():
            count += writer.write_page(page.items)
            if progress is not None:
                progress(len(page.items))
            if after_page is not None:
                after_page(count)
    except BaseException:
        writer.discard()
        raise
    writer.close()
    return count


def _open_partial(path: Path, offset: int | None) -> IO[bytes]:
    partial = partial_path(path)
    try:
        # The export itself is the user's file, made with their umask like any other; only the
        # side files (checkpoint, rejects, undo) are owner-only.
        out = partial.open("wb" if offset is None else "r+b")
    except OSError as exc:
        raise cannot_write(partial, exc) from None
    if offset is None:
        return out
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
    with open_private(temporary, "wb") as handle:
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
        if record.get(name) != value and name in ("share", "segments"):
            raise errors.ValidationError(
                f"the interrupted export of {path} read {_part(record)}, not {_part(identity)}: "
                "resume with the same --share and --segments, or drop --resume"
            )
        if record.get(name) != value:
            raise errors.ValidationError(
                f"the interrupted export of {path} had a different {name} "
                f"({record.get(name)!r}): resume with the same options, or drop --resume"
            )
    return record


def _part(identity: dict[str, Any]) -> str:
    """Which part of the table an export reads, for a refused resume."""
    share = identity.get("share")
    if not share:
        return "the whole table (no share)"
    return f"share {share[0]}/{share[1]} of {identity.get('segments')} segments"


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder itself is synced (POSIX).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
