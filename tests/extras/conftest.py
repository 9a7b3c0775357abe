"""Fresh virtual environments holding ddbkit and one extra each, cached between runs.

Each venv has the core and ONE extra (or none), installed from a wheel of the working tree, not
an editable install: a package an extra does not declare, or a file the wheel leaves out, fails
here as it would for a user who ran ``pip install 'ddbkit[extra]'``. The dev venv, which has
every extra, hides both.

Cache: ``.cache/extras`` in the repository (``$DDBKIT_EXTRAS_CACHE`` to put it elsewhere), one
venv per extra, named by a hash of what decides what pip installs: the core's and the extra's
requirements in pyproject.toml, the Python, pip's version and settings (indexes, constraint
files). A venv is reused only when that hash matches and it still holds exactly the
distributions recorded when it was built, so a package pip-installed into it by hand forces a
rebuild instead of hiding a missing dependency. ddbkit itself is reinstalled (``--no-deps``)
whenever the wheel of the working tree changes, so the tests always run the working tree's code.
One test session at a time uses the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliResult

ROOT = Path(__file__).resolve().parents[2]
# Bump when the way a venv is built changes, so every cached venv is rebuilt.
RECIPE = "1"
STAMP = "ddbkit-extras-stamp.json"
CORE = "core"
INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 120
# The optional packages of every extra: a venv may import only its own extra's. aiohttp's own
# dependencies are here too; attrs, idna and typing_extensions, which it also brings, are not:
# other extras (moto) bring them as well. So are those of dask and distributed; jinja2,
# markupsafe, yaml (moto's too), packaging (matplotlib's too) and the backports some Pythons get
# (importlib_metadata, zipp, lazy_importer) are not.
OPTIONAL_MODULES = (
    "duckdb", "pyarrow", "numpy", "pandas", "polars", "matplotlib", "moto", "aiohttp",
    "aiohappyeyeballs", "aiosignal", "frozenlist", "multidict", "propcache", "yarl",
    "dask", "distributed", "cloudpickle", "fsspec", "partd", "locket", "toolz", "tlz",
    "msgpack", "psutil", "sortedcontainers", "tblib", "tornado", "zict",
    "starlette", "uvicorn", "anyio", "h11",
)  # fmt: skip
_HOST_ONLY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")


def cache_root() -> Path:
    given = os.environ.get("DDBKIT_EXTRAS_CACHE")
    return Path(given) if given else ROOT / ".cache" / "extras"


def _run(command: list[str], *, what: str, timeout: float = INSTALL_TIMEOUT) -> None:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        pytest.fail(f"{what} failed (exit {done.returncode}):\n" + "\n".join(output[-40:]))


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]


def _pip_install(venv: Venv, *args: str) -> list[str]:
    # The dev venv's pip installs into a venv made without pip (saves ensurepip's seconds).
    return _pip("--python", str(venv.python), "install", "--quiet", *args)


def _pip_settings() -> str:
    """pip's settings (config files, PIP_* variables) and the constraint files they name."""
    done = subprocess.run(
        _pip("config", "list"), capture_output=True, text=True, timeout=60, check=True
    )
    parts = [done.stdout]
    for paths in re.findall(r"constraint='([^']*)'", done.stdout):
        for name in paths.split():
            path = Path(name)
            parts.append(f"{name}:{path.read_text() if path.is_file() else '-'}")
    return "\n".join(parts)


def _requirements(extra: str) -> str:
    """What pyproject.toml asks pip to install for ``extra``: core, the extra, requires-python.

    Other settings (ruff, pytest, the dev extra) do not change this venv, so editing them
    rebuilds nothing. Without tomllib (Python 3.10) the whole file counts.
    """
    text = (ROOT / "pyproject.toml").read_text()
    try:
        tomllib = importlib.import_module("tomllib")
    except ImportError:
        return text
    project = tomllib.loads(text)["project"]
    extras = project.get("optional-dependencies", {})
    wanted = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "extra": extras.get(extra, []),
    }
    if any(line.replace(" ", "").startswith(f"{project['name']}[") for line in wanted["extra"]):
        wanted["extras"] = extras  # the extra names others of ddbkit's: take them all
    return json.dumps(wanted, sort_keys=True)


def install_key(extra: str, pip_settings: str) -> str:
    """A hash of everything that decides what ``pip install 'ddbkit[extra]'`` puts in a venv."""
    digest = hashlib.sha256()
    for part in (
        RECIPE,
        extra,
        _requirements(extra),
        platform.python_version(),
        sys.base_prefix,
        importlib.metadata.version("pip"),
        pip_settings,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Venv:
    """One cached venv: ddbkit and ``extra`` (``core``: no extra), and how to run things in it."""

    extra: str
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def distributions(self) -> list[str]:
        """The installed distributions (name-version) other than ddbkit itself."""
        return sorted(
            entry.name.removesuffix(".dist-info")
            for entry in self.path.glob("lib/python*/site-packages/*.dist-info")
            if not entry.name.startswith("ddbkit-")
        )

    def env(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """The environment a user of this venv has: its bin first, nothing of the host's Python."""
        merged: dict[str, str | None] = {
            **os.environ,
            **dict.fromkeys(_HOST_ONLY),
            "PATH": f"{self.path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONNOUSERSITE": "1",
            "AWS_ACCESS_KEY_ID": "ddbkit",
            "AWS_SECRET_ACCESS_KEY": "ddbkit",
            "AWS_REGION": "us-east-1",
            "AWS_PROFILE": None,
            **(extra or {}),
        }
        return {k: v for k, v in merged.items() if v is not None}

    def run(
        self, *command: str | Path, cwd: Path, env: Mapping[str, str | None] | None = None
    ) -> CliResult:
        done = subprocess.run(
            [str(part) for part in command],
            capture_output=True,
            text=True,
            env=self.env(env),
            cwd=cwd,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def ddbkit(
        self, *args: str | Path, cwd: Path, env: Mapping[str, str | None] | None = None
    ) -> CliResult:
        """Run this venv's ``ddbkit`` console script."""
        return self.run(self.path / "bin" / "ddbkit", *args, cwd=cwd, env=env)

    def script(self, code: str, *args: str | Path, cwd: Path) -> CliResult:
        """Run Python code with this venv's interpreter, isolated (-I) from the host's paths."""
        return self.run(self.python, "-I", "-c", code, *args, cwd=cwd)

    def importable(self) -> list[str]:
        """Which of the optional packages this venv can import."""
        code = (
            "import importlib.util, json, sys; "
            "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m)]))"
        )
        result = self.script(code, *OPTIONAL_MODULES, cwd=self.path)
        assert result.code == 0, result.stderr
        found: list[str] = json.loads(result.stdout)
        return found


class VenvCache:
    """Builds, checks and reuses the per-extra venvs under :func:`cache_root`."""

    def __init__(self, root: Path, wheel: Path) -> None:
        self.root = root
        self.wheel = wheel
        self.wheel_sha = _sha256(wheel)
        self._settings: str | None = None
        self._ready: dict[str, Venv] = {}

    def get(self, extra: str) -> Venv:
        if extra not in self._ready:
            self._ready[extra] = self._prepare(extra)
        return self._ready[extra]

    def _prepare(self, extra: str) -> Venv:
        if self._settings is None:
            self._settings = _pip_settings()
        key = install_key(extra, self._settings)
        venv = Venv(extra, self.root / f"{extra}-{key}")
        stamp = venv.path / STAMP
        try:
            recorded = json.loads(stamp.read_text())
        except (OSError, ValueError):
            recorded = None
        if not isinstance(recorded, dict) or recorded.get("dists") != venv.distributions():
            recorded = self._build(venv)
        elif recorded.get("wheel") == self.wheel_sha:
            return venv
        else:  # the same dependencies, another working tree: swap ddbkit alone
            _run(
                _pip_install(venv, "--no-deps", "--no-index", "--force-reinstall", str(self.wheel)),
                what=f"reinstalling ddbkit into {venv.path}",
            )
        recorded["wheel"] = self.wheel_sha
        _write_json(stamp, recorded)
        return venv

    def _build(self, venv: Venv) -> dict[str, object]:
        """A new venv for ``venv.extra``, replacing this extra's venvs under older keys."""
        for old in self.root.glob(f"{venv.extra}-*"):
            shutil.rmtree(old)
        _run(
            [sys.executable, "-m", "venv", "--without-pip", str(venv.path)],
            what=f"creating {venv.path}",
        )
        requirement = str(self.wheel) + ("" if venv.extra == CORE else f"[{venv.extra}]")
        _run(
            _pip_install(venv, requirement),
            what=f"pip install 'ddbkit[{venv.extra}]' into {venv.path}",
        )
        return {"extra": venv.extra, "dists": venv.distributions()}


def _write_json(path: Path, value: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=1) + "\n")
    os.replace(partial, path)


@pytest.fixture(scope="session")
def ddbkit_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the working tree, built once per session."""
    out = tmp_path_factory.mktemp("wheel")
    _run(
        _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)),
        what="building the ddbkit wheel",
    )
    (wheel,) = out.glob("ddbkit-*.whl")
    return wheel


@pytest.fixture(scope="session")
def venvs(ddbkit_wheel: Path) -> Iterator[Callable[[str], Venv]]:
    """``venvs("sql")``: the venv with ddbkit[sql] alone; ``venvs("core")``: no extra."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        # Another session using this cache would reinstall ddbkit under this one's feet.
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield VenvCache(root, ddbkit_wheel).get
