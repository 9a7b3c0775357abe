"""The console's item pages: explain, a page of items, one item (read, save, create, delete).

Items travel to the page as DynamoDB JSON, whose numbers are strings: the page shows every digit
and every type as stored. Saving goes through :meth:`Table.put` with ``expected=`` the item as it
was opened, so a save over someone else's change is refused and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from ddbkit import Plan, Table, errors, present
from ddbkit.console.http import Call, Refused

PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def explain(call: Call) -> dict[str, Any]:
    plan = _plan(call)
    return {
        "plan": plan.to_dict(),
        "text": plan.describe(),
        "full_scan": plan.operation == "Scan",
        "confirm_needed": _needs_confirm(call, plan),
    }


def items_page(call: Call) -> Response:
    """One page of matching items from ``start`` on, by the plan :func:`explain` shows."""
    table = call.session.table(call.path["name"])
    plan = _plan(call)
    refuse_unconfirmed_scan(call, plan)
    limit = call.number("limit", PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    walk = table.run(plan, limit=limit, start=call.text("start") or None)
    items = list(walk)
    keys = list(table.keys.names)
    others = sorted({name for item in items for name in item} - set(keys))
    payload = {
        "items": [orjson.Fragment(present.dumps_typed(item)) for item in items],
        "cursor": walk.cursor,
        "columns": keys + others,
        "key_names": keys,
        "scanned_count": walk.scanned_count,
        "plan": plan.to_dict(),
    }
    return Response(orjson.dumps(payload), media_type="application/json")


def _plan(call: Call) -> Plan:
    table = call.session.table(call.path["name"])
    return table.explain(call.text("where").strip() or None, index=call.text("index") or None)


def _needs_confirm(call: Call, plan: Plan, *, every_page: bool = False) -> bool:
    # A Scan with a filter may read the whole table (or index) to fill one page, and pays for
    # all it reads: on a real endpoint the user says yes first. Without a filter a page reads
    # only its own items, unless ``every_page`` (an export) is read. The local engine is free.
    reads_all = plan.filter is not None or every_page
    return plan.operation == "Scan" and reads_all and not call.session.local


def refuse_unconfirmed_scan(call: Call, plan: Plan, *, every_page: bool = False) -> None:
    if _needs_confirm(call, plan, every_page=every_page) and call.text("confirm") not in (
        "1",
        "true",
    ):
        raise Refused(
            428,
            f"this reads the whole {'index' if plan.index else 'table'} ({plan.cost}): "
            "confirm to run it",
            confirm="scan",
            plan=plan.to_dict(),
        )


# -- one item -------------------------------------------------------------------------------------


def get_item(call: Call) -> Response:
    table = call.session.table(call.path["name"])
    key = _typed(call.text("key"), "key")
    item = table.get(key, consistent=True)
    if item is None:
        raise Refused(404, "no item has this key (it may have been deleted)")
    return _item_response(item, table.keys.names)


def save_item(call: Call) -> Response:
    """Replace an opened item with its edited form, only if nobody changed it meanwhile."""
    table = call.session.table(call.path["name"])
    original = _typed_item(call.field("original"), "original")
    item = _edited(call, original)
    key_names = table.keys.names
    if _key(item, key_names) != _key(original, key_names):
        raise Refused(
            400, "the key changed: use Duplicate to save a copy under a new key, then delete this"
        )
    refuse_if_changed(table, original)
    table.put(item, expected=original)
    return _stored(table, item)


def create_item(call: Call) -> Response:
    """A new item (Duplicate saves through here); an item with the same key is never replaced."""
    table = call.session.table(call.path["name"])
    # A duplicate's plain JSON keeps the types of the item it was copied from, as a save does.
    given = call.body.get("original") if isinstance(call.body, Mapping) else None
    item = _edited(call, {} if given is None else _typed_item(given, "original"))
    partition = present.render_name(table.keys.partition_key.name)
    try:
        table.put(item, condition=f"attribute_not_exists({partition})")
    except errors.ConditionFailedError:
        raise Refused(
            409, "an item with this key exists already: change the key", conflict=True
        ) from None
    return _stored(table, item, status=201)


def delete_item(call: Call) -> dict[str, Any]:
    table = call.session.table(call.path["name"])
    original = _typed_item(call.field("original"), "original")
    refuse_if_changed(table, original)
    table.delete(_key(original, table.keys.names), expected=original)
    return {"deleted": True}


def refuse_if_changed(table: Table, original: Mapping[str, Any]) -> None:
    """409 unless the stored item is still exactly the one the user opened.

    ``expected=`` makes the write itself conditional on every attribute the user saw; it
    cannot say "and no other attributes", so an attribute someone ADDED would be lost by a
    save. This consistent read catches that too; only an attribute added in the milliseconds
    between this read and the write escapes both.
    """
    current = table.get(_key(original, table.keys.names), consistent=True)
    if current != original:
        gone = "was deleted" if current is None else "changed"
        raise Refused(
            409,
            f"the item {gone} since you opened it: nothing was saved (reload it to see it)",
            conflict=True,
        )


def _edited(call: Call, original: Mapping[str, Any]) -> dict[str, Any]:
    """The item the user wrote: plain JSON (types the user did not touch are kept) or typed."""
    if isinstance(call.body, Mapping) and "typed" in call.body:
        return _typed(call.text("typed"), "the DynamoDB JSON")
    edited = present.loads_exact(call.text("plain"))
    if not isinstance(edited, dict):
        raise Refused(400, "an item is a JSON object of attribute names to values")
    return present.retype(original, edited)


def _typed(text: str, what: str) -> dict[str, Any]:
    if not text.strip():
        raise Refused(400, f"{what} is empty")
    value = present.loads_typed(text)
    if not isinstance(value, dict):
        raise Refused(400, f'{what} must be a JSON object such as {{"id": {{"S": "a"}}}}')
    return value


def _typed_item(given: Any, what: str) -> dict[str, Any]:
    # The body was read with exact numbers; typed JSON keeps its numbers in strings anyway.
    return _typed(present.dumps_plain(given), what)


def _key(item: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    missing = [name for name in names if name not in item]
    if missing:
        raise Refused(400, f"the item lacks its key attribute(s): {', '.join(missing)}")
    return {name: item[name] for name in names}


def _stored(table: Table, item: Mapping[str, Any], *, status: int = 200) -> Response:
    stored = table.get(_key(item, table.keys.names), consistent=True)
    shown = stored if stored is not None else dict(item)
    return _item_response(shown, table.keys.names, status)


def _item_response(
    item: Mapping[str, Any], key_names: tuple[str, ...], status: int = 200
) -> Response:
    ordered = present.readable_order(item, key_names)
    payload = {
        "item": orjson.Fragment(present.dumps_typed(ordered)),
        "plain": present.dumps_plain(ordered, indent=True),
        "typed": present.dumps_typed(ordered, indent=True),
    }
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")
