"""Regressions found in review: each test failed before its fix."""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.read.paginate import SCAN_THREAD
from ddbkit.table import Table

pytestmark = pytest.mark.integration


@pytest.fixture
def items300(make_table: Callable[..., Table]) -> Table:
    t = make_table()
    t.put_many({"id": f"i{n:03d}", "name": f"n{n}", "pad": "x" * 40_000} for n in range(300))
    return t


def test_resume_after_a_crash_at_the_very_end_does_not_write_twice(
    items300: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.json"
    monkeypatch.setenv("DDBKIT_CHECKPOINT_SECONDS", "0")
    real_replace = os.replace

    def crash(src: Any, dst: Any) -> None:
        if str(src).endswith("ddbkit-partial"):
            raise OSError("simulated crash before the rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        items300.export(target, format="ddb-json", segments=2, resume=True)
    monkeypatch.setattr(os, "replace", real_replace)
    result = items300.export(target, format="ddb-json", segments=2, resume=True)
    lines = target.read_bytes().splitlines()
    assert result.items == len(lines) == len(set(lines)) == 300


def test_parallel_limit_with_a_projection_without_keys_resumes_everything(
    items300: Table,
) -> None:
    first = items300.scan(attributes=["name"], segments=2, limit=5)
    names = [i["name"] for i in first]
    assert all(set(i) == {"name"} for i in items300.scan(attributes=["name"], limit=3))
    names += [i["name"] for i in items300.scan(attributes=["name"], segments=2, start=first.cursor)]
    assert sorted(names) == sorted(f"n{n}" for n in range(300))


def scan_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(SCAN_THREAD))


def test_stopping_a_parallel_scan_early_ends_its_threads(items300: Table) -> None:
    before = scan_threads()
    with items300.scan(segments=4) as scan:  # close() ends the threads at once
        assert next(scan)
    for _ in range(3):  # a dropped walk ends them when it is garbage-collected
        for item in items300.scan(segments=4):
            assert item
            break
    gc.collect()
    deadline = time.monotonic() + 10
    while scan_threads() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scan_threads() <= before


def test_two_databases_from_one_spec_still_read_items(table: Table) -> None:
    table.put_many({"id": str(n)} for n in range(20))
    second = ddbkit.connect(table.db.spec)
    assert second.table(table.name).count() == 20
    assert len(list(table.scan())) == 20


def test_import_on_error_stop_stops_at_an_unreadable_line(
    make_table: Callable[..., Table], tmp_path: Path
) -> None:
    t = make_table()
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a"}\n{"id": "b"}\nnot json\n{"id": "c"}\n')
    with pytest.raises(ddbkit.IncompleteWriteError, match="line 3") as raised:
        t.import_file(source, on_error="stop")
    summary = raised.value.summary
    assert summary.stopped and summary.read == 3 and summary.rejected == 1
    assert t.get({"id": "c"}) is None
    assert summary.rejects_path is not None
    assert json.loads(Path(summary.rejects_path).read_text())["line"] == 3
