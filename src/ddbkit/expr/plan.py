"""The planner: which request answers a where-clause, and how the clause splits over it.

A Query needs an equality on the partition key and takes at most one condition on the sort key
(``= < <= > >= BETWEEN begins_with``); both become the KeyConditionExpression and every other
conjunct the FilterExpression. ``find`` compares the table and each index and picks the cheapest
plan that still returns complete, correct items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ddbkit import errors
from ddbkit.expr.builders import attribute_paths
from ddbkit.expr.expressions import (
    BeginsWith,
    Between,
    Compare,
    Condition,
    Path,
    Value,
    and_all,
    conjuncts,
    paths_in,
)
from ddbkit.models import IndexInfo, KeyAttribute, KeySchema, ScanEstimate, TableInfo

SORT_KEY_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class Plan:
    """How a where-clause runs: Query or Scan, on the table or an index, key and filter split."""

    operation: str  # "Query" or "Scan"
    index: str | None
    key_condition: Condition | None
    filter: Condition | None
    attributes: tuple[str, ...] | None
    consistent: bool = False
    reasons: tuple[str, ...] = field(default=())
    estimate: ScanEstimate | None = None  # what a Scan costs, when the table's size is known

    @property
    def cost(self) -> str:
        """The estimated read cost, one line."""
        if self.estimate is not None:
            return self.estimate.describe(self.consistent)
        if self.operation == "Query":
            unit = "1 RCU" if self.consistent else "0.5 RCU"
            return f"only the matching key range is read: {unit} per 4 KB of it, 1 MB a page"
        return "every item is read (the table's size is not known here)"

    def describe(self) -> str:
        """Human-readable plan, as ``--explain`` prints it."""
        lines = [
            f"operation:     {self.operation}",
            f"index:         {self.index or '(table)'}",
            f"key condition: {self.key_condition.debug() if self.key_condition else '-'}",
            f"filter:        {self.filter.debug() if self.filter else '-'}",
            f"projection:    {', '.join(self.attributes) if self.attributes else 'all attributes'}",
            f"estimate:      {self.cost}",
        ]
        if self.reasons:
            lines.append("why:")
            lines.extend(f"  - {reason}" for reason in self.reasons)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "index": self.index,
            "key_condition": self.key_condition.debug() if self.key_condition else None,
            "filter": self.filter.debug() if self.filter else None,
            "attributes": list(self.attributes) if self.attributes else None,
            "consistent": self.consistent,
            "reasons": list(self.reasons),
            "estimate": (
                {
                    "read_capacity_units": self.estimate.read_capacity_units,
                    "pages": self.estimate.pages,
                }
                if self.estimate
                else None
            ),
            "cost": self.cost,
        }


@dataclass(frozen=True)
class KeySplit:
    """A where-clause split over one key schema."""

    key_condition: Condition | None  # None when the partition key is not bound by equality
    filter: Condition | None
    has_sort_condition: bool


def split_for_keys(where: Condition | None, keys: KeySchema) -> KeySplit:
    """Pull the partition-key equality and one sort-key condition out of the top-level ANDs."""
    if where is None:
        return KeySplit(None, None, False)
    rest = conjuncts(where)
    pk_cond = _take(rest, lambda c: _partition_equality(c, keys.partition_key))
    if pk_cond is None:
        return KeySplit(None, where, False)
    sk_cond = None
    if keys.sort_key is not None:
        sort_key = keys.sort_key
        sk_cond = _take(rest, lambda c: _sort_condition(c, sort_key))
    key_condition = and_all([pk_cond] if sk_cond is None else [pk_cond, sk_cond])
    return KeySplit(key_condition, and_all(rest), sk_cond is not None)


def _take(items: list[Condition], pick: Any) -> Condition | None:
    """Remove and return the first condition ``pick`` turns into a key condition."""
    for position, item in enumerate(items):
        taken = pick(item)
        if taken is not None:
            del items[position]
            return taken  # type: ignore[no-any-return]
    return None


def _attr(operand: Any, key: KeyAttribute) -> bool:
    return isinstance(operand, Path) and operand.parts == (key.name,)


def _literal_of_type(operand: Any, key: KeyAttribute) -> bool:
    return isinstance(operand, Value) and key.accepts(operand.value)


def _normalized_compare(cond: Condition, key: KeyAttribute) -> Compare | None:
    """``key OP literal`` whichever side the key was written on, or None."""
    if not isinstance(cond, Compare) or cond.op == "<>":
        return None
    if _attr(cond.left, key) and _literal_of_type(cond.right, key):
        return cond
    if _attr(cond.right, key) and _literal_of_type(cond.left, key):
        return Compare(_FLIPPED[cond.op], cond.right, cond.left)
    return None


def _partition_equality(cond: Condition, key: KeyAttribute) -> Condition | None:
    compare = _normalized_compare(cond, key)
    return compare if compare is not None and compare.op == "=" else None


def _sort_condition(cond: Condition, key: KeyAttribute) -> Condition | None:
    compare = _normalized_compare(cond, key)
    if compare is not None and compare.op in SORT_KEY_OPERATORS:
        return compare
    if (
        isinstance(cond, Between)
        and _attr(cond.subject, key)
        and _literal_of_type(cond.low, key)
        and _literal_of_type(cond.high, key)
    ):
        return cond
    if (
        isinstance(cond, BeginsWith)
        and key.type in ("S", "B")
        and _attr(cond.path, key)
        and _literal_of_type(cond.prefix, key)
    ):
        return cond
    return None


def check_key_types(where: Condition | None, keys: KeySchema) -> None:
    """Refuse a key compared with a literal of the wrong type before DynamoDB does, more clearly."""
    if where is None:
        return
    for cond in conjuncts(where):
        if not isinstance(cond, Compare) or cond.op != "=":
            continue
        for key in keys.attributes:
            for path, literal in ((cond.left, cond.right), (cond.right, cond.left)):
                if not (_attr(path, key) and isinstance(literal, Value)):
                    continue
                if not key.accepts(literal.value):
                    raise errors.PlanError(
                        f"key attribute {key.name!r} is of type {key.type}, "
                        f"but is compared with {type(literal.value).__name__} "
                        f"{literal.value!r}: {_type_hint(key.type)}"
                    )


def _type_hint(key_type: str) -> str:
    return {
        "S": "quote the value, e.g. 'abc'",
        "N": "write the value as a number, unquoted",
        "B": "pass bytes",
    }[key_type]


def plan_query(
    where: Condition | None,
    keys: KeySchema,
    *,
    index: str | None,
    attributes: Sequence[str] | None,
    consistent: bool,
    table: str,
    reasons: tuple[str, ...] = (),
) -> Plan:
    """A Query on ``keys`` (the table's or the index's), or a PlanError suggesting scan/find."""
    check_key_types(where, keys)
    split = split_for_keys(where, keys)
    if split.key_condition is None:
        on = f"index {index!r}" if index else f"table {table!r}"
        raise errors.PlanError(
            f"query on {on} needs an equality on its partition key "
            f'{keys.partition_key.name!r} (e.g. "{keys.partition_key.name} = ..."): '
            "use scan or find for other conditions"
        )
    return Plan(
        operation="Query",
        index=index,
        key_condition=split.key_condition,
        filter=split.filter,
        attributes=attribute_paths(attributes) or None,
        consistent=consistent,
        reasons=reasons,
    )


def plan_on_index(
    where: Condition | None,
    index: IndexInfo,
    *,
    attributes: Sequence[str] | None,
    consistent: bool,
    table: str,
) -> Plan:
    """The plan on the index a caller chose: a Query when ``where`` binds the index's partition
    key by ``=``, else a Scan of the index (its cost estimated when its size is known)."""
    check_key_types(where, index.keys)
    key = index.partition_key.name
    names = " and ".join(repr(name) for name in index.keys.names)
    # Whichever way it is read, an index lacks the items without its keys: say so, as a
    # person comparing this with the table's count would otherwise wonder.
    holds = f"{index.kind} {index.name} holds only the items that have {names}"
    if split_for_keys(where, index.keys).key_condition is not None:
        why = f"the index's partition key {key!r} is bound by '=': querying the index"
        return plan_query(
            where, index.keys, index=index.name, attributes=attributes, consistent=consistent,
            table=table, reasons=(why, holds),
        )  # fmt: skip
    return plan_scan(
        where,
        index=index.name,
        attributes=attributes,
        consistent=consistent,
        reasons=(
            f"the index's partition key {key!r} is not bound by '=': scanning the index",
            holds,
        ),
        size_bytes=index.size_bytes,
    )


def plan_scan(
    where: Condition | None,
    *,
    index: str | None,
    attributes: Sequence[str] | None,
    consistent: bool,
    reasons: tuple[str, ...] = (),
    size_bytes: int | None = None,
) -> Plan:
    """A Scan of the table (or ``index``); with ``size_bytes``, its estimated cost."""
    return Plan(
        operation="Scan",
        index=index,
        key_condition=None,
        filter=where,
        attributes=attribute_paths(attributes) or None,
        consistent=consistent,
        reasons=reasons,
        estimate=(
            None if size_bytes is None else ScanEstimate.for_size(size_bytes, consistent=consistent)
        ),
    )


@dataclass(frozen=True)
class _Candidate:
    index: IndexInfo | None
    split: KeySplit

    @property
    def rank(self) -> tuple[bool, bool]:
        # A sort-key condition narrows what is read; on a tie the table wins (no index to keep
        # up to date with, strongly consistent reads possible, every attribute there).
        return (self.split.has_sort_condition, self.index is None)


def plan_find(
    where: Condition | None,
    info: TableInfo,
    *,
    attributes: Sequence[str] | None,
    consistent: bool,
) -> Plan:
    """The cheapest plan: Query on the table, Query on an index that can answer, else Scan."""
    attributes = attribute_paths(attributes)
    if where is not None:
        check_key_types(where, info.keys)
    reasons: list[str] = []
    candidates: list[_Candidate] = []
    table_split = split_for_keys(where, info.keys)
    if table_split.key_condition is not None:
        candidates.append(_Candidate(None, table_split))
    else:
        reasons.append(f"table: no equality on partition key {info.partition_key.name!r}")
    needed = _needed_attributes(where, attributes)
    for index in info.indexes:
        why_not = _index_unusable(index, info, needed, consistent)
        split = split_for_keys(where, index.keys)
        if why_not is None and split.key_condition is None:
            why_not = f"no equality on its partition key {index.partition_key.name!r}"
        if why_not is None and index.sort_key is not None and not split.has_sort_condition:
            # An index holds only the items that have its keys: without a condition on its sort
            # key the where-clause could match items the index does not contain.
            why_not = (
                f"holds only items with {index.sort_key.name!r}, "
                "and the where-clause does not require it"
            )
        if why_not is not None:
            reasons.append(f"{index.kind} {index.name}: {why_not}")
            continue
        candidates.append(_Candidate(index, split))
    if not candidates:
        return plan_scan(
            where,
            index=None,
            attributes=attributes,
            consistent=consistent,
            reasons=(*reasons, "no key condition can be used, so every item is read"),
            size_bytes=info.size_bytes,
        )
    best = max(candidates, key=lambda c: c.rank)
    for other in candidates:
        if other is not best:
            name = "table" if other.index is None else f"{other.index.kind} {other.index.name}"
            reasons.append(f"{name}: usable, but {_describe(best)} narrows the read more")
    return Plan(
        operation="Query",
        index=best.index.name if best.index else None,
        key_condition=best.split.key_condition,
        filter=best.split.filter,
        attributes=attribute_paths(attributes) or None,
        consistent=consistent,
        reasons=tuple(reasons),
    )


def _describe(candidate: _Candidate) -> str:
    where = "the table" if candidate.index is None else f"index {candidate.index.name}"
    what = "partition and sort key" if candidate.split.has_sort_condition else "partition key"
    return f"{where} ({what})"


def _needed_attributes(
    where: Condition | None, attributes: Sequence[str] | None
) -> set[str] | None:
    """Top-level attribute names the plan must be able to read; None means the whole item."""
    if attributes is None:
        return None
    names = {_top_name(a) for a in attributes}
    if where is not None:
        names |= {str(p.parts[0]) for p in paths_in(where)}
    return names


def _top_name(attribute: str) -> str:
    from ddbkit.expr.where import parse_path

    return str(parse_path(attribute).parts[0])


def _index_unusable(
    index: IndexInfo, info: TableInfo, needed: set[str] | None, consistent: bool
) -> str | None:
    if index.status != "ACTIVE":
        return f"status {index.status}"
    if consistent and index.kind == "GSI":
        return "global secondary indexes do not support consistent reads"
    if index.projection == "ALL" or index.kind == "LSI":
        # An LSI fetches unprojected attributes from the table (at extra cost), so it answers.
        return None
    projected = set(info.keys.names) | set(index.keys.names) | set(index.projected_attributes)
    if needed is None:
        return f"projects {index.projection} only, and the whole item was asked for"
    missing = sorted(needed - projected)
    if missing:
        return f"does not project {', '.join(missing)}"
    return None
