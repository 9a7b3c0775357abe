"""Transactions, built without sending: the actions of a TransactWriteItems or TransactGetItems,
checked before anything is sent, and a cancellation turned into an error naming each failed
action. :class:`ddbkit.Database` and :class:`ddbkit.AsyncDatabase` only send what is built here.

Each action is the single-item request :class:`~ddbkit.expr.requests.TableRequests` builds (the
same key checks, where-language conditions and update clauses), moved into its TransactItems
entry: a transaction entry is a PutItem, UpdateItem or DeleteItem request without its
``ReturnValues``. A ConditionCheck is a DeleteItem's shape (key and condition) under another name.

Idempotency: every write transaction carries one ClientRequestToken, made when it is, so
sending it again (the transport's retries after a dropped reply, or the caller's own second
``commit()``) is answered by DynamoDB with the first outcome, never applied twice, for the ten
minutes DynamoDB keeps a token.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ddbkit import errors
from ddbkit.expr.requests import ItemRequest, TableRequests
from ddbkit.expr.where import WhereInput
from ddbkit.models import KeySchema
from ddbkit.values.serialize import from_item

Item = dict[str, Any]

MAX_ACTIONS = 100  # DynamoDB's limit for TransactWriteItems and TransactGetItems alike
WRITE_KINDS = ("put", "update", "delete", "check")
_ENTRY = {"put": "Put", "update": "Update", "delete": "Delete", "check": "ConditionCheck"}
# What a single-item request holds that a transaction entry does not take.
_NOT_IN_ENTRY = frozenset({"ReturnValues", "ConsistentRead"})


@dataclass(frozen=True)
class Action:
    """One action of a transaction: ``number`` from 1, in the order they were added."""

    number: int
    kind: str  # put, update, delete, check or get
    table: str
    key: Item
    entry: dict[str, Any]  # its element of TransactItems

    @property
    def description(self) -> str:
        """``update orders {id: 'o1'}``: what the action was, for messages."""
        return f"{self.kind} {self.table} {key_text(self.key)}"

    def __str__(self) -> str:
        return f"action {self.number}, {self.description}"


def key_text(key: Mapping[str, Any]) -> str:
    """``{id: 'o1', n: 3}``: a key as a message shows it."""
    return "{" + ", ".join(f"{name}: {_value_text(value)}" for name, value in key.items()) + "}"


def _value_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Actions:
    """The actions of one transaction, each checked as it is added."""

    what = "transaction"

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self._items: dict[tuple[str, tuple[Any, ...]], Action] = {}

    def __len__(self) -> int:
        return len(self.actions)

    def _add(
        self, kind: str, table: str, keys: KeySchema, key: Mapping[str, Any], entry: Any
    ) -> Action:
        number = len(self.actions) + 1
        action = Action(number, kind, table, {n: key[n] for n in keys.names}, entry)
        if number > MAX_ACTIONS:
            raise errors.ValidationError(
                f"{action} is one too many: a {self.what} takes at most {MAX_ACTIONS} actions; "
                "split the work into several (each is all-or-nothing on its own)"
            )
        identity = (table, tuple(_same_value(key[n]) for n in keys.names))
        earlier = self._items.get(identity)
        if earlier is not None:
            raise errors.ValidationError(
                f"{action} is on the same item as action {earlier.number} ({earlier.kind}): "
                f"DynamoDB takes one action per item in a {self.what}; combine them into one"
            )
        self._items[identity] = action
        self.actions.append(action)
        return action

    def canceled(self, error: errors.TransactionCanceled) -> errors.TransactionCanceled:
        """``error`` (as the transport raised it) with each failed action named."""
        return error.naming([a.description for a in self.actions])


def _same_value(value: Any) -> Any:
    """One value per item key: 1, 1.0 and Decimal('1.00') are the same number to DynamoDB."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        try:
            return ("N", Decimal(value).normalize())
        except (InvalidOperation, ValueError):
            return ("N", str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("B", bytes(value))
    return ("S", value)


class WriteActions(_Actions):
    """The actions of one TransactWriteItems and its ClientRequestToken."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        # A ClientRequestToken is at most 36 characters: a uuid4 as 32 hex digits fits.
        self.token = token or uuid.uuid4().hex

    def put(
        self,
        table: str,
        keys: KeySchema,
        item: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> Action:
        request = TableRequests(table).put_item(keys, item, condition=condition, params=params)
        return self._write("put", table, keys, item, request)

    def update(
        self,
        table: str,
        keys: KeySchema,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | str | None = None,  # named after DynamoDB's SET clause
        add: Mapping[str, Any] | str | None = None,
        remove: Sequence[str] | str | None = None,
        delete: Mapping[str, Any] | str | None = None,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> Action:
        request = TableRequests(table).update_item(
            keys, key, set=set, add=add, remove=remove, delete=delete, condition=condition,
            params=params,
        )  # fmt: skip
        return self._write("update", table, keys, key, request)

    def delete(
        self,
        table: str,
        keys: KeySchema,
        key: Mapping[str, Any],
        *,
        condition: WhereInput = None,
        params: Mapping[str, Any] | None = None,
    ) -> Action:
        request = TableRequests(table).delete_item(keys, key, condition=condition, params=params)
        return self._write("delete", table, keys, key, request)

    def check(
        self,
        table: str,
        keys: KeySchema,
        key: Mapping[str, Any],
        condition: WhereInput,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> Action:
        if condition is None or (isinstance(condition, str) and not condition.strip()):
            raise errors.ValidationError(
                f"check on table {table!r} needs a condition: it is all a check is for"
            )
        # A ConditionCheck is a DeleteItem's key and condition, without the delete.
        request = TableRequests(table).delete_item(keys, key, condition=condition, params=params)
        return self._write("check", table, keys, key, request)

    def _write(
        self, kind: str, table: str, keys: KeySchema, key: Mapping[str, Any], request: ItemRequest
    ) -> Action:
        body = {k: v for k, v in request.params.items() if k not in _NOT_IN_ENTRY}
        return self._add(kind, table, keys, key, {_ENTRY[kind]: body})

    def request(self) -> dict[str, Any]:
        """The TransactWriteItems parameters (never of an empty transaction: nothing to send)."""
        if not self.actions:
            raise errors.ValidationError("a transaction needs at least one action")
        return {
            "TransactItems": [a.entry for a in self.actions],
            "ClientRequestToken": self.token,
        }


class GetActions(_Actions):
    """The keys of one TransactGetItems: one consistent read of up to 100 items."""

    def get(
        self,
        table: str,
        keys: KeySchema,
        key: Mapping[str, Any],
        *,
        attributes: Sequence[str] | None = None,
    ) -> Action:
        request = TableRequests(table).get_item(keys, key, attributes=attributes)
        body = {k: v for k, v in request.params.items() if k not in _NOT_IN_ENTRY}
        return self._add("get", table, keys, key, {"Get": body})

    def request(self) -> dict[str, Any]:
        return {"TransactItems": [a.entry for a in self.actions]}

    def items(self, reply: Mapping[str, Any]) -> list[Item | None]:
        """The items of a TransactGetItems reply, in the order of the keys (None: no item)."""
        responses = reply.get("Responses") or []
        found: list[Item | None] = []
        for number in range(len(self.actions)):
            entry = responses[number] if number < len(responses) else {}
            raw = entry.get("Item") if isinstance(entry, dict) else None
            found.append(from_item(raw) if raw else None)
        return found
