"""Ctrl-C during a long job says what was done, what was not, and how to go on; nothing is lost.

Each job is slowed by the fault proxy (latency only, no faults) so SIGINT lands mid-run, and the
outcome is checked on the engine directly, never through the proxy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import ddbkit
from ddbkit.table import Table
from tests.conftest import ddbkit_executable
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration

ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "ddbkit",
    "AWS_SECRET_ACCESS_KEY": "ddbkit",
    "AWS_REGION": "us-east-1",
    "DDBKIT_CHECKPOINT_SECONDS": "0",
}


def start(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ddbkit_executable(), "--endpoint-url", url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def test_ctrl_c_during_import_says_what_was_written_and_how_to_finish(
    endpoint: str, table: Table, tmp_path: Path
) -> None:
    items = [{"id": f"i{n:05d}", "n": n} for n in range(3000)]
    source = tmp_path / "items.jsonl"
    source.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    with FaultProxy(endpoint, latency=0.05, operations={"BatchWriteItem"}) as proxy:
        process = start(proxy.endpoint_url, "import", table.name, str(source), "--workers", "1")
        wait_for(lambda: table.count() > 100, "the first items")
        code, stderr = interrupt(process)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "written" in stderr and "importing the same file again finishes" in stderr, stderr
    written = table.count()
    assert 0 < written < len(items)
    # The advice holds: the same import again leaves exactly the source items.
    done = subprocess.run(
        [ddbkit_executable(), "--endpoint-url", endpoint, "import", table.name, str(source), "-q"],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(table.scan(), key=lambda i: i["id"]) == items


def test_ctrl_c_during_delete_where_names_the_undo_file(
    endpoint: str, table: Table, tmp_path: Path
) -> None:
    items = [{"id": f"i{n:05d}", "gone": n % 2 == 0} for n in range(2000)]
    table.put_many(items)
    undo = tmp_path / "undo.jsonl"
    with FaultProxy(endpoint, latency=0.05, operations={"BatchWriteItem"}) as proxy:
        args = ["delete", table.name, "--where", "gone = true", "--undo", str(undo), "--yes"]
        process = start(proxy.endpoint_url, *args)
        wait_for(lambda: table.count() < len(items), "the first deletes")
        code, stderr = interrupt(process)
    assert code == 130, stderr
    assert str(undo) in stderr and "ddbkit import" in stderr, stderr
    # Every matching item is in the undo file; what was deleted came from there.
    saved = [orjson.loads(line)["Item"]["id"]["S"] for line in undo.read_bytes().splitlines()]
    assert sorted(saved) == sorted(str(i["id"]) for i in items if i["gone"])
    left = {item["id"] for item in table.scan()}
    assert left >= {i["id"] for i in items if not i["gone"]}
    assert oct(undo.stat().st_mode & 0o777) == oct(0o600)


def test_ctrl_c_during_export_names_the_partial_file_and_resume_finishes_it(
    endpoint: str, table: Table, tmp_path: Path
) -> None:
    items = [{"id": f"i{n:05d}", "pad": "x" * 500} for n in range(4000)]
    table.put_many(items)
    target = tmp_path / "out.jsonl"
    partial = tmp_path / ".out.jsonl.ddbkit-partial"
    checkpoint = tmp_path / ".out.jsonl.ddbkit-checkpoint"
    with FaultProxy(endpoint, latency=0.3, operations={"Scan"}) as proxy:
        process = start(proxy.endpoint_url, "export", table.name, "-o", str(target), "-q")
        wait_for(checkpoint.exists, "the first checkpoint")
        code, stderr = interrupt(process)
    assert code == 130, stderr
    assert str(partial) in stderr and "--resume" in stderr, stderr
    assert not target.exists() and partial.exists()
    assert oct(checkpoint.stat().st_mode & 0o777) == oct(0o600)
    command = [ddbkit_executable(), "--endpoint-url", endpoint, "export", table.name]
    done = subprocess.run(
        [*command, "-o", str(target), "--resume", "-q"],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert sorted(lines, key=lambda i: i["id"]) == items


def test_ctrl_c_during_a_csv_export_leaves_nothing_behind(
    endpoint: str, table: Table, tmp_path: Path
) -> None:
    table.put_many({"id": f"i{n:05d}", "pad": "x" * 500} for n in range(4000))
    target = tmp_path / "out.csv"
    with FaultProxy(endpoint, latency=0.3, operations={"Scan"}) as proxy:
        process = start(proxy.endpoint_url, "export", table.name, "-o", str(target), "-q")
        wait_for(lambda: any(tmp_path.iterdir()), "the partial file")
        # Mid-export: a first page came back and the next one is asked for.
        wait_for(lambda: proxy.stats.get("requests:Scan", 0) >= 2, "the second page")
        code, stderr = interrupt(process)
    assert code == 130, stderr
    assert "nothing was written" in stderr, stderr
    assert list(tmp_path.iterdir()) == []


def test_library_put_many_interrupted_raises_interrupted_with_the_summary(table: Table) -> None:
    def items() -> object:
        for n in range(500):
            if n == 300:
                raise KeyboardInterrupt
            yield {"id": f"i{n}"}

    with pytest.raises(ddbkit.Interrupted) as raised:
        table.put_many(items())  # type: ignore[arg-type]
    summary = raised.value.summary
    assert summary.interrupted and summary.read == 300
    assert summary.written + summary.failed == 300
    assert table.count() == summary.written


def test_ctrl_c_during_a_rate_limited_import_stops_at_once_and_the_summary_is_exact(
    endpoint: str, table: Table, tmp_path: Path
) -> None:
    source = tmp_path / "items.jsonl"
    source.write_bytes(
        b"".join(b'{"id": "i%05d", "pad": "%s"}\n' % (n, b"x" * 900) for n in range(300))
    )
    process = start(endpoint, "import", table.name, str(source), "--wcu", "20", "--workers", "2")
    wait_for(lambda: table.count() >= 40, "the first items")
    began = time.monotonic()
    code, stderr = interrupt(process)
    assert time.monotonic() - began < 10, "Ctrl-C did not cut the rate limiter's wait short"
    assert code == 130, stderr
    counts = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in stderr.splitlines()
        if line.split() and line.split()[0] in ("read", "written", "failed", "duplicates")
    }
    # Every item read is accounted for, and the summary says exactly what the table holds.
    assert counts["written"] == table.count(), stderr
    assert counts["read"] == counts["written"] + counts.get("failed", 0) + counts["duplicates"]
