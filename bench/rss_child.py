"""One ddbkit export in a fresh process, which reports its own peak RSS (VmHWM) at the end.

Run by :mod:`bench.suites` as ``python bench/rss_child.py ...``; prints one JSON line. With
``--baseline`` it only imports ddbkit, connects and reads one page, so the report can show what
the export itself adds to an idle ddbkit process.

Why VmHWM and not ``ru_maxrss``: Linux carries the high-water mark of the memory a process had
*before* exec into its ``ru_maxrss`` (and so into the parent's ``wait4``/``RUSAGE_CHILDREN``), and
before exec this child was a copy of the benchmark, which holds the whole data set. VmHWM
belongs to the memory map exec created, so it is the export's own peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def peak_rss_kib() -> int:
    """This process's peak resident set since exec, in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    # No /proc (not Linux): ru_maxrss, which may include the pre-exec parent's pages.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--format", default="ddb-json")
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--out")
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args(argv)

    import ddbkit

    db = ddbkit.connect(endpoint_url=args.endpoint, local=True)
    table = db.table(args.table)
    start = time.perf_counter()
    if args.baseline:
        items = sum(1 for _ in table.scan(limit=100))
    else:
        result = table.export(args.out, format=args.format, segments=args.segments, force=True)
        items = result.items
    elapsed = time.perf_counter() - start
    print(json.dumps({"items": items, "elapsed": elapsed, "peak_rss_kib": peak_rss_kib()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
