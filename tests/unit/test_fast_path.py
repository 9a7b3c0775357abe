"""The lean transports decode exactly what botocore's own parser does, on the same reply bytes.

A small local HTTP server answers with canned DynamoDB replies. The same bytes go through
ddbkit's lean path, sync (``SyncTransport.send_once`` under ``Database.call_raw``, ``raw_pages``
and ``get_many``: botocore's SigV4Auth signs, botocore's urllib3 pool sends, ``decode_reply``
reads) and async (``AsyncTransport.send`` on aiohttp under ``AsyncItemIterator`` and
``get_many_async``, then the same decoder), and through botocore's own parser (``fast=False``,
or the client itself). All must give the items the reply was made from, value for value and
type for type. The server records each request's User-Agent, so each test also proves which
path sent what: the lean path signs with ddbkit's own User-Agent, the botocore client with
botocore's.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import zlib
from collections.abc import Callable, Coroutine, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ddbkit
from ddbkit.aio import AsyncDatabase, connect_async
from ddbkit.database import Database
from ddbkit.models import KeyAttribute, KeySchema
from ddbkit.read.aio import AsyncItemIterator
from ddbkit.read.paginate import Walk, raw_pages
from ddbkit.values.jsonvalues import decode_reply
from ddbkit.values.serialize import from_item, to_item
from ddbkit.write.aio import get_many_async
from ddbkit.write.batch import get_many
from tests.support.truth import canon_item

TABLE = "t"
KEYS = KeySchema(KeyAttribute("id", "S"))
KEY = {"id": {"S": "k"}}
BATCH_WRITE: dict[str, Any] = {"RequestItems": {TABLE: [{"PutRequest": {"Item": KEY}}]}}
OPERATIONS = ["Scan", "Query", "GetItem", "BatchGetItem", "BatchWriteItem"]
TRANSPORTS = ["sync", "async"]
Reply = Callable[[dict[str, Any]], bytes]
Items = list[dict[str, Any]]
T = TypeVar("T")


class _Canned(BaseHTTPRequestHandler):
    """Answers every request with ``server.reply(request)``, with a correct x-amz-crc32."""

    protocol_version = "HTTP/1.1"  # keep-alive, as botocore pools connections
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms wait between them
    timeout = 10
    server: CannedServer

    def do_POST(self) -> None:
        request = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        self.server.agents.append(self.headers.get("User-Agent", ""))
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
        self.agents: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sent_by(self) -> set[str]:
        """Which paths sent the requests since the last call: "lean" (ddbkit's transports, with
        ddbkit's User-Agent) or "botocore" (the client, with botocore's)."""
        paths = {"lean" if agent.startswith("ddbkit/") else "botocore" for agent in self.agents}
        self.agents.clear()
        return paths


Canned = tuple[CannedServer, Database]


@pytest.fixture(scope="module")
def canned() -> Iterator[Canned]:
    server = CannedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    db = ddbkit.connect(endpoint_url=server.url, local=True, max_attempts=2)
    try:
        yield server, db
    finally:
        db.close()  # ends the keep-alive connections, so their handler threads end too
        server.shutdown()
        server.server_close()
        thread.join()


class Loop:
    """One event loop with one async connection to the canned server, for the whole module."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db: AsyncDatabase = connect_async(endpoint_url=url, local=True, max_attempts=2)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.run(self.db.close())
        self.loop.close()


@pytest.fixture(scope="module")
def aio(canned: Canned) -> Iterator[Loop]:
    loop = Loop(canned[0].url)
    try:
        yield loop
    finally:
        loop.close()


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


def page_body(items: Items, operation: str, last: Any = None) -> bytes:
    """A reply to ``operation`` that carries ``items``: GetItem the first one (or none),
    BatchWriteItem all of them in UnprocessedItems, as puts and deletes in turn."""
    raw = [wire(item) for item in items]
    if operation == "GetItem":
        return orjson.dumps({"Item": raw[0]} if raw else {})
    if operation == "BatchGetItem":
        return orjson.dumps({"Responses": {TABLE: raw}, "UnprocessedKeys": {}})
    if operation == "BatchWriteItem":
        writes = [
            {"PutRequest": {"Item": r}} if n % 2 == 0 else {"DeleteRequest": {"Key": r}}
            for n, r in enumerate(raw)
        ]
        return orjson.dumps({"UnprocessedItems": {TABLE: writes} if writes else {}})
    reply: dict[str, Any] = {"Items": raw, "Count": len(raw), "ScannedCount": len(raw)}
    if last is not None:
        reply["LastEvaluatedKey"] = wire(last)
    return orjson.dumps(reply)


def carried(items: Items, operation: str) -> Items:
    """The items a reply made by :func:`page_body` carries."""
    return items[:1] if operation == "GetItem" else items


def unprocessed(reply: dict[str, Any]) -> list[Any]:
    """The items and keys in a BatchWriteItem reply's UnprocessedItems, in order."""
    writes = reply.get("UnprocessedItems", {}).get(TABLE, [])
    return [
        w["PutRequest"]["Item"] if "PutRequest" in w else w["DeleteRequest"]["Key"] for w in writes
    ]


def fast_items(db: Database, operation: str) -> Items:
    """The items through the sync lean path (SyncTransport.send_once, ddbkit's decoder)."""
    if operation == "BatchGetItem":
        return list(get_many(db, TABLE, [KEY], KEYS))
    if operation == "GetItem":
        reply = decode_reply(db.call_raw("get_item", table=TABLE, TableName=TABLE, Key=KEY))
        return [from_item(reply["Item"])] if "Item" in reply else []
    if operation == "BatchWriteItem":
        reply = decode_reply(db.call_raw("batch_write_item", table=TABLE, **BATCH_WRITE))
        return [from_item(raw) for raw in unprocessed(reply)]
    method = "scan" if operation == "Scan" else "query"
    pages = raw_pages(db, method, {"TableName": TABLE}, table=TABLE)
    return [from_item(raw) for page in pages for raw in page["Items"]]


async def async_items(db: AsyncDatabase, operation: str) -> Items:
    """The items through the async lean path (AsyncTransport.send, ddbkit's decoder)."""
    transport = db.transport
    if operation == "BatchGetItem":
        return [item async for item in get_many_async(transport, TABLE, [KEY], KEYS)]
    if operation == "GetItem":
        body = await transport.send("get_item", {"TableName": TABLE, "Key": KEY}, table=TABLE)
        reply = decode_reply(body)
        return [from_item(reply["Item"])] if "Item" in reply else []
    if operation == "BatchWriteItem":
        reply = decode_reply(await transport.send("batch_write_item", BATCH_WRITE, table=TABLE))
        return [from_item(raw) for raw in unprocessed(reply)]
    method = "scan" if operation == "Scan" else "query"
    walk = Walk(method, {"TableName": TABLE}, TABLE, key_names=("id",))
    return [item async for item in AsyncItemIterator(transport, walk)]


def slow_items(db: Database, operation: str) -> Items:
    """The same reply through botocore's own parser."""
    if operation == "BatchGetItem":
        reply = db.client.batch_get_item(RequestItems={TABLE: {"Keys": [KEY]}})
        return [from_item(raw) for raw in reply["Responses"][TABLE]]
    if operation == "GetItem":
        reply = db.client.get_item(TableName=TABLE, Key=KEY)
        return [from_item(reply["Item"])] if "Item" in reply else []
    if operation == "BatchWriteItem":
        return [from_item(raw) for raw in unprocessed(db.client.batch_write_item(**BATCH_WRITE))]
    method = "scan" if operation == "Scan" else "query"
    pages = raw_pages(db, method, {"TableName": TABLE}, table=TABLE, fast=False)
    return [from_item(raw) for page in pages for raw in page["Items"]]


def lean_items(transport: str, canned: Canned, aio: Loop, operation: str) -> Items:
    """The items through the ``transport`` lean path; fails unless that path sent every request."""
    server, db = canned
    server.sent_by()
    got = (
        fast_items(db, operation)
        if transport == "sync"
        else aio.run(async_items(aio.db, operation))
    )
    assert server.sent_by() == {"lean"}
    return got


def botocore_items(canned: Canned, operation: str) -> Items:
    server, db = canned
    server.sent_by()
    got = slow_items(db, operation)
    assert server.sent_by() == {"botocore"}
    return got


names = st.text(min_size=1, max_size=8)
unicode_text = st.one_of(
    st.text(max_size=20),  # any code point but a lone surrogate, astral planes included
    st.text(st.characters(min_codepoint=0x80, exclude_categories=["Cs"]), max_size=10),
    st.sampled_from(["\u2028", "\x85", "\x00", "\ufeff", "😀", "e\u0301", '"\\/', "\ud7ff"]),
)
# Up to 38 significant digits anywhere in DynamoDB's range, 1E-130 .. 9.99...E+125.
big_numbers = st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    st.integers(min_value=-130, max_value=87),
)
numbers = st.one_of(
    st.integers(min_value=-(10**37), max_value=10**37),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=5, min_value=-(10**20), max_value=10**20
    ),
    big_numbers,
)
scalars = st.one_of(unicode_text, numbers, st.booleans(), st.none(), st.binary(max_size=16))
sets = st.one_of(
    st.frozensets(unicode_text, min_size=1, max_size=4),
    st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=4),
    st.frozensets(big_numbers, min_size=1, max_size=3),
    st.frozensets(st.binary(min_size=1, max_size=4), min_size=1, max_size=4),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
)
items = st.dictionaries(names, values, min_size=1, max_size=6)


@pytest.mark.parametrize("transport", TRANSPORTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=st.lists(items, max_size=5), operation=st.sampled_from(OPERATIONS))
def test_lean_path_equals_botocore_parser_on_the_same_reply(
    canned: Canned, aio: Loop, transport: str, page: Items, operation: str
) -> None:
    server, _ = canned
    body = page_body(page, operation)
    server.reply = lambda _request: body
    lean = lean_items(transport, canned, aio, operation)
    slow = botocore_items(canned, operation)
    assert [canon_item(i) for i in lean] == [canon_item(i) for i in slow]
    assert [canon_item(i) for i in lean] == [canon_item(i) for i in carried(page, operation)]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_numbers_botocore_would_keep_as_text_decode_the_same(
    canned: Canned, aio: Loop, transport: str, operation: str
) -> None:
    server, _ = canned
    page = [{"n": Decimal("1E+100"), "d": Decimal("-0.000000000000000000000000000000000001")}]
    body = page_body(page, operation)
    server.reply = lambda _request: body
    assert lean_items(transport, canned, aio, operation) == botocore_items(canned, operation)
    assert botocore_items(canned, operation) == page


def two_pages(request: dict[str, Any]) -> bytes:
    """Page 1 ends at a key with a binary sort key; page 2, asked from that key, is the last."""
    if "ExclusiveStartKey" in request:
        return page_body([{"id": "b", "sk": b"\x00\xff"}], "Scan")
    return page_body([{"id": "a", "sk": b"\x01"}], "Scan", last={"id": "a", "sk": b"\x01\xfe"})


@pytest.mark.parametrize("mode", ["fast", "botocore", "undecoded"])
def test_a_walk_resumes_from_the_exact_key_the_reply_gave(canned: Canned, mode: str) -> None:
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
    assert server.sent_by() == {"botocore" if mode == "botocore" else "lean"}


def test_an_async_walk_resumes_from_the_exact_key_the_reply_gave(canned: Canned, aio: Loop) -> None:
    server, _ = canned
    server.reply = two_pages
    server.requests.clear()
    walk = Walk("scan", {"TableName": TABLE}, TABLE, key_names=("id", "sk"))

    async def pages() -> list[ddbkit.Page]:
        return [page async for page in AsyncItemIterator(aio.db.transport, walk).pages()]

    got = aio.run(pages())
    assert [r.get("ExclusiveStartKey") for r in server.requests] == [
        None,
        {"id": {"S": "a"}, "sk": {"B": base64.b64encode(b"\x01\xfe").decode()}},
    ]
    assert [page.items for page in got] == [
        [{"id": "a", "sk": b"\x01"}],
        [{"id": "b", "sk": b"\x00\xff"}],
    ]
    assert got[0].cursor is not None and got[1].cursor is None
    assert server.sent_by() == {"lean"}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_reply_damaged_on_the_way_is_refused_on_the_lean_path(
    canned: Canned, aio: Loop, transport: str, operation: str
) -> None:
    server, _ = canned
    body = page_body([{"id": "a"}], operation)
    server.reply = lambda _request: body
    server.crc = lambda _body: "12345"
    try:
        with pytest.raises(ddbkit.EndpointError, match="CRC32"):
            lean_items(transport, canned, aio, operation)
    finally:
        server.crc = lambda body: str(zlib.crc32(body) & 0xFFFFFFFF)


# -- sending --------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lean_requests_on_a_kept_alive_connection_are_not_held_back(
    canned: Canned, aio: Loop, transport: str
) -> None:
    """Each request goes out at once, as botocore's client sends it (TCP_NODELAY).

    urllib3 2.x writes a request's head and body in two sends. Without TCP_NODELAY, Nagle's
    algorithm holds the body until the head is acknowledged, and the server delays that ACK
    (40 ms on Linux) while it waits for the body: every request on a reused connection stalls.
    """
    server, db = canned
    body = page_body([{"id": "a"}], "GetItem")
    server.reply = lambda _request: body
    count = 10

    def mean_seconds(send: Callable[[], object]) -> float:
        send()  # the connection is open and kept alive from here on
        started = time.perf_counter()
        for _ in range(count):
            send()
        return (time.perf_counter() - started) / count

    botocore = mean_seconds(lambda: slow_items(db, "GetItem"))
    lean = mean_seconds(lambda: lean_items(transport, canned, aio, "GetItem"))
    # A stalled request waits 40 ms or more; a loopback round trip takes about 1 ms.
    assert lean < max(0.02, 5 * botocore), f"{lean * 1000:.1f} ms a request"
