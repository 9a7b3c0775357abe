"""What whole-table jobs need of a table: a protocol, so a job never imports the facade.

:class:`ddbkit.Table` satisfies it; ``Table.export``, ``Table.import_file``, ``Table.schema``
and friends hand themselves to the jobs here, and the jobs call back only these members.
"""

from __future__ import annotations

from typing import Any, Protocol

from ddbkit.models import KeySchema, TableInfo
from ddbkit.read.paginate import ItemIterator
from ddbkit.transport.base import Connection


class TableSource(Protocol):
    """One DynamoDB table, as a job reads and writes it."""

    name: str
    db: Catalog

    def info(self) -> TableInfo: ...

    @property
    def keys(self) -> KeySchema: ...

    def scan(self, *args: Any, **kwargs: Any) -> ItemIterator: ...

    def explain(self, *args: Any, **kwargs: Any) -> Any: ...

    def request_params(self, *args: Any, **kwargs: Any) -> Any: ...


class Catalog(Connection, Protocol):
    """A connection that can name its tables (for jobs over several: SQL)."""

    def table(self, name: str) -> TableSource: ...
