"""Fan-out export: ``--share K/N`` reads host K's share of S parallel-scan segments.

The truth for each part is the engine itself: a plain boto3 parallel scan of the segments K, K+N,
K+2N, ... (never through ddbkit). The parts of one split hold the table between them, every item
exactly once; each part resumes on its own and never as another part.
"""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import uuid
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.aio import connect_async
from ddbkit.table import Table
from tests.conftest import CliRunner, TableFactory, ddbkit_executable
from tests.integration.test_interrupts import ENV, interrupt, start, wait_for
from tests.support.faultproxy import FaultProxy
from tests.support.truth import (
    Canon,
    Key,
    assert_same_items,
    by_key,
    canon_typed_item,
    ddb_json_lines,
    engine_items,
    key_of,
    raw_client,
)

pytestmark = pytest.mark.integration

KEY = ("pk", "sk")
HOSTS = 3
Keyed = dict[Key, dict[str, Canon]]


def item(n: int) -> dict[str, Any]:
    """An item with most DynamoDB types, so a round trip through the parts is a real one."""
    value: dict[str, Any] = {"pk": f"p{n % 41}", "sk": n, "price": Decimal(n) / 7}
    if n % 3 == 0:
        value.update(tags={"a", f"t{n % 5}"}, nums={1, n}, blob=bytes([n % 256]) * 3)
    elif n % 3 == 1:
        value.update(nested={"m": {"l": [1, "two", {"three": Decimal("3.5")}]}}, nothing=None)
    else:
        value.update(active=n % 2 == 0, text="é" * (n % 50))
    return value


@pytest.fixture(scope="module")
def shared(endpoint: str) -> Iterable[Table]:
    """600 items, read-only for every test of the module (made once: the machine is shared)."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    name = f"t-share-{uuid.uuid4().hex[:12]}"
    t = db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N"))
    summary = t.put_many(item(n) for n in range(600))
    assert summary.written == 600 and summary.complete
    try:
        yield t
    finally:
        db.delete_table(name, wait=False)


def segment_items(endpoint: str, table: str, total: int, segments: Iterable[int]) -> Keyed:
    """The items of ``segments`` of a ``total``-segment scan, read by plain boto3, by key."""
    keyed: Keyed = {}
    pages = raw_client(endpoint).get_paginator("scan")
    for segment in segments:
        for page in pages.paginate(
            TableName=table, Segment=segment, TotalSegments=total, ConsistentRead=True
        ):
            for raw in page["Items"]:
                value = canon_typed_item(raw)
                key = key_of(value, KEY)
                assert key not in keyed, f"the engine returned key {key} twice"
                keyed[key] = value
    return keyed


def share_truth(endpoint: str, table: str, total: int, k: int) -> Keyed:
    return segment_items(endpoint, table, total, range(k, total, HOSTS))


def union(parts: Iterable[Keyed]) -> Keyed:
    """The parts as one table; a key in two parts fails the test."""
    whole: Keyed = {}
    for part in parts:
        twice = whole.keys() & part.keys()
        assert not twice, f"{len(twice)} keys are in two parts, e.g. {sorted(twice)[:3]}"
        whole.update(part)
    return whole


def file_keys(path: Path, fmt: str) -> list[tuple[str, int]]:
    """The keys a file of ``fmt`` holds, in file order (so a key twice shows twice)."""
    if fmt == "ddb-json":
        lines = [json.loads(line)["Item"] for line in path.read_bytes().splitlines()]
        return [(i["pk"]["S"], int(i["sk"]["N"])) for i in lines]
    if fmt == "jsonl":
        lines = [json.loads(line) for line in path.read_bytes().splitlines()]
        return [(i["pk"], int(i["sk"])) for i in lines]
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [(row["pk"], int(row["sk"])) for row in csv.DictReader(handle)]
    import pyarrow.parquet as pq

    columns = pq.read_table(path, columns=["pk", "sk"]).to_pydict()
    return [(pk, int(sk)) for pk, sk in zip(columns["pk"], columns["sk"], strict=True)]


def plain_keys(keyed: Keyed) -> list[tuple[str, int]]:
    return sorted((key[0][1], int(key[1][1])) for key in keyed)


# -- the parts make up the table --------------------------------------------------------------


@pytest.mark.parametrize("segments", [6, 7])
def test_cli_shares_of_one_scan_make_up_the_table_item_for_item(
    endpoint: str, cli: CliRunner, shared: Table, tmp_path: Path, segments: int
) -> None:
    parts: list[Keyed] = []
    for k in range(HOSTS):
        out = tmp_path / f"part.{k}.json"
        done = cli(
            "export", shared.name, "-o", str(out), "--format", "ddb-json",
            "--segments", str(segments), "--share", f"{k}/{HOSTS}",
        )  # fmt: skip
        assert done.code == 0, done.stderr
        part = ddb_json_lines(out.read_bytes(), KEY)  # fails on a key twice in one part
        assert part, f"share {k}/{HOSTS} of {segments} segments is empty"
        assert f"exported {len(part):,} items (share {k}/{HOSTS} of {segments} segments)" in (
            done.stderr
        )
        # Exactly its own segments: K, K+N, K+2N, ... as the engine splits them.
        assert_same_items(part, share_truth(endpoint, shared.name, segments, k))
        parts.append(part)
    whole = union(parts)
    assert_same_items(whole, engine_items(endpoint, shared.name, KEY))
    assert_same_items(whole, by_key(shared.scan(), KEY))  # the plain scan, item for item
    assert not list(tmp_path.glob(".part*"))  # no partial or checkpoint left behind


@pytest.mark.parametrize("fmt", ["jsonl", "ddb-json", "csv", "parquet"])
def test_library_shares_split_the_table_in_every_format(
    endpoint: str, shared: Table, tmp_path: Path, fmt: str
) -> None:
    everything: list[tuple[str, int]] = []
    for k in range(HOSTS):
        out = tmp_path / f"part.{k}.{fmt}"
        result = shared.export(out, format=fmt, segments=7, share=(k, HOSTS))
        keys = file_keys(out, fmt)
        assert result.items == len(keys) > 0
        assert sorted(keys) == plain_keys(share_truth(endpoint, shared.name, 7, k))
        everything += keys
    assert sorted(everything) == plain_keys(engine_items(endpoint, shared.name, KEY))


def test_cli_share_to_stdout_prints_exactly_the_share(
    endpoint: str, cli: CliRunner, shared: Table
) -> None:
    printed: list[tuple[str, int]] = []
    for k in range(HOSTS):
        done = cli("export", shared.name, "-o", "-", "--segments", "6", "--share", f"{k}/{HOSTS}")
        assert done.code == 0, done.stderr
        keys = [(i["pk"], int(i["sk"])) for i in map(json.loads, done.stdout.splitlines())]
        assert sorted(keys) == plain_keys(share_truth(endpoint, shared.name, 6, k))
        printed += keys
    assert sorted(printed) == plain_keys(engine_items(endpoint, shared.name, KEY))


def test_async_export_with_share_writes_the_same_part_as_the_sync_one(
    endpoint: str, shared: Table, tmp_path: Path
) -> None:
    async def parts() -> list[int]:
        async with connect_async(endpoint_url=endpoint, local=True) as adb:
            table = adb.table(shared.name)
            done = [
                await table.export(
                    tmp_path / f"async.{k}.json", format="ddb-json", segments=6, share=(k, HOSTS)
                )
                for k in range(HOSTS)
            ]
            return [result.items for result in done]

    counts = asyncio.run(parts())
    found = []
    for k in range(HOSTS):
        part = ddb_json_lines((tmp_path / f"async.{k}.json").read_bytes(), KEY)
        assert counts[k] == len(part) > 0
        assert_same_items(part, share_truth(endpoint, shared.name, 6, k))
        sync = tmp_path / f"sync.{k}.json"
        shared.export(sync, format="ddb-json", segments=6, share=(k, HOSTS))
        assert sorted(sync.read_bytes().splitlines()) == sorted(
            (tmp_path / f"async.{k}.json").read_bytes().splitlines()
        )
        found.append(part)
    assert_same_items(union(found), engine_items(endpoint, shared.name, KEY))


def test_importing_every_part_gives_back_the_table(
    endpoint: str, cli: CliRunner, shared: Table, make_table: TableFactory, tmp_path: Path
) -> None:
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    for k in range(HOSTS):
        out = tmp_path / f"users.{k}.json"
        done = cli(
            "export", shared.name, "-o", str(out), "--format", "ddb-json",
            "--segments", "7", "--share", f"{k}/{HOSTS}", "-q",
        )  # fmt: skip
        assert done.code == 0, done.stderr
        loaded = cli("import", copy.name, str(out), "--format", "ddb-json", "-q")
        assert loaded.code == 0, loaded.stderr
    assert_same_items(
        engine_items(endpoint, copy.name, KEY), engine_items(endpoint, shared.name, KEY)
    )


# -- interrupted and resumed ------------------------------------------------------------------


@pytest.fixture
def big(make_table: TableFactory) -> Table:
    """2,400 items of 8 KB: four 1 MB pages a segment of six, so a share takes several rounds."""
    t = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    summary = t.put_many({"pk": f"p{n % 29}", "sk": n, "pad": "x" * 8000} for n in range(2400))
    assert summary.written == 2400
    return t


def run_cli(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ddbkit_executable(), "--endpoint-url", endpoint, *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_ctrl_c_during_a_share_export_resumes_to_exactly_its_share(
    endpoint: str, big: Table, tmp_path: Path
) -> None:
    target = tmp_path / "part.1.json"
    partial = tmp_path / ".part.1.json.ddbkit-partial"
    checkpoint = tmp_path / ".part.1.json.ddbkit-checkpoint"
    mine = ["--segments", "6", "--share", "1/3"]
    export = ["export", big.name, "-o", str(target), "--format", "ddb-json", "-q"]
    with FaultProxy(endpoint, latency=0.3, operations={"Scan"}) as proxy:
        process = start(proxy.endpoint_url, *export, *mine)
        wait_for(checkpoint.exists, "the first checkpoint")
        code, stderr = interrupt(process)
    assert code == 130, stderr
    assert str(partial) in stderr and "--resume" in stderr, stderr
    assert not target.exists() and partial.exists()
    kept = partial.read_bytes()

    # Another part, another split or no share at all: refused, and the partial file kept.
    for other, said in [
        (["--segments", "6", "--share", "0/3"], "not share 0/3 of 6 segments"),
        (["--segments", "7", "--share", "1/3"], "not share 1/3 of 7 segments"),
        (["--segments", "6"], "not the whole table (no share)"),
    ]:
        refused = run_cli(endpoint, *export, "--resume", *other)
        assert refused.returncode == 1, refused.stderr
        line = one_error_line(refused.stderr)
        assert "read share 1/3 of 6 segments" in line and said in line, line
        assert "--share" in line and "drop --resume" in line, line
        assert partial.read_bytes() == kept and checkpoint.exists() and not target.exists()

    done = run_cli(endpoint, *export, "--resume", *mine)
    assert done.returncode == 0, done.stderr
    assert_same_items(
        ddb_json_lines(target.read_bytes(), KEY), share_truth(endpoint, big.name, 6, 1)
    )
    assert not partial.exists() and not checkpoint.exists()


def test_library_share_export_interrupted_resumes_to_exactly_its_share(
    endpoint: str, big: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DDBKIT_CHECKPOINT_SECONDS", "0")
    target = tmp_path / "part.2.jsonl"
    seen = 0

    def stop_at_the_third_page(count: int) -> None:
        nonlocal seen
        seen += 1
        if seen == 3:
            raise KeyboardInterrupt

    with pytest.raises(ddbkit.Interrupted, match="--resume"):
        big.export(target, segments=6, share=(2, 3), progress=stop_at_the_third_page)
    with pytest.raises(ddbkit.ValidationError, match="not share 0/3 of 6 segments"):
        big.export(target, segments=6, share=(0, 3), resume=True)
    with pytest.raises(ddbkit.ValidationError, match="not share 2/3 of 12 segments"):
        big.export(target, segments=12, share=(2, 3), resume=True)
    result = big.export(target, segments=6, share=(2, 3), resume=True)
    assert 0 < result.resumed_from < result.items
    keys = file_keys(target, "jsonl")
    assert sorted(keys) == plain_keys(share_truth(endpoint, big.name, 6, 2))  # each key once


# -- refused ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--segments", "6", "--share", "3/3"], "from 0 to 2"),
        (["--segments", "6", "--share", "0/0"], "N is the number of hosts, 1 or more"),
        (["--segments", "6", "--share", "0/7"], "--segments 7"),
        (["--share", "0/3"], "--segments S"),
        (["--segments", "6", "--share", "x/3"], "e.g. 0/3"),
        (["--segments", "6", "--share", "-1/3"], "e.g. 0/3"),
        (["--segments", "6", "--share", "1"], "e.g. 0/3"),
        (["--segments", "6", "--share", "0/3/6"], "e.g. 0/3"),
        (["--segments", "6", "--share", ""], "e.g. 0/3"),
    ],
)
def test_bad_shares_are_refused_in_one_line_and_leave_no_file(
    cli: CliRunner, shared: Table, tmp_path: Path, args: list[str], said: str
) -> None:
    out = tmp_path / "part.jsonl"
    done = cli("export", shared.name, "-o", str(out), *args)
    assert done.code in (1, 2), done.stderr
    line = one_error_line(done.stderr)
    assert said in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("segments", "share", "said"),
    [
        (6, (3, 3), "from 0 to 2"),
        (6, (-1, 3), "from 0 to 2"),
        (6, (0, 0), "1 or more"),
        (6, (0, 7), "segments=7"),
        (None, (0, 3), "segments=S"),
        (6, "0/3", "share=\\(0, 3\\)"),
        (6, (True, 3), "share=\\(0, 3\\)"),
        (6, (0.0, 3), "share=\\(0, 3\\)"),
        (6, (0, 1, 2), "share=\\(0, 3\\)"),
        ("6", (0, 3), "segments \\(--segments\\)"),
    ],
)
def test_library_refuses_bad_shares_before_making_a_file(
    shared: Table, tmp_path: Path, segments: Any, share: Any, said: str
) -> None:
    with pytest.raises(ddbkit.ValidationError, match=said) as caught:
        shared.export(tmp_path / "part.jsonl", segments=segments, share=share)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []
