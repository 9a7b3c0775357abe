"""How a console handler meets HTTP: its input (:class:`Call`), its answer, and errors as one line.

Handlers are plain synchronous functions over the sync library (the library blocks on
DynamoDB); :func:`endpoint` reads the request on the event loop, runs the handler on a worker
thread, and turns what it returns or raises into a response. A handler never sees Starlette's
request and never builds an error response itself.
"""

from __future__ import annotations

import logging
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
MAX_BODY = 8 * 1024 * 1024  # an item is at most 400 KB; a query or a form far less


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
        """A whole number field within [low, high]."""
        raw: Any = self.body.get(name) if isinstance(self.body, Mapping) else None
        if raw is None:
            raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise Refused(400, f"{name} must be a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise Refused(400, f"{name} must be between {low} and {high}, not {value}")
        return value

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
            body = await _body(request)
            call = Call(
                session=session,
                path=dict(request.path_params),
                query=dict(request.query_params),
                body=body,
                headers=dict(request.headers),
            )
            result = await run_in_threadpool(handler, call)
        except Exception as error:  # every failure becomes one line; see `failure`
            return failure(error, session.debug)
        if isinstance(result, Response):
            return result
        if isinstance(result, Answer):
            return json_response(result.payload, result.status)
        return json_response(result)

    return run


async def _body(request: Request) -> Any:
    if request.method in ("GET", "HEAD"):
        return None
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Refused(413, f"the request is larger than {MAX_BODY // (1024 * 1024)} MB")
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
        return json_response({"error": error.message, **error.extra}, error.status)
    if isinstance(error, errors.DdbkitError):
        status = next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
        extra = {"conflict": True} if status == 409 else {}
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
    import sys

    duckdb = sys.modules.get("duckdb")  # only a query that ran DuckDB can raise its errors
    error: type[Exception] | None = getattr(duckdb, "Error", None)
    return error


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "error"
