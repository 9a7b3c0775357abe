"""An unexpected skip fails the run, and the tests refuse an engine that is not DynamoDB Local."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import require_dynamodb_local
from tests.support import skipguard

pytest_plugins = ["pytester"]

# The plugin module is already imported (by tests/conftest.py), so pytest cannot rewrite it.
GUARD = (
    "-p",
    "tests.support.skipguard",
    "-p",
    "no:cacheprovider",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard on whatever is installed (it normally waits for the dev extras)."""
    monkeypatch.setattr(skipguard, "DEV_MODULES", ())


def test_a_skipped_test_fails_the_run_and_is_named(
    pytester: pytest.Pytester, guarded: None
) -> None:
    pytester.makepyfile(
        test_some="""
        import pytest

        def test_runs():
            pass

        def test_needs_a_thing():
            pytest.skip("needs a thing that is not here")
        """
    )
    result = pytester.runpytest_inprocess(*GUARD)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*unexpected skip: test_some.py::test_needs_a_thing: needs a thing that is not here"]
    )


def test_a_module_skipped_for_a_missing_package_fails_the_run(
    pytester: pytest.Pytester, guarded: None
) -> None:
    pytester.makepyfile(
        test_module="""
        import pytest

        pytest.importorskip("no_such_package_ddbkit")

        def test_never_runs():
            pass
        """
    )
    result = pytester.runpytest_inprocess(*GUARD)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*unexpected skip: test_module.py*no_such_package_ddbkit*"])


def test_a_skip_that_depends_on_the_machine_is_allowed_only_while_it_lacks_the_thing(
    pytester: pytest.Pytester, guarded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_engine=f"""
        import pytest

        def test_needs_our_own_engine():
            pytest.skip({skipguard.ENGINE_GIVEN!r})
        """
    )
    monkeypatch.setenv("DDBKIT_TEST_ENDPOINT", "http://127.0.0.1:8000")
    assert pytester.runpytest_inprocess(*GUARD).ret == pytest.ExitCode.OK
    monkeypatch.delenv("DDBKIT_TEST_ENDPOINT")
    assert pytester.runpytest_inprocess(*GUARD).ret == pytest.ExitCode.TESTS_FAILED


def test_without_the_dev_extras_a_skip_is_only_reported(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(skipguard, "DEV_MODULES", ("no_such_package_ddbkit",))
    pytester.makepyfile(test_some="import pytest\ndef test_a():\n    pytest.skip('why')\n")
    assert pytester.runpytest_inprocess(*GUARD).ret == pytest.ExitCode.OK


class _NotJetty(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"TableNames": []}'
        self.send_response(200)  # BaseHTTPRequestHandler's own Server header, not Jetty's
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def not_dynamodb_local() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotJetty)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_engine_that_is_not_dynamodb_local_stops_the_tests(not_dynamodb_local: str) -> None:
    with pytest.raises(pytest.exit.Exception, match="not DynamoDB Local"):
        require_dynamodb_local(not_dynamodb_local, "DDBKIT_TEST_ENDPOINT")
