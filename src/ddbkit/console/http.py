"""How a console handler meets HTTP: its input (:class:`Call`), its answer, and errors as one line.

Handlers are plain synchronous functions over the sync library (the library blocks on
DynamoDB); :func:`endpoint` reads the request on the event loop, runs the handler on a worker
thread, and turns what it returns or raises into a response. A handler never sees Starlette's
request and never builds an error response itself.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ddbkit import errors
from ddbkit.present import dumps_plain, loads_exact

if TYPE_CHECKING:
    from ddbkit.console.session import ConsoleSession

log = logging.getLogger("ddbkit.console")
MAX_BODY = 2 * 1024 * 1024  # an item is at most 400 KB (about 1 MB as JSON); a query far less


class Refused(Exception):
    """A request the console answers with ``status`` and one line (plus ``extra`` fields)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class Answer:
    """A JSON answer with a status other than 200."""

    status: int
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    session: ConsoleSession
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def text(self, name: str, default: str = "") -> str:
        """A text field: from the JSON body, else from the query string."""
        if isinstance(self.body, Mapping) and name in self.body:
            value = self.body[name]
            if value is None:
                return default
            if not isinstance(value, str):
                raise Refused(400, f"{name} must be text, not {type(value).__name__}")
            return value
        return self.query.get(name, default)

    def number(self, name: str, default: int, *, low: int, high: int) -> int:
        """A whole number field within [low, high]: a JSON integer or its digits as text."""
        raw: Any = self.body.get(name) if isinstance(self.body, Mapping) else None
        if raw is None:
            raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        # Checked before any conversion: int() of "1e50000000" would build 50 million digits.
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 12:
            raw = int(raw)
        if type(raw) is not int:  # not bool, Decimal or float: a page size is whole
            raise Refused(400, f"{name} must be a whole number from {low} to {high}")
        if not low <= raw <= high:
            raise Refused(400, f"{name} must be a whole number from {low} to {high}, not {raw}")
        return raw

    def field(self, name: str) -> Any:
        """A JSON body field that must be present."""
        if not isinstance(self.body, Mapping) or name not in self.body:
            raise Refused(400, f"the request needs a {name!r} field")
        return self.body[name]


Handler = Callable[[Call], Any]

# What a library error means in HTTP. The message is the library's own one line.
_STATUS: tuple[tuple[type[errors.DdbkitError], int], ...] = (
    (errors.TableNotFoundError, 404),
    (errors.ConditionFailedError, 409),
    (errors.ResourceInUseError, 409),
    (errors.MissingExtraError, 501),
    (errors.ThrottledError, 503),
    (errors.AccessDeniedError, 403),
    (errors.CredentialsError, 502),
    (errors.EndpointError, 502),
    (errors.ServiceError, 502),
    (errors.ValidationError, 400),
)


def endpoint(handler: Handler, session: ConsoleSession) -> Callable[[Request], Any]:
    """A Starlette endpoint running ``handler`` on a worker thread."""

    async def run(request: Request) -> Response:
        try:
            raw = await _raw_body(request)
            path, query = dict(request.path_params), dict(request.query_params)
            headers = dict(request.headers)

            def handle() -> Any:
                # Parsing runs here, on the worker thread: a hostile body (a number of a million
                # digits) must not hold up the event loop that serves every other request.
                call = Call(session, path, query, _parsed(raw), headers)
                return handler(call)

            result = await run_in_threadpool(handle)
        except asyncio.CancelledError:  # the console stops while this request still runs
            return json_response({"error": "the console is stopping"}, 503)
        except Exception as error:  # every failure becomes one line; see `failure`
            return failure(error, session.debug)
        if isinstance(result, Response):
            return result
        if isinstance(result, Answer):
            return json_response(result.payload, result.status)
        return json_response(result)

    return run


async def _raw_body(request: Request) -> bytes:
    if request.method in ("GET", "HEAD"):
        return b""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Refused(413, f"the request is larger than {MAX_BODY // (1024 * 1024)} MB")
    return raw


def _parsed(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return loads_exact(raw.decode("utf-8"))
    except (UnicodeDecodeError, errors.ValidationError) as error:
        raise Refused(400, f"the request body is not JSON: {error}") from None


def json_response(payload: Any, status: int = 200) -> Response:
    # dumps_plain: Decimals print with every digit, bytes as base64, sets as lists.
    return Response(dumps_plain(payload), status_code=status, media_type="application/json")


def failure(error: Exception, debug: bool) -> Response:
    """One readable line for the page; the traceback only in the terminal, and only with debug."""
    if isinstance(error, Refused):
        # One line even when it quotes what the user sent (a name holding a newline).
        message = " ".join(error.message.split())
        return json_response({"error": message, **error.extra}, error.status)
    if isinstance(error, errors.DdbkitError):
        status = next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
        # "conflict" tells the page an item changed under it, not that a table exists already.
        extra = {"conflict": True} if isinstance(error, errors.ConditionFailedError) else {}
        return json_response({"error": _one_line(str(error)), **extra}, status)
    duckdb_error = _duckdb_error()
    if duckdb_error is not None and isinstance(error, duckdb_error):
        return json_response({"error": _one_line(str(error))}, 400)
    if debug:
        log.error("console: %s", "".join(traceback.format_exception(error)).rstrip())
    else:
        log.error("console: internal error %s (--debug for details)", type(error).__name__)
    message = f"internal error ({type(error).__name__}); the terminal shows details with --debug"
    return json_response({"error": message}, 500)


def _duckdb_error() -> type[Exception] | None:
    duckdb = sys.modules.get("duckdb")  # only a query that ran DuckDB can raise its errors
    error: type[Exception] | None = getattr(duckdb, "Error", None)
    return error


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "error"
