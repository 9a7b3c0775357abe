"""Install, start, stop and find the local DynamoDB engine.

The engine is AWS's DynamoDB Local, run through a small Java launcher
(``_java/LoopbackLauncher.java``) because DynamoDB Local itself has no bind-address option and
would listen on every interface. The launcher binds 127.0.0.1 and exits rather than serve if it
cannot prove that; on Linux ddbkit checks the process's listening sockets once more in ``/proc``.
Where Java or DynamoDB Local cannot be had, moto's server stands in, with lower fidelity. Engines
run side by side, one per port, each recorded in a state file so that ``--local`` anywhere in
ddbkit finds its endpoint; :mod:`ddbkit.local.engines` states the rules.

Modules, each calling only the ones before it: ``paths`` (names, XDG folders), ``state`` (the
record of what runs), ``process`` (pids, stopping, listening sockets), ``launcher`` (one engine
process on loopback), ``installer`` (DynamoDB Local into the cache), ``engines`` (the lifecycle).
"""

from __future__ import annotations

from ddbkit.local.engines import (
    already_running,
    choose,
    launch,
    running,
    running_endpoint,
    running_with,
    start,
    status,
    stop,
    stop_all,
)
from ddbkit.local.installer import (
    DOWNLOAD_TIMEOUT,
    INSTALL_MARKER,
    NPM_PACKAGE,
    NPM_TIMEOUT,
    TARBALL_URL,
    install,
    installed_source,
    is_installed,
)
from ddbkit.local.launcher import (
    DATA_LOCK,
    DUMMY_CREDENTIAL,
    JAVAC_TIMEOUT,
    POLL_INTERVAL,
    READY_TIMEOUT,
    free_port,
    port_is_free,
)
from ddbkit.local.paths import (
    DEFAULT_PORT,
    ENGINE_DYNAMODB_LOCAL,
    ENGINE_MOTO,
    ENV_ENGINE_DIR,
    HOST,
    JAR,
    LAUNCHER,
    LIB,
    Progress,
    cache_dir,
    default_data_dir,
    engine_dir,
    state_dir,
)
from ddbkit.local.process import STOP_GRACE, listening_sockets, stop_process
from ddbkit.local.state import EngineState, legacy_state_file, read_state, state_file, write_state

__all__ = [
    "DATA_LOCK",
    "DEFAULT_PORT",
    "DOWNLOAD_TIMEOUT",
    "DUMMY_CREDENTIAL",
    "ENGINE_DYNAMODB_LOCAL",
    "ENGINE_MOTO",
    "ENV_ENGINE_DIR",
    "HOST",
    "INSTALL_MARKER",
    "JAR",
    "JAVAC_TIMEOUT",
    "LAUNCHER",
    "LIB",
    "NPM_PACKAGE",
    "NPM_TIMEOUT",
    "POLL_INTERVAL",
    "READY_TIMEOUT",
    "STOP_GRACE",
    "TARBALL_URL",
    "EngineState",
    "Progress",
    "already_running",
    "cache_dir",
    "choose",
    "default_data_dir",
    "engine_dir",
    "free_port",
    "install",
    "installed_source",
    "is_installed",
    "launch",
    "legacy_state_file",
    "listening_sockets",
    "port_is_free",
    "read_state",
    "running",
    "running_endpoint",
    "running_with",
    "start",
    "state_dir",
    "state_file",
    "status",
    "stop",
    "stop_all",
    "stop_process",
    "write_state",
]
