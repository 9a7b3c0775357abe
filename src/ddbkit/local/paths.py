"""Names and per-user folders shared by the local engine's modules.

Paths follow XDG: the engine is cached in ``$XDG_CACHE_HOME/ddbkit``, data lives in
``$XDG_DATA_HOME/ddbkit/local-data``, state files and logs in ``$XDG_STATE_HOME/ddbkit``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str], None]

ENGINE_DYNAMODB_LOCAL = "dynamodb-local"
ENGINE_MOTO = "moto"
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
ENV_ENGINE_DIR = "DDBKIT_DYNAMODB_LOCAL"
JAR = "DynamoDBLocal.jar"
LIB = "DynamoDBLocal_lib"
LAUNCHER = "LoopbackLauncher"


def _xdg_home(variable: str, fallback: str) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def cache_dir() -> Path:
    """Return the per-user cache folder that holds the installed engine."""
    return _xdg_home("XDG_CACHE_HOME", ".cache") / "ddbkit"


def engine_dir() -> Path:
    """Return the folder DynamoDB Local is (or will be) installed in."""
    return cache_dir() / "dynamodb-local"


def default_data_dir() -> Path:
    """Return the per-user folder where the local engine keeps its tables."""
    return _xdg_home("XDG_DATA_HOME", ".local/share") / "ddbkit" / "local-data"


def state_dir() -> Path:
    """Return the per-user folder of the state file and the engine's logs."""
    return _xdg_home("XDG_STATE_HOME", ".local/state") / "ddbkit"


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
