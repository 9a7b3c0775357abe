"""Start-up stays cheap: ``import ddbkit`` and the CLI import only what the work needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ddbkit

HEAVY = ("boto3", "botocore", "duckdb", "pyarrow", "rich")


def imported_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return {name.partition(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


def test_import_ddbkit_loads_no_heavy_package() -> None:
    assert imported_after("import ddbkit").isdisjoint(HEAVY)


def test_every_exported_name_loads_on_first_use() -> None:
    for name in ddbkit.__all__:
        assert getattr(ddbkit, name) is not None, name
    assert set(ddbkit.__all__) <= set(dir(ddbkit))


def test_a_lazy_name_is_the_object_of_its_module() -> None:
    from ddbkit.table import Table

    assert ddbkit.Table is Table


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        ddbkit.no_such_name  # type: ignore[attr-defined]  # noqa: B018
