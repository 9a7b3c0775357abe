"""Serve the console on 127.0.0.1 with uvicorn until interrupted."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING

from ddbkit.console.app import create_app

if TYPE_CHECKING:
    from ddbkit import Database

HOST = "127.0.0.1"  # never a wildcard: the console is for this machine's user only
GRACE_SECONDS = 3


def listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: any free port); the caller serves it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        from ddbkit.errors import ValidationError

        raise ValidationError(
            f"cannot listen on {HOST}:{port} ({error.strerror}): choose another --port, "
            "or --port 0 for any free one"
        ) from None
    sock.listen(128)
    return sock


def serve(
    db: Database,
    *,
    port: int = 0,
    read_only: bool | None = None,
    debug: bool = False,
    on_ready: Callable[[str, bool], None] | None = None,
) -> None:
    """Run the console until Ctrl-C; ``on_ready(url, read_only)`` gets the URL to open (token
    included) and whether the console is read-only (``read_only=None``: as :func:`create_app`
    decides)."""
    import uvicorn

    sock = listen(port)
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    app = create_app(db, token=token, port=port, read_only=read_only, debug=debug)
    config = uvicorn.Config(
        app,
        log_level="warning",  # uvicorn's own lines; requests are logged (redacted) by the guard
        access_log=False,  # it would print every URL, the first one with the token
        lifespan="on",
        server_header=False,
        # Ctrl-C waits this long for requests in flight (a long SQL query cannot be stopped),
        # then stops anyway; the lifespan's cleanup (export files) still runs.
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(f"http://{HOST}:{port}/?token={token}", app.read_only)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def can_open_browser() -> bool:
    """Whether opening a browser can work here: a desktop session, not a bare terminal or CI."""
    if os.environ.get("CI"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_browser(url: str) -> bool:
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
