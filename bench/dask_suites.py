"""Bench section of the Dask integration (issue 9): ``Table.to_dask`` and ``Table.write_dask`` on
a real ``distributed`` cluster beside the same work done in this process, on the run's engine.

One ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` is started for the
section and its client made the default scheduler; its start-up and the first use (imports and a
connection in every worker, a to_dask and write_dask of a few items) happen before any timing and
are reported, not timed.

- read: ``to_dask(segments=S).compute()`` of the main table against ``list(scan(segments=S))``
  in this process. S = 4 for both: the same segments cost DynamoDB Local the same (its
  unlimited Scan pages cost in proportion to the rest of the segment, see bench/README.md),
  4 is what the scan section usually finds best on 2 cores, and it is a multiple of the 2
  workers, so each runs 2 partitions and neither waits alone at the end. Target >= 0.70x.
- write: ``write_dask`` of a frame of the data set (``dask.dataframe.from_pandas``, S partitions,
  persisted on the workers before timing: the data where a Dask job has it) against
  ``import_file`` of the same items as jsonl, each into a fresh empty table. Both have 8
  BatchWriteItem requests in flight: import_file ``workers=8``; write_dask 2 partitions at a time
  with ``WRITERS_PER_PARTITION`` (4) writers each. The ratio is printed, with no target.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.measure import Variant, log, run_interleaved
from bench.suites import WORKERS, Context, Row, Section, Target, _fmt_ratio, _FreshTable, ratio

SEGMENTS = 4
N_WORKERS = 2
THREADS_PER_WORKER = 1
READ_GOAL = 0.70
WARM_ITEMS = 200


def warm_worker(spec: Any) -> str:
    """Import what a partition needs and open this worker's connection (runs in each worker)."""
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    from ddbkit.integrations import dask as integration
    from ddbkit.integrations.sql.plan import duckdb_module

    duckdb_module()
    integration.connection(spec)
    return "ok"


def _warm(ctx: Context, client: Any) -> None:
    """Every worker's first use, untimed: imports, its connection, and one tiny read and write
    through the API (this process's first to_dask loads DuckDB and the sampler too)."""
    client.run(warm_worker, ctx.db.spec)
    names = [ctx.fresh_name("dask-warm") for _ in range(2)]
    for name in names:
        ctx.create_table(name)
    try:
        ctx.db.table(names[0]).put_many(ctx.items[:WARM_ITEMS])
        frame = ctx.db.table(names[0]).to_dask(segments=SEGMENTS)
        if len(frame.compute()) != min(ctx.n, WARM_ITEMS):
            raise RuntimeError("the warm-up read did not return its items")
        ctx.db.table(names[1]).write_dask(frame)
    finally:
        for name in names:
            ctx.drop_table(name)


def _start_cluster(ctx: Context) -> tuple[Any, Any, float, float]:
    """The section's cluster and client; seconds to start them, and to warm the workers."""
    import distributed

    dist: Any = distributed  # distributed's annotations are partial
    began = time.perf_counter()
    cluster = dist.LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=THREADS_PER_WORKER,
        processes=True,
        dashboard_address=None,  # no port to collide with another run's dashboard
    )
    try:
        client = dist.Client(cluster)  # the default scheduler from now on
    except BaseException:
        cluster.close()
        raise
    started = time.perf_counter() - began
    began = time.perf_counter()
    try:
        _warm(ctx, client)
    except BaseException:
        client.close()
        cluster.close()
        raise
    return cluster, client, started, time.perf_counter() - began


def _frame(ctx: Context) -> Any:
    """The data set as a dask DataFrame of SEGMENTS partitions, persisted on the workers."""
    import dask
    import dask.dataframe
    import distributed
    import pandas as pd

    dd: Any = dask.dataframe  # dask's and distributed's annotations are partial
    dist: Any = distributed

    # Dask's default turns every object column into Arrow strings: maps, sets and bytes would
    # reach write_dask as text (the str() of a dict). A user keeping Python values does this.
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_pandas(pd.DataFrame(ctx.items), npartitions=SEGMENTS).persist()
    dist.wait(frame)  # persist only starts the work
    return frame


def dask_section(ctx: Context) -> Section:
    title = (
        f"dask: {ctx.n:,} items, LocalCluster({N_WORKERS} worker processes x "
        f"{THREADS_PER_WORKER} thread), {SEGMENTS} segments/partitions"
    )
    try:
        cluster, client, started, warmed = _start_cluster(ctx)
    except ImportError as error:
        section = Section("dask", title)
        section.notes.append(f"not run: {type(error).__name__}: {error} (pip install -e '.[dev]')")
        section.targets = [Target("to_dask().compute() / in-process scan", None, READ_GOAL)]
        return section
    try:
        log(f"cluster started in {started:.2f} s, workers warmed in {warmed:.2f} s")
        began = time.perf_counter()
        frame = _frame(ctx)
        shipped = time.perf_counter() - began
        section = _measure(ctx, frame)
        section.title = title
        section.notes[:0] = [
            f"LocalCluster start-up {started:.2f} s and the first use (imports, a connection per "
            f"worker, to_dask and write_dask of {WARM_ITEMS} items) {warmed:.2f} s: not timed",
            f"the write frame (from_pandas of the data set, {SEGMENTS} partitions) was persisted "
            f"on the workers before timing, in {shipped:.2f} s",
        ]
        return section
    finally:
        client.close()
        cluster.close()


def _measure(ctx: Context, frame: Any) -> Section:
    source = ctx.db.table(ctx.main_table)
    dask_table = _FreshTable(ctx, "dask-write")
    import_table = _FreshTable(ctx, "dask-import")
    computed: list[Any] = []
    planned: list[float] = []  # seconds of each to_dask() call before compute: a fixed cost

    def dask_read() -> tuple[int, dict[str, Any]]:
        began = time.perf_counter()
        ddf = source.to_dask(segments=SEGMENTS)
        planned.append(time.perf_counter() - began)
        df = ddf.compute()
        computed[:] = [df]
        return len(df), {"segments": SEGMENTS, "partitions": int(ddf.npartitions)}

    def distinct_keys() -> str | None:
        df = computed.pop()
        keys = len(df[["pk", "sk"]].drop_duplicates())
        extra = int(df["_extra"].notna().sum()) if "_extra" in df.columns else 0
        if keys != ctx.n:
            return f"the frame holds {keys} distinct keys, not {ctx.n}"
        if extra:
            log(f"to_dask: {extra} rows kept values in _extra")
        return None

    def scan() -> tuple[int, dict[str, Any]]:
        return len(list(source.scan(segments=SEGMENTS))), {"segments": SEGMENTS}

    def dask_write() -> tuple[int, dict[str, Any]]:
        summary = ctx.db.table(dask_table.name).write_dask(frame)
        return int(summary.written), {"retries": summary.retries}

    def import_jsonl() -> tuple[int, dict[str, Any]]:
        table = ctx.db.table(import_table.name)
        summary = table.import_file(ctx.jsonl_file, format="jsonl", workers=WORKERS)
        return int(summary.written), {"retries": summary.retries}

    def fresh(key: str, label: str, holder: _FreshTable, run: Callable[[], Any]) -> Variant:
        return Variant(key, label, run, ctx.n, holder.setup, holder.teardown, holder.check)

    variants = [
        Variant(
            "read.dask",
            f"to_dask(segments={SEGMENTS}).compute()",
            dask_read,
            ctx.n,
            check=distinct_keys,
        ),
        Variant("read.scan", f"list(scan(segments={SEGMENTS})), in process", scan, ctx.n),
        fresh("write.dask", "write_dask(frame)", dask_table, dask_write),
        fresh(
            "write.import",
            f"import_file(jsonl, workers={WORKERS}), in process",
            import_table,
            import_jsonl,
        ),
    ]
    results = run_interleaved(variants, ctx.reps)
    read_dask, read_scan = results["read.dask"], results["read.scan"]
    write_dask, write_import = results["write.dask"], results["write.import"]
    section = Section("dask", "dask", results)
    section.rows = [
        Row(f"(a) in-process parallel scan, list(scan(segments={SEGMENTS}))", read_scan),
        Row(f"(b) t.to_dask(segments={SEGMENTS}).compute() on the cluster", read_dask),
        Row(f"(c) in-process import_file(jsonl file, workers={WORKERS})", write_import),
        Row(f"(d) t2.write_dask(frame), {SEGMENTS} partitions on the workers", write_dask),
    ]
    if planned:
        section.notes.append(
            f"to_dask() before compute (plan, DescribeTable, a sample of up to 1,000 items "
            f"typed by DuckDB, in this process): {min(planned):.2f} s at best, whatever N"
        )
    written = _fmt_ratio(ratio(write_dask, write_import))
    section.notes.append(f"write_dask / in-process import_file (jsonl): {written}")
    section.targets = [
        Target(
            f"to_dask(segments={SEGMENTS}).compute() / in-process scan(segments={SEGMENTS})",
            ratio(read_dask, read_scan),
            READ_GOAL,
            detail=read_dask.error or "",
        )
    ]
    return section
