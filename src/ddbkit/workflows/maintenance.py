"""Whole-table jobs built from scans and the batch writer: copy, truncate, delete by condition."""

from __future__ import annotations

import contextlib
import copy
import importlib
import importlib.util
import itertools
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from ddbkit import errors
from ddbkit.expr.where import WhereInput, as_condition
from ddbkit.files import check_new_file, open_private
from ddbkit.formats import reader_for, writer_for
from ddbkit.jobs.import_ import RejectFile, default_reject_path
from ddbkit.jobs.tables import IndexSpec
from ddbkit.options import WORKERS, WRITE_RATE, optional
from ddbkit.values.serialize import from_item
from ddbkit.write.batch import BatchWriter, Unaddressable, WriteSummary, settled
from ddbkit.write.summary import Unconvertible

if TYPE_CHECKING:
    from ddbkit.database import Database
    from ddbkit.models import TableInfo
    from ddbkit.table import Table

SAMPLE_KEYS = 10


Transform = Callable[[dict[str, Any]], "dict[str, Any] | None"]


def copy_table(
    source: Table,
    target_db: Database,
    target_name: str,
    *,
    where: WhereInput = None,
    segments: int | None = None,
    workers: int = 8,
    rate_limit: float | None = None,
    write_rate_limit: float | None = None,
    progress: Callable[[int], None] | None = None,
    params: Mapping[str, Any] | None = None,
    transform: Transform | None = None,
    reject_path: str | Path | None = None,
) -> WriteSummary:
    """Copy every item (matching ``where``) into ``target_name``, creating it like the source.

    ``transform(item)`` (plain Python values) returns the item to write, or None to skip it
    (counted in ``summary.skipped``); an exception it raises rejects that item alone, with the
    error's text, into the reject file. The reject file (JSON Lines of {"line": Nth item read,
    "reason", "item"}) is made when there is a transform or ``reject_path``; without
    ``reject_path`` it is ``copy-SOURCE-to-TARGET.rejects.jsonl`` in the current folder (the
    first free name), and it is removed again if nothing was rejected.

    Every argument is checked before the target is created. Raises like ``put_many`` with
    ``on_error="skip"``: items the target can never take are skipped and listed, items it kept
    refusing raise :class:`~ddbkit.errors.IncompleteWriteError`; Ctrl-C says how to finish.
    """
    if transform is not None and not callable(transform):
        raise errors.ValidationError(
            f"transform must be a callable (item -> item or None), not {type(transform).__name__}"
        )
    scan = source.scan(where, segments=segments, rate_limit=rate_limit, params=params)
    WORKERS.check(workers)
    optional(WRITE_RATE, write_rate_limit)
    info = source.info()
    with contextlib.ExitStack() as stack:
        rejects = None
        if transform is not None or reject_path is not None:
            rejects = RejectFile.new(
                Path(reject_path)
                if reject_path is not None
                else default_reject_path(target_name, f"copy-{source.name}-to-{target_name}")
            )
            stack.callback(rejects.close)
        if target_name not in target_db.tables():
            create_like(target_db, target_name, info)
        target = target_db.table(target_name)
        if target.keys != info.keys:
            raise errors.ValidationError(
                f"table {target_name!r} has keys {', '.join(map(str, target.keys.attributes))}, "
                f"but {source.name!r} has {', '.join(map(str, info.keys.attributes))}"
            )
        # Numbered as read, so a reject file's "line" says which item it was.
        items: Iterator[tuple[int, Any]] = enumerate(
            (from_item(raw) for page in scan.raw_pages() for raw in page.items), start=1
        )
        skipped = _Skipped()
        if transform is not None:
            items = _transformed(items, transform, skipped)
        writer = BatchWriter(
            target_db,
            target_name,
            target.keys,
            workers=workers,
            rate_limit=write_rate_limit,
            on_error="skip",
            on_reject=rejects.add if rejects is not None else None,
            progress=progress,
        )
        summary = writer.write(items)
    summary.skipped = skipped.count
    summary.read += skipped.count
    summary.rejects_path = str(rejects.path) if rejects is not None and rejects.count else None
    return settled(
        summary,
        f"copy {source.name!r} to {target_name!r}",
        "skip",
        resume="copying again finishes the job (a put replaces the item with the same key)",
    )


class _Skipped:
    count = 0


def _transformed(
    items: Iterator[tuple[int, Any]], transform: Transform, skipped: _Skipped
) -> Iterator[tuple[int, Any]]:
    """Each item through ``transform``: None skips it; an exception or a result that is not a
    dict becomes an Unconvertible, which the batch writer rejects with the reason."""
    for number, item in items:
        try:
            # A copy: a transform that changes the item and then raises must not change what
            # the reject file keeps (the source item, to fix and copy again).
            result: object = transform(copy.deepcopy(item))
        except Exception as exc:  # the user's code: any error rejects this item alone
            yield number, Unconvertible(item, f"transform raised {type(exc).__name__}: {exc}")
            continue
        if result is None:
            skipped.count += 1
        elif isinstance(result, dict):
            yield number, result
        else:
            yield (
                number,
                Unconvertible(
                    item, f"transform returned {type(result).__name__}, not a dict or None"
                ),
            )


def load_transform(spec: str) -> Transform:
    """The callable named by ``module:function`` (or ``path/to/file.py:function``), imported
    now, so a bad name is an error before anything is read. The current folder is searched
    first, as ``python -m`` would."""
    module_name, sep, attribute = spec.rpartition(":")
    if not sep or not module_name or not attribute:
        raise errors.ValidationError(
            f"bad transform {spec!r}: write MODULE:FUNCTION, e.g. fixes:rename_fields"
        )
    try:
        if module_name.endswith(".py"):
            module = _module_from_file(Path(module_name))
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except errors.DdbkitError:
        raise
    except Exception as exc:  # ImportError, or the module's own code failing at import
        raise errors.ValidationError(
            f"cannot import the transform's module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    function = getattr(module, attribute, None)
    if function is None:
        raise errors.ValidationError(f"module {module_name!r} has no {attribute!r}")
    if not callable(function):
        raise errors.ValidationError(
            f"{spec} is a {type(function).__name__}, not a function (item -> item or None)"
        )
    return cast("Transform", function)


def _module_from_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise errors.ValidationError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(f"ddbkit_transform_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise errors.ValidationError(f"cannot import {path} as Python")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def create_like(db: Database, name: str, info: TableInfo) -> None:
    """Create ``name`` with the keys, indexes and billing mode of ``info`` (TTL too)."""
    indexes = [
        IndexSpec(
            index.name,
            (index.partition_key.name, index.partition_key.type),
            (index.sort_key.name, index.sort_key.type) if index.sort_key else None,
            local=index.kind == "LSI",
            projection=list(index.projected_attributes)
            if index.projection == "INCLUDE"
            else index.projection,
        )
        for index in info.indexes
    ]
    capacity = (
        (info.read_capacity, info.write_capacity)
        if info.billing_mode == "PROVISIONED" and info.read_capacity and info.write_capacity
        else None
    )
    db.create_table(
        name,
        partition_key=(info.partition_key.name, info.partition_key.type),
        sort_key=(info.sort_key.name, info.sort_key.type) if info.sort_key else None,
        indexes=indexes,
        billing=info.billing_mode if capacity else "PAY_PER_REQUEST",
        capacity=capacity,
        ttl=info.ttl_attribute,
    )


def _keys_of(table: Table, where: WhereInput, segments: int | None) -> Iterator[Any]:
    names = [f"`{n}`" for n in table.keys.names]
    scan = table.scan(where, attributes=names, segments=segments)
    for page in scan.raw_pages():
        for position, raw in enumerate(page.items):
            key = from_item(raw)
            yield Unaddressable(key) if position in page.changed else key


def _deleter(table: Table, workers: int, progress: Callable[[int], None] | None) -> BatchWriter:
    # on_error="skip": one item ddbkit cannot address stops nothing; settled() still fails the
    # call for it once everything else is deleted.
    return BatchWriter(
        table.db,
        table.name,
        table.keys,
        action="delete",
        workers=workers,
        progress=progress,
        on_error="skip",
    )


def truncate(
    table: Table,
    *,
    segments: int | None = None,
    workers: int = 8,
    progress: Callable[[int], None] | None = None,
) -> WriteSummary:
    """Delete every item, keeping the table, its indexes and settings."""
    summary = _deleter(table, workers, progress).write(
        (0, key) for key in _keys_of(table, None, segments)
    )
    return settled(summary, f"truncate {table.name!r}", resume="truncating again finishes the job")


@dataclass(frozen=True)
class DeletePreview:
    """What ``delete_where`` would delete: how many items and a few of their keys."""

    count: int
    sample_keys: list[dict[str, Any]]


def preview_delete(
    table: Table, where: WhereInput, params: Mapping[str, Any] | None = None
) -> DeletePreview:
    """How many items ``where`` matches, and the keys of the first few."""
    condition = as_condition(where, params)
    if condition is None:
        raise errors.ValidationError("give a where-clause; to delete everything use truncate")
    sample = []
    with table.find(condition, attributes=[f"`{n}`" for n in table.keys.names]) as keys:
        for key in keys:
            sample.append(key)
            if len(sample) == SAMPLE_KEYS:
                break
    return DeletePreview(table.count(condition), sample)


def delete_where(
    table: Table,
    where: WhereInput,
    *,
    undo_path: str | Path,
    workers: int = 8,
    progress: Callable[[int], None] | None = None,
    params: Mapping[str, Any] | None = None,
) -> WriteSummary:
    """Delete the items matching ``where``, after saving them to ``undo_path`` (ddb-json).

    The undo file is complete and fsynced before the first delete is sent, so ``ddbkit import
    TABLE UNDO_FILE --format ddb-json`` brings every deleted item back. The deletes are by key:
    an item changed by someone else between the snapshot and its delete is deleted all the same
    (the undo file then holds the version read), as with any scan-then-delete.
    """
    condition = as_condition(where, params)
    if condition is None:
        raise errors.ValidationError("give a where-clause; to delete everything use truncate")
    undo = Path(undo_path)
    check_new_file(undo, what="undo file")
    plan = table.explain(condition)
    unaddressable: list[Any] = []  # read with a changed key: not saved, not deleted, reported
    try:
        with open_private(undo, "wb") as out:
            writer = writer_for("ddb-json", out)
            for page in table.run(plan).raw_pages():
                items = page.items
                if page.changed:
                    unaddressable += [from_item(items[n]) for n in sorted(page.changed)]
                    items = [raw for n, raw in enumerate(items) if n not in page.changed]
                writer.write_page(items)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            undo.unlink()
        raise errors.Interrupted(
            f"delete from {table.name!r} interrupted while saving the matching items: nothing "
            "was deleted (the partial undo file is removed); run it again"
        ) from None
    deleter = _deleter(table, workers, progress)
    # The keys come back from the undo file itself: exactly what was saved is deleted, and
    # memory stays flat however many items match.
    names = table.keys.names
    with undo.open("rb") as saved:
        summary = deleter.write(
            itertools.chain(
                (
                    (line, {n: item[n] for n in names})
                    for line, item in reader_for("ddb-json", saved)
                    if isinstance(item, dict)
                ),
                ((0, Unaddressable(item)) for item in unaddressable),
            )
        )
    return settled(
        summary,
        f"delete from {table.name!r}",
        resume=f"every matching item is saved in {undo}; bring the deleted ones back with "
        f"'ddbkit import {table.name} {undo} --format ddb-json', or run the delete again",
    )
