"""The connection settings given by the global options, reachable from every command."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

import ddbkit

from . import runner

if TYPE_CHECKING:
    from ddbkit import ConnectionSpec, Database, Table

    from .flags import Elsewhere


@dataclass
class CliState:
    """Connection settings from the global options; the connection is made on first use."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    local: bool = False
    debug: bool = False
    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_attempts: int | None = None
    _db: Database | None = field(default=None, repr=False)

    def spec(self) -> ConnectionSpec:
        """The global options as the library's ConnectionSpec (its defaults where not given)."""
        defaults = ddbkit.ConnectionSpec()
        return ddbkit.ConnectionSpec(
            endpoint_url=self.endpoint_url,
            region=self.region,
            profile=self.profile,
            local=self.local,
            connect_timeout=self.connect_timeout or defaults.connect_timeout,
            read_timeout=self.read_timeout or defaults.read_timeout,
            max_attempts=self.max_attempts,
        )

    def db(self) -> Database:
        if self._db is None:
            self._db = ddbkit.connect(self.spec())
            runner.resume_collection()  # start-up is over: the command's own work begins
        return self._db

    def argv(self) -> list[str]:
        """These settings as global options, for running another command the same way."""
        args = ["--local"] if self.local else []
        for flag, value in (
            ("--endpoint-url", self.endpoint_url),
            ("--region", self.region),
            ("--profile", self.profile),
            ("--max-attempts", self.max_attempts),
            ("--connect-timeout", self.connect_timeout),
            ("--read-timeout", self.read_timeout),
        ):
            if value is not None:
                args += [flag, str(value)]
        return args

    def table(self, name: str) -> Table:
        return self.db().table(name)

    def db_for(self, elsewhere: Elsewhere) -> Database:
        """The connection to a second table: this one, or one reached like it (timeouts,
        attempts) but where the ``--to-*`` options say. The global --region and --profile
        carry over unless replaced (``--profile prod ... --to-region eu-west-1`` is prod's
        credentials in another region); --to-local or --to-endpoint drop the region, and
        --to-local the profile too."""
        if not elsewhere:
            return self.db()
        away = elsewhere.local or elsewhere.endpoint_url
        return ddbkit.connect(
            dataclasses.replace(
                self.spec(),
                endpoint_url=elsewhere.endpoint_url,
                region=elsewhere.region or (None if away else self.region),
                profile=elsewhere.profile or (None if elsewhere.local else self.profile),
                local=elsewhere.local,
            )
        )


def state() -> CliState:
    """The CliState of the running command."""
    obj = click.get_current_context().find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
    return obj
