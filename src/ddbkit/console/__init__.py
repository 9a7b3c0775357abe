"""``ddbkit console``: a web console for DynamoDB tables, served on 127.0.0.1 (``ddbkit[console]``).

A front end over the public library API, like the CLI: :func:`create_app` is an ASGI application
for a :class:`ddbkit.Database`, :func:`serve` runs it with uvicorn. The page is static files in
``static/`` (plain JavaScript, nothing loaded from the internet).
"""

from __future__ import annotations

import importlib.util

from ddbkit.errors import MissingExtraError

for _package in ("starlette", "uvicorn"):
    if importlib.util.find_spec(_package) is None:
        raise MissingExtraError(_package, "console")

from ddbkit.console.app import create_app  # noqa: E402 - only once the extra is known present
from ddbkit.console.server import serve  # noqa: E402

__all__ = ["create_app", "serve"]
