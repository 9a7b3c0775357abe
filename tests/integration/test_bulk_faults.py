"""Nothing is lost under injected faults: throttling, partial batches, 5xx, resets, kill -9.

DynamoDB Local never throttles, so every test here goes through tests/support/faultproxy.py.
Results are always checked directly against the engine, never through the proxy.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

import ddbkit
from ddbkit.client import Database
from ddbkit.jsonvalues import dumps_typed
from ddbkit.table import Table
from tests.conftest import ddbkit_executable
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration

N_IMPORT = 20_000
N_EXPORT = 12_000
FAULTS: dict[str, Any] = {"throttle": 0.30, "unprocessed": 0.05, "reset": 0.02, "error_500": 0.01}


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
def export_source(endpoint: str) -> Iterator[Table]:
    """A table of ~2 KB items, big enough for many 1 MB pages per segment."""
    db = ddbkit.connect(endpoint_url=endpoint, local=True)
    name = f"faults-{os.getpid()}-{random.randrange(10**9)}"
    t = db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N"))
    try:
        rng = random.Random(3)
        summary = t.put_many({**source_item(n, rng), "pad": "p" * 2000} for n in range(N_EXPORT))
        assert summary.written == N_EXPORT
        yield t
    finally:
        db.delete_table(name, wait=False)


def through(proxy: FaultProxy) -> Database:
    return ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)


def key_lines(path: Path) -> list[tuple[str, int]]:
    keys = []
    for line in path.read_bytes().splitlines():
        item = orjson.loads(line)["Item"]
        keys.append((item["pk"]["S"], int(item["sk"]["N"])))
    return keys


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
    assert summary.read == N_IMPORT and summary.written == N_IMPORT
    assert summary.rejected == 0 and summary.failed == 0 and summary.retries > 0
    stored = {(i["pk"], i["sk"]): i for i in target.scan(segments=4)}
    assert len(stored) == N_IMPORT
    for item in items:
        assert stored[(item["pk"], item["sk"])] == item


def test_parallel_export_under_faults_equals_a_fault_free_export(
    endpoint: str, export_source: Table, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.json"
    export_source.export(clean, format="ddb-json", segments=1)
    faulty = tmp_path / "faulty.json"
    faults = {k: v for k, v in FAULTS.items() if k != "unprocessed"}
    with FaultProxy(endpoint, seed=9, operations={"Scan"}, **faults) as proxy:
        result = (
            through(proxy).table(export_source.name).export(faulty, format="ddb-json", segments=4)
        )
        stats = proxy.stats
    assert stats["throttle"] > 0
    assert result.items == N_EXPORT
    assert sorted(faulty.read_bytes().splitlines()) == sorted(clean.read_bytes().splitlines())


def test_kill_9_during_export_then_resume_keeps_every_key_exactly_once(
    endpoint: str, export_source: Table, tmp_path: Path
) -> None:
    target = tmp_path / "resumed.json"
    rng = random.Random(21)
    env = {
        **os.environ,
        "DDBKIT_CHECKPOINT_SECONDS": "0.05",
        "AWS_ACCESS_KEY_ID": "ddbkit",
        "AWS_SECRET_ACCESS_KEY": "ddbkit",
        "AWS_REGION": "us-east-1",
    }
    # Added latency stretches the export (8 pages a segment) to a few seconds so that the
    # kills land mid-way.
    with FaultProxy(endpoint, seed=2, latency=0.3, operations={"Scan"}) as proxy:
        command = [
            ddbkit_executable(), "--endpoint-url", proxy.endpoint_url, "export",
            export_source.name, "-o", str(target), "--format", "ddb-json",
            "--segments", "3", "--resume", "--quiet",
        ]  # fmt: skip
        checkpoint = tmp_path / ".resumed.json.ddbkit-checkpoint"
        kills = 0
        for _ in range(3):
            process = subprocess.Popen(command, env=env)
            # Kill at a random moment once a checkpoint exists (on later rounds that may be
            # before this run's own first checkpoint: resuming from an older one must work too).
            deadline = time.monotonic() + 60
            while not checkpoint.exists() and process.poll() is None:
                assert time.monotonic() < deadline, "no checkpoint was ever written"
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            if process.poll() is not None:
                break  # this run got to the end by itself
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            kills += 1
        assert kills > 0, "the export finished before any kill: make it slower"
        if not target.exists():
            loud = [c for c in command if c != "--quiet"]
            final = subprocess.run(loud, env=env, capture_output=True, text=True, timeout=300)
            assert final.returncode == 0, final.stderr
            assert "from the interrupted run" in final.stderr
    keys = key_lines(target)
    counts = Counter(keys)
    assert len(keys) == N_EXPORT and max(counts.values()) == 1
    assert not list(tmp_path.glob(".resumed*"))


def test_ddb_json_round_trip_export_import_export_is_identical(
    export_source: Table, make_table: Callable[..., Table], tmp_path: Path
) -> None:
    first = tmp_path / "first.json"
    export_source.export(first, format="ddb-json", segments=2)
    copy = make_table(partition_key=("pk", "S"), sort_key=("sk", "N"))
    summary = copy.import_file(first, format="ddb-json")
    assert summary.written == N_EXPORT
    second = tmp_path / "second.json"
    copy.export(second, format="ddb-json", segments=3)
    assert sorted(first.read_bytes().splitlines()) == sorted(second.read_bytes().splitlines())
