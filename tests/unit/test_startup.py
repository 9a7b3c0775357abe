"""Start-up stays cheap: ``import ddbkit`` and the CLI import only what the work needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ddbkit

HEAVY = ("boto3", "botocore", "duckdb", "pyarrow", "rich")


def modules_after(code: str) -> set[str]:
    """The names in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def imported_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    return {name.partition(".")[0] for name in modules_after(code)}


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


def test_present_loads_the_file_formats_on_first_use() -> None:
    from ddbkit import present

    assert "ddbkit.formats" not in modules_after("import ddbkit.present")
    for name in present.__all__:
        assert getattr(present, name) is not None, name
    assert present.EXPORT_FORMATS == ("jsonl", "ddb-json", "csv", "parquet")


def run_cli(*argv: str) -> str:
    """Python code that runs ``ddbkit ARGV`` in-process and carries on (for imported_after)."""
    return f"from ddbkit.cli import main\nmain.run({list(argv)!r})"


def test_version_imports_no_botocore() -> None:
    imported = imported_after(run_cli("--version"))
    assert "ddbkit" in imported
    assert imported.isdisjoint(HEAVY)


def test_get_imports_neither_boto3_nor_the_heavy_extras() -> None:
    # Nothing listens on port 9: the command fails after importing what it needs to send.
    argv = ("--local", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1")
    imported = imported_after(run_cli(*argv, "get", "t", "id=1"))
    assert "botocore" in imported  # it did get as far as building the connection
    assert imported.isdisjoint({"boto3", "s3transfer", "duckdb", "pyarrow", "rich"})


def test_the_registry_names_every_command_of_every_module() -> None:
    import importlib

    from ddbkit.cli.main import COMMANDS

    for module in set(COMMANDS.values()):
        loaded = importlib.import_module(f"ddbkit.cli.{module}")
        names = {command.name for command in loaded.COMMANDS}
        assert names == {name for name, home in COMMANDS.items() if home == module}, module


def test_garbage_collection_pauses_only_for_the_commands_start_up() -> None:
    import gc

    from ddbkit.cli import runner

    try:
        runner.pause_collection()
        assert not gc.isenabled()
        runner.resume_collection()
        assert gc.isenabled()
        runner.resume_collection()  # a second connection changes nothing
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_running_in_process_leaves_garbage_collection_alone() -> None:
    import gc

    from ddbkit.cli import main

    gc.disable()  # the caller's choice, kept
    try:
        assert main.run(["--version"]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
