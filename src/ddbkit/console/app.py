"""The console as an ASGI application: every route in one table, behind the guard.

``create_app(db, token=..., port=...)`` is the library's way to the console: serve it with any
ASGI server on 127.0.0.1 (``ddbkit console`` does, with uvicorn). The routes table says, for
each route, whether it changes data: the guard refuses those when the console is read-only and
the page hides them, from the same declaration.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ddbkit.console import items, jobs, sqlpage, tables
from ddbkit.console.guard import Guard
from ddbkit.console.http import Handler, endpoint, json_response
from ddbkit.console.session import ConsoleSession

if TYPE_CHECKING:
    from ddbkit import Database


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: Handler
    writes: bool = False


ROUTES = (
    ApiRoute("GET", "/api/session", tables.session_facts),
    ApiRoute("GET", "/api/tables", tables.list_tables),
    ApiRoute("POST", "/api/tables", tables.create_table, writes=True),
    ApiRoute("GET", "/api/tables/{name}", tables.table_info),
    ApiRoute("DELETE", "/api/tables/{name}", tables.delete_table, writes=True),
    ApiRoute("GET", "/api/tables/{name}/explain", items.explain),
    ApiRoute("GET", "/api/tables/{name}/items", items.items_page),
    ApiRoute("GET", "/api/tables/{name}/item", items.get_item),
    ApiRoute("PUT", "/api/tables/{name}/item", items.save_item, writes=True),
    ApiRoute("POST", "/api/tables/{name}/item", items.create_item, writes=True),
    ApiRoute("DELETE", "/api/tables/{name}/item", items.delete_item, writes=True),
    ApiRoute("GET", "/api/tables/{name}/schema", jobs.schema),
    ApiRoute("GET", "/api/tables/{name}/stats", jobs.stats),
    ApiRoute("POST", "/api/tables/{name}/exports", jobs.start_export),
    ApiRoute("GET", "/api/exports/{id}", jobs.export_progress),
    ApiRoute("GET", "/api/exports/{id}/file", jobs.export_file),
    ApiRoute("DELETE", "/api/exports/{id}", jobs.cancel_export),
    ApiRoute("POST", "/api/sql", sqlpage.run),
    ApiRoute("POST", "/api/sql/explain", sqlpage.explain),
    ApiRoute("POST", "/api/sql/download", sqlpage.download),
)

_WRITES = {(route.method, route.path) for route in ROUTES if route.writes}
_STATIC = resources.files("ddbkit.console") / "static"


def is_write(method: str, path: str) -> bool:
    """Whether a request changes data (matched against the route templates)."""
    return any(
        method == write_method and _matches(template, path) for write_method, template in _WRITES
    )


def _matches(template: str, path: str) -> bool:
    want, got = template.split("/"), path.split("/")
    return len(want) == len(got) and all(
        w == g or (w.startswith("{") and g != "") for w, g in zip(want, got, strict=True)
    )


def create_app(
    db: Database,
    *,
    token: str,
    port: int,
    read_only: bool | None = None,
    debug: bool = False,
) -> Guard:
    """The console for ``db``, answering on ``127.0.0.1:port`` (and ``localhost:port``) only.

    ``token`` is the secret in the URL the user opens once (at least 16 characters; use
    ``secrets.token_urlsafe()``). ``read_only`` defaults to True unless ``db`` is on this
    machine (DynamoDB Local): against AWS, writes are opt-in.
    """
    if read_only is None:
        read_only = not db.on_loopback
    session = ConsoleSession(db, read_only=read_only, debug=debug)
    routes: list[BaseRoute] = [
        Route(route.path, endpoint(route.handler, session), methods=[route.method])
        for route in ROUTES
    ]
    routes.append(Route("/", _index, methods=["GET"]))
    routes.append(Mount("/static", app=StaticFiles(directory=str(_STATIC)), name="static"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            session.close()  # export files still on disk go with the console

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    return Guard(app, token=token, port=port, read_only=read_only, is_write=is_write)


async def _index(request: Request) -> Response:
    return FileResponse(str(_STATIC / "index.html"), media_type="text/html")


async def _not_found(request: Request, exc: Exception) -> Response:
    return json_response({"error": f"no such page: {request.url.path}"}, 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return json_response({"error": f"{request.method} is not allowed here"}, 405)
