"""Each extra works installed alone, and the core alone names the extra a feature needs.

Every test runs the real ``ddbkit`` command or Python in a venv that holds ddbkit and one extra
(see conftest.py), against the session's DynamoDB Local; the data is written beforehand through
the dev venv's ddbkit.
"""

from __future__ import annotations

import json
import os
import signal
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ddbkit import local
from ddbkit.table import Table
from tests.conftest import CliResult, TableFactory
from tests.console.conftest import start_console
from tests.extras.conftest import CORE, INSTALL_TIMEOUT, ROOT, Venv

# A cold cache builds a venv inside the first test that needs it.
pytestmark = [pytest.mark.integration, pytest.mark.extras, pytest.mark.timeout(INSTALL_TIMEOUT)]

Venvs = Callable[[str], Venv]

ITEMS: list[dict[str, Any]] = [
    {"id": "u1", "status": "active", "age": 36, "address": {"city": "Oslo"}, "tags": {"b", "a"}},
    {"id": "u2", "status": "active", "age": 20},
    {"id": "u3", "status": "gone", "age": 51, "address": {"city": "Rome"}},
]

# The Python each extra's library features are tried with: argv[1] endpoint, argv[2] table.
OPEN_TABLE = (
    "import json, sys, ddbkit\n"
    "table = ddbkit.connect(endpoint_url=sys.argv[1], local=True).table(sys.argv[2])\n"
)


@pytest.fixture
def users(make_table: TableFactory) -> Table:
    table = make_table()
    table.put_many(ITEMS)
    return table


# The optional packages each venv may import: what its extra brings, directly or not.
MAY_IMPORT: dict[str, set[str]] = {
    CORE: set(),
    "sql": {"duckdb", "pyarrow", "numpy"},
    "parquet": {"pyarrow"},
    "plot": {"matplotlib", "numpy"},
    "dataframes": {"duckdb", "pyarrow", "numpy", "pandas", "polars"},
    "local": {"moto"},
    "async": {
        "aiohttp", "aiohappyeyeballs", "aiosignal", "frozenlist", "multidict", "propcache",
        "yarl",
    },
    "dask": {
        "duckdb", "pyarrow", "numpy", "pandas", "dask", "distributed", "cloudpickle", "fsspec",
        "partd", "locket", "toolz", "tlz", "msgpack", "psutil", "sortedcontainers", "tblib",
        "tornado", "zict",
    },
    "console": {"starlette", "uvicorn", "anyio", "h11", "duckdb", "pyarrow", "numpy"},
}  # fmt: skip


def alone(venvs: Venvs, extra: str) -> Venv:
    """The venv of ``extra``, after checking that no other extra's packages leaked into it."""
    venv = venvs(extra)
    leaked = set(venv.importable()) - MAY_IMPORT[extra]
    assert not leaked, f"{venv.path} is not ddbkit[{extra}] alone: it has {sorted(leaked)}"
    return venv


def ok(result: CliResult) -> CliResult:
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def names_the_extra(result: CliResult, extra: str, *, before: str = "") -> None:
    """Exit 1 with one error line, the last on stderr, that gives the pip command; no traceback.

    ``before``: the start of the one line of progress that may come first.
    """
    assert result.code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == (2 if before else 1), result.stderr
    assert lines[0].startswith(before), result.stderr
    assert lines[-1].startswith("error: "), result.stderr
    assert lines[-1].endswith(f"pip install 'ddbkit[{extra}]'"), result.stderr


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- sql ------------------------------------------------------------------------------------------


def test_sql_alone_groups_a_table(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "sql")
    query = (
        "SELECT status, count(*) AS n, sum(age) AS ages, max(address.city) AS city "
        f'FROM "{users.name}" GROUP BY status ORDER BY status'
    )
    result = ok(venv.ddbkit("--endpoint-url", endpoint, "sql", query, "-o", "jsonl", cwd=tmp_path))
    assert json_lines(result.stdout) == [
        {"status": "active", "n": 2, "ages": 56, "city": "Oslo"},
        {"status": "gone", "n": 1, "ages": 51, "city": "Rome"},
    ]


def test_sql_alone_to_arrow(venvs: Venvs, endpoint: str, users: Table, tmp_path: Path) -> None:
    venv = alone(venvs, "sql")
    code = OPEN_TABLE + (
        "arrow = table.to_arrow().sort_by('id')\n"
        "print(json.dumps({'type': type(arrow).__module__ + '.' + type(arrow).__name__,\n"
        "                  'rows': arrow.select(['id', 'status', 'age', 'tags']).to_pylist()}))\n"
    )
    result = ok(venv.script(code, endpoint, users.name, cwd=tmp_path))
    assert json.loads(result.stdout) == {
        "type": "pyarrow.lib.Table",
        "rows": [
            {"id": "u1", "status": "active", "age": 36, "tags": ["a", "b"]},
            {"id": "u2", "status": "active", "age": 20, "tags": None},
            {"id": "u3", "status": "gone", "age": 51, "tags": None},
        ],
    }


# -- parquet --------------------------------------------------------------------------------------


def test_parquet_alone_exports_a_file_pyarrow_reads(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "parquet")
    ok(
        venv.ddbkit(
            "--endpoint-url",
            endpoint,
            "export",
            users.name,
            "-o",
            "users.parquet",
            "-q",
            cwd=tmp_path,
        )
    )
    code = (
        "import json, sys, pyarrow.parquet as pq\n"
        "table = pq.read_table(sys.argv[1]).sort_by('id')\n"
        "print(json.dumps({'types': {f.name: str(f.type) for f in table.schema},\n"
        "                  'rows': table.select(['id', 'status', 'age']).to_pylist()}))\n"
    )
    result = ok(venv.script(code, tmp_path / "users.parquet", cwd=tmp_path))
    read = json.loads(result.stdout)
    assert read["rows"] == [
        {"id": "u1", "status": "active", "age": 36},
        {"id": "u2", "status": "active", "age": 20},
        {"id": "u3", "status": "gone", "age": 51},
    ]
    assert read["types"]["age"] == "int64"
    assert read["types"]["status"] == "string"


# -- plot -----------------------------------------------------------------------------------------


def test_plot_alone_draws_stats_to_png(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "plot")
    result = ok(
        venv.ddbkit(
            "--endpoint-url",
            endpoint,
            "stats",
            users.name,
            "--full",
            "--plot",
            "out.png",
            cwd=tmp_path,
        )
    )
    assert "wrote out.png" in result.stderr
    assert png_size(tmp_path / "out.png") == (1300, 1200)


# -- dataframes -----------------------------------------------------------------------------------


def test_dataframes_alone_to_pandas_and_polars(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "dataframes")
    code = OPEN_TABLE + (
        "pdf = table.to_pandas().sort_values('id')\n"
        "pl = table.to_polars().sort('id')\n"
        "print(json.dumps({\n"
        "    'pandas': [type(pdf).__module__.split('.')[0], str(pdf['age'].dtype),\n"
        "               [[r.id, r.status, int(r.age)] for r in pdf.itertuples()]],\n"
        "    'polars': [type(pl).__module__.split('.')[0], str(pl['age'].dtype),\n"
        "               [[r['id'], r['status'], r['age']] for r in pl.to_dicts()]],\n"
        "}))\n"
    )
    result = ok(venv.script(code, endpoint, users.name, cwd=tmp_path))
    rows = [["u1", "active", 36], ["u2", "active", 20], ["u3", "gone", 51]]
    assert json.loads(result.stdout) == {
        "pandas": ["pandas", "int64", rows],
        "polars": ["polars", "Int64", rows],
    }


# -- local ----------------------------------------------------------------------------------------


def no_java_env(tmp_path: Path, venv: Venv) -> dict[str, str | None]:
    """A user without Java: PATH holds only the venv, and fresh XDG folders (no engine cached)."""
    return {
        "PATH": str(venv.path / "bin"),
        "JAVA_HOME": None,
        local.ENV_ENGINE_DIR: None,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


def test_local_alone_falls_back_to_moto_without_java(venvs: Venvs, tmp_path: Path) -> None:
    venv = alone(venvs, "local")
    env = no_java_env(tmp_path, venv)
    port = str(local.free_port())
    state_file = tmp_path / "state" / "ddbkit" / f"local-{port}.json"
    try:
        started = ok(venv.ddbkit("local", "start", "--port", port, cwd=tmp_path, env=env))
        assert "using moto's server instead" in started.stderr
        assert json.loads(state_file.read_text())["engine"] == "moto"
        ok(venv.ddbkit("--local", "create-table", "things", "--pk", "id:S", cwd=tmp_path, env=env))
        ok(venv.ddbkit("--local", "put", "things", '{"id": "a", "n": 7}', cwd=tmp_path, env=env))
        got = ok(
            venv.ddbkit("--local", "get", "things", "id=a", "-o", "jsonl", cwd=tmp_path, env=env)
        )
        assert json_lines(got.stdout) == [{"id": "a", "n": 7}]
    finally:
        stopped = venv.ddbkit("local", "stop", cwd=tmp_path, env=env)
        if state_file.exists():  # stop failed: do not leave the server we started running
            os.kill(json.loads(state_file.read_text())["pid"], signal.SIGKILL)
    ok(stopped)


# -- async ----------------------------------------------------------------------------------------

# argv[1] endpoint, argv[2] table.
ASYNC_PUT_AND_SCAN = (
    "import asyncio, json, sys\n"
    "from ddbkit.aio import connect_async\n"
    "async def main():\n"
    "    async with connect_async(endpoint_url=sys.argv[1], local=True) as db:\n"
    "        table = db.table(sys.argv[2])\n"
    "        await table.put({'id': 'u4', 'status': 'new', 'age': 9})\n"
    "        summary = await table.put_many({'id': f'b{n}', 'age': n} for n in range(30))\n"
    "        items = [item async for item in table.scan('age < 30', segments=2)]\n"
    "        return {'written': summary.written, 'got': await table.get({'id': 'u4'}),\n"
    "                'scanned': sorted(item['id'] for item in items)}\n"
    "print(json.dumps(asyncio.run(main())))\n"
)


def test_async_alone_puts_and_scans_with_connect_async(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "async")
    result = ok(venv.script(ASYNC_PUT_AND_SCAN, endpoint, users.name, cwd=tmp_path))
    assert json.loads(result.stdout) == {
        "written": 30,
        "got": {"id": "u4", "status": "new", "age": 9},
        "scanned": sorted(["u2", "u4", *(f"b{n}" for n in range(30))]),
    }
    assert users.get({"id": "b29"}) == {"id": "b29", "age": 29}


# -- dask -----------------------------------------------------------------------------------------

# Scripts for a real cluster of worker processes: written to a file and guarded, because each
# worker process starts by importing the main module. argv[1] endpoint, then table names.
DASK_READ = """\
import json, sys

import ddbkit
import pandas as pd
from distributed import Client, LocalCluster

from ddbkit.integrations import dask as integration


def opened():
    \"\"\"The connections this process opened to read partitions.\"\"\"
    return len(integration._CONNECTIONS)


def plain(value):
    return None if value is pd.NA else list(value) if isinstance(value, list) else value


def main():
    table = ddbkit.connect(endpoint_url=sys.argv[1], local=True).table(sys.argv[2])
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, Client(cluster) as client:
        frame = table.to_dask(segments=2)
        rows = frame.compute().sort_values("id")
        workers = client.run(opened)
    print(json.dumps({
        "type": f"{type(frame).__module__.split('.')[0]}.{type(frame).__name__}",
        "partitions": frame.npartitions,
        "columns": list(rows.columns),
        "age": str(rows["age"].dtype),
        "rows": [[plain(v) for v in row] for row in rows.itertuples(index=False)],
        "opened": {"client": opened(), "workers": sorted(workers.values())},
    }))


if __name__ == "__main__":
    main()
"""

DASK_WRITE = """\
import json, sys

import dask.dataframe as dd
import ddbkit
import pandas as pd
from distributed import Client, LocalCluster


def main():
    db = ddbkit.connect(endpoint_url=sys.argv[1], local=True)
    source, target = db.table(sys.argv[2]), db.table(sys.argv[3])
    rows = pd.DataFrame({
        "id": ["w1", "w2", "w3"],
        "age": pd.array([7, None, 9], dtype="Int64"),
        "address": ['{"city": "Lima"}', None, '{"city": "Kyiv", "zip": "01001"}'],
    })
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, Client(cluster):
        copied = target.write_dask(
            source.to_dask(segments=2), types={"address": "M", "tags": "SS"}
        )
        written = target.write_dask(dd.from_pandas(rows, npartitions=2), types={"address": "M"})
    print(json.dumps({
        "copied": [copied.written, copied.rejected, copied.failed],
        "written": [written.written, written.rejected, written.failed],
    }))


if __name__ == "__main__":
    main()
"""


def run_file(venv: Venv, code: str, *args: str, cwd: Path) -> CliResult:
    """Run ``code`` as a script file with this venv's interpreter, isolated (-I)."""
    script = cwd / "job.py"
    script.write_text(code)
    return venv.run(venv.python, "-I", script, *args, cwd=cwd)


def test_dask_alone_to_dask_reads_a_table_in_worker_processes(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "dask")
    result = ok(run_file(venv, DASK_READ, endpoint, users.name, cwd=tmp_path))
    got = json.loads(result.stdout)
    opened = got.pop("opened")
    assert got == {
        "type": "dask.DataFrame",
        "partitions": 2,
        "columns": ["id", "address", "age", "status", "tags", "_extra"],
        "age": "int64[pyarrow]",
        "rows": [
            ["u1", '{"city":"Oslo"}', 36, "active", ["a", "b"], None],
            ["u2", None, 20, "active", None, None],
            ["u3", '{"city":"Rome"}', 51, "gone", None, None],
        ],
    }
    # The partitions were read in the 2 worker processes, over connections of their own (one
    # per worker that ran a partition), none in the client's.
    assert opened["client"] == 0, opened
    assert len(opened["workers"]) == 2, opened
    assert set(opened["workers"]) <= {0, 1}, opened
    assert sum(opened["workers"]) >= 1, opened


def test_dask_alone_write_dask_copies_a_table_and_writes_a_pandas_frame(
    venvs: Venvs, endpoint: str, users: Table, make_table: TableFactory, tmp_path: Path
) -> None:
    venv = alone(venvs, "dask")
    target = make_table()
    result = ok(run_file(venv, DASK_WRITE, endpoint, users.name, target.name, cwd=tmp_path))
    assert json.loads(result.stdout) == {"copied": [3, 0, 0], "written": [3, 0, 0]}
    # The copy keeps maps and sets (given as types); the pandas rows leave missing values out.
    from_pandas = [{"id": "w1", "age": 7, "address": {"city": "Lima"}}, {"id": "w2"}]
    from_pandas.append({"id": "w3", "age": 9, "address": {"city": "Kyiv", "zip": "01001"}})
    assert sorted(target.scan(), key=lambda item: str(item["id"])) == [*ITEMS, *from_pandas]


# -- the core alone -------------------------------------------------------------------------------


def test_core_alone_reads_and_writes(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    base = ("--endpoint-url", endpoint)
    ok(
        venv.ddbkit(
            *base, "put", users.name, '{"id": "u4", "status": "new", "age": 9}', cwd=tmp_path
        )
    )
    got = ok(venv.ddbkit(*base, "get", users.name, "id=u4", "-o", "jsonl", cwd=tmp_path))
    assert json_lines(got.stdout) == [{"id": "u4", "status": "new", "age": 9}]
    counted = ok(
        venv.ddbkit(*base, "count", users.name, "--where", "status = 'active'", cwd=tmp_path)
    )
    assert counted.stdout.split() == ["2"]
    ok(venv.ddbkit(*base, "export", users.name, "-o", "users.jsonl", "-q", cwd=tmp_path))
    exported = json_lines((tmp_path / "users.jsonl").read_text())
    assert sorted(item["id"] for item in exported) == ["u1", "u2", "u3", "u4"]


def test_core_alone_commands_name_the_extra_they_need(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    base = ("--endpoint-url", endpoint)
    names_the_extra(
        venv.ddbkit(*base, "sql", f'SELECT count(*) FROM "{users.name}"', cwd=tmp_path), "sql"
    )
    names_the_extra(
        venv.ddbkit(*base, "export", users.name, "-o", "u.parquet", cwd=tmp_path), "parquet"
    )
    assert not (tmp_path / "u.parquet").exists()
    names_the_extra(
        venv.ddbkit(*base, "stats", users.name, "--plot", "u.png", cwd=tmp_path), "plot"
    )
    assert not (tmp_path / "u.png").exists()
    port = str(local.free_port())
    env = no_java_env(tmp_path, venv)
    # The progress line says why DynamoDB Local cannot run (no Java); the error, how moto can.
    names_the_extra(
        venv.ddbkit("local", "start", "--port", port, cwd=tmp_path, env=env),
        "local",
        before="DynamoDB Local is not available: DynamoDB Local needs Java",
    )


def test_core_alone_parquet_export_leaves_no_partial_file(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    result = venv.ddbkit(
        "--endpoint-url", endpoint, "export", users.name, "-o", "u.parquet", cwd=tmp_path
    )
    names_the_extra(result, "parquet")
    assert sorted(path.name for path in tmp_path.iterdir()) == []


LIBRARY_CALL = OPEN_TABLE + (
    "try:\n"
    "    getattr(table, sys.argv[3])()\n"
    "except ddbkit.DdbkitError as error:\n"
    "    print(type(error).__name__, error)\n"
)


def test_core_alone_to_arrow_names_the_sql_extra(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    result = ok(venv.script(LIBRARY_CALL, endpoint, users.name, "to_arrow", cwd=tmp_path))
    assert result.stdout.startswith("MissingExtraError ")
    assert result.stdout.rstrip().endswith("pip install 'ddbkit[sql]'")


def test_sql_alone_dataframe_methods_name_the_dataframes_extra(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, "sql")
    for method in ("to_pandas", "to_polars"):
        result = ok(venv.script(LIBRARY_CALL, endpoint, users.name, method, cwd=tmp_path))
        assert result.stdout.startswith("MissingExtraError "), result.stdout
        assert result.stdout.rstrip().endswith("pip install 'ddbkit[dataframes]'"), result.stdout


DASK_CALLS = OPEN_TABLE + (
    "for call in (lambda: table.to_dask(), lambda: table.write_dask(None)):\n"
    "    try:\n"
    "        call()\n"
    "    except ddbkit.DdbkitError as error:\n"
    "        print(type(error).__name__, error)\n"
)


def test_core_alone_dask_methods_name_the_dask_extra(
    venvs: Venvs, endpoint: str, users: Table, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    result = ok(venv.script(DASK_CALLS, endpoint, users.name, cwd=tmp_path))
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout  # one line each for to_dask and write_dask
    for line in lines:
        assert line.startswith("MissingExtraError "), line
        assert line.endswith("pip install 'ddbkit[dask]'"), line


# argv[1]: the keyword arguments of connect_async, as JSON.
CONNECT_ASYNC = (
    "import json, sys, ddbkit\n"
    "from ddbkit.aio import connect_async\n"
    "try:\n"
    "    connect_async(**json.loads(sys.argv[1]))\n"
    "except ddbkit.DdbkitError as error:\n"
    "    print(type(error).__name__, error)\n"
)


def connect_async_error(venv: Venv, settings: dict[str, Any], tmp_path: Path) -> str:
    """The one line a script calling ``connect_async(**settings)`` prints (no engine state)."""
    state = {"XDG_STATE_HOME": str(tmp_path / "state"), local.ENV_ENGINE_DIR: None}
    code = (CONNECT_ASYNC, json.dumps(settings))
    result = ok(venv.run(venv.python, "-I", "-c", *code, cwd=tmp_path, env=state))
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return lines[0]


def names_the_async_extra(line: str) -> None:
    assert line.startswith("MissingExtraError "), line
    assert line.endswith("pip install 'ddbkit[async]'"), line


def test_core_alone_connect_async_names_the_async_extra(
    venvs: Venvs, endpoint: str, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    names_the_async_extra(connect_async_error(venv, {"endpoint_url": endpoint}, tmp_path))
    settings = {"endpoint_url": endpoint, "local": True}
    names_the_async_extra(connect_async_error(venv, settings, tmp_path))


def test_core_alone_connect_async_names_the_extra_before_looking_for_an_engine(
    venvs: Venvs, tmp_path: Path
) -> None:
    # Without aiohttp nothing async can work: the missing extra is the error to name first,
    # not "start an engine" (which, once done, only leads to the missing extra).
    venv = alone(venvs, CORE)
    names_the_async_extra(connect_async_error(venv, {"local": True}, tmp_path))


# -- console --------------------------------------------------------------------------------------


def test_console_alone_serves_its_page_tables_and_sql(
    venvs: Venvs, endpoint: str, users: Table
) -> None:
    venv = alone(venvs, "console")
    environment = venv.env()
    with start_console(
        endpoint, executable=str(venv.path / "bin" / "ddbkit"), environment=environment
    ) as running:
        client = running.client()
        assert client.get("/api/tables").json()["tables"].count(users.name) == 1
        script = client.get("/static/app.js")  # the page's files are in the wheel
        assert script.status == 200
        assert len(script.body) > 1000
        opened = client.get(f"/api/tables/{users.name}/item", key='{"id": {"S": "u1"}}').json()
        assert opened["item"]["tags"] == {"SS": ["a", "b"]}
        query = f'SELECT status, count(*) AS n FROM "{users.name}" GROUP BY status ORDER BY 1'
        rows = client.request("POST", "/api/sql", {"query": query}).json()["rows"]
        assert rows == [["active", "2"], ["gone", "1"]]
    assert "Traceback" not in "\n".join(running.lines)


def test_core_alone_console_names_the_console_extra(
    venvs: Venvs, endpoint: str, tmp_path: Path
) -> None:
    venv = alone(venvs, CORE)
    names_the_extra(venv.ddbkit("--endpoint-url", endpoint, "console", cwd=tmp_path), "console")


def test_every_extra_has_a_test_alone() -> None:
    """A new extra in pyproject.toml needs an entry in MAY_IMPORT and its own test above."""
    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(declared) - {"dev"} == set(MAY_IMPORT) - {CORE}
