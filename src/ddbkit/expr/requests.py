"""Every request of one table, built without sending: shared by :class:`ddbkit.Table` and
:class:`ddbkit.AsyncTable`, which only send what is built here and decode the reply.

As httpx's ``BaseClient`` holds every decision that is not I/O and aiodynamo's
``_query_payload`` builds a Query without sending it, :class:`TableRequests` turns plain values,
where-text and a table's description into DynamoDB parameters (placeholders bound, never
spliced) and plans, and says which replies hold an item.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddbkit import errors
from ddbkit.expr.builders import build_update, encode_projection, unchanged
from ddbkit.expr.expressions import Condition, Placeholders, Update, and_all
from ddbkit.expr.plan import Plan, plan_find, plan_on_index, plan_query, plan_scan
from ddbkit.expr.where import Bindings, WhereInput, as_condition, bind_condition, parse_path
from ddbkit.models import IndexInfo, KeySchema, TableInfo, format_bytes
from ddbkit.options import LIMIT, RATE, SEGMENTS, optional
from ddbkit.read.cursors import SegmentCursors
from ddbkit.read.paginate import Walk
from ddbkit.read.segments import auto_segments, useful_segments
from ddbkit.transport.ratelimit import RateLimiter
from ddbkit.values.serialize import from_item, to_item

Item = dict[str, Any]
log = logging.getLogger("ddbkit")
OPERATIONS = {"Query": "query", "Scan": "scan"}


@dataclass(frozen=True)
class ItemRequest:
    """One single-item request: what to send, whether it may be resent, where its item is."""

    method: str
    params: dict[str, Any]
    idempotent: bool
    returns: str | None = None  # the reply field holding an item
    empty: Item | None = None  # what a reply without that item means
    changed: str | None = None  # what a false condition means when ``expected`` was given

    def refused(self, error: errors.ConditionFailedError) -> errors.ConditionFailedError:
        """With ``expected``: the error to raise for ``error``, saying the item changed."""
        return errors.ConditionFailedError(
            self.changed or error.message, code=error.code, cause=error.cause
        )

    def result(self, reply: Mapping[str, Any]) -> Item | None:
        if self.returns is None:
            return None
        raw = reply.get(self.returns)
        if not raw:
            return None if self.empty is None else dict(self.empty)
        return from_item(raw)


class TableRequests:
    """The requests of the table called ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    # -- single items -------------------------------------------------------------------------

    def get_item(
        self,
        keys: KeySchema,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> ItemRequest:
        params: dict[str, Any] = {"Key": self.key_to_wire(keys, key), "ConsistentRead": consistent}
        ph = Placeholders()
        if attributes:
            params["ProjectionExpression"] = encode_projection(attributes, ph)
        return self._finish("get_item", params, ph, returns="Item")

    def put_item(
        self,
        keys: KeySchema,
        item: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        expected: Mapping[str, Any] | None = None,
    ) -> ItemRequest:
        """A PutItem; with ``expected`` (the item as it was read) it writes only if the stored
        item still holds every attribute of ``expected`` unchanged (see :func:`unchanged`)."""
        if not isinstance(item, Mapping):
            raise errors.ValidationError(
                f"an item must be a dict of attribute names to values, not {type(item).__name__}"
            )
        key = {name: item[name] for name in keys.names if name in item}
        self.key_to_wire(keys, key, "item")
        request: dict[str, Any] = {"Item": to_item(item)}
        ph = Placeholders()
        guard, changed = _write_condition(keys, key, condition, params, expected, "written")
        _add_condition(request, guard, ph)
        return self._finish("put_item", request, ph, changed=changed)

    def delete_item(
        self,
        keys: KeySchema,
        key: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
        return_old: bool = False,
        expected: Mapping[str, Any] | None = None,
    ) -> ItemRequest:
        """A DeleteItem; ``expected`` as for :meth:`put_item`."""
        request: dict[str, Any] = {"Key": self.key_to_wire(keys, key)}
        if return_old:
            request["ReturnValues"] = "ALL_OLD"
        ph = Placeholders()
        guard, changed = _write_condition(keys, key, condition, params, expected, "deleted")
        _add_condition(request, guard, ph)
        return self._finish(
            "delete_item", request, ph, returns="Attributes" if return_old else None,
            changed=changed,
        )  # fmt: skip

    def update_item(
        self,
        keys: KeySchema,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | str | None = None,  # named after DynamoDB's SET clause
        add: Mapping[str, Any] | str | None = None,
        remove: Sequence[str] | str | None = None,
        delete: Mapping[str, Any] | str | None = None,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> ItemRequest:
        ph = Placeholders()
        bindings = Bindings(params)
        changes = build_update(set=set, add=add, remove=remove, delete=delete, bindings=bindings)
        _refuse_key_updates(keys, changes)
        parsed = bind_condition(condition, bindings) if isinstance(condition, str) else condition
        bindings.check_used()
        expression = changes.encode(ph)
        request: dict[str, Any] = {
            "Key": self.key_to_wire(keys, key),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        _add_condition(request, as_condition(parsed), ph)
        return self._finish("update_item", request, ph, returns="Attributes", empty={})

    def _finish(
        self,
        method: str,
        params: dict[str, Any],
        ph: Placeholders,
        *,
        returns: str | None = None,
        empty: Item | None = None,
        changed: str | None = None,
    ) -> ItemRequest:
        # An update (ADD, n = n + 1) or a conditional write is never resent once it may have
        # been applied, nor a delete that returns what it deleted; a get, a plain put and a
        # plain delete are the same however often they are sent.
        idempotent = method == "get_item" or (
            method != "update_item"
            and "ConditionExpression" not in params
            and "ReturnValues" not in params
        )
        request = {"TableName": self.name, **params, **ph.request_params()}
        return ItemRequest(method, request, idempotent, returns, empty, changed)

    def key_to_wire(
        self, keys: KeySchema, key: Mapping[str, Any], what: str = "key"
    ) -> dict[str, Any]:
        """Check a key against the schema (names and types) and convert it."""
        return keys.to_wire(key, table=self.name, what=what)

    def projection(self, attributes: Sequence[str] | None) -> dict[str, Any]:
        """ProjectionExpression and its names, for BatchGetItem."""
        ph = Placeholders()
        projection: dict[str, Any] = {}
        if attributes:
            projection["ProjectionExpression"] = encode_projection(attributes, ph)
            projection.update(ph.request_params())
        return projection

    # -- plans and walks ----------------------------------------------------------------------

    def query_plan(
        self,
        info: TableInfo,
        where: WhereInput,
        *,
        index: str | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Plan:
        condition = as_condition(where, params)
        keys = self.index_keys(info, index) if index else info.keys
        return plan_query(
            condition, keys, index=index, attributes=attributes, consistent=consistent,
            table=self.name,
        )  # fmt: skip

    def scan_plan(
        self,
        info: TableInfo,
        where: WhereInput = None,
        *,
        index: str | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Plan:
        if index:
            self.index_keys(info, index)
        return plan_scan(
            as_condition(where, params), index=index, attributes=attributes, consistent=consistent
        )

    def find_plan(
        self,
        info: TableInfo,
        where: WhereInput = None,
        *,
        index: str | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> Plan:
        """The plan ``find`` runs: operation, index, key condition, filter, and why; with
        ``index``, the plan on that index (Query or Scan, see :func:`plan_on_index`)."""
        condition = as_condition(where, params)
        if index is not None:
            return plan_on_index(
                condition, self.index_info(info, index), attributes=attributes,
                consistent=consistent, table=self.name,
            )  # fmt: skip
        return plan_find(condition, info, attributes=attributes, consistent=consistent)

    def count_walk(
        self,
        info: TableInfo,
        where: WhereInput = None,
        *,
        consistent: bool = False,
        segments: int | None = None,
        rate_limit: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Walk:
        """The walk of a Select=COUNT over all pages, by the cheapest plan."""
        rate_limit = optional(RATE, rate_limit)
        plan = plan_find(as_condition(where, params), info, attributes=(), consistent=consistent)
        request = self.request_params(plan)
        request.pop("ProjectionExpression", None)
        request["Select"] = "COUNT"
        return Walk(
            OPERATIONS[plan.operation],
            request,
            table=self.name,
            key_names=info.keys.names,
            # count picks its plan itself: segments matter only if that plan is a scan.
            segments=self.segments_for(info, plan, segments if plan.operation == "Scan" else None),
            limiter=RateLimiter(rate_limit) if rate_limit else None,
        )

    def walk(
        self,
        info: TableInfo,
        plan: Plan,
        *,
        limit: int | None = None,
        start: str | None = None,
        reverse: bool = False,
        segments: int | None = None,
        rate_limit: float | None = None,
        page_size: int | None = None,
    ) -> Walk:
        """Everything the page loop needs to run ``plan``."""
        limit = optional(LIMIT, limit)
        rate_limit = optional(RATE, rate_limit)
        if reverse and plan.operation != "Query":
            raise errors.ValidationError("reverse works with query only: a scan has no order")
        key_names = self.cursor_key_names(info, plan.index)
        hidden: frozenset[str] = frozenset()
        attributes = plan.attributes
        if limit is not None and attributes:
            # A limit may stop mid-page; the cursor then needs the last item's key attributes.
            top = {str(parse_path(a).parts[0]) for a in attributes}
            hidden = frozenset(name for name in key_names if name not in top)
            attributes = (*attributes, *sorted(hidden))
        params = self.request_params(plan, attributes=attributes)
        if reverse:
            params["ScanIndexForward"] = False
        return Walk(
            OPERATIONS[plan.operation],
            params,
            table=self.name,
            key_names=key_names,
            limit=limit,
            start=start,
            hidden=hidden,
            has_filter=plan.filter is not None,
            segments=self._walk_segments(info, plan, segments, start, limited=limit is not None),
            limiter=RateLimiter(rate_limit) if rate_limit else None,
            page_size=page_size,
        )

    def request_params(
        self, plan: Plan, *, attributes: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The parameters every page of this plan is sent with."""
        ph = Placeholders()
        params: dict[str, Any] = {"TableName": self.name}
        if plan.index:
            params["IndexName"] = plan.index
        if plan.key_condition is not None:
            params["KeyConditionExpression"] = plan.key_condition.encode(ph)
        if plan.filter is not None:
            params["FilterExpression"] = plan.filter.encode(ph)
        projection = attributes if attributes is not None else plan.attributes
        if projection:
            params["ProjectionExpression"] = encode_projection(projection, ph)
        if plan.consistent:
            params["ConsistentRead"] = True
        params.update(ph.request_params())
        return params

    def _walk_segments(
        self, info: TableInfo, plan: Plan, segments: int | None, start: str | None, *,
        limited: bool,
    ) -> int:  # fmt: skip
        """Segments for a walk: as asked, else as its cursor had, else for the table's size.

        A limit without a filter reads exactly ``limit`` items from one segment (the page loop
        asks DynamoDB for what is still wanted), where several segments would each read a
        whole page first: ``scan(limit=50)`` of a big table is one small request, not eight.
        """
        if segments is None and plan.operation == "Scan":
            if start:
                segments = SegmentCursors.segments_of(start)
            elif limited and plan.filter is None:
                segments = 1
        return self.segments_for(info, plan, segments, resuming=start is not None)

    def segments_for(
        self, info: TableInfo, plan: Plan, segments: int | None, *, resuming: bool = False
    ) -> int:
        segments = optional(SEGMENTS, segments)
        if plan.operation != "Scan":
            if segments not in (None, 1):
                raise errors.ValidationError("segments apply to scans only: a query reads in order")
            return 1
        size = info.size_bytes
        if segments is None:
            return auto_segments(size)
        useful = useful_segments(size)
        if segments > useful and not resuming:  # a cursor's segment count is not ours to change
            log.warning(
                "using %d segments, not %d: table %r holds about %s (DescribeTable's figure, "
                "updated about every six hours), and each segment costs at least one request",
                useful,
                segments,
                self.name,
                format_bytes(size),
            )
            return useful
        return segments

    def index_keys(self, info: TableInfo, index: str) -> KeySchema:
        return self.index_info(info, index).keys

    def index_info(self, info: TableInfo, index: str) -> IndexInfo:
        found = info.index(index)
        if found is None:
            names = ", ".join(i.name for i in info.indexes) or "none"
            raise errors.ValidationError(
                f"table {self.name!r} has no index {index!r} (indexes: {names})"
            )
        return found

    def cursor_key_names(self, info: TableInfo, index: str | None) -> tuple[str, ...]:
        names = list(info.keys.names)
        if index:
            names += [n for n in self.index_keys(info, index).names if n not in names]
        return tuple(names)


def _write_condition(
    keys: KeySchema,
    key: Mapping[str, Any],
    condition: WhereInput,
    params: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
    done: str,
) -> tuple[Condition | None, str | None]:
    """A put's or delete's condition (``condition`` AND, with ``expected``, nothing changed
    since the read) and, with ``expected``, what its failure means."""
    given = as_condition(condition, params)
    if expected is None:
        return given, None
    guard = unchanged(expected)
    for name in keys.names:
        # A read of one item and a write of another would compare the wrong item's attributes.
        if name in expected and name in key and expected[name] != key[name]:
            raise errors.ValidationError(
                f"expected is another item: its key attribute {name!r} is "
                f"{expected[name]!r:.40}, not {key[name]!r:.40}"
            )
    why = "the item changed since it was read"
    if given is not None:  # DynamoDB does not say which part of the condition was false
        why += ", or the condition was false"
    return and_all([guard] if given is None else [given, guard]), (
        f"{why}: nothing was {done} (read it again)"
    )


def _add_condition(request: dict[str, Any], condition: Condition | None, ph: Placeholders) -> None:
    if condition is not None:
        request["ConditionExpression"] = condition.encode(ph)


def _refuse_key_updates(keys: KeySchema, changes: Update) -> None:
    for clause, path in changes.targets():
        if path.parts[0] in keys.names:
            raise errors.ValidationError(
                f"cannot {clause} key attribute {path.parts[0]!r}: a key identifies the item; "
                "put a new item and delete the old one instead"
            )


def many(given: Any, what: str, kind: str) -> Any:
    """An iterable of items or keys; a str, a single dict or None is refused, not iterated."""
    if given is None or isinstance(given, (str, bytes, bytearray, Mapping)):
        one = "put()" if kind == "items" else "delete()"
        raise errors.ValidationError(
            f"{what} takes an iterable of {kind} (dicts), not {type(given).__name__}; "
            f"for a single one use {one}"
        )
    if not hasattr(given, "__iter__") and not hasattr(given, "__aiter__"):
        raise errors.ValidationError(
            f"{what} takes an iterable of {kind} (dicts), not {type(given).__name__}"
        )
    return given
