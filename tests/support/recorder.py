"""A recording HTTP proxy in front of a DynamoDB endpoint, and a check of a recorded signature.

Every request is forwarded unchanged and kept (operation, path, headers, body), so a test can see
which credentials signed it::

    with RecordingProxy(endpoint) as proxy:
        db = ddbkit.connect(endpoint_url=proxy.endpoint_url, region="us-east-1")
        ...
    for request in proxy.requests:
        assert request.access_key_id == "AKID..."
        assert signed_with(request, Credentials("AKID...", "secret", "token"), "us-east-1")

:func:`signed_with` recomputes the SigV4 signature with botocore's own signer from the request
as it arrived and the credentials the test expects: it matches only if the request was signed
with that very secret key, and carries that very session token.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TARGET_PREFIX = "DynamoDB_20120810."
# Headers that describe one hop; each side of the proxy sets its own.
_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


@dataclass(frozen=True)
class Recorded:
    """One request as it reached the proxy."""

    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def operation(self) -> str:
        target = self.header("X-Amz-Target") or ""
        return target.removeprefix(TARGET_PREFIX)

    @property
    def authorization(self) -> dict[str, str]:
        """The Authorization header's fields: Credential, SignedHeaders, Signature."""
        value = self.header("Authorization") or ""
        algorithm, _, rest = value.partition(" ")
        assert algorithm == "AWS4-HMAC-SHA256", f"not a SigV4 signature: {value!r}"
        return dict(part.strip().split("=", 1) for part in rest.split(","))

    @property
    def access_key_id(self) -> str:
        return self.authorization["Credential"].split("/")[0]


def signed_with(request: Recorded, credentials: Credentials, region: str) -> bool:
    """Whether ``request`` carries the signature ``credentials`` make for it (botocore signs)
    and their session token (or none, for credentials without one)."""
    if request.header("X-Amz-Security-Token") != credentials.token:
        return False
    fields = request.authorization
    names = fields["SignedHeaders"].split(";")
    headers = {name: request.header(name) or "" for name in names}
    host = headers.get("host", "")
    copy = AWSRequest(method="POST", url=f"http://{host}{request.path}", data=request.body)
    for name, value in headers.items():
        copy.headers[name] = value
    copy.context["timestamp"] = request.header("X-Amz-Date")
    signer = SigV4Auth(credentials, "dynamodb", region)
    canonical = signer.canonical_request(copy)
    signature = signer.signature(signer.string_to_sign(copy, canonical), copy)
    return bool(signature == fields["Signature"])


@dataclass(frozen=True)
class Replied:
    """One reply as the proxy passed it back, and when (time.monotonic())."""

    at: float
    operation: str
    status: int
    body: bytes


class RecordingProxy:
    """Forwards every request to ``upstream`` and records it; thread-safe."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http URL, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._replies: list[Replied] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    @property
    def replies(self) -> list[Replied]:
        with self._lock:
            return list(self._replies)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._replies.clear()

    def record(self, request: Recorded) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("RecordingProxy not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RecordingProxy:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
        self._server = self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: RecordingProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients pool connections
    disable_nagle_algorithm = True
    timeout = 10  # an idle client connection ends its thread
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

    def log_message(self, *_: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = tuple(self.headers.items())
        recorded = Recorded(self.path, headers, body)
        self.server.proxy.record(recorded)
        forwarded = {k: v for k, v in headers if k.lower() not in _HOP}
        status, reply_headers, reply = self._forward(body, forwarded)
        replied = Replied(time.monotonic(), recorded.operation, status, reply)
        with self.server.proxy._lock:
            self.server.proxy._replies.append(replied)
        self.send_response(status)
        for name, value in reply_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def _forward(
        self, body: bytes, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in (1, 2):
            reused = self._upstream is not None
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(*self.server.proxy.upstream, timeout=30)
            try:
                self._upstream.request("POST", self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self._upstream.close()
                self._upstream = None
                if reused and attempt == 1:
                    continue  # the upstream closed an idle keep-alive connection
                raise
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
            return response.status, kept, data
        raise AssertionError("unreachable")
