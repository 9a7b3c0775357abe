"""Hostile paths and files: export targets, import sources, reject and undo files, file modes,
and a table that already holds a value ddbkit would never write (a lone surrogate).
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.table import Table
from tests.conftest import raw_table
from tests.support.hostile import (
    Outcome,
    Runner,
    assert_clean_stderr,
    assert_refused,
    error_lines,
    listing,
    seeded_table,
    stored_items,
    unchanged,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SEED = [{"id": "a", "name": "Ada", "age": 36}, {"id": "b", "name": "Bob", "age": 20}]
IS_ROOT = os.geteuid() == 0


def a_regular_file(folder: Path) -> Path:
    path = folder / "somefile"
    path.write_text("not a folder\n")
    return path


# -- export targets --------------------------------------------------------------------------

EXPORT_FLAGS = {"jsonl": [], "resume": ["--resume"], "parquet": ["--format", "parquet"]}


@pytest.mark.parametrize("flags", EXPORT_FLAGS.values(), ids=EXPORT_FLAGS.keys())
@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_export_into_unwritable_folder_is_one_error(
    run: Runner, fresh: Table, tmp_path: Path, where: str, flags: list[str]
) -> None:
    if where == "proc":
        target = "/proc/ddbkit-hostile.jsonl"
    else:
        target = str(a_regular_file(tmp_path) / "out.jsonl")
    before = listing(tmp_path)
    outcome = run("export", fresh.name, "-o", target, *flags)
    assert_refused(outcome, target, os.path.dirname(target))
    assert listing(tmp_path) == before
    assert not Path(target).exists()


def _special_file(folder: Path, kind: str) -> Path:
    path = folder / kind
    if kind == "chardev":
        if not IS_ROOT:
            pytest.skip("mknod of a character device needs root")
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a fresh /dev/null
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
        (path / "keep.txt").write_text("keep\n")
    else:
        path.write_text("precious\n")
    return path


@pytest.mark.parametrize("kind", ["chardev", "fifo", "directory", "symlink-to-dir"])
def test_export_never_replaces_what_is_not_a_regular_file(
    run: Runner, fresh: Table, tmp_path: Path, kind: str
) -> None:
    if kind == "symlink-to-dir":
        folder = _special_file(tmp_path, "directory")
        target = tmp_path / "link"
        target.symlink_to(folder)
    else:
        target = _special_file(tmp_path, kind)
    mode = os.lstat(target).st_mode
    before = listing(tmp_path)
    outcome = run("export", fresh.name, "-o", str(target), "--force")
    assert_refused(outcome, str(target), target.name)
    assert os.lstat(target).st_mode == mode, "the special file was replaced"
    assert listing(tmp_path) == before


def test_export_without_force_keeps_the_existing_file(
    run: Runner, fresh: Table, tmp_path: Path
) -> None:
    target = _special_file(tmp_path, "regular.jsonl")
    outcome = run("export", fresh.name, "-o", str(target))
    assert_refused(outcome, str(target), "--force")
    assert target.read_text() == "precious\n"
    assert listing(tmp_path) == ["regular.jsonl"]


@pytest.mark.parametrize(
    "target", ["", "newdir/", ".", "/"], ids=["empty", "trailing-slash", "dot", "root"]
)
def test_export_to_a_name_that_is_not_a_file(
    run: Runner, fresh: Table, tmp_path: Path, target: str
) -> None:
    before = listing(tmp_path)
    outcome = run("export", fresh.name, "-o", target, "--force")
    assert_refused(outcome, "file", "folder", "director", "path")
    assert listing(tmp_path) == before


def test_export_with_a_damaged_checkpoint_is_one_error(
    run: Runner, fresh: Table, tmp_path: Path
) -> None:
    (tmp_path / ".out.jsonl.ddbkit-partial").write_bytes(b'{"id":"a"}\n')
    (tmp_path / ".out.jsonl.ddbkit-checkpoint").write_bytes(b"{not json")
    before = listing(tmp_path)
    outcome = run("export", fresh.name, "-o", str(tmp_path / "out.jsonl"), "--resume")
    assert_refused(outcome, "checkpoint")
    assert listing(tmp_path) == before


# -- import sources --------------------------------------------------------------------------


def _truncated_gzip(path: Path) -> None:
    data = gzip.compress(b"".join(b'{"id": "g%d"}\n' % n for n in range(2000)))
    path.write_bytes(data[: len(data) // 2])


def _source(folder: Path, kind: str) -> tuple[Path, tuple[str, ...]]:
    """A bad import source and what its error should name."""
    path = folder / f"in-{kind}.jsonl"
    if kind == "missing":
        return path, (str(path),)
    if kind == "directory":
        path.mkdir()
        return path, (str(path),)
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
        return path, ("line 1",)
    if kind == "not-an-object":
        path.write_bytes(b"[1, 2]\n")
        return path, ("line 1",)
    if kind == "truncated-gzip":
        path = folder / "in.jsonl.gz"
        _truncated_gzip(path)
        return path, ("gzip", "cut short", "truncated", "corrupt")
    if kind == "surrogate-jsonl":
        path.write_bytes(b'{"id": "r1", "note": "\\ud800"}\n')
        return path, ("note",)
    if kind == "surrogate-ddb-json":
        path = folder / "in.json"
        path.write_bytes(b'{"Item": {"id": {"S": "r1"}, "note": {"S": "\\ud800"}}}\n')
        return path, ("note",)
    raise AssertionError(kind)


IMPORT_SOURCES = [
    "missing",
    "directory",
    "binary",
    "not-an-object",
    "truncated-gzip",
    "surrogate-jsonl",
    "surrogate-ddb-json",
]


def _without_rejects(names: list[str]) -> list[str]:
    # A reject file is the import's own record of what it refused; anything else is a leftover.
    return [n for n in names if not n.endswith(".rejects.jsonl")]


def assert_nothing_or_told(outcome: Outcome, endpoint: str, table: str, before: Any) -> None:
    """No item written before the error, or, if some were, a summary that says how many."""
    after = stored_items(endpoint, table)
    if after != before:
        written = len([i for i in after if i not in before])
        assert f"written     {written:,}" in outcome.stderr or f"{written} written" in (
            outcome.stderr
        ), f"{written} items were written and the output does not say so\n{outcome.describe()}"


@pytest.mark.parametrize("kind", IMPORT_SOURCES)
def test_bad_import_source_is_one_error(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, kind: str
) -> None:
    source, mentions = _source(tmp_path, kind)
    before_files = listing(tmp_path)
    before = stored_items(endpoint, fresh.name)
    outcome = run("import", fresh.name, str(source))
    assert_refused(outcome, *mentions)
    assert_nothing_or_told(outcome, endpoint, fresh.name, before)
    if kind != "truncated-gzip":
        assert stored_items(endpoint, fresh.name) == before
    assert _without_rejects(listing(tmp_path)) == before_files


CSV_SOURCES = {
    "unbalanced-quote": (b'id,note\nr1,"oops\nr2,fine\nr3,fine\n', [], ("line 2",)),
    "short-row": (b"id,a,b\nr1,1\n", [], ("line 2",)),
    "long-row": (b"id,a\nr1,1,2\n", [], ("line 2",)),
    "not-utf8": (b"id,a\nr1,\xff\xfe\n", [], ("line 2",)),
    "surrogate-in-typed-map": (
        b'id,meta\nr1,"{""a"": ""\\ud800""}"\n',
        ["--types", "meta:M"],
        ("meta",),
    ),
}


@pytest.mark.parametrize(("data", "flags", "mentions"), CSV_SOURCES.values(), ids=CSV_SOURCES)
def test_bad_csv_is_one_error_naming_the_line(
    run: Runner,
    endpoint: str,
    fresh: Table,
    tmp_path: Path,
    data: bytes,
    flags: list[str],
    mentions: tuple[str, ...],
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    with unchanged(endpoint, fresh.name):
        outcome = run("import", fresh.name, str(source), *flags)
    assert_refused(outcome, *mentions)


@pytest.mark.parametrize(
    ("name", "data"),
    [("in.jsonl", b""), ("in.jsonl", b"\n\n  \n"), ("in.csv", b"id,a\n")],
    ids=["empty", "blank-lines", "header-only"],
)
def test_importing_a_file_without_items_succeeds_and_says_so(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, name: str, data: bytes
) -> None:
    # Not an error: an export of an empty table is such a file, and importing it must work.
    source = tmp_path / name
    source.write_bytes(data)
    with unchanged(endpoint, fresh.name):
        outcome = run("import", fresh.name, str(source))
    assert outcome.code == 0, outcome.describe()
    assert "holds no items" in outcome.stderr


def test_import_reads_a_named_pipe(run: Runner, fresh: Table, tmp_path: Path) -> None:
    # `ddbkit import T <(zcat x.jsonl.gz)` hands over a pipe: it must be read, not refused.
    pipe = tmp_path / "in.jsonl"
    os.mkfifo(pipe)

    def feed() -> None:
        with pipe.open("wb") as out:
            out.write(b'{"id": "p1"}\n{"id": "p2"}\n')

    before = fresh.count()
    writer = threading.Thread(target=feed)
    writer.start()
    outcome = run("import", fresh.name, str(pipe), "-q")
    writer.join(timeout=30)
    assert outcome.code == 0, outcome.describe()
    assert fresh.count() == before + 2


# -- reject and undo files that cannot be written --------------------------------------------


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_unwritable_reject_file(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, where: str
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "r1"}\n{"id": 5}\n{"id": "r3"}\n')
    rejects = "/proc/rejects.jsonl" if where == "proc" else f"{a_regular_file(tmp_path)}/r.jsonl"
    before = stored_items(endpoint, fresh.name)
    outcome = run("import", fresh.name, str(source), "--rejects", rejects, "--on-error", "skip")
    assert_refused(outcome, rejects, "reject")
    assert_nothing_or_told(outcome, endpoint, fresh.name, before)
    assert not Path(rejects).exists()


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_unwritable_undo_file_deletes_nothing(
    run: Runner, endpoint: str, fresh: Table, tmp_path: Path, where: str
) -> None:
    undo = "/proc/undo.jsonl" if where == "proc" else f"{a_regular_file(tmp_path)}/undo.jsonl"
    before = listing(tmp_path)
    with unchanged(endpoint, fresh.name):
        outcome = run("delete", fresh.name, "--where", "age > 1", "--yes", "--undo", undo)
    assert_refused(outcome, undo, "undo", stdout_empty=True)
    assert listing(tmp_path) == before


# -- file modes ------------------------------------------------------------------------------


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_reject_file_is_private(run: Runner, fresh: Table, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "r1"}\n{"id": 5}\n')
    outcome = run("import", fresh.name, str(source), "--on-error", "skip", "-q")
    assert_clean_stderr(outcome)
    rejects = tmp_path / "in.jsonl.rejects.jsonl"
    assert rejects.exists(), outcome.describe()
    assert _mode(rejects) == "0o600"


def test_undo_file_is_private(run: Runner, fresh: Table, tmp_path: Path) -> None:
    undo = tmp_path / "undo.jsonl"
    outcome = run("delete", fresh.name, "--where", "age > 30", "--yes", "--undo", str(undo))
    assert outcome.code == 0, outcome.describe()
    assert _mode(undo) == "0o600"


def test_default_undo_file_is_private(run: Runner, fresh: Table, tmp_path: Path) -> None:
    outcome = run("delete", fresh.name, "--where", "age > 30", "--yes")
    assert outcome.code == 0, outcome.describe()
    (undo,) = [p for p in tmp_path.iterdir() if p.name.startswith("ddbkit-undo-")]
    assert _mode(undo) == "0o600"


def test_checkpoint_file_is_private(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DDBKIT_CHECKPOINT_SECONDS", "0")
    with seeded_table(endpoint) as table:
        table.put_many({"id": f"k{n:05d}", "pad": "x" * 50} for n in range(1500))
        pages = 0

        def stop_on_second_page(_count: int) -> None:
            nonlocal pages
            pages += 1
            if pages == 2:
                raise KeyboardInterrupt

        target = tmp_path / "out.jsonl"
        with pytest.raises(KeyboardInterrupt):
            table.export(target, resume=True, segments=1, progress=stop_on_second_page)
    checkpoint = tmp_path / ".out.jsonl.ddbkit-checkpoint"
    assert checkpoint.exists(), listing(tmp_path)
    assert _mode(checkpoint) == "0o600"


# -- a table that already holds a lone surrogate ---------------------------------------------


@pytest.fixture(scope="module")
def poisoned(endpoint: str) -> Iterator[str]:
    """ok1 and ok2, plus items DynamoDB Local stored with lone surrogates (written raw)."""
    with raw_table(endpoint, "id", "hostile-poisoned") as (client, name):
        client.put_item(TableName=name, Item={"id": {"S": "ok1"}, "v": {"N": "1"}})
        client.put_item(TableName=name, Item={"id": {"S": "bad"}, "note": {"S": "x\ud800y"}})
        client.put_item(TableName=name, Item={"id": {"S": "bad-key-\udc00"}})
        client.put_item(TableName=name, Item={"id": {"S": "ok2"}, "v": {"N": "2"}})
        yield name


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_scan_survives_a_stored_lone_surrogate(run: Runner, poisoned: str, fmt: str) -> None:
    outcome = run("scan", poisoned, "-o", fmt)
    assert_clean_stderr(outcome)
    assert outcome.code in (0, 1), outcome.describe()
    if outcome.code == 1:
        assert len(error_lines(outcome.stderr)) == 1, outcome.describe()
    for good in ("ok1", "ok2"):
        assert good in outcome.stdout, f"{good} was not printed\n{outcome.describe()}"


@pytest.mark.parametrize("fmt", ["jsonl", "ddb-json", "csv", "parquet", "stdout"])
def test_export_survives_a_stored_lone_surrogate(
    run: Runner, poisoned: str, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / "out.data"
    if fmt == "stdout":
        outcome = run("export", poisoned, "-o", "-")
        text = outcome.stdout
    else:
        outcome = run("export", poisoned, "-o", str(target), "--format", fmt)
        assert_clean_stderr(outcome)
        assert listing(tmp_path) == ["out.data"], f"{listing(tmp_path)}\n{outcome.describe()}"
        text = target.read_bytes().decode("utf-8", "replace")
    assert_clean_stderr(outcome)
    assert outcome.code in (0, 1), outcome.describe()
    if fmt != "parquet":
        for good in ("ok1", "ok2"):
            assert good in text, f"{good} is not in the export\n{outcome.describe()}"


def test_get_of_a_stored_lone_surrogate(run: Runner, poisoned: str) -> None:
    outcome = run("get", poisoned, "id=bad")
    assert_clean_stderr(outcome)
    assert outcome.code in (0, 1), outcome.describe()


def test_library_scan_of_a_stored_lone_surrogate(endpoint: str, poisoned: str) -> None:
    table = ddbkit.connect(endpoint_url=endpoint, local=True).table(poisoned)
    ids: set[str] = set()
    error: ddbkit.DdbkitError | None = None
    try:
        ids = {item["id"] for item in table.scan()}
    except ddbkit.DdbkitError as exc:  # allowed, if it names what it could not read
        error = exc
    if error is not None:
        assert "surrogate" in str(error).lower() or "note" in str(error), error
    else:
        assert {"ok1", "ok2"} <= ids


def test_jsonl_export_of_a_lone_surrogate_reads_back(
    run: Runner, poisoned: str, tmp_path: Path
) -> None:
    """Whatever the export writes for the bad items, every line of it is valid JSON."""
    target = tmp_path / "out.jsonl"
    run("export", poisoned, "-o", str(target))
    if target.exists():
        for line in target.read_text(encoding="utf-8").splitlines():
            json.loads(line)
