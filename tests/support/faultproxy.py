"""A fault-injecting HTTP proxy in front of a DynamoDB endpoint.

DynamoDB Local never throttles, never answers 5xx, never drops a connection and always processes
a whole batch, so ddbkit's bulk paths (the batch writer that must never lose an item, parallel
scan and export) are proven through this proxy instead::

    with FaultProxy(endpoint, seed=7, throttle=0.2, operations={"BatchWriteItem"}) as proxy:
        db = ddbkit.connect(endpoint_url=proxy.endpoint_url, local=True)
        ...
        assert proxy.stats["throttle"] > 0

or standalone (the benchmark's ``--faults`` mode); it prints its URL on the first line of stdout,
stops on SIGTERM/SIGINT and then prints its counters as JSON on stderr::

    python -m tests.support.faultproxy --upstream http://127.0.0.1:8000 --seed 1 --throttle 0.3

Decisions. Every request whose operation (from ``X-Amz-Target``) is in ``operations`` (``None``:
all) draws from one ``random.Random(seed)`` behind a lock; other requests draw nothing, so
control-plane calls (CreateTable, waiters' DescribeTable) never shift the sequence and the same
seed gives the same faults for the same order of requests. The fault rates are consecutive
slices of one draw in the order throttle, error_500, error_503, reset, unprocessed, not_found: each
rate is exactly that fault's probability while they add up to at most 1; beyond that the later ones
shrink.
``unprocessed`` only affects BatchWriteItem and BatchGetItem (other operations pass untouched).
``script`` (operation -> faults) gives the first requests of an operation those faults, in order
and without a draw, before the rates take over: a test that must see every kind of fault fire
gets each one for sure, at rates low enough to keep the backoff short. A script may also hold
``hang``, a fault no rate draws: the request is forwarded and its reply held for ``hang_seconds``.
``latency`` + ``uniform(0, latency_jitter)`` seconds are added before every matching reply.
The replies it makes and the batch bodies it splits are in tests/support/faultwire.py.

What botocore (1.44, urllib3 2.x) raises for each fault with retries off, i.e.
``Config(retries={"mode": "standard", "total_max_attempts": 1})``; beware that
``retries={"max_attempts": 1}`` counts retries, not attempts, and still sends every request twice:

- ``throttle``: HTTP 400, ``ClientError`` whose ``Error.Code`` is
  ``ProvisionedThroughputExceededException``, ``ThrottlingException`` or ``RequestLimitExceeded``;
  all three are modelled, so they are also ``client.exceptions.<Code>``. Standard retry mode
  retries all three as throttling; legacy mode does not retry RequestLimitExceeded.
- ``error_500``: HTTP 500, ``ClientError`` code ``InternalServerError``
  (modelled: ``client.exceptions.InternalServerError``).
- ``error_503``: HTTP 503, ``ClientError`` code ``ServiceUnavailable`` (not modelled: only a
  plain ``ClientError``). Both 5xx are transient to the standard retry mode.
- ``reset``: ``botocore.exceptions.ConnectionClosedError`` (a ``HTTPClientError``), botocore's
  wrapper of urllib3's ``ProtocolError`` ("Connection broken: IncompleteRead" or
  "ConnectionResetError"), raised while the reply body is read. The request HAS been applied
  upstream. Standard mode retries it (``HTTPClientError`` is transient), so a non-idempotent
  write may be applied twice, exactly as against real DynamoDB.
- ``unprocessed``: no error; a 200 reply whose ``UnprocessedItems`` / ``UnprocessedKeys`` also
  hold the withheld requests (possibly all of them), with a recomputed ``x-amz-crc32``.
- ``not_found``: HTTP 400, ``ClientError`` code ``ResourceNotFoundException`` (modelled), as when
  the table is deleted under a running job: an error no retry can cure. Nothing is forwarded.
  Armed mid-run with ``set_rates(not_found=1.0)`` it stands for a fatal error at a chosen moment
  while what was written before stays on the engine to be checked.
- ``latency``: no error unless it exceeds the client's ``read_timeout`` (then ``ReadTimeoutError``).
- ``hang`` (scripted only): ``ReadTimeoutError`` once the client's ``read_timeout`` passes, as
  for a connection that stops answering. The request HAS been applied upstream, as after a
  ``reset``; the reply is held for ``hang_seconds`` (default 30), or until the proxy stops.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import random
import signal
import socket
import struct
import sys
import threading
from collections import Counter, deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlsplit

from tests.support.faultwire import (
    BATCH_FIELDS,
    INTERNAL_ERROR,
    NOT_FOUND_ERROR,
    TARGET_PREFIX,
    THROTTLE_ERRORS,
    UNAVAILABLE_ERROR,
    Reply,
    batch_entries,
    crc32,
    error_reply,
    json_reply,
    merge_unprocessed,
    split_batch,
)

log = logging.getLogger("ddbkit.faultproxy")

FAULT_RATES = ("throttle", "error_500", "error_503", "reset", "unprocessed", "not_found")
SCRIPTED_ONLY = ("hang",)
SETTINGS = (*FAULT_RATES, "latency", "latency_jitter")

# Headers that describe one hop, never the message: each side of the proxy sets its own.
HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)
# A client connection idle this long is closed, so a forgotten client cannot pin a thread forever.
IDLE_TIMEOUT = 60.0
UPSTREAM_TIMEOUT = 60.0
MAX_DECISIONS = 100_000


@dataclass
class _Decision:
    operation: str
    fault: str | None = None
    delay: float = 0.0
    error: tuple[str, str] | None = None
    # Per batch entry (in request order): True = forward it, False = withhold it.
    keep: list[bool] = field(default_factory=list)
    request: dict[str, Any] | None = None


class FaultProxy:
    """A seeded, thread-safe HTTP proxy that injects DynamoDB faults into chosen operations."""

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        throttle: float = 0.0,
        unprocessed: float = 0.0,
        error_500: float = 0.0,
        error_503: float = 0.0,
        reset: float = 0.0,
        not_found: float = 0.0,
        latency: float = 0.0,
        latency_jitter: float = 0.0,
        operations: Collection[str] | None = None,
        script: Mapping[str, Sequence[str]] | None = None,
        hang_seconds: float = 30.0,
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http(s) URL, not {upstream!r}")
        self.upstream = upstream
        self._upstream_https = parts.scheme == "https"
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or (443 if self._upstream_https else 80)
        self._upstream_netloc = parts.netloc
        self.seed = seed
        self.operations = frozenset(operations) if operations is not None else None
        self._requested_port = port
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._rates: dict[str, float] = dict.fromkeys(SETTINGS, 0.0)
        self._counts: Counter[str] = Counter()
        self._decisions: deque[tuple[str, str]] = deque(maxlen=MAX_DECISIONS)
        self._script: dict[str, deque[str]] = {}
        for operation, faults in (script or {}).items():
            unknown = [f for f in faults if f not in FAULT_RATES and f not in SCRIPTED_ONLY]
            if unknown:
                raise ValueError(f"unknown fault(s) {unknown} in the script of {operation}")
            self._script[operation] = deque(faults)
        if hang_seconds < 0:
            raise ValueError(f"hang_seconds must not be negative, not {hang_seconds!r}")
        self.hang_seconds = float(hang_seconds)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_rates(
            throttle=throttle,
            unprocessed=unprocessed,
            error_500=error_500,
            error_503=error_503,
            reset=reset,
            not_found=not_found,
            latency=latency,
            latency_jitter=latency_jitter,
        )

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Bind 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FaultProxy already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._requested_port), self)
        self._server = server
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"faultproxy-{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut every open client connection, wait for handlers, free the port."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes handlers sleeping for latency
        server.shutdown()
        thread.join()
        server.close_all_connections()
        server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FaultProxy not started")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- configuration and counters --------------------------------------------------------------

    def set_rates(self, **rates: float) -> None:
        """Change fault rates (0.0-1.0) and latency / latency_jitter (seconds) while running."""
        for name, value in rates.items():
            if name not in SETTINGS:
                raise TypeError(f"unknown rate {name!r}; expected one of {', '.join(SETTINGS)}")
            if name in FAULT_RATES and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0.0 and 1.0, not {value!r}")
            if value < 0.0:
                raise ValueError(f"{name} must not be negative, not {value!r}")
        with self._lock:
            self._rates.update({name: float(value) for name, value in rates.items()})

    @property
    def rates(self) -> dict[str, float]:
        with self._lock:
            return dict(self._rates)

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of the counters.

        ``requests``, ``forwarded`` (sent upstream), one per fault (``unprocessed`` counts the
        requests affected, ``withheld_items`` the entries withheld), ``delayed``,
        ``upstream_errors`` (502s sent because the upstream failed), and ``requests:<Operation>``
        / ``<fault>:<Operation>`` per operation.
        """
        counters = ("withheld_items", "delayed", "upstream_errors")
        base = dict.fromkeys(("requests", "forwarded", *FAULT_RATES, *SCRIPTED_ONLY, *counters), 0)
        with self._lock:
            return {**base, **self._counts}

    @property
    def decisions(self) -> list[tuple[str, str]]:
        """(operation, fault or "none") for each request the rates applied to, oldest first."""
        with self._lock:
            return list(self._decisions)

    def _count(self, name: str, operation: str, amount: int = 1) -> None:
        self._counts[name] += amount
        if operation:
            self._counts[f"{name}:{operation}"] += amount

    # -- the per-request decision ----------------------------------------------------------------

    def _decide(self, operation: str, body: bytes) -> _Decision:
        decision = _Decision(operation)
        applies = self.operations is None or operation in self.operations
        request: dict[str, Any] | None = None
        if applies and operation in BATCH_FIELDS:
            # Parsed outside the lock: only the draws need to be serialised.
            with contextlib.suppress(ValueError):
                loaded = json.loads(body)
                request = loaded if isinstance(loaded, dict) else None
        with self._lock:
            self._count("requests", operation)
            if not applies:
                return decision
            rates = self._rates
            scripted = self._script.get(operation)
            if scripted:
                decision.fault = scripted.popleft()
            else:
                draw = self._random.random()
                edge = 0.0
                for name in FAULT_RATES:
                    edge += rates[name]
                    if draw < edge:
                        decision.fault = name
                        break
            if decision.fault == "throttle":
                decision.error = self._random.choice(THROTTLE_ERRORS)
            elif decision.fault == "unprocessed":
                entries = batch_entries(operation, request) if request is not None else []
                if entries and request is not None:
                    keep = [self._random.random() < 0.5 for _ in entries]
                    if all(keep):
                        # A fault that withholds nothing is no fault: withhold at least one.
                        keep[self._random.randrange(len(keep))] = False
                    decision.keep = keep
                    decision.request = request
                    self._count("withheld_items", operation, keep.count(False))
                else:
                    decision.fault = None
            if decision.fault is not None:
                self._count(decision.fault, operation)
            decision.delay = rates["latency"]
            if rates["latency_jitter"] > 0:
                decision.delay += self._random.uniform(0.0, rates["latency_jitter"])
            if decision.fault == "hang":
                decision.delay = max(decision.delay, self.hang_seconds)
            if decision.delay > 0:
                self._count("delayed", operation)
            self._decisions.append((operation, decision.fault or "none"))
        return decision


class _Server(ThreadingHTTPServer):
    """Tracks every client connection and its thread so stop() leaves nothing behind.

    One thread per client connection: their number is bounded by the clients' own pools
    (botocore: ``max_pool_connections``), and an idle one ends after ``IDLE_TIMEOUT``.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._open_lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True
        )
        with self._open_lock:
            self._open[request] = thread
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.pop(request, None)

    def close_all_connections(self, timeout: float = 5.0) -> None:
        with self._open_lock:
            open_now = list(self._open.items())
        for sock, _ in open_now:
            # shutdown() (not close()) wakes a handler blocked reading the next keep-alive
            # request; the handler's own thread then closes the socket.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in open_now:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients vanishing mid-reply is routine here (botocore gives up, stop() cuts sockets).
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.debug("connection from %s ended: %r", client_address, exc)
        else:
            log.exception("fault proxy failed serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: botocore pools its connections
    timeout = IDLE_TIMEOUT
    # Replies go out in one write anyway; without Nagle the reset fault's partial body is not
    # held back waiting for an ACK.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self._upstream is not None:
                self._upstream.close()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    # -- one request -----------------------------------------------------------------------------

    def _serve(self) -> None:
        proxy = self.server.proxy
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # botocore always sends Content-Length for DynamoDB; not worth a chunked decoder.
            self.close_connection = True
            self._send(error_reply(411, ("LengthRequired", "chunked requests are not supported")))
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
        decision = proxy._decide(operation, body)

        if decision.fault == "throttle" and decision.error is not None:
            reply = error_reply(400, decision.error)
        elif decision.fault == "error_500":
            reply = error_reply(500, INTERNAL_ERROR)
        elif decision.fault == "error_503":
            reply = error_reply(503, UNAVAILABLE_ERROR)
        elif decision.fault == "not_found":
            reply = error_reply(400, NOT_FOUND_ERROR)
        elif decision.fault == "unprocessed":
            reply = self._forward_part(decision)
        else:
            reply = self._forward(body)

        if decision.delay > 0 and proxy._stopping.wait(decision.delay):
            self.close_connection = True  # stopping: don't keep the client waiting
        if decision.fault == "reset":
            self._send_and_reset(reply)
        else:
            self._send(reply)

    def _forward_part(self, decision: _Decision) -> Reply:
        """Send only the kept batch entries upstream; report the rest as unprocessed."""
        request = decision.request
        assert request is not None
        operation = decision.operation
        forwarded, withheld = split_batch(operation, request, decision.keep)
        if not forwarded:
            # Nothing left to send: answer as DynamoDB would for a batch it processed none of.
            empty: dict[str, Any] = {}
            if operation == "BatchGetItem":
                empty["Responses"] = {table: [] for table in request["RequestItems"]}
            return json_reply(200, merge_unprocessed(operation, empty, withheld))
        part = json.dumps({**request, "RequestItems": forwarded}, separators=(",", ":")).encode()
        reply = self._forward(part)
        if reply.status != 200:
            return reply  # the upstream's own error stands for the whole batch
        try:
            payload = json.loads(reply.body)
        except ValueError:
            return reply
        body = json.dumps(merge_unprocessed(operation, payload, withheld), separators=(",", ":"))
        new_body = body.encode()
        # botocore verifies x-amz-crc32 on DynamoDB replies, so a changed body needs a new one.
        headers = [(k, v) for k, v in reply.headers if k.lower() != "x-amz-crc32"]
        headers.append(("x-amz-crc32", crc32(new_body)))
        return Reply(200, headers, new_body)

    def _forward(self, body: bytes) -> Reply:
        proxy = self.server.proxy
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        headers["Host"] = proxy._upstream_netloc
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            reused = self._upstream is not None
            connection = self._upstream_connection()
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError) as exc:
                connection.close()
                self._upstream = None
                # The upstream may have closed an idle keep-alive connection; one fresh try.
                if reused and attempt == 1:
                    continue
                with proxy._lock:
                    proxy._count("upstream_errors", "")
                return error_reply(
                    502, ("BadGateway", f"upstream {proxy.upstream} failed: {exc!r}")
                )
            with proxy._lock:
                proxy._count("forwarded", "")
            if response.will_close:
                connection.close()
                self._upstream = None
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_HEADERS]
            return Reply(response.status, kept, data)
        raise AssertionError("unreachable")

    def _upstream_connection(self) -> http.client.HTTPConnection:
        if self._upstream is None:
            proxy = self.server.proxy
            cls = (
                http.client.HTTPSConnection if proxy._upstream_https else http.client.HTTPConnection
            )
            self._upstream = cls(
                proxy._upstream_host, proxy._upstream_port, timeout=UPSTREAM_TIMEOUT
            )
        return self._upstream

    def _head(self, reply: Reply) -> bytes:
        try:
            reason = HTTPStatus(reply.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {reply.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in reply.headers]
        lines.append(f"Content-Length: {len(reply.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, reply: Reply) -> None:
        self.log_request(reply.status, len(reply.body))
        self.wfile.write(self._head(reply) + reply.body)

    def _send_and_reset(self, reply: Reply) -> None:
        """Send the head and half the body, then abort the connection with a TCP RST."""
        head = self._head(reply)
        # An empty body has no half to send: cut inside the head so the reply is still broken.
        partial = head + reply.body[: len(reply.body) // 2] if reply.body else head[:-2]
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(partial)
        # SO_LINGER on with timeout 0 makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile (makefile) holds a reference to the socket; the fd only closes once it is gone.
        self.rfile.close()
        self.connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the proxy until SIGTERM / SIGINT; print its URL first and its counters last."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.faultproxy",
        description="Fault-injecting proxy in front of a DynamoDB endpoint.",
    )
    parser.add_argument("--upstream", required=True, help="DynamoDB endpoint URL to forward to")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--seed", type=int, default=0)
    for name in SETTINGS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.0, dest=name)
    parser.add_argument(
        "--operations", default=None, help="comma-separated operations to fault (default: all)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    operations = (
        {op.strip() for op in args.operations.split(",") if op.strip()} if args.operations else None
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        proxy = FaultProxy(
            args.upstream,
            seed=args.seed,
            operations=operations,
            port=args.port,
            **{name: getattr(args, name) for name in SETTINGS},
        )
    except ValueError as exc:
        parser.error(str(exc))
    with proxy:
        print(proxy.endpoint_url, flush=True)
        # A timed wait so the signal handler's set() is noticed promptly on every platform.
        while not done.wait(0.5):
            pass
    print(json.dumps(proxy.stats, sort_keys=True), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
