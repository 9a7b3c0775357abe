"""The records of the running local engines: one state file per port.

``$XDG_STATE_HOME/ddbkit/local-PORT.json`` records the engine on PORT. ddbkit 0.1 recorded its one
engine in ``local.json``; that file is still read (so an engine it started is found and can be
stopped) and removed with its engine, but never written.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ddbkit.local.paths import ENGINE_DYNAMODB_LOCAL, ENGINE_MOTO, HOST, _write_atomic, state_dir

_STATE_NAME = re.compile(r"local-([0-9]+)\.json")


def state_file(port: int) -> Path:
    """Return the file that records the engine on ``port``."""
    return state_dir() / f"local-{port}.json"


def legacy_state_file() -> Path:
    """Return the one state file of ddbkit 0.1, read but no longer written."""
    return state_dir() / "local.json"


@dataclass(frozen=True)
class EngineState:
    """One running local engine: its process, port, kind and data folder."""

    pid: int
    port: int
    engine: str
    data_dir: str | None
    started_at: float

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EngineState | None:
        """Parse a state file; None when it is not one ddbkit wrote."""
        try:
            raw = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        pid, port, engine = raw.get("pid"), raw.get("port"), raw.get("engine")
        data_dir, started_at = raw.get("data_dir"), raw.get("started_at")
        if not (isinstance(pid, int) and isinstance(port, int) and isinstance(engine, str)):
            return None
        if engine not in (ENGINE_DYNAMODB_LOCAL, ENGINE_MOTO):
            return None
        if data_dir is not None and not isinstance(data_dir, str):
            return None
        if not isinstance(started_at, (int, float)):
            return None
        return cls(pid, port, engine, data_dir, float(started_at))


def write_state(state: EngineState) -> None:
    """Record ``state`` as the engine on its port (written to a temporary name, then renamed)."""
    _write_atomic(state_file(state.port), state.to_json())


def read_state(port: int) -> EngineState | None:
    """Return the record of the engine on ``port`` without checking it still runs, or None."""
    for path in (state_file(port), legacy_state_file()):
        state = _read(path)
        if state is not None and state.port == port:
            return state
    return None


def records() -> list[tuple[Path, EngineState | None]]:
    """Return each state file and its record (None: not one ddbkit wrote), the legacy file last."""
    folder = state_dir()
    try:
        names = [entry.name for entry in folder.iterdir()]
    except FileNotFoundError:
        return []
    found: list[tuple[Path, EngineState | None]] = []
    ports = sorted(int(m[1]) for m in map(_STATE_NAME.fullmatch, names) if m is not None)
    for port in ports:
        path = state_file(port)
        if path.exists():
            state = _read(path)
            found.append((path, state if state is None or state.port == port else None))
    legacy = legacy_state_file()
    if legacy.exists():
        found.append((legacy, _read(legacy)))
    return found


def remove_record(path: Path) -> None:
    """Remove one state file (already gone is fine)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def forget(port: int) -> None:
    """Remove every record of the engine on ``port``: its own file, and a legacy one naming it."""
    remove_record(state_file(port))
    legacy = _read(legacy_state_file())
    if legacy is not None and legacy.port == port:
        remove_record(legacy_state_file())


def _read(path: Path) -> EngineState | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return EngineState.from_json(text)
