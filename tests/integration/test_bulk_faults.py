"""Nothing is lost under injected faults: throttling, partial batches, 5xx, resets, kill -9.

DynamoDB Local never throttles, so every test here goes through tests/support/faultproxy.py.
Results are always checked directly against the engine (a plain boto3 client, never through the
proxy) and against the items the test generated, never against another ddbkit run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ddbkit
from ddbkit.database import Database
from ddbkit.table import Table
from ddbkit.values.jsonvalues import dumps_typed
from tests.conftest import ddbkit_executable
from tests.support.faultproxy import FaultProxy
from tests.support.truth import assert_same_items, by_key, ddb_json_lines, engine_items

pytestmark = pytest.mark.integration

N_IMPORT = 20_000
N_EXPORT = 12_000
KEY = ("pk", "sk")
FAULTS: dict[str, Any] = {"throttle": 0.30, "unprocessed": 0.05, "reset": 0.02, "error_500": 0.01}
# For the export: every kind of fault a read can meet, often enough that each fires in ~50 pages
# (and, seeded, the same ones on every run: the number of requests depends only on the draws).
READ_FAULTS: dict[str, Any] = {"throttle": 0.2, "error_500": 0.08, "error_503": 0.08, "reset": 0.08}
Source = tuple[Table, list[dict[str, Any]]]


def source_item(n: int, rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": f"p{n % 211}", "sk": n, "v": rng.randint(0, 10**9)}
    roll = rng.random()
    if roll < 0.25:
        item["doc"] = {"tags": ["a", "b", n], "ok": True, "price": Decimal(n) / 7 if n else 0}
    elif roll < 0.45:
        item["set"] = {f"s{n % 13}", "x"}
        item["bin"] = n.to_bytes(4, "big")
    elif roll < 0.5:
        item["text"] = "t" * rng.randint(500, 3000)
    return item


@pytest.fixture(scope="module")
def export_source(endpoint: str) -> Iterator[Source]:
    """A table of ~2 KB items, big enough for many 1 MB pages per segment, and its items."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    name = f"faults-{os.getpid()}-{random.randrange(10**9)}"
    t = db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N"))
    try:
        rng = random.Random(3)
        items = [{**source_item(n, rng), "pad": "p" * 2000} for n in range(N_EXPORT)]
        summary = t.put_many(items)
        assert summary.written == N_EXPORT
        yield t, items
    finally:
        db.delete_table(name, wait=False)


def through(proxy: FaultProxy) -> Database:
    return ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)


def test_import_through_heavy_faults_writes_every_item_exactly(
    endpoint: str, make_table: Callable[..., Table], tmp_path: Path
) -> None:
    rng = random.Random(11)
    items = [source_item(n, rng) for n in range(N_IMPORT)]
    source = tmp_path / "in.json"
    source.write_text("".join(f'{{"Item": {dumps_typed(i)}}}\n' for i in items))
    target = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    with FaultProxy(endpoint, seed=5, operations={"BatchWriteItem"}, **FAULTS) as proxy:
        summary = through(proxy).table(target.name).import_file(source, format="ddb-json")
        stats = proxy.stats
    assert stats["throttle"] > 0 and stats["unprocessed"] > 0 and stats["reset"] > 0
    assert stats["error_500"] > 0
    assert summary.read == N_IMPORT and summary.written == N_IMPORT
    assert summary.rejected == 0 and summary.failed == 0 and summary.retries > 0
    assert_same_items(engine_items(endpoint, target.name, KEY), by_key(items, KEY))


def test_parallel_export_under_every_read_fault_writes_every_source_item_once(
    endpoint: str, export_source: Source, tmp_path: Path
) -> None:
    table, items = export_source
    faulty = tmp_path / "faulty.json"
    with FaultProxy(endpoint, seed=9, operations={"Scan"}, **READ_FAULTS) as proxy:
        result = through(proxy).table(table.name).export(faulty, format="ddb-json", segments=4)
        stats = proxy.stats
    fired = {kind: stats[kind] for kind in READ_FAULTS}
    assert all(fired.values()), f"a fault kind never fired: {fired}"
    assert result.items == N_EXPORT
    assert_same_items(ddb_json_lines(faulty.read_bytes(), KEY), by_key(items, KEY))


def _kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """SIGKILL ``process`` as soon as ``ready()``; False if it finished first."""
    deadline = time.monotonic() + 60
    while not ready():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the export never reached the point to kill it at"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return True


def test_kill_9_during_export_then_resume_keeps_every_item_exactly_once(
    endpoint: str, export_source: Source, tmp_path: Path
) -> None:
    table, items = export_source
    target = tmp_path / "resumed.json"
    checkpoint = tmp_path / ".resumed.json.ddbkit-checkpoint"
    env = {
        **os.environ,
        "DDBKIT_CHECKPOINT_SECONDS": "0.05",
        "AWS_ACCESS_KEY_ID": "ddbkit",
        "AWS_SECRET_ACCESS_KEY": "ddbkit",
        "AWS_REGION": "us-east-1",
    }

    def saved() -> bytes | None:
        try:
            return checkpoint.read_bytes()  # replaced atomically: never half a record
        except FileNotFoundError:
            return None

    # Added latency stretches each page to 0.3 s, so every kill below lands mid-export.
    with FaultProxy(endpoint, seed=2, latency=0.3, operations={"Scan"}) as proxy:
        command = [
            ddbkit_executable(), "--endpoint-url", proxy.endpoint_url, "export",
            table.name, "-o", str(target), "--format", "ddb-json",
            "--segments", "3", "--resume", "--quiet",
        ]  # fmt: skip
        # 1: once the first checkpoint exists; 2: once this run has sent a request, before its
        # own first checkpoint (it must resume from the older one); 3: once it checkpointed anew.
        first = subprocess.Popen(command, env=env)
        assert _kill_when(first, lambda: saved() is not None)
        sent = proxy.stats.get("requests:Scan", 0)
        second = subprocess.Popen(command, env=env)
        assert _kill_when(second, lambda: proxy.stats.get("requests:Scan", 0) > sent)
        before = saved()
        third = subprocess.Popen(command, env=env)
        assert _kill_when(third, lambda: saved() not in (before, None))
        assert not target.exists()
        loud = [c for c in command if c != "--quiet"]
        final = subprocess.run(loud, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        assert "from the interrupted run" in final.stderr
    assert_same_items(ddb_json_lines(target.read_bytes(), KEY), by_key(items, KEY))
    assert not list(tmp_path.glob(".resumed*"))


def test_ddb_json_round_trip_export_import_export_keeps_every_source_item(
    endpoint: str, export_source: Source, make_table: Callable[..., Table], tmp_path: Path
) -> None:
    table, items = export_source
    want = by_key(items, KEY)
    first = tmp_path / "first.json"
    table.export(first, format="ddb-json", segments=2)
    assert_same_items(ddb_json_lines(first.read_bytes(), KEY), want)
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    summary = copy.import_file(first, format="ddb-json")
    assert summary.written == N_EXPORT
    assert_same_items(engine_items(endpoint, copy.name, KEY), want)
    second = tmp_path / "second.json"
    copy.export(second, format="ddb-json", segments=3)
    assert sorted(first.read_bytes().splitlines()) == sorted(second.read_bytes().splitlines())
