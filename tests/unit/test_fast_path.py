"""The fast read path decodes exactly what botocore's own parser does, on the same reply bytes.

A small local HTTP server answers with canned DynamoDB replies. The same bytes go once through
ddbkit's real raw-page path (``Database.call_raw``: botocore signs and sends, a before-parse
handler keeps the body, ``decode_reply`` reads it; ``get_many`` for BatchGetItem) and once
through botocore's own parser (``fast=False``, or the client itself). Both must give the items
the page was made from, value for value and type for type.
"""

from __future__ import annotations

import base64
import threading
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ddbkit
from ddbkit.database import Database
from ddbkit.models import KeyAttribute, KeySchema
from ddbkit.read.paginate import raw_pages
from ddbkit.values.serialize import from_item, to_item
from ddbkit.write.batch import get_many
from tests.support.truth import canon_item

TABLE = "t"
KEYS = KeySchema(KeyAttribute("id", "S"))
Reply = Callable[[dict[str, Any]], bytes]


class _Canned(BaseHTTPRequestHandler):
    """Answers every request with ``server.reply(request)``, with a correct x-amz-crc32."""

    protocol_version = "HTTP/1.1"  # keep-alive, as botocore pools connections
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms wait between them
    timeout = 10
    server: CannedServer

    def do_POST(self) -> None:
        request = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        body = self.server.reply(request)
        crc = self.server.crc(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-crc32", crc)
        self.send_header("x-amzn-RequestId", "canned")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


class CannedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Canned)
        self.reply: Reply = lambda _request: b"{}"
        self.crc: Callable[[bytes], str] = lambda body: str(zlib.crc32(body) & 0xFFFFFFFF)
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def canned() -> Iterator[tuple[CannedServer, Database]]:
    server = CannedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    db = ddbkit.connect(endpoint_url=server.url, local=True, max_attempts=2)
    try:
        yield server, db
    finally:
        db.client.close()  # ends the keep-alive connection, so its handler thread ends too
        server.shutdown()
        server.server_close()
        thread.join()


def raw_form(av: Any) -> Any:
    """A botocore-form attribute value as DynamoDB puts it on the wire (B as base64 text)."""
    ((tag, value),) = av.items()
    if tag == "B":
        return {"B": base64.b64encode(value).decode()}
    if tag == "BS":
        return {"BS": [base64.b64encode(v).decode() for v in value]}
    if tag == "M":
        return {"M": {k: raw_form(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [raw_form(v) for v in value]}
    return av


def wire(item: dict[str, Any]) -> dict[str, Any]:
    return {name: raw_form(av) for name, av in to_item(item).items()}


def page_body(items: list[dict[str, Any]], operation: str, last: Any = None) -> bytes:
    raw = [wire(item) for item in items]
    if operation == "BatchGetItem":
        return orjson.dumps({"Responses": {TABLE: raw}, "UnprocessedKeys": {}})
    reply: dict[str, Any] = {"Items": raw, "Count": len(raw), "ScannedCount": len(raw)}
    if last is not None:
        reply["LastEvaluatedKey"] = wire(last)
    return orjson.dumps(reply)


def fast_items(db: Database, operation: str) -> list[dict[str, Any]]:
    """The items through ddbkit's raw-page path."""
    if operation == "BatchGetItem":
        return list(get_many(db, TABLE, [{"id": {"S": "k"}}], KEYS))
    method = "scan" if operation == "Scan" else "query"
    pages = raw_pages(db, method, {"TableName": TABLE}, table=TABLE)
    return [from_item(raw) for page in pages for raw in page["Items"]]


def slow_items(db: Database, operation: str) -> list[dict[str, Any]]:
    """The same reply through botocore's own parser."""
    if operation == "BatchGetItem":
        reply = db.client.batch_get_item(RequestItems={TABLE: {"Keys": [{"id": {"S": "k"}}]}})
        return [from_item(raw) for raw in reply["Responses"][TABLE]]
    method = "scan" if operation == "Scan" else "query"
    pages = raw_pages(db, method, {"TableName": TABLE}, table=TABLE, fast=False)
    return [from_item(raw) for page in pages for raw in page["Items"]]


names = st.text(min_size=1, max_size=8)
numbers = st.one_of(
    st.integers(min_value=-(10**37), max_value=10**37),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=5, min_value=-(10**20), max_value=10**20
    ),
)
scalars = st.one_of(st.text(max_size=20), numbers, st.booleans(), st.none(), st.binary(max_size=16))
sets = st.one_of(
    st.frozensets(st.text(max_size=5), min_size=1, max_size=4),
    st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=4),
    st.frozensets(st.binary(min_size=1, max_size=4), min_size=1, max_size=4),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
)
items = st.dictionaries(names, values, min_size=1, max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, max_size=5), st.sampled_from(["Scan", "Query", "BatchGetItem"]))
def test_fast_path_equals_botocore_parser_on_the_same_reply(
    canned: tuple[CannedServer, Database], page: list[dict[str, Any]], operation: str
) -> None:
    server, db = canned
    body = page_body(page, operation)
    server.reply = lambda _request: body
    fast = fast_items(db, operation)
    slow = slow_items(db, operation)
    assert [canon_item(i) for i in fast] == [canon_item(i) for i in slow]
    assert [canon_item(i) for i in fast] == [canon_item(i) for i in page]


def test_numbers_botocore_would_keep_as_text_decode_the_same(
    canned: tuple[CannedServer, Database],
) -> None:
    server, db = canned
    page = [{"n": Decimal("1E+100"), "d": Decimal("-0.000000000000000000000000000000000001")}]
    body = page_body(page, "Scan")
    server.reply = lambda _request: body
    assert fast_items(db, "Scan") == slow_items(db, "Scan") == page


def two_pages(request: dict[str, Any]) -> bytes:
    """Page 1 ends at a key with a binary sort key; page 2, asked from that key, is the last."""
    if "ExclusiveStartKey" in request:
        return page_body([{"id": "b", "sk": b"\x00\xff"}], "Scan")
    return page_body([{"id": "a", "sk": b"\x01"}], "Scan", last={"id": "a", "sk": b"\x01\xfe"})


@pytest.mark.parametrize("mode", ["fast", "botocore", "undecoded"])
def test_a_walk_resumes_from_the_exact_key_the_reply_gave(
    canned: tuple[CannedServer, Database], mode: str
) -> None:
    server, db = canned
    server.reply = two_pages
    server.requests.clear()
    pages = list(
        raw_pages(
            db,
            "scan",
            {"TableName": TABLE},
            table=TABLE,
            fast=mode != "botocore",
            decode=mode != "undecoded",
        )
    )
    assert len(pages) == 2
    # The second request carried page 1's LastEvaluatedKey byte for byte, as sent on the wire.
    assert [r.get("ExclusiveStartKey") for r in server.requests] == [
        None,
        {"id": {"S": "a"}, "sk": {"B": base64.b64encode(b"\x01\xfe").decode()}},
    ]
    # and the key handed to the caller is botocore's form of it
    assert pages[0]["LastEvaluatedKey"] == {"id": {"S": "a"}, "sk": {"B": b"\x01\xfe"}}
    assert not pages[1].get("LastEvaluatedKey")


def test_a_reply_damaged_on_the_way_is_refused_on_the_fast_path(
    canned: tuple[CannedServer, Database],
) -> None:
    server, db = canned
    body = page_body([{"id": "a"}], "Scan")
    server.reply = lambda _request: body
    server.crc = lambda _body: "12345"
    try:
        with pytest.raises(ddbkit.EndpointError, match="CRC32"):
            fast_items(db, "Scan")
    finally:
        server.crc = lambda body: str(zlib.crc32(body) & 0xFFFFFFFF)
