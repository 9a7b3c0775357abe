"""One transaction from JSON Lines: what ``ddbkit transact FILE`` commits.

Each line is one action, an object with ``op`` and ``table`` and the arguments of the matching
:class:`ddbkit.database.Transaction` method, values as plain JSON (numbers exact)::

    {"op": "put", "table": "orders", "item": {"id": "o1", "total": 30}, "condition": "..."}
    {"op": "update", "table": "stock", "key": {"sku": "s1"}, "add": {"held": 1}}
    {"op": "update", "table": "stock", "key": {"sku": "s2"}, "set": "n = n - :k",
     "condition": "n >= :k", "params": {"k": 2}}
    {"op": "delete", "table": "carts", "key": {"id": "c1"}}
    {"op": "check", "table": "users", "key": {"id": "u1"}, "condition": "active = :t",
     "params": {"t": true}}

Blank lines are skipped. Every line is read and checked before anything is sent; the first bad
one is an error naming its line number.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.values.jsonvalues import loads_exact

if TYPE_CHECKING:
    from ddbkit.database import Database, Transaction

# Each op's fields besides "op" and "table": those it needs, then those it may have.
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "put": (("item",), ("condition", "params")),
    "update": (("key",), ("set", "add", "remove", "delete", "condition", "params")),
    "delete": (("key",), ("condition", "params")),
    "check": (("key", "condition"), ("params",)),
}
_CHANGES = ("set", "add", "remove", "delete")


def transact_lines(db: Database, lines: Iterable[str], *, source: str = "input") -> Transaction:
    """Commit the actions of ``lines`` (JSON Lines, see the module) as one transaction and
    return it (``.actions``). Raises :class:`~ddbkit.errors.TransactionCanceled` if DynamoDB
    canceled it (nothing applied), a :class:`~ddbkit.errors.ValidationError` naming the line
    for a bad one (nothing sent)."""
    tx = db.transaction()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            add_action(tx, parse_action(line))
        except errors.DdbkitError as error:
            raise _at(error, f"{source} line {number}") from error
    if not tx.actions:
        raise errors.ValidationError(f"{source} holds no actions: nothing to commit")
    tx.commit()
    return tx


def parse_action(line: str) -> dict[str, Any]:
    """One line as an action object, its fields checked (not yet its table's key schema)."""
    action = loads_exact(line)
    if not isinstance(action, dict):
        raise errors.ValidationError('an action is a JSON object: {"op": "put", "table": ...}')
    op = action.get("op")
    if op not in FIELDS:
        raise errors.ValidationError(
            f"op must be one of {', '.join(FIELDS)}, not {op!r}"
            if "op" in action
            else f'an action needs "op" ({", ".join(FIELDS)})'
        )
    if not isinstance(action.get("table"), str):
        raise errors.ValidationError(f'{op} needs "table", a table name')
    needed, optional = FIELDS[op]
    missing = [name for name in needed if name not in action]
    if missing:
        raise errors.ValidationError(f"{op} needs " + ", ".join(f'"{m}"' for m in missing))
    unknown = sorted(set(action) - {"op", "table", *needed, *optional})
    if unknown:
        raise errors.ValidationError(
            f"{op} takes no " + ", ".join(f'"{u}"' for u in unknown)
            + " (it takes " + ", ".join(f'"{f}"' for f in (*needed, *optional)) + ")"
        )  # fmt: skip
    if op == "update" and not any(action.get(c) for c in _CHANGES):
        raise errors.ValidationError(
            'update needs at least one of "set", "add", "remove", "delete"'
        )
    params = action.get("params")
    if params is not None and not isinstance(params, Mapping):
        raise errors.ValidationError('"params" is an object of parameter names to values')
    return action


def add_action(tx: Transaction, action: Mapping[str, Any]) -> None:
    """Add one parsed action (see :func:`parse_action`) to ``tx``."""
    op = action["op"]
    table = action["table"]
    params = action.get("params")
    if op == "put":
        tx.put(table, action["item"], condition=action.get("condition"), params=params)
    elif op == "update":
        tx.update(
            table, action["key"], set=action.get("set"), add=action.get("add"),
            remove=action.get("remove"), delete=action.get("delete"),
            condition=action.get("condition"), params=params,
        )  # fmt: skip
    elif op == "delete":
        tx.delete(table, action["key"], condition=action.get("condition"), params=params)
    else:
        tx.check(table, action["key"], action["condition"], params=params)


def _at(error: errors.DdbkitError, where: str) -> errors.DdbkitError:
    """``error`` (same class, code and cause) with its message starting ``where: ``."""
    located = copy.copy(error)
    located.message = f"{where}: {error.message}"
    located.args = (located.message,)
    return located
