"""ddbkit: Amazon DynamoDB made easy, fast and safe.

``import ddbkit`` is cheap: the errors and the version load at once, every other name on first
use (module ``__getattr__``), so ``ddbkit --version`` and front ends that only need a few names
never import botocore, DuckDB or pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ddbkit.errors import (
    ConditionFailedError,
    CredentialsError,
    DdbkitError,
    EndpointError,
    IncompleteWriteError,
    Interrupted,
    InvalidKeyError,
    InvalidValueError,
    LocalEngineError,
    LocalEngineNotRunningError,
    PlanError,
    TableNotFoundError,
    ThrottledError,
    TransactionCanceled,
    ValidationError,
    WhereSyntaxError,
)
from ddbkit.version import __version__

if TYPE_CHECKING:
    from ddbkit.aio import AsyncDatabase, AsyncTable, connect_async
    from ddbkit.database import Database, connect
    from ddbkit.expr.plan import Plan
    from ddbkit.jobs.anatomy import HotKey, SchemaReport, StatsReport
    from ddbkit.jobs.diff import Difference, DiffReport
    from ddbkit.jobs.tables import IndexSpec
    from ddbkit.models import IndexInfo, KeyAttribute, KeySchema, ScanEstimate, TableInfo
    from ddbkit.read.changes import Change
    from ddbkit.read.paginate import ItemIterator, Page
    from ddbkit.table import Table
    from ddbkit.transport.spec import ConnectionSpec
    from ddbkit.write.batch import WriteSummary

__all__ = [
    "AsyncDatabase",
    "AsyncTable",
    "Change",
    "ConditionFailedError",
    "ConnectionSpec",
    "CredentialsError",
    "Database",
    "DdbkitError",
    "DiffReport",
    "Difference",
    "EndpointError",
    "HotKey",
    "IncompleteWriteError",
    "IndexInfo",
    "IndexSpec",
    "Interrupted",
    "InvalidKeyError",
    "InvalidValueError",
    "ItemIterator",
    "KeyAttribute",
    "KeySchema",
    "LocalEngineError",
    "LocalEngineNotRunningError",
    "Page",
    "Plan",
    "PlanError",
    "ScanEstimate",
    "SchemaReport",
    "StatsReport",
    "Table",
    "TableInfo",
    "TableNotFoundError",
    "ThrottledError",
    "TransactionCanceled",
    "ValidationError",
    "WhereSyntaxError",
    "WriteSummary",
    "__version__",
    "connect",
    "connect_async",
]

# Where each name that loads on first use lives (the same names as the TYPE_CHECKING imports).
_LAZY: dict[str, str] = {
    "AsyncDatabase": "ddbkit.aio",
    "AsyncTable": "ddbkit.aio",
    "Change": "ddbkit.read.changes",
    "ConnectionSpec": "ddbkit.transport.spec",
    "Database": "ddbkit.database",
    "DiffReport": "ddbkit.jobs.diff",
    "Difference": "ddbkit.jobs.diff",
    "HotKey": "ddbkit.jobs.anatomy",
    "IndexInfo": "ddbkit.models",
    "IndexSpec": "ddbkit.jobs.tables",
    "ItemIterator": "ddbkit.read.paginate",
    "KeyAttribute": "ddbkit.models",
    "KeySchema": "ddbkit.models",
    "Page": "ddbkit.read.paginate",
    "Plan": "ddbkit.expr.plan",
    "ScanEstimate": "ddbkit.models",
    "SchemaReport": "ddbkit.jobs.anatomy",
    "StatsReport": "ddbkit.jobs.anatomy",
    "Table": "ddbkit.table",
    "TableInfo": "ddbkit.models",
    "WriteSummary": "ddbkit.write.batch",
    "connect": "ddbkit.database",
    "connect_async": "ddbkit.aio",
}


if not TYPE_CHECKING:  # hidden from type checkers, which see the imports above instead

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'ddbkit' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # looked up once; later uses find it like any other global
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
