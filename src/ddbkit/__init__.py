"""ddbkit: Amazon DynamoDB made easy, fast and safe."""

from ddbkit.client import Database, connect
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
from ddbkit.models import IndexInfo, KeyAttribute, KeySchema, ScanEstimate, TableInfo
from ddbkit.paginate import ItemIterator, Page
from ddbkit.plan import Plan
from ddbkit.table import Table
from ddbkit.tables import IndexSpec
from ddbkit.transport.spec import ConnectionSpec

__version__ = "0.1.0"

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
