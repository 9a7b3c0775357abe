"""The measured sections: scan, import, export, rss, the same import/export under faults, sql,
and the command line's start-up (cli)."""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import baselines, data, verify
from bench.baselines import Boto3
from bench.data import Item, Wire
from bench.measure import UNAVAILABLE, Result, Variant, best_of, log, run_interleaved
from bench.rawhttp import ACCESS_KEY, REGION, SECRET_KEY, RawClient

RAW_SEGMENTS = (1, 2, 4, 8)
DDBKIT_SEGMENTS = (2, 4, 8)
WORKERS = 8
DEFAULT_EXPORT_SEGMENTS = 4
RSS_LIMIT_MB = 250.0
CHILD = Path(__file__).resolve().with_name("rss_child.py")
CHILD_TIMEOUT = 1800.0
FAULTS: dict[str, Any] = {
    "seed": 1,
    "throttle": 0.3,
    "unprocessed": 0.05,
    "reset": 0.02,
    "error_500": 0.01,
    "operations": {"BatchWriteItem", "Scan"},
}


@dataclass
class Target:
    """One goal of the issue: ``value`` against ``threshold`` (``>=`` for ratios, ``<`` for MB;
    ``<=`` for what must be ``at_most`` the threshold, like start-up times)."""

    name: str
    value: float | None
    threshold: float
    higher_is_better: bool = True
    unit: str = "x"
    detail: str = ""
    at_most: bool = False

    @property
    def comparison(self) -> str:
        if self.higher_is_better:
            return ">="
        return "<=" if self.at_most else "<"

    @property
    def passed(self) -> bool | None:
        if self.value is None:
            return None
        if self.higher_is_better:
            return self.value >= self.threshold
        if self.at_most:
            return self.value <= self.threshold
        return self.value < self.threshold

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FALL SHORT", None: "N/A"}[self.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": None if self.value is None else round(self.value, 3),
            "threshold": self.threshold,
            "comparison": self.comparison,
            "unit": self.unit,
            "verdict": self.verdict,
            "detail": self.detail,
        }


@dataclass
class Row:
    """One line of a section's table; ``result`` None for lines that are notes."""

    label: str
    result: Result | None
    note: str = ""


@dataclass
class Section:
    name: str
    title: str
    results: dict[str, Result] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    baseline: Result | None = None  # the rows' "x seed" column divides by this

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "results": {key: r.to_json() for key, r in self.results.items()},
            "targets": [t.to_json() for t in self.targets],
            "notes": self.notes,
        }


@dataclass
class Context:
    """Everything a section needs, built once per benchmark run."""

    endpoint_url: str
    db: Any  # ddbkit.Database
    raw: RawClient
    b3: Boto3
    n: int
    reps: int
    workdir: Path
    main_table: str
    items: list[Item]
    wire: list[Wire]
    ddb_json_file: Path
    jsonl_file: Path
    seed: int = data.DEFAULT_SEED
    export_segments: int | None = None
    page_limit: int | None = baselines.PAGE_LIMIT
    rss_items: int | None = None
    engine_pid: int | None = None
    cli_runs: int = 15
    _names: itertools.count[int] = field(default_factory=itertools.count)

    def fresh_name(self, kind: str) -> str:
        return f"bench-{kind}-{next(self._names)}"

    def create_table(self, name: str) -> None:
        self.db.create_table(name, partition_key=("pk", "S"), sort_key=("sk", "N"))

    def drop_table(self, name: str) -> None:
        self.db.delete_table(name)


def ratio(a: Result | None, b: Result | None) -> float | None:
    if a is None or b is None or a.best_rate is None or b.best_rate is None:
        return None
    return a.best_rate / b.best_rate


def _seg(result: Result | None) -> str:
    if result is None:
        return ""
    limit = result.info.get("page_limit")
    paging = f", Limit {limit}" if limit else (", no Limit" if "page_limit" in result.info else "")
    return f" (best: {result.info.get('segments', '?')} seg{paging})"


# ---------------------------------------------------------------------------------------------
# Scan


def scan_section(ctx: Context) -> Section:
    table = ctx.main_table
    variants = [
        Variant(
            "seed",
            "seed's way: boto3 Table.scan loop",
            lambda: baselines.seed_scan(ctx.b3, table),
            ctx.n,
        ),
        Variant(
            "paginator",
            "boto3 paginator + TypeDeserializer",
            lambda: baselines.paginator_scan(ctx.b3, table),
            ctx.n,
        ),
    ]
    page_limits: list[int | None] = [None] if ctx.page_limit is None else [None, ctx.page_limit]
    raw_keys: list[str] = []
    rawpy_keys: list[str] = []
    for s in RAW_SEGMENTS:
        for limit in page_limits:
            for decode in (False, True):
                variant = _raw_scan_variant(ctx, s, decode=decode, page_limit=limit)
                (rawpy_keys if decode else raw_keys).append(variant.key)
                variants.append(variant)
    variants.append(_ddbkit_scan_variant(ctx, 1))
    variants.extend(_ddbkit_scan_variant(ctx, k) for k in DDBKIT_SEGMENTS)

    results = run_interleaved(variants, ctx.reps)
    seed = results["seed"]
    raw = best_of(results, raw_keys)
    rawpy = best_of(results, rawpy_keys)
    one = results["ddbkit.1"]
    parallel = best_of(results, [f"ddbkit.{k}" for k in DDBKIT_SEGMENTS])

    section = Section("scan", f"scan: {ctx.n:,} items", results, baseline=seed)
    section.rows = [
        Row("(a) seed's way: boto3 Table.scan + LastEvaluatedKey loop", seed),
        Row("(b) boto3 paginator + TypeDeserializer", results["paginator"]),
        Row(f"(c) raw limit: signed POSTs, no decode{_seg(raw)}", raw),
        Row(f"(d) raw + orjson + minimal converter{_seg(rawpy)}", rawpy),
        Row("(e) ddbkit scan(segments=1)", one),
        Row(f"(f) ddbkit scan(segments=K){_seg(parallel)}", parallel),
    ]
    for key in [*raw_keys, *rawpy_keys]:
        section.rows.append(Row(f"    {results[key].label}", results[key]))
    for k in DDBKIT_SEGMENTS:
        section.rows.append(Row(f"    ddbkit {k} segments", results[f"ddbkit.{k}"]))
    section.targets = [
        Target(
            "ddbkit parallel scan / raw + Python values limit",
            ratio(parallel, rawpy),
            0.90,
            detail=_missing(parallel, results, "ddbkit.2"),
        ),
        Target(
            "ddbkit parallel scan / seed's way",
            ratio(parallel, seed),
            3.5,
            detail=_missing(parallel, results, "ddbkit.2"),
        ),
    ]
    section.notes.append(
        f"ddbkit 1 segment / seed's way: {_fmt_ratio(ratio(one, seed))}; "
        f"raw + Python values / raw: {_fmt_ratio(ratio(rawpy, raw))}"
    )
    return section


def _raw_scan_variant(
    ctx: Context, segments: int, *, decode: bool, page_limit: int | None
) -> Variant:
    key = f"{'rawpy' if decode else 'raw'}.{segments}" + (f".L{page_limit}" if page_limit else "")
    what = "raw + Python values" if decode else "raw, no decode"
    paging = f"Limit {page_limit}" if page_limit else "no Limit"

    def run() -> tuple[int, dict[str, Any]]:
        count = baselines.raw_scan(
            ctx.raw, ctx.main_table, segments, decode=decode, page_limit=page_limit
        )
        return count, {"segments": segments, "page_limit": page_limit}

    return Variant(key, f"{what}, {segments} seg, {paging}", run, ctx.n)


def _ddbkit_scan_variant(ctx: Context, segments: int) -> Variant:
    def run() -> tuple[int, dict[str, Any]]:
        count = sum(1 for _ in ctx.db.table(ctx.main_table).scan(segments=segments))
        return count, {"segments": segments}

    return Variant(f"ddbkit.{segments}", f"ddbkit scan {segments} seg", run, ctx.n)


def _missing(result: Result | None, results: dict[str, Result], key: str) -> str:
    if result is not None:
        return ""
    error = results[key].error if key in results else None
    return error or "not measured"


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


# ---------------------------------------------------------------------------------------------
# Import


class _FreshTable:
    """A new empty table before each run, deleted after it."""

    def __init__(self, ctx: Context, kind: str) -> None:
        self.ctx = ctx
        self.kind = kind
        self.name = ""

    def setup(self) -> None:
        self.name = self.ctx.fresh_name(self.kind)
        self.ctx.create_table(self.name)

    def teardown(self) -> None:
        if self.name:
            self.ctx.drop_table(self.name)
            self.name = ""

    def check(self) -> str | None:
        count = baselines.count_items(self.ctx.raw, self.name)
        return None if count == self.ctx.n else f"table holds {count} items, not {self.ctx.n}"


def _summary_info(summary: Any) -> dict[str, Any]:
    return {
        name: getattr(summary, name)
        for name in ("read", "written", "duplicates", "rejected", "failed", "retries", "elapsed")
        if hasattr(summary, name)
    }


def import_section(ctx: Context) -> Section:
    seed_table = _FreshTable(ctx, "imp-seed")
    raw_table = _FreshTable(ctx, "imp-raw")
    typed_table = _FreshTable(ctx, "imp-ddbjson")
    plain_table = _FreshTable(ctx, "imp-jsonl")

    def raw_run() -> tuple[int, dict[str, Any]]:
        stats = baselines.raw_write(ctx.raw, raw_table.name, ctx.wire, threads=WORKERS)
        return stats.items, {"requests": stats.requests, "retried_batches": stats.retried_batches}

    def ddbkit_run(holder: _FreshTable, path: Path, fmt: str) -> Callable[[], Any]:
        def run() -> tuple[int, dict[str, Any]]:
            table = ctx.db.table(holder.name)
            summary = table.import_file(path, format=fmt, workers=WORKERS)
            return int(summary.written), _summary_info(summary)

        return run

    def variant(key: str, label: str, holder: _FreshTable, run: Callable[[], Any]) -> Variant:
        return Variant(key, label, run, ctx.n, holder.setup, holder.teardown, holder.check)

    variants = [
        variant(
            "seed",
            "seed import",
            seed_table,
            lambda: baselines.seed_import(ctx.b3, seed_table.name, ctx.items),
        ),
        variant("raw", "raw BatchWriteItem x8", raw_table, raw_run),
        variant(
            "ddbkit.ddb-json",
            "ddbkit import ddb-json",
            typed_table,
            ddbkit_run(typed_table, ctx.ddb_json_file, "ddb-json"),
        ),
        variant(
            "ddbkit.jsonl",
            "ddbkit import jsonl",
            plain_table,
            ddbkit_run(plain_table, ctx.jsonl_file, "jsonl"),
        ),
    ]
    results = run_interleaved(variants, ctx.reps)
    raw = results["raw"]
    section = Section("import", f"import: {ctx.n:,} items into a fresh empty table", results)
    section.baseline = results["seed"]
    section.rows = [
        Row("(a) seed's way: boto3 Table.batch_writer(), 1 thread", results["seed"]),
        Row(f"(b) raw limit: {WORKERS} threads x 25-item BatchWriteItem POSTs", raw),
        Row(f"(c) ddbkit import_file ddb-json, workers={WORKERS}", results["ddbkit.ddb-json"]),
        Row(f"    ddbkit import_file jsonl, workers={WORKERS}", results["ddbkit.jsonl"]),
    ]
    for key, fmt in (("ddbkit.ddb-json", "ddb-json"), ("ddbkit.jsonl", "jsonl")):
        section.targets.append(
            Target(
                f"ddbkit import ({fmt}) / raw parallel BatchWriteItem limit",
                ratio(results[key], raw),
                0.90,
                detail=results[key].error or "",
            )
        )
        cpu, raw_cpu = results[key].cpu_us_per_item, raw.cpu_us_per_item
        section.targets.append(
            Target(
                f"ddbkit import ({fmt}) client CPU per item / the raw path's "
                f"({_fmt_us(cpu)} vs {_fmt_us(raw_cpu)} per item)",
                None if cpu is None or not raw_cpu else cpu / raw_cpu,
                1.3,
                higher_is_better=False,
                at_most=True,
            )
        )
    return section


def _fmt_us(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} us"


# ---------------------------------------------------------------------------------------------
# Export


def export_segments(ctx: Context, scan: Section | None) -> int:
    """The K for export: as asked, else the best ddbkit scan K of this run, else 4."""
    if ctx.export_segments is not None:
        return ctx.export_segments
    if scan is not None:
        best = best_of(scan.results, [f"ddbkit.{k}" for k in DDBKIT_SEGMENTS])
        if best is not None:
            return int(best.info["segments"])
    return DEFAULT_EXPORT_SEGMENTS


def export_section(ctx: Context, segments: int) -> Section:
    def target_file(kind: str) -> Path:
        return ctx.workdir / f"export-{kind}.out"

    def unlink(path: Path) -> Callable[[], None]:
        return lambda: path.unlink(missing_ok=True)

    verified: set[str] = set()

    def checker(path: Path, fmt: str) -> Callable[[], str | None]:
        def check() -> str | None:
            if fmt not in verified:  # the content once; later runs only count lines
                verified.add(fmt)
                found = verify.compare(
                    data.generate(ctx.n, ctx.seed),
                    verify.read_export(path, fmt),
                    as_plain=fmt == "jsonl",
                )
                return None if found.ok else found.message
            lines = verify.count_lines(path)
            return None if lines == ctx.n else f"{lines} lines, not {ctx.n}"

        return check

    def ddbkit_variant(fmt: str) -> Variant:
        path = target_file(fmt)

        def run() -> tuple[int, dict[str, Any]]:
            result = ctx.db.table(ctx.main_table).export(path, format=fmt, segments=segments)
            info: dict[str, Any] = {"segments": segments}
            if hasattr(result, "elapsed"):
                info["elapsed"] = result.elapsed
            return int(result.items), info

        return Variant(
            f"ddbkit.{fmt}",
            f"ddbkit export {fmt}",
            run,
            ctx.n,
            teardown=unlink(path),
            check=checker(path, fmt),
        )

    seed_path = target_file("seed")

    def seed_check() -> str | None:
        lines = verify.count_lines(seed_path)
        return None if lines == ctx.n else f"{lines} lines, not {ctx.n}"

    variants = [
        Variant(
            "seed",
            "seed export",
            lambda: baselines.seed_export(ctx.b3, ctx.main_table, seed_path),
            ctx.n,
            teardown=unlink(seed_path),
            check=seed_check,
        ),
        ddbkit_variant("ddb-json"),
        ddbkit_variant("jsonl"),
    ]
    results = run_interleaved(variants, ctx.reps)
    seed = results["seed"]
    section = Section("export", f"export to a file: {ctx.n:,} items", results, baseline=seed)
    section.rows = [
        Row("(a) seed's way: Table.scan loop + json.dumps(item, default=str)", seed),
        Row(f"(b) ddbkit export ddb-json, segments={segments}", results["ddbkit.ddb-json"]),
        Row(f"    ddbkit export jsonl, segments={segments}", results["ddbkit.jsonl"]),
    ]
    for fmt, goal in (("ddb-json", 5.0), ("jsonl", 3.5)):
        key = f"ddbkit.{fmt}"
        section.targets.append(
            Target(
                f"ddbkit export {fmt} / seed's way",
                ratio(results[key], seed),
                goal,
                detail=results[key].error or "",
            )
        )
    section.notes.append("each ddbkit export's content was checked once against the source items")
    return section


# ---------------------------------------------------------------------------------------------
# Peak RSS of an export in a child process


@dataclass(frozen=True)
class ChildRun:
    exit_code: int
    peak_mb: float
    stdout: str
    stderr: str
    timed_out: bool


def _proc_kib(pid: int, name: str) -> int | None:
    """A ``Vm*`` line of ``/proc/PID/status`` in KiB; None without /proc or once it exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def run_child(args: list[str], timeout: float = CHILD_TIMEOUT) -> ChildRun:
    """Run ``rss_child.py`` to its end and return its peak RSS.

    The peak is the child's VmHWM: what it reports itself when the export has returned, and what
    this process reads from ``/proc/PID/status`` every 20 ms while it runs (the larger of the
    two). ``wait4``'s ``ru_maxrss`` is not used: on Linux it includes the pages the child had
    before exec, when it was a copy of this process and its data set (see rss_child.py).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, str(CHILD), *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        timed_out = False
        sampled = 0
        try:
            while process.poll() is None:
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
                sampled = max(sampled, _proc_kib(process.pid, "VmHWM") or 0)
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        reported = 0
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            reported = int(json.loads(stdout.strip().splitlines()[-1])["peak_rss_kib"])
        return ChildRun(
            exit_code=process.returncode,
            peak_mb=max(sampled, reported) * 1024 / 1e6,
            stdout=stdout,
            stderr=err.read().decode(errors="replace"),
            timed_out=timed_out,
        )


def rss_section(ctx: Context, segments: int) -> Section:
    table, count = ctx.main_table, ctx.n
    section = Section("rss", "")
    if ctx.rss_items is not None:
        table, count = ctx.fresh_name("rss"), ctx.rss_items
        ctx.create_table(table)
        log(f"loading {count:,} items into {table} for the RSS run")
        start = time.perf_counter()
        stats = baselines.raw_write(
            ctx.raw,
            table,
            (data.to_wire(item) for item in data.generate(count, ctx.seed)),
            threads=WORKERS,
        )
        loaded = time.perf_counter() - start
        section.notes.append(
            f"loaded {stats.items:,} items in {loaded:.0f} s ({stats.items / loaded:,.0f} items/s)"
        )
    section.title = f"peak RSS of a ddbkit export in a child process: {count:,} items"
    try:
        common = ["--endpoint", ctx.endpoint_url, "--table", table, "--segments", str(segments)]
        baseline = run_child([*common, "--baseline"])
        section.notes.append(
            f"idle ddbkit child (import, connect, one page): {baseline.peak_mb:.0f} MB peak RSS"
        )
        peaks: list[float] = []
        errors: list[str] = []
        for fmt in ("ddb-json", "jsonl"):
            path = ctx.workdir / f"rss-{fmt}.out"
            log(f"child process: ddbkit export {fmt} of {count:,} items")
            try:
                child = run_child([*common, "--format", fmt, "--out", str(path)])
                lines = verify.count_lines(path) if path.exists() else 0
            finally:
                path.unlink(missing_ok=True)
            if child.exit_code != 0 or lines != count:
                last = child.stderr.strip().splitlines()[-1:] or ["no output"]
                problem = (
                    "timed out" if child.timed_out else f"exit {child.exit_code}, {lines} lines"
                )
                errors.append(f"{fmt}: {problem}: {last[0]}")
                section.notes.append(f"export {fmt}: FAILED ({errors[-1]})")
                continue
            peaks.append(child.peak_mb)
            section.notes.append(
                f"export {fmt} (segments={segments}): {child.peak_mb:.0f} MB peak RSS, "
                f"child said {child.stdout.strip()}"
            )
            section.results[fmt] = Result(
                f"rss.{fmt}",
                f"export {fmt}",
                count,
                info={
                    "peak_rss_mb": round(child.peak_mb, 1),
                    "child": child.stdout.strip(),
                },
            )
        engine = _proc_kib(ctx.engine_pid, "VmRSS") if ctx.engine_pid else None
        if engine is not None:
            section.notes.append(f"DynamoDB Local's own RSS now: {engine * 1024 / 1e6:,.0f} MB")
        section.targets.append(
            Target(
                f"ddbkit export peak RSS at {count:,} items (MB, 10^6 bytes)",
                max(peaks) if peaks and not errors else None,
                RSS_LIMIT_MB,
                higher_is_better=False,
                unit="MB",
                detail="; ".join(errors),
            )
        )
    finally:
        if ctx.rss_items is not None:
            ctx.drop_table(table)
    return section


# ---------------------------------------------------------------------------------------------
# Faults


def faults_section(ctx: Context, segments: int) -> Section:
    section = Section(
        "faults",
        f"import/export through the fault proxy: {ctx.n:,} items "
        + ", ".join(f"{k}={v}" for k, v in FAULTS.items() if k != "operations"),
    )
    try:
        # Imported by name: the proxy is another engineer's work and may not exist yet.
        proxy_module = importlib.import_module("tests.support.faultproxy")
        fault_proxy: Any = proxy_module.FaultProxy
    except (ImportError, AttributeError) as error:
        section.notes.append(f"not run: tests/support/faultproxy.py cannot be imported ({error})")
        section.targets.append(
            Target(
                "import/export under faults: exactly N items, each equal",
                None,
                1.0,
                detail="fault proxy missing",
            )
        )
        return section

    import ddbkit

    with fault_proxy(ctx.endpoint_url, **FAULTS) as proxy:
        faulty = ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)
        for fmt, source in (("ddb-json", ctx.ddb_json_file), ("jsonl", ctx.jsonl_file)):
            _fault_import(ctx, section, faulty, fmt, source)
        for fmt in ("ddb-json", "jsonl"):
            _fault_export(ctx, section, faulty, fmt, segments)
        stats = getattr(proxy, "stats", None)
        if stats:
            section.notes.append(f"faults injected: {dict(stats)}")
    return section


def _record(
    section: Section,
    key: str,
    label: str,
    count: int,
    elapsed: float | None,
    error: str | None,
    info: dict[str, Any],
    check: verify.Check | None,
) -> None:
    seconds = [elapsed] if elapsed is not None else []
    result = Result(key, label, count, seconds, error=error, info=info)
    section.results[key] = result
    section.rows.append(Row(label, result, check.message if check else (error or "")))
    section.targets.append(
        Target(
            f"{label}: exactly {count:,} items, each equal to its source",
            None if error and error.startswith("unavailable") else float(bool(check and check.ok)),
            1.0,
            unit="",
            detail=(check.message if check else (error or "")),
        )
    )


def _describe(error: Exception) -> str:
    prefix = "unavailable: " if isinstance(error, UNAVAILABLE) else ""
    return f"{prefix}{type(error).__name__}: {error}"


def _fault_import(ctx: Context, section: Section, faulty: Any, fmt: str, source: Path) -> None:
    name = ctx.fresh_name(f"fault-{fmt}")
    ctx.create_table(name)
    label = f"ddbkit import_file {fmt} under faults"
    log(label)
    try:
        start = time.perf_counter()
        summary = faulty.table(name).import_file(source, format=fmt, workers=WORKERS)
        elapsed = time.perf_counter() - start
        found = verify.compare(
            ctx.items, baselines.raw_items(ctx.raw, name), as_plain=fmt == "jsonl"
        )
        _record(
            section, f"import.{fmt}", label, ctx.n, elapsed, None, _summary_info(summary), found
        )
    except Exception as error:
        _record(section, f"import.{fmt}", label, ctx.n, None, _describe(error), {}, None)
    finally:
        ctx.drop_table(name)


def _fault_export(ctx: Context, section: Section, faulty: Any, fmt: str, segments: int) -> None:
    path = ctx.workdir / f"fault-export-{fmt}.out"
    label = f"ddbkit export {fmt} under faults"
    log(label)
    try:
        start = time.perf_counter()
        result = faulty.table(ctx.main_table).export(path, format=fmt, segments=segments)
        elapsed = time.perf_counter() - start
        found = verify.compare(ctx.items, verify.read_export(path, fmt), as_plain=fmt == "jsonl")
        info = {"items": getattr(result, "items", None), "segments": segments}
        _record(section, f"export.{fmt}", label, ctx.n, elapsed, None, info, found)
    except Exception as error:
        _record(section, f"export.{fmt}", label, ctx.n, None, _describe(error), {}, None)
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# SQL

SQL_GROUP_BY = 'SELECT kind, count(*), sum("count") FROM "{table}" GROUP BY kind'


def _python_group_by(items: Any) -> dict[str, tuple[int, int]]:
    """The aggregation a user writes by hand over the seed's scan loop."""
    groups: dict[str, tuple[int, int]] = {}
    for item in items:
        count, total = groups.get(item["kind"], (0, 0))
        groups[item["kind"]] = (count + 1, total + int(item["count"]))
    return groups


def sql_section(ctx: Context) -> Section:
    table = ctx.main_table
    expected = _python_group_by(ctx.items)

    def seed() -> int:
        got = _python_group_by(baselines.seed_items(ctx.b3, table))
        assert got == expected, "seed's way aggregated wrongly"
        return ctx.n

    def ddbkit_sql() -> int:
        rows = ctx.db.sql(SQL_GROUP_BY.format(table=table)).fetchall()
        got = {kind: (int(count), int(total)) for kind, count, total in rows}
        assert got == expected, f"ddbkit sql gave {got}, expected {expected}"
        return ctx.n

    variants = [
        Variant("seed", "seed's way: boto3 Table.scan loop + Python group-by", seed, ctx.n),
        Variant(
            "ddbkit.integrations.sql.engine",
            "ddbkit sql GROUP BY (DuckDB, pushdown)",
            ddbkit_sql,
            ctx.n,
        ),
        _ddbkit_scan_variant(ctx, 8),
    ]
    page_limits: list[int | None] = [None] if ctx.page_limit is None else [None, ctx.page_limit]
    raw_keys = []
    for s in RAW_SEGMENTS:
        for limit in page_limits:
            variant = _raw_scan_variant(ctx, s, decode=False, page_limit=limit)
            raw_keys.append(variant.key)
            variants.append(variant)
    results = run_interleaved(variants, ctx.reps)
    seed_result = results["seed"]
    raw = best_of(results, raw_keys)
    sql = results["ddbkit.integrations.sql.engine"]
    section = Section(
        "sql",
        f"sql: {SQL_GROUP_BY.format(table='t')} over {ctx.n:,} items",
        results,
        baseline=seed_result,
    )
    section.rows = [
        Row("(a) seed's way: boto3 Table.scan loop + Python group-by", seed_result),
        Row(f"(b) raw limit: signed POSTs, no decode{_seg(raw)}", raw),
        Row("(c) ddbkit bare parallel scan (8 segments)", results["ddbkit.8"]),
        Row("(d) ddbkit sql GROUP BY", sql),
    ]
    section.targets = [
        Target("ddbkit sql / seed's way + Python loop", ratio(sql, seed_result), 6.0),
        Target("ddbkit sql / raw limit", ratio(sql, raw), 0.60),
    ]
    section.notes.append(
        "every run's answer is checked against the aggregation of the generated items"
    )
    return section


# ---------------------------------------------------------------------------------------------
# CLI start-up

CLI_GET_GOAL = 0.50
CLI_VERSION_GOAL_S = 0.15
CLI_WARMUP = 2


def cli_env(workdir: Path) -> dict[str, str]:
    """The same environment for ddbkit and the AWS CLI: dummy keys and region, no profile or
    config file of the user's, no instance-metadata lookups; bytecode is written and used (pip
    compiled the AWS CLI's at install; an editable ddbkit's is written by the warm-up run)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_CONFIG_FILE=str(workdir / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(workdir / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def _wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of one run of ``argv``; it must exit 0."""
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{Path(argv[0]).name} exited {done.returncode}: {last[0]}")
    return elapsed


def _first_output(argv: list[str], env: dict[str, str]) -> Any:
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
    return json.loads(done.stdout)


def _timed(key: str, label: str, seconds: list[float]) -> Result:
    return Result(key, label, 1, seconds)


def _seconds_row(label: str, result: Result) -> Row:
    seconds = result.seconds
    return Row(
        f"{label:<52} median {statistics.median(seconds):.3f} s  "
        f"(min {min(seconds):.3f} s, {len(seconds)} runs)",
        None,
    )


def cli_section(ctx: Context) -> Section:
    """Wall time of one ``ddbkit get`` beside one ``aws dynamodb get-item`` (paired, alternating,
    median of N each), and of ``ddbkit --version``: what a person waits for at the prompt."""
    runs = ctx.cli_runs
    section = Section("cli", f"command-line start-up: median wall time of {runs} runs each")
    bin_dir = Path(sys.executable).parent
    ddbkit = shutil.which("ddbkit", path=str(bin_dir))
    aws = shutil.which("aws", path=str(bin_dir))
    get_target = Target(
        "ddbkit get / aws dynamodb get-item (median wall time)",
        None,
        CLI_GET_GOAL,
        higher_is_better=False,
        at_most=True,
    )
    version_target = Target(
        "ddbkit --version (median wall time)",
        None,
        CLI_VERSION_GOAL_S,
        higher_is_better=False,
        unit="s",
        at_most=True,
    )
    section.targets = [get_target, version_target]
    if ddbkit is None:
        get_target.detail = version_target.detail = f"no ddbkit command in {bin_dir}"
        return section
    env = cli_env(ctx.workdir)
    table = ctx.fresh_name("cli")
    ctx.create_table(table)
    try:
        item = ctx.items[0]
        baselines.raw_write(ctx.raw, table, [ctx.wire[0]], threads=1)
        pk, sk = data.key_of(item)
        get = [ddbkit, "--endpoint-url", ctx.endpoint_url, "get", table, f"pk={pk}", f"sk={sk}"]
        got = _first_output(get, env)  # also the warm-up: bytecode and page cache
        if (got.get("pk"), got.get("sk")) != (pk, sk):
            raise RuntimeError(f"ddbkit get printed {str(got)[:200]}, not the item")
        version = [ddbkit, "--version"]
        floor = [sys.executable, "-c", "pass"]
        _wall(version, env)
        timings: dict[str, list[float]] = {"ddbkit.get": [], "ddbkit.version": [], "python": []}
        pairs = [("ddbkit.get", get)]
        if aws is None:
            get_target.detail = (
                f"no aws command in {bin_dir} (the AWS CLI v1: pip install awscli; ./run bench "
                "installs it)"
            )
        else:
            key = json.dumps({"pk": {"S": pk}, "sk": {"N": str(sk)}})
            aws_get = [
                aws,
                "dynamodb",
                "get-item",
                "--endpoint-url",
                ctx.endpoint_url,
                "--table-name",
                table,
                "--key",
                key,
            ]
            reply = _first_output(aws_get, env)
            if reply.get("Item", {}).get("pk") != {"S": pk}:
                raise RuntimeError(f"aws get-item printed {str(reply)[:200]}, not the item")
            pairs.append(("aws.get", aws_get))
            timings["aws.get"] = []
        for _ in range(CLI_WARMUP):  # untimed: the engine's JIT warms to GetItem too
            for _name, argv in pairs:
                _wall(argv, env)
        for run in range(runs):
            # Paired and alternating: a burst of load on this shared machine hits both.
            for name, argv in pairs if run % 2 == 0 else pairs[::-1]:
                timings[name].append(_wall(argv, env))
            timings["ddbkit.version"].append(_wall(version, env))
            timings["python"].append(_wall(floor, env))
            log(
                f"[{run + 1}/{runs}] "
                + ", ".join(f"{name} {seconds[-1]:.3f} s" for name, seconds in timings.items())
            )
    finally:
        ctx.drop_table(table)

    labels = {
        "aws.get": "(a) aws dynamodb get-item (AWS CLI v1)",
        "ddbkit.get": "(b) ddbkit get TABLE KEY",
        "ddbkit.version": "(c) ddbkit --version",
        "python": "    python -c pass (the interpreter's own start-up)",
    }
    for name, label in labels.items():
        if name in timings:
            section.results[name] = _timed(name, label, timings[name])
            section.rows.append(_seconds_row(label, section.results[name]))
    median = {name: statistics.median(seconds) for name, seconds in timings.items()}
    if "aws.get" in median:
        get_target.value = median["ddbkit.get"] / median["aws.get"]
        get_target.detail = (
            f"{median['ddbkit.get']:.3f} s / {median['aws.get']:.3f} s, both on {REGION} "
            "with the same dummy keys"
        )
    version_target.value = median["ddbkit.version"]
    section.notes.append(
        "every get is checked once for the item; each run is a new process, as at a prompt"
    )
    return section
