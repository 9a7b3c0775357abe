"""A skip nobody expected fails the run: with the dev extras installed, a skip hides a missing part.

A test skipped because duckdb, pyarrow, matplotlib, Java or a command is missing has proven
nothing, yet a run full of such skips still says "passed". With every dev extra installed (as
``./run test`` installs them) this plugin turns each skip into a failure of the run (exit 1) and
lists it, unless the skip is in :data:`ALLOWED`: skips that depend on the machine and not on
what ``./run test`` installs, each allowed only while the machine really lacks what it needs.

tests/conftest.py installs it for the suite; ``pytest -p tests.support.skipguard`` elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# What the dev extras bring that tests import or skip on.
DEV_MODULES = ("duckdb", "pyarrow", "numpy", "matplotlib", "pandas", "polars", "moto", "hypothesis")
ENGINE_GIVEN = "the engine was not started by this test session (DDBKIT_TEST_ENDPOINT)"

# (text in the skip's reason, whether this machine really lacks the thing right now)
ALLOWED: tuple[tuple[str, Callable[[], bool]], ...] = (
    ("making a device node needs root", lambda: os.geteuid() != 0),
    ("/proc prints words in host byte order", lambda: sys.byteorder != "little"),
    ("reads /proc (Linux)", lambda: not Path("/proc/net/tcp").exists()),
    ("could not import 'tomllib'", lambda: sys.version_info < (3, 11)),
    (ENGINE_GIVEN, lambda: bool(os.environ.get("DDBKIT_TEST_ENDPOINT"))),
)


def dev_extras_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in DEV_MODULES)


def allowed(reason: str) -> bool:
    return any(text in reason and lacking() for text, lacking in ALLOWED)


def _reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


class SkipGuard:
    """Collects unexpected skips (of tests and of whole modules) and fails the session on them."""

    def __init__(self) -> None:
        self.unexpected: list[tuple[str, str]] = []

    def _seen(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = _reason(report)
        if not allowed(reason):
            self.unexpected.append((report.nodeid, reason))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._seen(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._seen(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # "No tests collected" too: every module may have been skipped.
        quiet = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        if self.unexpected and session.exitstatus in quiet:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.unexpected:
            return
        terminalreporter.section("unexpected skips", sep="=", red=True, bold=True)
        terminalreporter.line(
            "with the dev extras installed a skip is a failure: install what the test needs "
            "(./run test does) or fix the test"
        )
        for nodeid, reason in self.unexpected:
            terminalreporter.line(f"unexpected skip: {nodeid}: {reason}")


def install(config: pytest.Config) -> None:
    """Register the guard for this session, if the dev extras are installed."""
    if dev_extras_installed() and not config.pluginmanager.has_plugin("ddbkit-skip-guard"):
        config.pluginmanager.register(SkipGuard(), "ddbkit-skip-guard")


def pytest_configure(config: pytest.Config) -> None:
    install(config)
