"""What every front end shares to show and read values: JSON text of items, typed JSON, CSV
cells, display order, the names of the file formats, and the typing of text it is given (keys,
``:name`` parameters, an item edited as plain JSON: :func:`retype`).

Front ends (``ddbkit.cli``, a console) use these instead of reaching into values/, formats/ or
expr/: those are the library's inside, this is the part of them a front end may rely on. The
file-format names load on first use, like ``ddbkit``'s own heavy names: reading one item by key
needs JSON text, not the file formats.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ddbkit.expr.expressions import render_name
from ddbkit.expr.where import param_targets
from ddbkit.values.jsonvalues import dumps_plain, dumps_typed, loads_exact, loads_typed
from ddbkit.values.retype import retype

if TYPE_CHECKING:
    from ddbkit.formats import FORMATS as EXPORT_FORMATS
    from ddbkit.formats import READABLE_FORMATS as IMPORT_FORMATS
    from ddbkit.formats import format_from_path
    from ddbkit.formats.csv import CsvWriter, value_cell
    from ddbkit.jobs.tables import parse_key_arg

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
    "render_name",
    "retype",
    "value_cell",
]

# Name -> (module, name there). EXPORT_FORMATS: every file format Table.export writes;
# IMPORT_FORMATS: every one Table.import_file reads.
_LAZY: dict[str, tuple[str, str]] = {
    "EXPORT_FORMATS": ("ddbkit.formats", "FORMATS"),
    "IMPORT_FORMATS": ("ddbkit.formats", "READABLE_FORMATS"),
    "CsvWriter": ("ddbkit.formats.csv", "CsvWriter"),
    "format_from_path": ("ddbkit.formats", "format_from_path"),
    "parse_key_arg": ("ddbkit.jobs.tables", "parse_key_arg"),
    "value_cell": ("ddbkit.formats.csv", "value_cell"),
}

if not TYPE_CHECKING:  # hidden from type checkers, which see the imports above instead

    def __getattr__(name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module 'ddbkit.present' has no attribute {name!r}")
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value


def readable_order(item: Mapping[str, Any], first: Sequence[str]) -> dict[str, Any]:
    """Key attributes first, then the rest by name: DynamoDB returns attributes in hash order."""
    ordered = {name: item[name] for name in first if name in item}
    ordered.update((name, item[name]) for name in sorted(item) if name not in ordered)
    return ordered
