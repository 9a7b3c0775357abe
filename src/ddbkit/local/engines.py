"""The public lifecycle of the local engine: launch, start, status, stop, and --local's endpoint."""

from __future__ import annotations

import os
from pathlib import Path

from ddbkit.errors import LocalEngineError, LocalEngineNotRunningError, MissingExtraError
from ddbkit.local.installer import install
from ddbkit.local.launcher import (
    _check_port_free,
    _launch_dynamodb_local,
    _launch_moto,
    _moto_available,
    _resolve_data_dir,
)
from ddbkit.local.paths import ENV_ENGINE_DIR, Progress, _say, state_dir
from ddbkit.local.process import _is_engine_process, stop_process
from ddbkit.local.state import EngineState, _remove_state, read_state, state_file, write_state


def _engine_or_fallback(progress: Progress | None) -> Path | None:
    """Return the installed DynamoDB Local, or None when moto has to stand in."""
    try:
        return install(progress=progress)
    except LocalEngineError as error:
        if os.environ.get(ENV_ENGINE_DIR):
            raise  # a broken explicit engine folder is an error, not a reason to switch engines
        _say(progress, f"DynamoDB Local is not available: {error.message}")
        if not _moto_available():
            raise MissingExtraError("moto[server]", "local") from error
        return None


def _launch(
    *,
    port: int,
    data_dir: Path | None,
    in_memory: bool,
    log_path: Path,
    progress: Progress | None,
) -> EngineState:
    data = _resolve_data_dir(data_dir, in_memory)
    _check_port_free(port)
    engine = _engine_or_fallback(progress)
    workdir = state_dir()
    if engine is not None:
        return _launch_dynamodb_local(
            engine, port=port, data_dir=data, log_path=log_path, workdir=workdir
        )
    _say(
        progress,
        "using moto's server instead: its fidelity is lower than DynamoDB Local's (some "
        "behaviour, limits and error messages differ) and it keeps data in memory only",
    )
    return _launch_moto(port=port, log_path=log_path, workdir=workdir)


def launch(
    *,
    port: int = 8000,
    data_dir: Path | None = None,
    in_memory: bool = False,
    log_path: Path | None = None,
) -> EngineState:
    """Start an engine on ``port`` and wait until it answers; the state file is not touched.

    Data goes to ``data_dir`` (default: the per-user data folder) unless ``in_memory``. The log
    defaults to ``local-PORT.log`` in the state folder. Stop the engine with :func:`stop_process`.
    """
    log = log_path if log_path is not None else state_dir() / f"local-{port}.log"
    return _launch(port=port, data_dir=data_dir, in_memory=in_memory, log_path=log, progress=None)


def start(
    *,
    port: int = 8000,
    data_dir: Path | None = None,
    in_memory: bool = False,
    progress: Progress | None = None,
) -> EngineState:
    """Start the user's local engine and record it; if one already runs, return that one."""
    running = status()
    if running is not None:
        return running
    state = _launch(
        port=port,
        data_dir=data_dir,
        in_memory=in_memory,
        log_path=state_dir() / "local.log",
        progress=progress,
    )
    try:
        write_state(state)
    except BaseException:
        stop_process(state)
        raise
    return state


def status() -> EngineState | None:
    """Return the recorded engine if it still runs; a stale record is removed."""
    state = read_state()
    if state is not None and _is_engine_process(state):
        return state
    if state_file().exists():
        _remove_state()
    return None


def stop() -> EngineState | None:
    """Stop the recorded engine and remove its record; None if none was running."""
    state = status()
    if state is None:
        return None
    stop_process(state)
    _remove_state()
    return state


def running_endpoint() -> str:
    """Return the endpoint URL of the recorded running engine."""
    state = status()
    if state is None:
        raise LocalEngineNotRunningError(
            "no local engine is running: start one with 'ddbkit local start'"
        )
    return state.endpoint_url
