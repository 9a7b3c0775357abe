"""The connection settings given by the global options, reachable from every command."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from ddbkit.client import Database, connect
from ddbkit.table import Table


@dataclass
class CliState:
    """Connection settings from the global options; the connection is made on first use."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    local: bool = False
    debug: bool = False
    timeouts: dict[str, float | None] = field(default_factory=dict)  # connect/read, if given
    max_attempts: int | None = None
    _db: Database | None = field(default=None, repr=False)

    def db(self) -> Database:
        if self._db is None:
            self._db = connect(
                endpoint_url=self.endpoint_url,
                region=self.region,
                profile=self.profile,
                local=self.local,
                max_attempts=self.max_attempts,
                **{name: value for name, value in self.timeouts.items() if value is not None},
            )
        return self._db

    def argv(self) -> list[str]:
        """These settings as global options, for running another command the same way."""
        args = ["--local"] if self.local else []
        for flag, value in (
            ("--endpoint-url", self.endpoint_url),
            ("--region", self.region),
            ("--profile", self.profile),
            ("--max-attempts", self.max_attempts),
            *((f"--{name.replace('_', '-')}", value) for name, value in self.timeouts.items()),
        ):
            if value is not None:
                args += [flag, str(value)]
        return args

    def table(self, name: str) -> Table:
        return self.db().table(name)


def state() -> CliState:
    """The CliState of the running command."""
    obj = click.get_current_context().find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
    return obj
