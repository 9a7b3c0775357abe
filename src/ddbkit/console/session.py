"""What one running console holds: the connection, its mode, and the export jobs in flight."""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ddbkit import Database, Table


@dataclass
class ExportJob:
    """One table export the page asked for: written to a private temporary folder, then sent."""

    id: str
    table: str
    format: str
    path: Path
    items: int = 0
    done: bool = False
    error: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def filename(self) -> str:
        return self.path.name


class ConsoleSession:
    """The console's state. Tables are cached by name (each caches its key schema)."""

    def __init__(self, db: Database, *, read_only: bool, debug: bool = False) -> None:
        self.db = db
        self.read_only = read_only
        self.debug = debug
        self.local = db.on_loopback
        self.exports: dict[str, ExportJob] = {}
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()
        self._workdir: Path | None = None

    def table(self, name: str) -> Table:
        with self._lock:
            found = self._tables.get(name)
            if found is None:
                found = self._tables[name] = self.db.table(name)
            return found

    def forget(self, name: str) -> None:
        """Drop a cached table (deleted, or created anew with other keys)."""
        with self._lock:
            self._tables.pop(name, None)

    def workdir(self) -> Path:
        """A private folder (mode 700) for export files, removed by :meth:`close`."""
        with self._lock:
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="ddbkit-console-"))
            return self._workdir

    def close(self) -> None:
        for job in self.exports.values():
            job.cancelled.set()
        with self._lock:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
