"""Import a file into a table through the batch writer, with a reject file for what cannot go in."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.files import check_new_file, open_private
from ddbkit.formats import READABLE_FORMATS, awsexport, format_from_path, reader_for
from ddbkit.values.jsonvalues import dumps_plain
from ddbkit.write.batch import BatchWriter, Rejection, WriteSummary, settled

log = logging.getLogger("ddbkit")

if TYPE_CHECKING:
    from ddbkit.jobs.source import TableSource


def import_file(
    table: TableSource,
    source: str | Path,
    *,
    format: str | None = None,
    workers: int = 8,
    rate_limit: float | None = None,
    on_error: str = "stop",
    types: Mapping[str, str] | None = None,
    reject_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> WriteSummary:
    """Write every item of ``source`` ("-" for stdin) into ``table``; see :class:`WriteSummary`.

    ``source`` may also be a DynamoDB export to S3 as AWS lays it out (a folder holding
    ``manifest-summary.json``; see :mod:`ddbkit.formats.awsexport`).

    Raises :class:`~ddbkit.errors.IncompleteWriteError` (summary attached) unless every item
    read was written, superseded by a later line with the same key, or, with
    ``on_error="skip"``, rejected into the reject file; Ctrl-C raises
    :class:`~ddbkit.errors.Interrupted` saying how to finish.
    """
    if not isinstance(source, (str, os.PathLike)):
        raise errors.ValidationError(f"source is a file path or '-', not {type(source).__name__}")
    chosen = format or (format_from_path(str(source)) if str(source) != "-" else None) or "jsonl"
    if chosen not in READABLE_FORMATS:
        raise errors.ValidationError(f"import reads {', '.join(READABLE_FORMATS)}, not {chosen!r}")
    rejects = Path(reject_path) if reject_path else default_reject_path(table.name, source)
    with contextlib.ExitStack() as stack:
        if awsexport.is_export_folder(source):  # manifests and md5s are checked right here
            records = awsexport.read_export_folder(source, types=types)
        else:
            records = reader_for(chosen, _open_source(source, stack), types=types)
        keys = table.keys  # the table must exist before a reject file is made
        reject_sink = RejectFile.new(rejects)
        stack.callback(reject_sink.close)
        writer = BatchWriter(
            table.db,
            table.name,
            keys,
            workers=workers,
            rate_limit=rate_limit,
            on_error=on_error,
            on_reject=reject_sink.add,
            progress=progress,
        )
        began = time.monotonic()
        summary = writer.write(_records(records, reject_sink, stop=on_error == "stop"))
        summary.elapsed = time.monotonic() - began
    summary.read += reject_sink.unreadable
    summary.rejected += reject_sink.unreadable
    summary.rejections.extend(reject_sink.unreadable_lines)
    if reject_sink.stopped_at:
        summary.stopped = True
        summary.stopped_at = summary.stopped_at or reject_sink.stopped_at
    summary.rejects_path = str(rejects) if reject_sink.count else None
    if summary.read == 0 and not (summary.error or summary.interrupted):
        # Not an error (an export of an empty table looks like this), but worth a word.
        log.warning("%s holds no items: nothing was imported", source)
    return settled(
        summary,
        f"import into {table.name!r}",
        on_error,
        resume="importing the same file again finishes the job (a put replaces the item with "
        "the same key, so none is doubled)",
    )


def default_reject_path(table: str, source: str | Path) -> Path:
    """``FILE.rejects.jsonl``, or ``FILE.rejects.N.jsonl`` with the first N not taken, so an
    earlier run's rejects are kept and a rerun (after Ctrl-C, say) is never blocked by them."""
    if str(source) == "-":
        stem = Path(f"ddbkit-rejects-{table}-{int(time.time())}")
    else:
        path = Path(source)
        stem = path.with_name(path.name + ".rejects")
    candidate = stem.with_name(stem.name + ".jsonl")
    number = 1
    while candidate.exists() or candidate.is_symlink():
        candidate = stem.with_name(f"{stem.name}.{number}.jsonl")
        number += 1
    return candidate


def _open_source(source: str | Path, stack: contextlib.ExitStack) -> IO[bytes]:
    if str(source) == "-":
        return sys.stdin.buffer
    path = Path(source)
    if path.is_dir():
        raise errors.ValidationError(
            f"{path} is a folder: give a jsonl, ddb-json or csv file (or a DynamoDB export folder)"
        )
    try:
        return stack.enter_context(path.open("rb"))
    except FileNotFoundError:
        raise errors.ValidationError(f"no such file: {path}") from None
    except OSError as exc:
        raise errors.ValidationError(f"cannot read {path}: {exc.strerror or exc}") from None


def _records(
    reader: Iterator[tuple[int, Any]], sink: RejectFile, *, stop: bool
) -> Iterator[tuple[int, Any]]:
    """Items from the reader; a line that does not even parse goes to the reject file.

    With ``stop`` (--on-error stop) such a line ends the reading, like any rejected item.
    """
    for line, item in reader:
        if isinstance(item, errors.DdbkitError):
            rejection = Rejection(line, str(item), None)
            sink.add(rejection)
            sink.unreadable += 1
            sink.unreadable_lines.append(rejection)
            if stop:
                sink.stopped_at = str(item)
                return
            continue
        yield line, item


class RejectFile:
    """Rejected items as JSON Lines ({"line", "reason", "item"}), owner-only (mode 0600).

    Opened before the first item is written, so a path that cannot be written is refused before
    anything happens; removed again at the end if nothing was rejected.
    """

    @classmethod
    def new(cls, path: Path) -> RejectFile:
        """A reject file at ``path``, which must not exist yet."""
        if path.exists() or path.is_symlink():
            # Never truncate, let alone delete, a file ddbkit did not make in this run (it
            # could be the source itself, or an earlier run's rejects).
            raise errors.ValidationError(
                f"reject file {path} exists: move it away, or give --rejects another path "
                "(without --rejects a free name is picked)"
            )
        check_new_file(path, what="reject file")
        return cls(path)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.unreadable = 0
        self.unreadable_lines: list[Rejection] = []
        self.stopped_at: str | None = None
        self._handle: IO[str] = open_private(path, "x", encoding="utf-8")  # ours alone

    def add(self, rejection: Rejection) -> None:
        record = {"line": rejection.line, "reason": rejection.reason, "item": rejection.item}
        try:
            text = dumps_plain(record)
        except errors.DdbkitError:
            text = dumps_plain({**record, "item": repr(rejection.item)})
        self._handle.write(text + "\n")
        self._handle.flush()
        self.count += 1

    def close(self) -> None:
        self._handle.close()
        if self.count == 0:
            with contextlib.suppress(OSError):
                self.path.unlink()
