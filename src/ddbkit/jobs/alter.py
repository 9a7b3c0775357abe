"""Changing a table: billing, global indexes, TTL, stream, deletion protection, point-in-time
recovery.

DynamoDB takes one global-index change per UpdateTable, refuses an UpdateTable while the table
or an index is still changing, refuses a new stream view type while a stream is on, and sets
TTL and point-in-time recovery through operations of their own. So several changes become
steps, in an order DynamoDB accepts, each waited out before the next: delete indexes (fewer
indexes to give capacity to), billing, add indexes (after billing, so a new index is made in
the table's new mode), stream, TTL, deletion protection, point-in-time recovery. Everything
is checked against the table before the first step is sent; a change already in place is no
step at all.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddbkit import errors
from ddbkit.jobs.tables import IndexSpec, _busy, _check_key, _key_schema, _projection, _wait
from ddbkit.models import check_table_name

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection

STREAM_VIEWS = {
    "new-and-old": "NEW_AND_OLD_IMAGES",
    "new": "NEW_IMAGE",
    "old": "OLD_IMAGE",
    "keys": "KEYS_ONLY",
}
BILLING_NAMES = {"on-demand": "PAY_PER_REQUEST", "provisioned": "PROVISIONED"}

# (steps done, steps in all, what is happening now)
AlterProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Step:
    """One request of an alteration: what it does, in words, and the request itself."""

    what: str
    operation: str
    params: dict[str, Any]


def stream_view(view: str) -> str:
    """A stream view type from its DynamoDB name or its short name (new-and-old, new, old, keys)."""
    found = STREAM_VIEWS.get(view.lower(), view.upper())
    if found not in STREAM_VIEWS.values():
        raise errors.ValidationError(
            f"stream view {view!r} unknown: use new-and-old, new, old or keys "
            "(NEW_AND_OLD_IMAGES, NEW_IMAGE, OLD_IMAGE, KEYS_ONLY)"
        )
    return found


def billing_mode(billing: str) -> str:
    """A billing mode from its DynamoDB name or on-demand / provisioned."""
    found = BILLING_NAMES.get(billing.lower(), billing.upper())
    if found not in BILLING_NAMES.values():
        raise errors.ValidationError(
            f"billing mode {billing!r} unknown: use on-demand (PAY_PER_REQUEST) or provisioned"
        )
    return found


def plan_alter(
    table: Mapping[str, Any],
    ttl_description: Mapping[str, Any] | None,
    *,
    billing: str | None = None,
    capacity: tuple[int, int] | None = None,
    add_indexes: Sequence[IndexSpec] = (),
    delete_indexes: Sequence[str] = (),
    ttl: str | bool | None = None,
    stream: str | bool | None = None,
    deletion_protection: bool | None = None,
    pitr: bool | None = None,
) -> list[Step]:
    """The requests that make ``table`` (a DescribeTable ``Table``) as asked, in order; pure.

    ``ttl`` and ``stream`` take False for off; None anywhere means "leave as it is".
    """
    name = table["TableName"]
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    steps: list[Step] = []
    # Everything is checked before the first step: a repeat found at step two would come
    # after the first step's wait, hours for an index backfill.
    for what, names in (("delete", delete_indexes), ("add", [i.name for i in add_indexes])):
        repeated = sorted({n for n in names if list(names).count(n) > 1})
        if repeated:
            raise errors.ValidationError(
                f"index {', '.join(repeated)} given twice to {what}: give each index once"
            )
    for index_name in delete_indexes:
        if index_name not in indexes:
            have = ", ".join(indexes) or "none"
            raise errors.ValidationError(
                f"table {name!r} has no global index {index_name!r} (it has: {have})"
            )
        steps.append(
            _update(name, f"delete index {index_name}", [{"Delete": {"IndexName": index_name}}])
        )
    kept = [i for i in indexes if i not in delete_indexes]
    mode, billing_steps = _billing(table, billing, capacity, kept)
    steps += billing_steps
    throughput = capacity or _table_capacity(table)
    defined = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    for index in add_indexes:
        if index.name in kept:
            raise errors.ValidationError(f"table {name!r} has an index {index.name!r} already")
        steps.append(
            _add_index(name, index, defined, throughput if mode == "PROVISIONED" else None)
        )
    steps += _stream(table, stream)
    steps += _ttl(name, ttl_description or {}, ttl)
    if deletion_protection is not None and deletion_protection != bool(
        table.get("DeletionProtectionEnabled", False)
    ):
        what = f"turn deletion protection {'on' if deletion_protection else 'off'}"
        steps.append(
            Step(
                what,
                "update_table",
                {"TableName": name, "DeletionProtectionEnabled": deletion_protection},
            )
        )
    if pitr is not None:
        # Not read first: DescribeContinuousBackups is missing from some engines; setting the
        # same value again is harmless.
        steps.append(
            Step(
                f"turn point-in-time recovery {'on' if pitr else 'off'}",
                "update_continuous_backups",
                {
                    "TableName": name,
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr},
                },
            )
        )
    return steps


def _update(name: str, what: str, index_updates: list[dict[str, Any]], **params: Any) -> Step:
    return Step(
        what,
        "update_table",
        {"TableName": name, "GlobalSecondaryIndexUpdates": index_updates, **params},
    )


def _throughput(capacity: tuple[int, int]) -> dict[str, int]:
    return {"ReadCapacityUnits": capacity[0], "WriteCapacityUnits": capacity[1]}


def _table_capacity(table: Mapping[str, Any]) -> tuple[int, int] | None:
    given = table.get("ProvisionedThroughput") or {}
    units = (given.get("ReadCapacityUnits", 0), given.get("WriteCapacityUnits", 0))
    return units if all(units) else None


def _billing(
    table: Mapping[str, Any],
    billing: str | None,
    capacity: tuple[int, int] | None,
    kept_indexes: Sequence[str],
) -> tuple[str, list[Step]]:
    """The billing mode after the change, and the step that makes it (if any)."""
    name = table["TableName"]
    # A table made before on-demand existed has no BillingModeSummary: it is provisioned.
    current = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    target = billing_mode(billing) if billing is not None else current
    if capacity is not None and any(units < 1 for units in capacity):
        raise errors.ValidationError("read and write capacity must be at least 1")
    if target == "PAY_PER_REQUEST":
        if capacity is not None:
            raise errors.ValidationError(
                f"capacity is for provisioned billing; table {name!r} would be on demand: "
                "switch to provisioned with it, or leave capacity out"
            )
        if current == target:
            return target, []
        return target, [Step("switch billing to on demand", "update_table",
                             {"TableName": name, "BillingMode": target})]  # fmt: skip
    if capacity is None:
        if current == target:
            return target, []
        raise errors.ValidationError(
            f"provisioned billing needs read and write capacity (--rcu and --wcu) for {name!r}"
        )
    if current == target and capacity == _table_capacity(table):
        return target, []
    params: dict[str, Any] = {
        "TableName": name,
        "BillingMode": target,
        "ProvisionedThroughput": _throughput(capacity),
    }
    what = f"set capacity to {capacity[0]} RCU / {capacity[1]} WCU"
    if current != target:
        # Switching to provisioned: DynamoDB wants capacity for every global index too.
        what = f"switch billing to provisioned, {capacity[0]} RCU / {capacity[1]} WCU"
        if kept_indexes:
            params["GlobalSecondaryIndexUpdates"] = [
                {"Update": {"IndexName": i, "ProvisionedThroughput": _throughput(capacity)}}
                for i in kept_indexes
            ]
    return target, [Step(what, "update_table", params)]


def _add_index(
    name: str,
    index: IndexSpec,
    defined: dict[str, str],
    capacity: tuple[int, int] | None,
) -> Step:
    if index.local:
        raise errors.ValidationError(
            f"local index {index.name!r}: DynamoDB makes local indexes only with the table; "
            "add a global index instead"
        )
    check_table_name(index.name, "index")
    keys: list[tuple[str, str]] = []
    for key, what in ((index.partition_key, "partition key"), (index.sort_key, "sort key")):
        if key is None:
            continue
        attr, given = key[0], key[1].upper()
        known = defined.get(attr)
        if not given and known is None:
            raise errors.ValidationError(
                f"index {index.name!r}: give the type of {attr!r}, e.g. {index.name}:{attr}:S "
                "(S, N or B): the table does not define it yet"
            )
        if given and known is not None and given != known:
            raise errors.ValidationError(
                f"index {index.name!r}: attribute {attr!r} is {known} in the table, not {given}"
            )
        keys.append((attr, given or str(known)))
        _check_key(keys[-1], f"index {index.name!r} {what}")
        defined[attr] = keys[-1][1]  # a later index in the same call must agree with it
    spec: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": _key_schema(keys[0], keys[1] if len(keys) > 1 else None),
        "Projection": _projection(index.projection),
    }
    if capacity is not None:
        spec["ProvisionedThroughput"] = _throughput(capacity)
    definitions = [{"AttributeName": a, "AttributeType": t} for a, t in dict(keys).items()]
    return _update(
        name, f"add index {index.name}", [{"Create": spec}], AttributeDefinitions=definitions
    )


def _stream(table: Mapping[str, Any], stream: str | bool | None) -> list[Step]:
    if stream is None:
        return []
    if stream is True:
        raise errors.ValidationError(
            "stream takes a view type (new-and-old, new, old, keys) or False"
        )
    name = table["TableName"]
    current = table.get("StreamSpecification") or {}
    enabled = bool(current.get("StreamEnabled"))
    off = Step("turn the stream off", "update_table",
               {"TableName": name, "StreamSpecification": {"StreamEnabled": False}})  # fmt: skip
    if stream is False:
        return [off] if enabled else []
    view = stream_view(stream)
    if enabled and current.get("StreamViewType") == view:
        return []
    on = Step(f"turn the stream on ({view})", "update_table",
              {"TableName": name,
               "StreamSpecification": {"StreamEnabled": True, "StreamViewType": view}})  # fmt: skip
    # DynamoDB refuses a new view type while a stream is on; a new stream (new ARN) it is.
    return [off, on] if enabled else [on]


def _ttl(name: str, described: Mapping[str, Any], ttl: str | bool | None) -> list[Step]:
    if ttl is None:
        return []
    if ttl is True or ttl == "":
        raise errors.ValidationError("ttl takes the expiry attribute's name, or False for off")
    on = described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    current = described.get("AttributeName")
    if ttl is False:
        if not on:
            return []
        spec = {"Enabled": False, "AttributeName": current}
        return [Step("turn TTL off", "update_time_to_live",
                     {"TableName": name, "TimeToLiveSpecification": spec})]  # fmt: skip
    if on and current == ttl:
        return []
    if on:
        raise errors.ValidationError(
            f"TTL is on attribute {current!r} already: turn it off first (ttl off); DynamoDB "
            "may take up to an hour before it accepts another"
        )
    spec = {"Enabled": True, "AttributeName": ttl}
    return [Step(f"turn TTL on ({ttl})", "update_time_to_live",
                 {"TableName": name, "TimeToLiveSpecification": spec})]  # fmt: skip


def alter_table(
    db: Connection,
    name: str,
    *,
    wait: bool = True,
    progress: AlterProgress | None = None,
    **changes: Any,
) -> list[str]:
    """Apply ``changes`` (the keywords of :func:`plan_alter`) to table ``name``, step by step,
    each UpdateTable waited out (table and indexes ACTIVE, backfill done) before the next; the
    last one too unless ``wait=False``. Returns what was done, in words ([] when the table
    was as asked already).

    A step the endpoint refuses raises its error, prefixed with the step and followed by what
    was done before it; a step an engine lacks (DynamoDB Local has no point-in-time recovery)
    says so in the engine's own words.
    """
    check_table_name(name)
    described = db.call("describe_table", table=name, TableName=name)["Table"]
    ttl_description = None
    if changes.get("ttl") is not None:
        reply = db.call("describe_time_to_live", table=name, TableName=name)
        ttl_description = reply.get("TimeToLiveDescription")
    steps = plan_alter(described, ttl_description, **changes)
    report = progress or (lambda _done, _total, _text: None)
    done: list[str] = []
    if steps and _busy(described):
        # An UpdateTable during another change is refused: let that one finish first.
        _wait(db, name, gone=False, timeout=None,
              progress=lambda state: report(0, len(steps), f"waiting: {state}"))  # fmt: skip
    for number, step in enumerate(steps):
        report(number, len(steps), step.what)

        def waiting(state: str, number: int = number, step: Step = step) -> None:
            report(number, len(steps), f"{step.what}: {state}")

        try:
            db.call(step.operation, table=name, idempotent=False, **step.params)
            if step.operation == "update_table" and (wait or number < len(steps) - 1):
                _wait(db, name, gone=False, timeout=None, progress=waiting)
        except errors.DdbkitError as exc:
            raise _failed(exc, step, done, db.endpoint) from exc
        except KeyboardInterrupt:
            before = f"done: {', '.join(done)}; " if done else ""
            raise errors.Interrupted(
                f"{before}'{step.what}' was sent and goes on in DynamoDB; "
                f"'ddbkit info {name}' shows when the table is ACTIVE"
            ) from None
        done.append(step.what)
    report(len(steps), len(steps), "done")
    return done


def _failed(
    exc: errors.DdbkitError, step: Step, done: list[str], endpoint: str
) -> errors.DdbkitError:
    """``exc``, its message saying which step failed and what was done before it."""
    message = exc.message
    if exc.code == "UnknownOperationException":
        operation = "".join(part.title() for part in step.operation.split("_"))
        message = f"the engine at {endpoint} does not support {operation} (it says: {message})"
    before = f"done before it: {', '.join(done)}" if done else "nothing was changed"
    final = copy.copy(exc)
    final.message = f"{step.what}: {message} ({before})"
    final.args = (final.message,)
    return final
