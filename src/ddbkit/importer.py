"""Import a file into a table through the batch writer, with a reject file for what cannot go in."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.batch import BatchWriter, Rejection, WriteSummary
from ddbkit.formats import READABLE_FORMATS, format_from_path, reader_for
from ddbkit.jsonvalues import dumps_plain

if TYPE_CHECKING:
    from ddbkit.table import Table


def import_file(
    table: Table,
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
    """Write every item of ``source`` ("-" for stdin) into ``table``; see :class:`WriteSummary`."""
    chosen = format or (format_from_path(str(source)) if str(source) != "-" else None) or "jsonl"
    if chosen not in READABLE_FORMATS:
        raise errors.ValidationError(f"import reads {', '.join(READABLE_FORMATS)}, not {chosen!r}")
    rejects = Path(reject_path) if reject_path else default_reject_path(table.name, source)
    with contextlib.ExitStack() as stack:
        stream = _open_source(source, stack)
        reject_sink = _RejectFile(rejects)
        stack.callback(reject_sink.close)
        writer = BatchWriter(
            table.db,
            table.name,
            table.keys,
            workers=workers,
            rate_limit=rate_limit,
            on_error=on_error,
            on_reject=reject_sink.add,
            progress=progress,
        )
        began = time.monotonic()
        records = _records(
            reader_for(chosen, stream, types=types), reject_sink, stop=on_error == "stop"
        )
        summary = writer.write(records)
        summary.elapsed = time.monotonic() - began
    summary.read += reject_sink.unreadable
    summary.rejected += reject_sink.unreadable
    summary.rejections.extend(reject_sink.unreadable_lines)
    summary.stopped = summary.stopped or reject_sink.stopped
    summary.rejects_path = str(rejects) if reject_sink.count else None
    return summary


def default_reject_path(table: str, source: str | Path) -> Path:
    if str(source) == "-":
        return Path(f"ddbkit-rejects-{table}-{int(time.time())}.jsonl")
    path = Path(source)
    return path.with_name(path.name + ".rejects.jsonl")


def _open_source(source: str | Path, stack: contextlib.ExitStack) -> IO[bytes]:
    if str(source) == "-":
        return sys.stdin.buffer
    path = Path(source)
    if not path.is_file():
        raise errors.ValidationError(f"no such file: {path}")
    return stack.enter_context(path.open("rb"))


def _records(
    reader: Iterator[tuple[int, Any]], sink: _RejectFile, *, stop: bool
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
                sink.stopped = True
                return
            continue
        yield line, item


class _RejectFile:
    """Rejected items as JSON Lines ({"line", "reason", "item"}), created on the first one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.unreadable = 0
        self.unreadable_lines: list[Rejection] = []
        self.stopped = False
        self._handle: IO[str] | None = None

    def add(self, rejection: Rejection) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8")
        record = {"line": rejection.line, "reason": rejection.reason, "item": rejection.item}
        try:
            text = dumps_plain(record)
        except errors.DdbkitError:
            text = dumps_plain({**record, "item": repr(rejection.item)})
        self._handle.write(text + "\n")
        self._handle.flush()
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
