"""Bench section of the console (issue 10): what the page waits for, beside the library call
that does the same work in this process, on the run's main table (100k items by default).

The console runs in this process on uvicorn (a thread of its own, 127.0.0.1, any free port),
exactly as ``ddbkit console`` serves it; requests go over HTTP with the session cookie.

- first page: ``GET /api/tables/T/items?limit=50`` (plan, one page of 50 items read, DynamoDB
  JSON out) against ``list(t.find(limit=50))``;
- a filtered first page: the same with ``where=active = true AND count > 0`` (a Scan with a
  filter matching about a quarter of the items);
- explain: ``GET /api/tables/T/explain?where=...`` against ``t.explain(where)``.

Each run makes ``CALLS`` requests (or calls) one after another. Rows report items per second
(for explains, explains per second); the notes give milliseconds per call and the server's own
time from the Server-Timing header (the time to its answer's start, without HTTP's share).
The ratio console / library is printed with no target: the page's cost over the library's.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from typing import Any
from urllib.parse import urlencode

from bench.measure import Variant, log, run_interleaved
from bench.suites import Context, Row, Section, _fmt_ratio, ratio

CALLS = 20
PAGE = 50
FILTER = "active = true AND count > 0"  # about a quarter of the items
TOKEN = "bench-console-token-0123456789"


class _Console:
    """The console app served by uvicorn on a thread of this process."""

    def __init__(self, ctx: Context) -> None:
        import uvicorn

        from ddbkit.console.app import create_app
        from ddbkit.console.server import listen

        self.sock = listen(0)
        self.port = int(self.sock.getsockname()[1])
        app = create_app(ctx.db, token=TOKEN, port=self.port, read_only=True)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        self.server_ms: dict[str, list[float]] = {}

    def get(self, kind: str, path: str, **query: str) -> Any:
        import orjson

        target = path + (f"?{urlencode(query)}" if query else "")
        # A connection per request: the server drops an idle keep-alive connection after 5 s,
        # and the library's rounds between ours take longer. Connecting on loopback is ~0.1 ms.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(
                "GET", target, headers={"Cookie": f"ddbkit_console_{self.port}={TOKEN}"}
            )
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        timing = response.getheader("server-timing") or ""
        if "dur=" in timing:
            self.server_ms.setdefault(kind, []).append(float(timing.split("dur=")[1]))
        return orjson.loads(body)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def console_section(ctx: Context) -> Section:
    title = f"console: {ctx.n:,} items, GET over HTTP on 127.0.0.1 vs the library in process"
    try:
        console = _Console(ctx)
    except ImportError as error:
        section = Section("console", title)
        section.notes.append(f"not run: {type(error).__name__}: {error} (pip install -e '.[dev]')")
        return section
    try:
        deadline = time.monotonic() + 30
        while not console.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the console did not start within 30 s")
            time.sleep(0.05)
        section = _measure(ctx, console)
        section.title = title
        return section
    finally:
        console.close()


def _measure(ctx: Context, console: _Console) -> Section:
    name = ctx.main_table
    table = ctx.db.table(name)
    items_path = f"/api/tables/{name}/items"

    def page(kind: str, **query: str) -> tuple[int, dict[str, Any]]:
        got = 0
        for _ in range(CALLS):
            got += len(console.get(kind, items_path, limit=str(PAGE), **query)["items"])
        return got, {}

    def library_page(where: str | None) -> tuple[int, dict[str, Any]]:
        got = 0
        for _ in range(CALLS):
            got += len(list(table.find(where, limit=PAGE)))
        return got, {}

    def explain() -> tuple[int, dict[str, Any]]:
        for _ in range(CALLS):
            console.get("explain", f"/api/tables/{name}/explain", where=FILTER)
        return CALLS, {}

    def library_explain() -> tuple[int, dict[str, Any]]:
        for _ in range(CALLS):
            table.explain(FILTER)
        return CALLS, {}

    # Untimed first use: imports, the table's key schema, the connection.
    console.get("warm", items_path, limit="1")
    console.get("warm", f"/api/tables/{name}/explain", where=FILTER)
    list(table.find(None, limit=1))
    items = CALLS * PAGE
    variants = [
        Variant("page.console", "console first page", lambda: page("page"), items),
        Variant("page.library", "library first page", lambda: library_page(None), items),
        Variant(
            "filtered.console",
            "console filtered first page",
            lambda: page("filtered", where=FILTER),
            items,
        ),
        Variant(
            "filtered.library", "library filtered first page", lambda: library_page(FILTER), items
        ),
        Variant("explain.console", "console explain", explain, CALLS),
        Variant("explain.library", "library explain", library_explain, CALLS),
    ]
    results = run_interleaved(variants, ctx.reps)
    section = Section("console", "console", results)
    section.rows = [
        Row(f"(a) library: list(t.find(limit={PAGE}))", results["page.library"]),
        Row(f"(b) console: GET items?limit={PAGE} (a first page)", results["page.console"]),
        Row(f"(c) library: list(t.find('{FILTER}', limit={PAGE}))", results["filtered.library"]),
        Row("(d) console: the same where-clause, first page", results["filtered.console"]),
        Row("(e) library: t.explain(where), explains/s", results["explain.library"]),
        Row("(f) console: GET explain?where=..., explains/s", results["explain.console"]),
    ]
    for kind, label in (
        ("page", "first page"),
        ("filtered", "filtered page"),
        ("explain", "explain"),
    ):
        lib, web = results[f"{kind}.library"], results[f"{kind}.console"]
        server = console.server_ms.get(kind, [])
        per_call = (min(web.seconds) / CALLS * 1000) if web.ok else float("nan")
        lib_call = (min(lib.seconds) / CALLS * 1000) if lib.ok else float("nan")
        section.notes.append(
            f"{label}: console {per_call:.1f} ms a request (server {statistics.median(server):.1f} "
            f"ms median, Server-Timing), library {lib_call:.1f} ms a call; console / library "
            f"{_fmt_ratio(ratio(web, lib))}"
            if server
            else f"{label}: no Server-Timing recorded"
        )
    log("console section done")
    return section
