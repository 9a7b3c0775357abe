"""ddbkit: Amazon DynamoDB made easy, fast and safe."""

from ddbkit.database import Database, connect
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
    ValidationError,
    WhereSyntaxError,
)
from ddbkit.expr.plan import Plan
from ddbkit.jobs.tables import IndexSpec
from ddbkit.models import IndexInfo, KeyAttribute, KeySchema, ScanEstimate, TableInfo
from ddbkit.read.paginate import ItemIterator, Page
from ddbkit.table import Table
from ddbkit.transport.spec import ConnectionSpec
from ddbkit.version import __version__

__all__ = [
    "ConditionFailedError",
    "ConnectionSpec",
    "CredentialsError",
    "Database",
    "DdbkitError",
    "EndpointError",
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
    "Table",
    "TableInfo",
    "TableNotFoundError",
    "ThrottledError",
    "ValidationError",
    "WhereSyntaxError",
    "__version__",
    "connect",
]
