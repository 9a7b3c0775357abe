"""Files ddbkit writes: owner-only side files, and targets that are refused before any work.

Undo, reject and checkpoint files hold table data, so they are created readable by the owner
only (0600), whatever the umask. A target is checked before the first request is sent: a path
in a folder that does not exist or cannot be written, or an existing thing that is not a regular
file (a device, a pipe, a folder), is a one-line ValidationError, so no job fails half-way
through on a path it could have refused at the start.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Any

from ddbkit.errors import ValidationError

PRIVATE_MODE = 0o600


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing (``"w"``, ``"wb"``, ``"x"``, ``"r+b"``...), created mode 0600.

    ``"x"`` creates a new file only (an existing one is an error). An existing file keeps its
    content for ``"r+b"`` and is made 0600 as well. OSError becomes a ValidationError naming
    the path.
    """
    flags = os.O_WRONLY | os.O_CREAT
    if mode.startswith("r+"):
        flags = os.O_RDWR | os.O_CREAT
    elif mode.startswith("x"):
        flags |= os.O_EXCL
        mode = "w" + mode[1:]
    elif mode.startswith("w"):
        flags |= os.O_TRUNC
    try:
        fd = os.open(path, flags, PRIVATE_MODE)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        os.fchmod(fd, PRIVATE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def cannot_write(path: Path | str, exc: OSError, what: str = "") -> ValidationError:
    reason = exc.strerror or str(exc)
    named = f"the {what} {path}" if what else str(path)
    return ValidationError(f"cannot write {named}: {reason}; pick a path in a folder you can write")


def check_new_file(path: Path, *, force: bool = False, what: str = "file") -> None:
    """Refuse, before any work, a target that cannot be (re)placed by a new regular file.

    ``force`` allows replacing an existing regular file, never anything else.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:  # e.g. a path through a regular file: "Not a directory"
        raise cannot_write(path, exc, what) from None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ValidationError(
                f"{path} is {kind}: the {what} must be a new or regular file "
                "(for a pipe or a device, write to '-' and redirect)"
            )
        if not force:
            raise ValidationError(f"{path} exists: add --force to replace it")
    folder = path.parent
    if not folder.is_dir():
        raise ValidationError(f"cannot write the {what} {path}: folder {folder} does not exist")
    probe_folder(path, what)


def probe_folder(path: Path, what: str) -> None:
    """Prove ``path``'s folder takes new files by creating and removing one (root ignores mode
    bits, and /proc and read-only mounts refuse only when tried)."""
    probe = path.parent / f".ddbkit-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise cannot_write(path, exc, what) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        probe.unlink()
