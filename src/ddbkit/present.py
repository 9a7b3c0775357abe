"""What every front end shares to show and read values: JSON text of items, typed JSON, CSV
cells, display order, the names of the file formats, and the typing of text it is given (keys,
``:name`` parameters).

Front ends (``ddbkit.cli``, a console) use these instead of reaching into values/, formats/ or
expr/: those are the library's inside, this is the part of them a front end may rely on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ddbkit.expr.where import param_targets
from ddbkit.formats import FORMATS, READABLE_FORMATS, format_from_path
from ddbkit.formats.csv import CsvWriter, value_cell
from ddbkit.jobs.tables import parse_key_arg
from ddbkit.values.jsonvalues import dumps_plain, dumps_typed, loads_exact, loads_typed

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "CsvWriter",
    "dumps_plain",
    "dumps_typed",
    "format_from_path",
    "loads_exact",
    "loads_typed",
    "param_targets",
    "parse_key_arg",
    "readable_order",
    "value_cell",
]

EXPORT_FORMATS: Final = FORMATS
"""Every file format ``Table.export`` writes."""

IMPORT_FORMATS: Final = READABLE_FORMATS
"""Every file format ``Table.import_file`` reads."""


def readable_order(item: Mapping[str, Any], first: Sequence[str]) -> dict[str, Any]:
    """Key attributes first, then the rest by name: DynamoDB returns attributes in hash order."""
    ordered = {name: item[name] for name in first if name in item}
    ordered.update((name, item[name]) for name in sorted(item) if name not in ordered)
    return ordered
