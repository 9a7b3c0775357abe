"""ddbkit local start | stop | status | install: local engines on 127.0.0.1, one per port."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from ddbkit import local as engine
from ddbkit.errors import LocalEngineError
from ddbkit.local import ENGINE_MOTO, EngineState

# LSB's "program is not running" status, so scripts can write `ddbkit local status || ...`.
EXIT_NOT_RUNNING = 3


def _progress(message: str) -> None:
    click.echo(message, err=True)


def describe(state: EngineState) -> str:
    """One line naming the engine, its endpoint, pid and where its data lives."""
    name = "moto server (lower fidelity)" if state.engine == ENGINE_MOTO else "DynamoDB Local"
    data = f"data: {state.data_dir}" if state.data_dir else "data: in memory, lost on stop"
    return f"{name} running on {state.endpoint_url} (pid {state.pid}, {data})"


def _given(parameter: str) -> bool:
    """Whether the user typed ``parameter`` rather than taking its default."""
    source = click.get_current_context().get_parameter_source(parameter)
    return source is ParameterSource.COMMANDLINE


@click.group("local")
def local() -> None:
    """Run local DynamoDB engines (AWS's DynamoDB Local) on 127.0.0.1, one per port, for --local."""


@local.command("start")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=engine.DEFAULT_PORT,
    show_default=True,
    help="TCP port; another port starts another engine beside the running ones.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the tables in DIR (default: ~/.local/share/ddbkit/local-data).",
    metavar="DIR",
)
@click.option("--in-memory", is_flag=True, help="Keep the tables in memory only.")
def start(port: int, data_dir: Path | None, in_memory: bool) -> None:
    """Start an engine in the background, installing DynamoDB Local on first use.

    On a port where an engine already runs with the same settings this reports it (exit 0); with
    other settings it refuses (exit 1). Two engines never share a data folder.
    """
    if data_dir is not None and in_memory:
        raise click.UsageError("give --data or --in-memory, not both")
    if not _given("port") and engine.status(port) is None and not engine.port_is_free(port):
        # Another program holds the default port: an engine of ours with these settings serves,
        # else any free port does, and --local finds it through its state file.
        same = engine.running_with(data_dir=data_dir, in_memory=in_memory)
        if same is not None:
            click.echo(f"already running: {describe(same)}")
            return
        free = engine.free_port()
        _progress(f"port {port} is in use by another program; using port {free} instead")
        port = free
    running = engine.already_running(port, data_dir=data_dir, in_memory=in_memory)
    if running is not None:
        click.echo(f"already running: {describe(running)}")
        return
    state = engine.start(port=port, data_dir=data_dir, in_memory=in_memory, progress=_progress)
    click.echo(describe(state))


@local.command("stop")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Stop the engine on this port."
)
@click.option("--all", "every", is_flag=True, help="Stop every local engine.")
def stop(port: int | None, every: bool) -> None:
    """Stop an engine started by 'ddbkit local start': the only one, or the one on --port.

    With several engines running, give --port or --all; without either it stops none (exit 1).
    """
    if port is not None and every:
        raise click.UsageError("give --port or --all, not both")
    stopped = engine.stop_all() if every else [s for s in [engine.stop(port)] if s is not None]
    if not stopped:
        where = f" on port {port}" if port is not None else ""
        click.echo(f"no local engine is running{where}")
    for state in stopped:
        click.echo(f"stopped the local engine on {state.endpoint_url} (pid {state.pid})")


@local.command("status")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Only the engine on this port."
)
def status(port: int | None) -> None:
    """List the running engines and the one --local uses (exit status 3 when none runs)."""
    engines = [s for s in engine.running() if port in (None, s.port)]
    if not engines:
        where = f" on port {port}" if port is not None else ""
        click.echo(f"no local engine is running{where}")
        click.get_current_context().exit(EXIT_NOT_RUNNING)
    for state in engines:
        click.echo(describe(state))
    if port is None and len(engines) > 1:
        try:
            chosen = engine.choose(engines)
        except LocalEngineError:
            click.echo(
                f"--local uses none of them (none runs on port {engine.DEFAULT_PORT}): "
                "give --endpoint-url instead"
            )
        else:
            click.echo(f"--local uses {chosen.endpoint_url}")


@local.command("install")
def install() -> None:
    """Install DynamoDB Local into the per-user cache (done by 'start' when needed)."""
    folder = engine.install(progress=_progress)
    click.echo(f"DynamoDB Local is in {folder} (from {engine.installed_source(folder)})")


COMMANDS = [local]
