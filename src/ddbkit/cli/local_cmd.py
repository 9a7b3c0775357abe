"""ddbkit local start | stop | status | install: the local engine on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from ddbkit import local as engine
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
    """Run a local DynamoDB engine (AWS's DynamoDB Local) on 127.0.0.1 for --local."""


@local.command("start")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port."
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
    """Start the engine in the background, installing DynamoDB Local on first use."""
    if data_dir is not None and in_memory:
        raise click.UsageError("give --data or --in-memory, not both")
    running = engine.status()
    if running is not None:
        click.echo(f"already running: {describe(running)}")
        if running.port != port and _given("port"):
            _progress(f"(--port {port} not used: 'ddbkit local stop' first to change it)")
        return
    if not _given("port") and not engine.port_is_free(port):
        # The default port is taken by some other program: any free port serves as well, and
        # --local finds it through the state file.
        free = engine.free_port()
        _progress(f"port {port} is in use by another program; using port {free} instead")
        port = free
    state = engine.start(port=port, data_dir=data_dir, in_memory=in_memory, progress=_progress)
    click.echo(describe(state))


@local.command("stop")
def stop() -> None:
    """Stop the engine started by 'ddbkit local start'."""
    state = engine.stop()
    if state is None:
        click.echo("no local engine is running")
    else:
        click.echo(f"stopped the local engine on {state.endpoint_url} (pid {state.pid})")


@local.command("status")
def status() -> None:
    """Say whether the local engine runs (exit status 3 when it does not)."""
    state = engine.status()
    if state is None:
        click.echo("no local engine is running")
        click.get_current_context().exit(EXIT_NOT_RUNNING)
    click.echo(describe(state))


@local.command("install")
def install() -> None:
    """Install DynamoDB Local into the per-user cache (done by 'start' when needed)."""
    folder = engine.install(progress=_progress)
    click.echo(f"DynamoDB Local is in {folder} (from {engine.installed_source(folder)})")
