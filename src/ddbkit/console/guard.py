"""The console's front door: who may talk to it, as an ASGI middleware in front of every route.

A web server on loopback is reachable by every page the user's browser opens, so it trusts no
request by default:

- **Token.** The URL the console prints carries a random token once (``/?token=...``); that
  request gets the token back as an HttpOnly, SameSite=Strict cookie named for the port (two
  consoles must not overwrite each other's) and a redirect to a URL without it. Every other
  request needs the cookie, else 403. SameSite=Strict means no other site's page can make the
  browser send it.
- **Host.** The Host header must be the loopback name and port the console listens on, else 403:
  a DNS-rebinding page (evil.example resolving to 127.0.0.1) arrives with its own host name.
- **Origin.** A state-changing request (anything but GET/HEAD) must carry an Origin header equal
  to the console's own origin, else 403: a cross-site form post never does.
- **Read-only.** Every write route is refused (403) when the console is read-only, whatever the
  page shows.

Answers also carry headers that keep the page to itself: a Content-Security-Policy allowing
only its own scripts and styles, no framing, no referrer (the first URL holds the token), no
caching.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE_PREFIX = "ddbkit_console_"  # + the port: cookies do not tell ports apart, consoles must
SAFE_METHODS = frozenset({"GET", "HEAD"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]

log = logging.getLogger("ddbkit.console")


class Guard:
    """Refuses what the module docstring lists; passes the rest to ``app``.

    ``is_write(method, path)`` tells which requests change data (refused when read-only).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        port: int,
        read_only: bool,
        is_write: Callable[[str, str], bool],
    ) -> None:
        if len(token) < 16:
            raise ValueError("the console token must be at least 16 characters")
        self.app = app
        self.token = token.encode()
        self.read_only = read_only
        self.is_write = is_write
        self.cookie = f"{COOKIE_PREFIX}{port}"
        self.hosts = {f"{name}:{port}".encode() for name in LOOPBACK_NAMES}
        self.origins = {b"http://" + host for host in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # start-up and shut-down: nothing to guard
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # a websocket: the console has none, and opens none
            await send({"type": "websocket.close", "code": 1008})
            return
        started = time.perf_counter()
        status = await self._answer(scope, receive, send)
        if log.isEnabledFor(logging.DEBUG):
            # The path only: the query string may hold the token (or a user's where-clause).
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("%s %s -> %s (%.0f ms)", scope["method"], scope["path"], status, elapsed)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> int:
        headers = _headers(scope)
        method = scope["method"]
        path = scope["path"]
        if headers.get(b"host") not in self.hosts:
            return await _refuse(send, "this console answers only on its own loopback address")
        if method not in SAFE_METHODS and headers.get(b"origin") not in self.origins:
            return await _refuse(send, "a change must come from the console's own page")
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if path == "/" and given and self._valid(given[0].encode()):
            return await self._sign_in(scope, send)
        if not self._valid(_cookie(headers.get(b"cookie", b""), self.cookie.encode())):
            return await _refuse(
                send, "no console session: open the URL that `ddbkit console` printed"
            )
        if self.read_only and self.is_write(method, path):
            return await _refuse(
                send, "the console is read-only: start it with --allow-writes to change data"
            )
        status = 0
        began = time.perf_counter()

        async def send_secured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Server-Timing: the time to the answer's start, for the browser's devtools and
                # the bench (a streamed body goes on after it).
                took = f"app;dur={(time.perf_counter() - began) * 1000:.1f}".encode()
                message["headers"] = [
                    *message.get("headers", []), *SECURITY_HEADERS, (b"server-timing", took)
                ]  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_secured)
        return status

    def _valid(self, given: bytes | None) -> bool:
        return given is not None and hmac.compare_digest(given, self.token)

    async def _sign_in(self, scope: Scope, send: Send) -> int:
        """Trade the URL's token for the cookie, and send the browser to a URL without it."""
        rest = {
            name: values
            for name, values in parse_qs(scope.get("query_string", b"").decode()).items()
            if name != "token"
        }
        location = "/" + (f"?{urlencode(rest, doseq=True)}" if rest else "")
        cookie = f"{self.cookie}={self.token.decode()}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode()),
                    (b"set-cookie", cookie.encode()),
                    (b"content-length", b"0"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return 303


def _headers(scope: Scope) -> dict[bytes, bytes]:
    # A repeated header (two Host lines) keeps its first value; ASGI servers lower-case names.
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(bytes(name).lower(), bytes(value))
    return found


def _cookie(header: bytes, name: bytes) -> bytes | None:
    for part in header.split(b";"):
        key, _, value = part.strip().partition(b"=")
        if key == name:
            return value
    return None


async def _refuse(send: Send, reason: str) -> int:
    body = orjson.dumps({"error": reason})
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return 403
