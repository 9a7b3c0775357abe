"""ddbkit's benchmark: scan, import and export against boto3 and raw limits, in one run.

Starts its own DynamoDB Local (in memory, on a free port), loads N items of mixed sizes with the
raw parallel BatchWriteItem loader, then times ddbkit beside the seed's boto3 ways and the raw
limits of this machine, interleaved and repeated. The targets are ratios measured in the same run,
because this 2-core machine is shared and DynamoDB Local competes with the client for the cores.

    .venv/bin/python bench/bench.py [--items N | --quick] [--only SECTION]
                                    [--faults] [--rss-items M] [--cli-runs K] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `bench` and `tests.support` importable

import orjson  # noqa: E402

from bench import async_suites, baselines, console_suites, dask_suites, data, suites  # noqa: E402
from bench.measure import log  # noqa: E402
from bench.rawhttp import RawClient  # noqa: E402
from bench.suites import Context, Section  # noqa: E402

SECTIONS = (
    "scan", "import", "export", "rss", "faults", "sql", "cli", "async", "transport", "dask",
    "console",
)  # fmt: skip
DEFAULT_ITEMS = 100_000
QUICK_ITEMS = 10_000
DEFAULT_REPS = 3
QUICK_REPS = 2
CLI_RUNS = 15
QUICK_CLI_RUNS = 7
LABEL_WIDTH = 66


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./run bench",
        description="Time ddbkit's scan, import and export against boto3 and raw limits "
        "on a DynamoDB Local of its own.",
    )
    parser.add_argument("--items", type=int, help=f"items to load (default {DEFAULT_ITEMS:,})")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_ITEMS:,} items, best of {QUICK_REPS}",
    )
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="also run import/export through tests/support/faultproxy.py and check every item",
    )
    parser.add_argument(
        "--rss-items", type=int, help="load this many items into a table of its own for the RSS run"
    )
    parser.add_argument("--repeat", type=int, help="runs per measurement (best is reported)")
    parser.add_argument(
        "--cli-runs",
        type=int,
        help=f"runs of each command in the cli section (median; default {CLI_RUNS}, "
        f"{QUICK_CLI_RUNS} with --quick)",
    )
    parser.add_argument("--segments", type=int, help="segments for ddbkit export (default: best)")
    parser.add_argument(
        "--page-limit",
        type=int,
        default=baselines.PAGE_LIMIT,
        help="also try the raw scan limits with this per-page Limit (0: only without; "
        f"default {baselines.PAGE_LIMIT}, see bench/README.md)",
    )
    parser.add_argument("--seed", type=int, default=data.DEFAULT_SEED, help="data set seed")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    if args.items is None:
        args.items = QUICK_ITEMS if args.quick else DEFAULT_ITEMS
    if args.repeat is None:
        args.repeat = QUICK_REPS if args.quick else DEFAULT_REPS
    if args.cli_runs is None:
        args.cli_runs = QUICK_CLI_RUNS if args.quick else CLI_RUNS
    if args.page_limit < 0:
        parser.error("--page-limit must be 0 or more")
    for name in ("items", "repeat", "segments", "rss_items", "cli_runs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def wanted(args: argparse.Namespace) -> list[str]:
    default = {"scan", "import", "export", "rss", "cli", "async", "transport"}
    chosen = set(args.only) if args.only else default
    if args.faults:
        chosen.add("faults")
    return [name for name in SECTIONS if name in chosen]


# ---------------------------------------------------------------------------------------------
# Report


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def print_section(section: Section) -> None:
    print(f"\n== {section.title}")
    base = section.baseline.best_rate if section.baseline is not None else None
    for row in section.rows:
        result = row.result
        if result is None:
            print(f"  {row.label}")
            continue
        if not result.ok:
            print(f"  {row.label:<{LABEL_WIDTH}} {result.error or 'not run'}")
            continue
        best, median = result.best_rate, result.median_rate
        spread = f"(median {_rate(median):>7})" if len(result.seconds) > 1 else " " * 16
        times = "" if base is None or best is None else f"{best / base:6.2f}x seed"
        note = f"  {row.note}" if row.note else ""
        print(f"  {row.label:<{LABEL_WIDTH}} {_rate(best):>7} items/s {spread} {times}{note}")
    for note in section.notes:
        print(f"  note: {note}")
    for target in section.targets:
        print_target(target)
    sys.stdout.flush()


def print_target(target: suites.Target) -> None:
    if target.value is None:
        shown = "n/a"
    elif target.unit == "":
        shown = "ok" if target.passed else "WRONG"
    elif target.unit == "MB":
        shown = f"{target.value:.0f} MB (target {target.comparison} {target.threshold:.0f} MB)"
    elif target.unit == "s":
        shown = f"{target.value:.3f} s (target {target.comparison} {target.threshold:.2f} s)"
    else:
        shown = f"{target.value:.2f}x (target {target.comparison} {target.threshold:.2f}x)"
    detail = f"  [{target.detail}]" if target.detail else ""
    print(f"  {target.verdict:<10} {target.name}: {shown}{detail}")


def print_summary(sections: list[Section]) -> None:
    print("\n== targets")
    for section in sections:
        for target in section.targets:
            print_target(target)


# ---------------------------------------------------------------------------------------------
# Run


def build_context(args: argparse.Namespace, endpoint_url: str, workdir: Path, pid: int) -> Context:
    import ddbkit

    log(f"generating {args.items:,} items (seed {args.seed})")
    items = list(data.generate(args.items, args.seed))
    wire = [data.to_wire(item) for item in items]
    ddb_json_file = workdir / "items.ddb.json"
    jsonl_file = workdir / "items.jsonl"
    _, typed_bytes, plain_bytes = data.write_files(items, ddb_json_file, jsonl_file)
    log(f"files: ddb-json {typed_bytes / 1e6:.1f} MB, jsonl {plain_bytes / 1e6:.1f} MB")
    return Context(
        endpoint_url=endpoint_url,
        db=ddbkit.connect(endpoint_url=endpoint_url, local=True),
        raw=RawClient(endpoint_url),
        b3=baselines.boto3_for(endpoint_url),
        n=args.items,
        reps=args.repeat,
        workdir=workdir,
        main_table="bench-main",
        items=items,
        wire=wire,
        ddb_json_file=ddb_json_file,
        jsonl_file=jsonl_file,
        seed=args.seed,
        export_segments=args.segments,
        page_limit=args.page_limit or None,
        rss_items=args.rss_items,
        engine_pid=pid,
        cli_runs=args.cli_runs,
    )


def describe_data(ctx: Context) -> dict[str, Any]:
    sizes = [len(orjson.dumps(w)) for w in ctx.wire]
    kinds = {k: sum(1 for i in ctx.items if i["kind"] == k) for k in ("small", "medium", "large")}
    return {
        "avg_item_bytes": round(sum(sizes) / len(sizes), 1),
        "total_mb": round(sum(sizes) / 1e6, 1),
        "mix": kinds,
    }


def load_main_table(ctx: Context) -> dict[str, Any]:
    """Load the table that scan, export, rss and faults read (import writes tables of its own)."""
    ctx.create_table(ctx.main_table)
    log(f"loading {ctx.n:,} items into {ctx.main_table} (raw BatchWriteItem, 8 threads)")
    start = time.perf_counter()
    stats = baselines.raw_write(ctx.raw, ctx.main_table, ctx.wire, threads=suites.WORKERS)
    elapsed = time.perf_counter() - start
    held = baselines.count_items(ctx.raw, ctx.main_table)
    if held != ctx.n or stats.items != ctx.n:
        raise RuntimeError(f"loaded {stats.items} items and the table holds {held}, not {ctx.n}")
    return {"load_seconds": round(elapsed, 2), "load_items_per_s": round(ctx.n / elapsed, 1)}


def run(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Run the chosen sections, filling ``report`` as they finish (so a failure keeps them)."""
    from ddbkit import local

    names = wanted(args)
    workdir = Path(tempfile.mkdtemp(prefix="ddbkit-bench-"))
    report.update(
        {
            "items": args.items,
            "repetitions": args.repeat,
            "statistic": "best of interleaved runs (median kept beside it)",
            "seed": args.seed,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "sections": {},
        }
    )
    sections: list[Section] = []
    engine = None
    try:
        local.install()
        engine = local.launch(
            port=local.free_port(), in_memory=True, log_path=workdir / "dynamodb-local.log"
        )
        log(f"DynamoDB Local at {engine.endpoint_url} (pid {engine.pid})")
        ctx = build_context(args, engine.endpoint_url, workdir, engine.pid)
        d = report["data"] = describe_data(ctx)
        loaded = ""
        reads_main = {"scan", "export", "faults", "sql", "async", "dask", "console"} | (
            set() if args.rss_items else {"rss"}
        )
        if reads_main.intersection(names):
            d.update(load_main_table(ctx))
            loaded = f"; loaded at {d['load_items_per_s']:,.0f} items/s"
        print(
            f"ddbkit bench: {args.items:,} items ({d['mix']}, avg {d['avg_item_bytes']:.0f} B, "
            f"{d['total_mb']} MB as DynamoDB JSON), best of {args.repeat} interleaved runs, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}{loaded}",
            flush=True,
        )
        scan: Section | None = None
        for name in names:
            log(f"section {name}")
            if name == "scan":
                section = scan = suites.scan_section(ctx)
            elif name == "import":
                section = suites.import_section(ctx)
            elif name == "export":
                section = suites.export_section(ctx, suites.export_segments(ctx, scan))
            elif name == "rss":
                section = suites.rss_section(ctx, suites.export_segments(ctx, scan))
            elif name == "sql":
                section = suites.sql_section(ctx)
            elif name == "cli":
                section = suites.cli_section(ctx)
            elif name == "async":
                section = async_suites.async_section(ctx)
            elif name == "transport":
                section = async_suites.transport_section(ctx)
            elif name == "dask":
                section = dask_suites.dask_section(ctx)
            elif name == "console":
                section = console_suites.console_section(ctx)
            else:
                section = suites.faults_section(ctx, suites.export_segments(ctx, scan))
            sections.append(section)
            report["sections"][name] = section.to_json()
            print_section(section)
        print_summary(sections)
    finally:
        if engine is not None:
            local.stop_process(engine)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {}
    try:
        run(args, report)
    finally:
        if args.json is not None:
            text = json.dumps(report, indent=2, default=str) + "\n"
            args.json.write_text(text, encoding="utf-8")
            print(f"\nresults written to {args.json}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
