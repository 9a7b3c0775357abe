"""Whole-table jobs built from scans and the batch writer: copy, truncate, delete by condition."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.expr.where import WhereInput, as_condition
from ddbkit.files import check_new_file, open_private
from ddbkit.formats import reader_for, writer_for
from ddbkit.jobs.tables import IndexSpec
from ddbkit.options import WORKERS, WRITE_RATE, optional
from ddbkit.values.serialize import from_item
from ddbkit.write.batch import BatchWriter, Unaddressable, WriteSummary, settled

if TYPE_CHECKING:
    from ddbkit.database import Database
    from ddbkit.models import TableInfo
    from ddbkit.table import Table

SAMPLE_KEYS = 10


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
) -> WriteSummary:
    """Copy every item (matching ``where``) into ``target_name``, creating it like the source.

    Every argument is checked before the target is created. Raises like ``put_many`` with
    ``on_error="skip"``: items the target can never take are skipped and listed, items it kept
    refusing raise :class:`~ddbkit.errors.IncompleteWriteError`; Ctrl-C says how to finish.
    """
    scan = source.scan(where, segments=segments, rate_limit=rate_limit, params=params)
    WORKERS.check(workers)
    optional(WRITE_RATE, write_rate_limit)
    info = source.info()
    if target_name not in target_db.tables():
        create_like(target_db, target_name, info)
    target = target_db.table(target_name)
    if target.keys != info.keys:
        raise errors.ValidationError(
            f"table {target_name!r} has keys {', '.join(map(str, target.keys.attributes))}, "
            f"but {source.name!r} has {', '.join(map(str, info.keys.attributes))}"
        )
    items = ((0, from_item(raw)) for page in scan.raw_pages() for raw in page.items)
    writer = BatchWriter(
        target_db,
        target_name,
        target.keys,
        workers=workers,
        rate_limit=write_rate_limit,
        on_error="skip",
        progress=progress,
    )
    return settled(
        writer.write(items),
        f"copy {source.name!r} to {target_name!r}",
        "skip",
        resume="copying again finishes the job (a put replaces the item with the same key)",
    )


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
