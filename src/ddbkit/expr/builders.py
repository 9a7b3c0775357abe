"""Expression nodes from the user's text (or nodes): projections and update clauses.

The parser (where.py) builds nodes defined in expressions.py; this module sits above both, so
neither imports the other in a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ddbkit.errors import ValidationError
from ddbkit.expr import where
from ddbkit.expr.expressions import (
    UPDATE_OPERAND_TYPES,
    Compare,
    Condition,
    Path,
    PathLike,
    PathMapping,
    Placeholders,
    Update,
    UpdateOperand,
    Value,
    and_all,
    refuse_overlaps,
)


def encode_projection(paths: Iterable[PathLike] | str, ph: Placeholders) -> str:
    """``#n0, #n1.#n2`` for a ProjectionExpression.

    ``paths`` holds path strings (``a.b[0]``, backticks for odd names) or Path objects; a single
    string is a comma-separated list. Repeats are dropped; overlapping paths are refused, as
    DynamoDB would refuse them.
    """
    unique = list(dict.fromkeys(_path_list(paths)))
    if not unique:
        raise ValidationError("a projection needs at least one attribute")
    refuse_overlaps([("projection", p) for p in unique])
    return ", ".join(ph.path(p) for p in unique)


def attribute_paths(attributes: Any) -> tuple[str, ...] | None:
    """A projection as a tuple of path texts: from a list of paths, or one string of paths
    separated by commas (``"id, name"``); None stays None. Anything else is refused here, so a
    string is never taken for a list of one-letter names."""
    if attributes is None:
        return None
    if isinstance(attributes, (bytes, bytearray, Mapping)) or not isinstance(
        attributes, (str, Iterable)
    ):
        raise ValidationError(
            "attributes is a list of attribute paths, like ['id', 'address.city'], "
            f"not {type(attributes).__name__}"
        )
    return tuple(path.debug() for path in _path_list(attributes))


def _path_list(paths: Iterable[PathLike] | str) -> list[Path]:
    # Imported here: where.py builds these nodes, so importing it at the top would be a cycle.

    if isinstance(paths, str):
        return where.parse_path_list(paths)
    return [_as_path(p) for p in paths]


def _as_path(path: PathLike) -> Path:

    if isinstance(path, Path):
        return path
    if isinstance(path, str):
        return where.parse_path(path)
    raise ValidationError(f"a path is a string like 'a.b[0]' or a Path, not {type(path).__name__}")


def build_update(
    *,
    set: PathMapping | str | None = None,  # named after DynamoDB's SET clause
    add: PathMapping | str | None = None,
    remove: Iterable[PathLike] | str | None = None,
    delete: PathMapping | str | None = None,
    bindings: Any = None,
) -> Update:
    """An :class:`Update` from mappings (path -> Python value) or clause strings.

    Strings use the where-language clause syntax (see :mod:`ddbkit.expr.where`): ``set="n = n + 1,
    nick = 'x'"``, ``add="logins = 1"``, ``remove="a, b.c[0]"``, ``delete="tags = <<'x'>>"``;
    ``bindings`` (a :class:`ddbkit.expr.where.Bindings`) gives their ``:name`` parameters values.
    In a ``set`` mapping a value may also be an update node (``Path``, ``IfNotExists`` ...).
    """

    def parse(clause: Callable[..., Any]) -> Callable[[str], Any]:
        return lambda text: clause(text, bindings)

    return Update(
        set=tuple(_clause(set, parse(where.parse_set_clause), _set_operand)),
        add=tuple(_clause(add, parse(where.parse_add_clause), Value)),
        remove=tuple(_remove_paths(remove)),
        delete=tuple(_clause(delete, parse(where.parse_delete_clause), Value)),
    )


def _clause(
    given: PathMapping | str | None,
    parse: Callable[[str], Sequence[tuple[Path, Any]]],
    wrap: Callable[[Any], Any],
) -> list[tuple[Path, Any]]:
    if given is None:
        return []
    if isinstance(given, str):
        return list(parse(given))
    if not isinstance(given, Mapping):
        raise ValidationError(
            f"update clauses take a dict of path -> value or a string, not {type(given).__name__}"
        )
    return [(_as_path(path), wrap(value)) for path, value in given.items()]


def _set_operand(value: Any) -> UpdateOperand:
    # Update nodes pass through so library callers can write n = n + 1 without a string.
    if isinstance(value, UPDATE_OPERAND_TYPES):
        return value
    return Value(value)


def _remove_paths(given: Iterable[PathLike] | str | None) -> list[Path]:
    if given is None:
        return []

    if isinstance(given, str):
        return where.parse_remove_clause(given)
    return [_as_path(p) for p in given]


def encode_update(
    *,
    set: PathMapping | str | None = None,  # named after DynamoDB's SET clause
    add: PathMapping | str | None = None,
    remove: Iterable[PathLike] | str | None = None,
    delete: PathMapping | str | None = None,
    ph: Placeholders,
) -> str:
    """The UpdateExpression for these clauses (see :func:`build_update`), placeholders in ``ph``."""
    return build_update(set=set, add=add, remove=remove, delete=delete).encode(ph)


# DynamoDB allows 300 operators in an expression; N attributes take N '=' and N - 1 'AND'.
MAX_EXPECTED = 150


def unchanged(expected: Mapping[str, Any]) -> Condition:
    """Every top-level attribute of ``expected`` (an item as it was read) still holds its value.

    DynamoDB's ``=`` compares maps, lists and sets as wholes (member order of a set and key order
    of a map aside, numbers by value) and is false for a missing attribute, so this also fails
    once the item was deleted. Attributes added since the read are not seen: a condition
    expression cannot say "no other attributes".
    """
    if not isinstance(expected, Mapping):
        raise ValidationError(
            f"expected is the whole item as it was read (a dict), not {type(expected).__name__}"
        )
    if len(expected) > MAX_EXPECTED:
        raise ValidationError(
            f"expected has {len(expected)} attributes, and a DynamoDB condition holds at most "
            f"300 operators, enough to check {MAX_EXPECTED}: save without expected, or keep a "
            "version attribute and pass a condition on it"
        )
    condition = and_all(
        [Compare("=", Path((name,)), Value(value)) for name, value in expected.items()]
    )
    if condition is None:
        raise ValidationError("expected is empty: pass the whole item as it was read")
    return condition
