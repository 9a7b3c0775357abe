"""The record of the running local engine: what runs, on which port, with which data folder."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ddbkit.local.paths import ENGINE_DYNAMODB_LOCAL, ENGINE_MOTO, HOST, _write_atomic, state_dir


def state_file() -> Path:
    """Return the file that records the running local engine."""
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
    """Record ``state`` as the running engine (written to a temporary name, then renamed)."""
    _write_atomic(state_file(), state.to_json())


def read_state() -> EngineState | None:
    """Return the recorded engine without checking it still runs; None if none is recorded."""
    try:
        text = state_file().read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return EngineState.from_json(text)


def _remove_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_file().unlink()
