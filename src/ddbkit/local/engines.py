"""The lifecycle of local engines: launch, start, status, stop, and the endpoint of ``--local``.

Several engines may run side by side, one per port, each recorded in its own state file. The rules:

- ``start`` on a port where an engine runs returns it when its settings (in memory, or which data
  folder) are the ones asked for, and refuses otherwise: it never hands back an engine that
  ignores what was asked. moto's server, the stand-in where Java is missing, keeps data in memory
  whatever is asked, so any settings match it.
- Two engines never share a data folder (their -sharedDb file would be corrupted): ``start``
  refuses by the records, and the folder's lock refuses whatever the records say.
- ``stop`` without a port stops the only engine; with several it refuses rather than guess.
- ``--local`` uses the only engine; with several, the one on the default port 8000; with several
  and none on 8000 it refuses and lists them (give ``--endpoint-url`` instead).
"""

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
    _wanted_data_dir,
)
from ddbkit.local.paths import DEFAULT_PORT, ENGINE_MOTO, ENV_ENGINE_DIR, Progress, _say, state_dir
from ddbkit.local.process import _is_engine_process, stop_process
from ddbkit.local.state import EngineState, forget, records, remove_record, write_state


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
    port: int = DEFAULT_PORT,
    data_dir: str | os.PathLike[str] | None = None,
    in_memory: bool = False,
    log_path: str | os.PathLike[str] | None = None,
) -> EngineState:
    """Start an engine on ``port`` and wait until it answers; no state file is touched.

    Data goes to ``data_dir`` (default: the per-user data folder) unless ``in_memory``. The log
    defaults to ``local-PORT.log`` in the state folder. Stop the engine with :func:`stop_process`.
    """
    log = Path(log_path) if log_path is not None else state_dir() / f"local-{port}.log"
    data = Path(data_dir) if data_dir is not None else None
    return _launch(port=port, data_dir=data, in_memory=in_memory, log_path=log, progress=None)


def running() -> list[EngineState]:
    """Return every recorded engine that still runs, by port; stale records are removed.

    A record is stale when its pid is gone or now belongs to another program.
    """
    alive: dict[int, EngineState] = {}
    for path, state in records():
        if state is None or state.port in alive or not _is_engine_process(state):
            remove_record(path)
            continue
        alive[state.port] = state
    return [alive[port] for port in sorted(alive)]


def status(port: int | None = None) -> EngineState | None:
    """Return the running engine on ``port``, or without a port the one ``--local`` uses.

    None when there is none. Without a port and with several engines and none on the default
    port, raises :class:`LocalEngineError` as :func:`running_endpoint` does.
    """
    engines = running()
    if port is not None:
        return next((state for state in engines if state.port == port), None)
    return choose(engines) if engines else None


def choose(engines: list[EngineState], default_port: int | None = None) -> EngineState:
    """Pick the engine ``--local`` uses: the only one, else the one on the default port."""
    if not engines:
        raise LocalEngineNotRunningError(
            "no local engine is running: start one with 'ddbkit local start'"
        )
    if len(engines) == 1:
        return engines[0]
    default = DEFAULT_PORT if default_port is None else default_port
    for state in engines:
        if state.port == default:
            return state
    urls = ", ".join(state.endpoint_url for state in engines)
    raise LocalEngineError(
        f"several local engines run ({urls}) and none on the default port {default}, so --local "
        "cannot tell which to use: give --local --endpoint-url http://127.0.0.1:PORT with one "
        "of them"
    )


def running_endpoint() -> str:
    """Return the endpoint URL of the engine ``--local`` uses (see :func:`choose`)."""
    return choose(running()).endpoint_url


def already_running(
    port: int, *, data_dir: Path | None = None, in_memory: bool = False
) -> EngineState | None:
    """Return the engine on ``port`` if it runs with these settings; None if none runs there.

    Raises :class:`LocalEngineError`, saying what runs and what to do, if it runs with others.
    """
    current = status(port)
    if current is None:
        return None
    wanted = _wanted_data_dir(data_dir, in_memory)
    if _matches(current, wanted):
        return current
    raise LocalEngineError(
        f"port {port} already runs {_describe(current)}, not {_data_words(wanted)} as asked: "
        f"stop it first with 'ddbkit local stop --port {port}', or give another --port"
    )


def running_with(*, data_dir: Path | None = None, in_memory: bool = False) -> EngineState | None:
    """Return a running engine (lowest port first) with these settings, on any port; or None."""
    wanted = _wanted_data_dir(data_dir, in_memory)
    return next((state for state in running() if _matches(state, wanted)), None)


def _matches(state: EngineState, wanted: Path | None) -> bool:
    if state.engine == ENGINE_MOTO:
        return True  # started for any settings where Java is missing; always in memory
    return state.data_dir == (str(wanted) if wanted is not None else None)


def _data_words(data_dir: str | Path | None) -> str:
    """Say where an engine keeps its tables: 'data in DIR' or 'data in memory'."""
    return f"data in {data_dir}" if data_dir is not None else "data in memory"


def _describe(state: EngineState) -> str:
    """Name an engine's kind, pid and data in a few words, for messages."""
    name = "moto's server" if state.engine == ENGINE_MOTO else "DynamoDB Local"
    return f"{name} (pid {state.pid}, {_data_words(state.data_dir)})"


def start(
    *,
    port: int = DEFAULT_PORT,
    data_dir: Path | None = None,
    in_memory: bool = False,
    progress: Progress | None = None,
) -> EngineState:
    """Start an engine on ``port`` and record it; return the one there if it has these settings.

    Raises :class:`LocalEngineError` when an engine with other settings runs on ``port``, or when
    another engine uses the data folder.
    """
    current = already_running(port, data_dir=data_dir, in_memory=in_memory)
    if current is not None:
        return current
    wanted = _wanted_data_dir(data_dir, in_memory)
    for other in running():
        if wanted is not None and other.data_dir == str(wanted):
            raise LocalEngineError(
                f"data folder {wanted} is already used by the engine on port {other.port} "
                f"(pid {other.pid}) and two engines must never share one: give another --data "
                f"or --in-memory, or stop that engine first with "
                f"'ddbkit local stop --port {other.port}'"
            )
    state = _launch(
        port=port,
        data_dir=data_dir,
        in_memory=in_memory,
        log_path=state_dir() / f"local-{port}.log",
        progress=progress,
    )
    try:
        write_state(state)
    except BaseException:
        stop_process(state)
        raise
    return state


def stop(port: int | None = None) -> EngineState | None:
    """Stop the engine on ``port`` (without a port: the only one) and remove its record.

    Returns None if none was running there. Without a port and with several engines running,
    raises :class:`LocalEngineError` and stops none: it never guesses which one was meant.
    """
    engines = running()
    if port is None and len(engines) > 1:
        listing = ", ".join(
            f"{state.endpoint_url} ({_data_words(state.data_dir)})" for state in engines
        )
        raise LocalEngineError(
            f"several local engines run ({listing}): say which to stop with --port PORT, "
            "or stop them all with --all"
        )
    target = next((state for state in engines if port in (None, state.port)), None)
    if target is None:
        return None
    stop_process(target)
    forget(target.port)
    return target


def stop_all() -> list[EngineState]:
    """Stop every running engine and remove their records; return them."""
    stopped = running()
    for state in stopped:
        stop_process(state)
        forget(state.port)
    return stopped
