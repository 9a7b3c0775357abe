"""Engine processes: is a recorded pid still our engine, stopping it, and its listening sockets.

A recorded pid is trusted only while its command line is still the engine's (launcher and port),
so a pid reused by another program after the engine died is never signalled.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ddbkit.errors import LocalEngineError
from ddbkit.local.paths import ENGINE_DYNAMODB_LOCAL, ENGINE_MOTO, LAUNCHER
from ddbkit.local.state import EngineState

STOP_GRACE = 10.0

# Engines this process started, so they are reaped (no zombies) and Popen never warns on collection.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists but is someone else's; the cmdline check rejects it
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A dead child of another process still answers kill(pid, 0) until it is reaped.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _cmdline(pid: int) -> list[str] | None:
    """Return the arguments of process ``pid``, or None if it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None  # Linux, and the process is gone
        return _cmdline_from_ps(pid)
    except OSError:
        return None
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def _cmdline_from_ps(pid: int) -> list[str] | None:
    # Without /proc (macOS) ps is the portable way; arguments with spaces split, which is fine
    # for the markers we look for.
    try:
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split() or None


def _has_pair(args: Sequence[str], flag: str, value: str) -> bool:
    return any(a == flag and b == value for a, b in itertools.pairwise(args))


def _is_engine_process(state: EngineState) -> bool:
    """Whether ``state.pid`` is still the engine ddbkit started on ``state.port``.

    Guards against a pid that was reused by an unrelated program after the engine died.
    """
    if not _pid_alive(state.pid):
        return False
    args = _cmdline(state.pid)
    if not args:
        return False
    if state.engine == ENGINE_DYNAMODB_LOCAL:
        has_launcher = any(Path(arg).stem == LAUNCHER for arg in args)
        return has_launcher and _has_pair(args, "-port", str(state.port))
    if state.engine == ENGINE_MOTO:
        return "moto.server" in args and _has_pair(args, "-p", str(state.port))
    return False


def _wait_for_exit(pid: int, timeout: float) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _terminate(pid: int, grace: float = STOP_GRACE) -> None:
    """SIGTERM ``pid``, then SIGKILL it if it outlives ``grace`` seconds."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        # Already exited and reaped: the pid may belong to someone else by now.
        del _CHILDREN[pid]
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, grace):
            os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, grace)
    _CHILDREN.pop(pid, None)


def stop_process(state: EngineState) -> None:
    """Stop one launched engine; do nothing if its pid is gone or now belongs to another program."""
    if _is_engine_process(state):
        _terminate(state.pid)
        return
    child = _CHILDREN.get(state.pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[state.pid]  # it exited on its own and poll() has reaped it


# --------------------------------------------------------------------------------------------------
# Verifying the listening sockets (Linux)


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def _proc_address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        # /proc/net/tcp* prints each 32-bit word of the address in host byte order.
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw)


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """Return (address, port) of every TCP socket ``pid`` listens on, read from ``/proc``."""
    inodes = _socket_inodes(pid)
    found: list[tuple[str, int]] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10 or fields[3] != "0A" or fields[9] not in inodes:
                    continue  # 0A is TCP_LISTEN
                address, port = fields[1].split(":")
                found.append((str(_proc_address(address)), int(port, 16)))
    return found


def _is_loopback(address: str) -> bool:
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback


def _check_loopback_only(state: EngineState) -> None:
    """Fail closed unless the engine's process listens on ``state.port`` and only on loopback."""
    if not Path("/proc/net/tcp").exists():
        return  # no /proc (macOS): the launcher has already checked its own socket
    try:
        sockets = listening_sockets(state.pid)
    except OSError as error:
        raise LocalEngineError(
            f"cannot check which addresses the {state.engine} engine listens on: {error}"
        ) from error
    public = [f"{address}:{port}" for address, port in sockets if not _is_loopback(address)]
    if public:
        raise LocalEngineError(
            f"refusing to run the {state.engine} engine: it listens on {', '.join(public)}, "
            "not only on 127.0.0.1"
        )
    if not any(port == state.port for _, port in sockets):
        raise LocalEngineError(
            f"another program answered on port {state.port}, not the engine ddbkit started: "
            "pick another with --port"
        )
