"""The fast read path decodes exactly what botocore's own parser does, on the same page bytes."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import botocore.session
import orjson
from botocore.parsers import create_parser
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbkit.serialize import from_item, to_item

SERVICE = botocore.session.get_session().get_service_model("dynamodb")


def raw_form(av: Any) -> Any:
    """A botocore-form attribute value as DynamoDB puts it on the wire (B as base64 text)."""
    if isinstance(av, dict):
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
    return av


def page_body(items: list[dict[str, Any]], operation: str) -> bytes:
    raw = [{name: raw_form(av) for name, av in to_item(item).items()} for item in items]
    reply: dict[str, Any] = {"Count": len(raw), "ScannedCount": len(raw)}
    if operation == "BatchGetItem":
        reply = {"Responses": {"t": raw}, "UnprocessedKeys": {}}
    else:
        reply["Items"] = raw
    return orjson.dumps(reply)


def slow_items(body: bytes, operation: str) -> list[dict[str, Any]]:
    shape = SERVICE.operation_model(operation).output_shape
    parsed = create_parser("json").parse({"body": body, "headers": {}, "status_code": 200}, shape)
    wire = parsed["Responses"]["t"] if operation == "BatchGetItem" else parsed["Items"]
    return [from_item(item) for item in wire]


def fast_items(body: bytes, operation: str) -> list[dict[str, Any]]:
    reply = orjson.loads(body)
    wire = reply["Responses"]["t"] if operation == "BatchGetItem" else reply["Items"]
    return [from_item(item) for item in wire]


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


@settings(max_examples=300, deadline=None)
@given(st.lists(items, max_size=5), st.sampled_from(["Scan", "Query", "BatchGetItem"]))
def test_fast_path_equals_botocore_parser_on_the_same_page(
    page: list[dict[str, Any]], operation: str
) -> None:
    body = page_body(page, operation)
    assert fast_items(body, operation) == slow_items(body, operation)


def test_numbers_botocore_would_keep_as_text_decode_the_same() -> None:
    page = [{"n": Decimal("1E+100"), "d": Decimal("-0.000000000000000000000000000000000001")}]
    body = page_body(page, "Scan")
    assert fast_items(body, "Scan") == slow_items(body, "Scan")
