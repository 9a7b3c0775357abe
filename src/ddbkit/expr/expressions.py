"""Condition, update and projection expressions as data, and the one placeholder allocator.

Nodes are frozen dataclasses the planner pattern-matches. Every node has

* ``encode(ph)`` - DynamoDB expression text in which every attribute name is a ``#nN`` placeholder
  and every value a ``:vN`` placeholder, so reserved words (``name``, ``status``, ``size`` ...)
  just work and no user text ever lands in an expression;
* ``debug()`` - readable where-language text with the values filled in, which parses back to an
  equal node (``--explain``, logs). The grammar is in :mod:`ddbkit.expr.where`.

One :class:`Placeholders` serves every expression of one request (key condition, filter,
projection, update), so numbering continues across them and equal names/values share one
placeholder.
"""

from __future__ import annotations

import decimal
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ddbkit.errors import ValidationError
from ddbkit.values.serialize import not_unicode, to_attribute

COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
MAX_IN_OPTIONS = 100  # DynamoDB's limit on the operands of IN

# The where language's lexical rules live here, beside the printer (``debug``), because the
# printer must know exactly which names can stay bare; the parser in where.py imports them.
KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "TRUE", "FALSE", "NULL"})


def keyword(word: str) -> str | None:
    """The keyword ``word`` spells (case-insensitive, ASCII only), or None."""
    upper = word.upper()
    # ASCII only: the Turkish dotless i upper-cases to I, and a name must not become IN.
    return upper if word.isascii() and upper in KEYWORDS else None


def is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def is_name_char(char: str) -> bool:
    # Combining marks keep decomposed (NFD) names like "cafe\u0301" bare.
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def is_bare_name(name: str) -> bool:
    """True if ``name`` can be written without backticks in the where language."""
    return (
        bool(name)
        and is_name_start(name[0])
        and all(is_name_char(c) for c in name[1:])
        and keyword(name) is None
    )


# -- rendering values and names as where-language text ------------------------------------------

_STRING_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
# Control, format and line-separator characters are escaped so debug() stays one readable line
# and cannot hide text (a right-to-left override, say) from whoever reads the log.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def render_name(name: str) -> str:
    """A name as the where language writes it: bare if possible, else in backticks."""
    return name if is_bare_name(name) else "`" + name.replace("`", "``") + "`"


def render_string(text: str) -> str:
    """A string literal in single quotes with backslash escapes."""
    out = []
    for char in text:
        if char in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[char])
        elif unicodedata.category(char) in _INVISIBLE:
            out.append(_u_escape(char))
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def _u_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: a surrogate pair, as JSON writes it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


@dataclass(frozen=True, slots=True)
class Param:
    """A named parameter (``:name``) not bound to a value yet: only in text parsed to find
    which attributes its parameters are compared with (:func:`ddbkit.expr.where.param_targets`)."""

    name: str


def render_value(value: Any) -> str:
    """A Python value as a where-language literal (``debug`` output)."""
    if isinstance(value, Param):
        return f":{value.name}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _render_int(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return render_string(value)
    if isinstance(value, (bytes, bytearray)):
        return "x'" + bytes(value).hex() + "'"
    if isinstance(value, (set, frozenset)):
        return "<<" + ", ".join(render_value(v) for v in _sorted(value)) + ">>"
    if isinstance(value, Mapping):
        pairs = (f"{render_string(str(k))}: {render_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    return repr(value)  # not storable anyway; to_attribute refuses it when encoded


def _render_int(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # Python refuses str() of ints over 4300 digits; Decimal has no limit
        return str(decimal.Decimal(value))


def _sorted(values: Iterable[Any]) -> list[Any]:
    # Sets have no order; sorting keeps debug() the same from one run to the next.
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=render_value)


# -- operands -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: ``parts`` holds attribute names (str) and list indexes (int).

    ``a.b[0].c`` is ``Path(("a", "b", 0, "c"))``. The first part is always a name.
    """

    parts: tuple[str | int, ...]

    def __post_init__(self) -> None:
        if not self.parts or not isinstance(self.parts[0], str):
            raise ValidationError(f"a path starts with an attribute name, got {self.parts!r}")
        for part in self.parts:
            if isinstance(part, bool) or not isinstance(part, (str, int)):
                raise ValidationError(f"a path holds names and list indexes, got {part!r}")
            if isinstance(part, str) and not part:
                raise ValidationError("an attribute name cannot be empty")
            if isinstance(part, str) and not_unicode(part):
                raise ValidationError(
                    f"attribute name {part!r} is not valid Unicode (a lone UTF-16 surrogate): "
                    "DynamoDB cannot store it"
                )
            if isinstance(part, int) and part < 0:
                raise ValidationError(f"a list index cannot be negative, got {part}")

    def encode(self, ph: Placeholders) -> str:
        return ph.path(self)

    def debug(self) -> str:
        out = []
        for position, part in enumerate(self.parts):
            if isinstance(part, int):
                out.append(f"[{part}]")
            else:
                out.append(("." if position else "") + render_name(part))
        return "".join(out)

    def overlaps(self, other: Path) -> bool:
        """True if one path is the other or lies inside it (DynamoDB updates each path once)."""
        shorter = min(len(self.parts), len(other.parts))
        return self.parts[:shorter] == other.parts[:shorter]


@dataclass(frozen=True, slots=True)
class Value:
    """A literal Python value; it travels as a ``:vN`` placeholder."""

    value: Any

    def encode(self, ph: Placeholders, path_hint: str = "") -> str:
        return ph.value(self.value, path_hint)

    def debug(self) -> str:
        return render_value(self.value)


@dataclass(frozen=True, slots=True)
class Size:
    """``size(path)``: the length of a string, binary, set, list or map, usable as a number."""

    path: Path

    def encode(self, ph: Placeholders) -> str:
        return f"size({ph.path(self.path)})"

    def debug(self) -> str:
        return f"size({self.path.debug()})"


Operand: TypeAlias = Path | Value | Size


def _hint(*operands: object) -> str:
    """The path a value is compared with, so a bad value's error names the attribute."""
    for operand in operands:
        if isinstance(operand, Path):
            return operand.debug()
        if isinstance(operand, Size):
            return operand.path.debug()
    return ""


def _encode_operand(operand: Operand, ph: Placeholders, hint: str) -> str:
    if isinstance(operand, Value):
        return operand.encode(ph, hint)
    return operand.encode(ph)


# -- conditions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right`` with ``op`` one of ``= <> < <= > >=``."""

    op: str
    left: Operand
    right: Operand

    def __post_init__(self) -> None:
        if self.op not in COMPARATORS:
            raise ValidationError(f"unknown comparison {self.op!r}: use = <> < <= > >=")

    def encode(self, ph: Placeholders) -> str:
        hint = _hint(self.left, self.right)
        left = _encode_operand(self.left, ph, hint)
        return f"{left} {self.op} {_encode_operand(self.right, ph, hint)}"

    def debug(self) -> str:
        return f"{self.left.debug()} {self.op} {self.right.debug()}"


@dataclass(frozen=True, slots=True)
class Between:
    """``subject BETWEEN low AND high`` (both ends included)."""

    subject: Operand
    low: Operand
    high: Operand

    def encode(self, ph: Placeholders) -> str:
        hint = _hint(self.subject, self.low, self.high)
        subject = _encode_operand(self.subject, ph, hint)
        low = _encode_operand(self.low, ph, hint)
        return f"{subject} BETWEEN {low} AND {_encode_operand(self.high, ph, hint)}"

    def debug(self) -> str:
        return f"{self.subject.debug()} BETWEEN {self.low.debug()} AND {self.high.debug()}"


@dataclass(frozen=True, slots=True)
class In:
    """``subject IN (option, ...)`` with 1 to 100 options."""

    subject: Operand
    options: tuple[Operand, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise ValidationError("IN needs at least one value")
        if len(self.options) > MAX_IN_OPTIONS:
            raise ValidationError(
                f"IN takes at most {MAX_IN_OPTIONS} values (DynamoDB's limit), "
                f"got {len(self.options)}: split the condition with OR"
            )

    def encode(self, ph: Placeholders) -> str:
        hint = _hint(self.subject, *self.options)
        subject = _encode_operand(self.subject, ph, hint)
        options = ", ".join(_encode_operand(o, ph, hint) for o in self.options)
        return f"{subject} IN ({options})"

    def debug(self) -> str:
        options = ", ".join(o.debug() for o in self.options)
        return f"{self.subject.debug()} IN ({options})"


@dataclass(frozen=True, slots=True)
class BeginsWith:
    """``begins_with(path, prefix)``: a string or binary attribute starts with ``prefix``."""

    path: Path
    prefix: Operand

    def encode(self, ph: Placeholders) -> str:
        prefix = _encode_operand(self.prefix, ph, self.path.debug())
        return f"begins_with({ph.path(self.path)}, {prefix})"

    def debug(self) -> str:
        return f"begins_with({self.path.debug()}, {self.prefix.debug()})"


@dataclass(frozen=True, slots=True)
class Contains:
    """``contains(path, operand)``: a substring of a string, or an element of a set or list."""

    path: Path
    operand: Operand

    def encode(self, ph: Placeholders) -> str:
        operand = _encode_operand(self.operand, ph, self.path.debug())
        return f"contains({ph.path(self.path)}, {operand})"

    def debug(self) -> str:
        return f"contains({self.path.debug()}, {self.operand.debug()})"


@dataclass(frozen=True, slots=True)
class Exists:
    """``attribute_exists(path)``."""

    path: Path

    def encode(self, ph: Placeholders) -> str:
        return f"attribute_exists({ph.path(self.path)})"

    def debug(self) -> str:
        return f"attribute_exists({self.path.debug()})"


@dataclass(frozen=True, slots=True)
class NotExists:
    """``attribute_not_exists(path)``."""

    path: Path

    def encode(self, ph: Placeholders) -> str:
        return f"attribute_not_exists({ph.path(self.path)})"

    def debug(self) -> str:
        return f"attribute_not_exists({self.path.debug()})"


@dataclass(frozen=True, slots=True)
class AttributeType:
    """``attribute_type(path, 'S')``; ``type_name`` is one of S SS N NS B BS BOOL NULL L M."""

    path: Path
    type_name: str

    def __post_init__(self) -> None:
        if self.type_name not in ATTRIBUTE_TYPES:
            choices = ", ".join(ATTRIBUTE_TYPES)
            raise ValidationError(
                f"unknown attribute type {self.type_name!r}: use one of {choices}"
            )

    def encode(self, ph: Placeholders) -> str:
        return f"attribute_type({ph.path(self.path)}, {ph.value(self.type_name)})"

    def debug(self) -> str:
        return f"attribute_type({self.path.debug()}, {render_string(self.type_name)})"


@dataclass(frozen=True, slots=True)
class And:
    """Every item holds (two or more items)."""

    items: tuple[Condition, ...]

    def __post_init__(self) -> None:
        _check_arity("AND", self.items)

    def encode(self, ph: Placeholders) -> str:
        return " AND ".join(_grouped(item, (And, Or), item.encode(ph)) for item in self.items)

    def debug(self) -> str:
        return " AND ".join(_grouped(item, (And, Or), item.debug()) for item in self.items)


@dataclass(frozen=True, slots=True)
class Or:
    """At least one item holds (two or more items)."""

    items: tuple[Condition, ...]

    def __post_init__(self) -> None:
        _check_arity("OR", self.items)

    def encode(self, ph: Placeholders) -> str:
        # An AND inside an OR needs no parentheses: AND binds tighter.
        return " OR ".join(_grouped(item, (Or,), item.encode(ph)) for item in self.items)

    def debug(self) -> str:
        return " OR ".join(_grouped(item, (Or,), item.debug()) for item in self.items)


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT item``."""

    item: Condition

    def encode(self, ph: Placeholders) -> str:
        return "NOT " + _grouped(self.item, (And, Or), self.item.encode(ph))

    def debug(self) -> str:
        return "NOT " + _grouped(self.item, (And, Or), self.item.debug())


Condition: TypeAlias = (
    Compare
    | Between
    | In
    | BeginsWith
    | Contains
    | Exists
    | NotExists
    | AttributeType
    | And
    | Or
    | Not
)
CONDITION_TYPES = (
    Compare,
    Between,
    In,
    BeginsWith,
    Contains,
    Exists,
    NotExists,
    AttributeType,
    And,
    Or,
    Not,
)


def _check_arity(word: str, items: tuple[Condition, ...]) -> None:
    if len(items) < 2:
        raise ValidationError(f"{word} needs at least two conditions, got {len(items)}")


def _grouped(item: Condition, group: tuple[type, ...], text: str) -> str:
    # Parentheses exactly where the structure needs them: nested AND/OR keep their shape (so
    # debug() parses back to the same tree), and DynamoDB refuses redundant ones like ((a)).
    return f"({text})" if isinstance(item, group) else text


# -- helpers for the planner --------------------------------------------------------------------


def conjuncts(condition: Condition) -> list[Condition]:
    """The conditions ANDed at the top level (nested ANDs flattened)."""
    if isinstance(condition, And):
        return [part for item in condition.items for part in conjuncts(item)]
    return [condition]


def and_all(conditions: Sequence[Condition]) -> Condition | None:
    """The AND of ``conditions``: None for none, the condition itself for one."""
    flat = [part for condition in conditions for part in conjuncts(condition)]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def paths_in(condition: Condition) -> set[Path]:
    """Every path ``condition`` reads (inside ``size()`` too)."""
    found: set[Path] = set()
    for operand in _operands(condition):
        if isinstance(operand, Path):
            found.add(operand)
        elif isinstance(operand, Size):
            found.add(operand.path)
    return found


def _operands(condition: Condition) -> list[Operand]:
    if isinstance(condition, (And, Or)):
        return [o for item in condition.items for o in _operands(item)]
    if isinstance(condition, Not):
        return _operands(condition.item)
    if isinstance(condition, Compare):
        return [condition.left, condition.right]
    if isinstance(condition, Between):
        return [condition.subject, condition.low, condition.high]
    if isinstance(condition, In):
        return [condition.subject, *condition.options]
    if isinstance(condition, BeginsWith):
        return [condition.path, condition.prefix]
    if isinstance(condition, Contains):
        return [condition.path, condition.operand]
    return [condition.path]  # Exists, NotExists, AttributeType


# -- placeholders -------------------------------------------------------------------------------


class Placeholders:
    """Hands out ``#nN`` name and ``:vN`` value placeholders for one request, de-duplicated."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # placeholder -> name
        self._name_placeholders: dict[str, str] = {}  # name -> placeholder
        self._values: dict[str, dict[str, Any]] = {}  # placeholder -> wire value
        self._value_placeholders: dict[Hashable, str] = {}  # frozen wire value -> placeholder

    def name(self, part: str) -> str:
        """The placeholder of one attribute name."""
        placeholder = self._name_placeholders.get(part)
        if placeholder is None:
            placeholder = f"#n{len(self._names)}"
            self._names[placeholder] = part
            self._name_placeholders[part] = placeholder
        return placeholder

    def path(self, path: Path) -> str:
        """``#n0.#n1[0]``: each name a placeholder; list indexes stay literal (DynamoDB's rule)."""
        out = []
        for position, part in enumerate(path.parts):
            if isinstance(part, int):
                out.append(f"[{part}]")
            else:
                out.append(("." if position else "") + self.name(part))
        return "".join(out)

    def value(self, value: Any, path_hint: str = "") -> str:
        """The placeholder of a value; ``path_hint`` names the attribute in conversion errors."""
        wire = to_attribute(value, path_hint)
        key = _freeze(wire)
        placeholder = self._value_placeholders.get(key)
        if placeholder is None:
            placeholder = f":v{len(self._values)}"
            self._values[placeholder] = wire
            self._value_placeholders[key] = placeholder
        return placeholder

    @property
    def names(self) -> dict[str, str]:
        """``ExpressionAttributeNames``: placeholder -> attribute name."""
        return dict(self._names)

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        """``ExpressionAttributeValues``: placeholder -> wire value."""
        return dict(self._values)

    def request_params(self) -> dict[str, Any]:
        """The placeholder maps as request parameters, minus empty ones (DynamoDB refuses those)."""
        params: dict[str, Any] = {}
        if self._names:
            params["ExpressionAttributeNames"] = self.names
        if self._values:
            params["ExpressionAttributeValues"] = self.values
        return params


_SET_TYPES = frozenset({"SS", "NS", "BS"})


def _freeze(wire: Any) -> Hashable:
    """A hashable form of a wire value, equal exactly when the wire values are equal."""
    if isinstance(wire, dict):
        return ("M", tuple(sorted((k, _freeze_member(k, v)) for k, v in wire.items())))
    if isinstance(wire, list):
        return ("L", tuple(_freeze(v) for v in wire))
    frozen: Hashable = wire  # str, bytes, bool: hashable already
    return frozen


def _freeze_member(type_tag: str, member: Any) -> Hashable:
    # A set's members have no order: {"SS": ["a", "b"]} equals {"SS": ["b", "a"]}.
    if type_tag in _SET_TYPES:
        return frozenset(member)
    return _freeze(member)


# -- projections --------------------------------------------------------------------------------

PathLike: TypeAlias = str | Path


def refuse_overlaps(paths: Sequence[tuple[str, Path]]) -> None:
    for position, (clause, path) in enumerate(paths):
        for other_clause, other in paths[position + 1 :]:
            if not path.overlaps(other):
                continue
            if path == other and clause == other_clause:
                raise ValidationError(f"path {path.debug()} appears twice in {clause}")
            if path == other:
                raise ValidationError(
                    f"path {path.debug()} appears in both {clause} and {other_clause}: "
                    "DynamoDB changes a path at most once per request"
                )
            raise ValidationError(
                f"paths {path.debug()} ({clause}) and {other.debug()} ({other_clause}) overlap: "
                "DynamoDB refuses a path together with a path inside it"
            )


# -- update expressions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IfNotExists:
    """``if_not_exists(path, default)``: the attribute's value, or ``default`` when it is absent."""

    path: Path
    default: SetOperand

    def encode(self, ph: Placeholders) -> str:
        default = _encode_set_operand(self.default, ph, self.path.debug())
        return f"if_not_exists({ph.path(self.path)}, {default})"

    def debug(self) -> str:
        return f"if_not_exists({self.path.debug()}, {self.default.debug()})"


@dataclass(frozen=True, slots=True)
class ListAppend:
    """``list_append(first, second)``: the two lists joined."""

    first: SetOperand
    second: SetOperand

    def encode(self, ph: Placeholders) -> str:
        hint = _hint(self.first, self.second)
        first = _encode_set_operand(self.first, ph, hint)
        return f"list_append({first}, {_encode_set_operand(self.second, ph, hint)})"

    def debug(self) -> str:
        return f"list_append({self.first.debug()}, {self.second.debug()})"


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left + right`` or ``left - right`` on numbers (DynamoDB allows one operator per SET)."""

    op: str
    left: SetOperand
    right: SetOperand

    def __post_init__(self) -> None:
        if self.op not in ("+", "-"):
            raise ValidationError(f"SET arithmetic is + or -, not {self.op!r}")

    def encode(self, ph: Placeholders) -> str:
        hint = _hint(self.left, self.right)
        left = _encode_set_operand(self.left, ph, hint)
        return f"{left} {self.op} {_encode_set_operand(self.right, ph, hint)}"

    def debug(self) -> str:
        return f"{self.left.debug()} {self.op} {self.right.debug()}"


SetOperand: TypeAlias = Path | Value | IfNotExists | ListAppend
UpdateOperand: TypeAlias = SetOperand | Arithmetic
UPDATE_OPERAND_TYPES = (Path, Value, IfNotExists, ListAppend, Arithmetic)


def _encode_set_operand(operand: UpdateOperand, ph: Placeholders, hint: str) -> str:
    if isinstance(operand, Value):
        return operand.encode(ph, hint)
    return operand.encode(ph)


@dataclass(frozen=True, slots=True)
class Update:
    """The four clauses of an UpdateExpression; build one with :func:`build_update`.

    ``set`` pairs a path with its new value; ``add`` a path with a number or set to add;
    ``remove`` lists paths; ``delete`` pairs a path with a set of elements to take out.
    """

    set: tuple[tuple[Path, UpdateOperand], ...] = ()
    add: tuple[tuple[Path, Value], ...] = ()
    remove: tuple[Path, ...] = ()
    delete: tuple[tuple[Path, Value], ...] = ()

    def __post_init__(self) -> None:
        if not (self.set or self.add or self.remove or self.delete):
            raise ValidationError("nothing to update: give set, add, remove or delete")
        for path, value in self.add:
            check_add_value(value.value, path.debug())
        for path, value in self.delete:
            check_delete_value(value.value, path.debug())
        refuse_overlaps(self.targets())

    def targets(self) -> list[tuple[str, Path]]:
        """Every path the update changes, with its clause name."""
        return [
            *(("SET", path) for path, _ in self.set),
            *(("REMOVE", path) for path in self.remove),
            *(("ADD", path) for path, _ in self.add),
            *(("DELETE", path) for path, _ in self.delete),
        ]

    def encode(self, ph: Placeholders) -> str:
        clauses = []
        if self.set:
            actions = (
                f"{ph.path(p)} = {_encode_set_operand(v, ph, p.debug())}" for p, v in self.set
            )
            clauses.append("SET " + ", ".join(actions))
        if self.remove:
            clauses.append("REMOVE " + ", ".join(ph.path(p) for p in self.remove))
        if self.add:
            clauses.append("ADD " + _encode_pairs(self.add, ph))
        if self.delete:
            clauses.append("DELETE " + _encode_pairs(self.delete, ph))
        return " ".join(clauses)

    def debug(self) -> str:
        """Readable clauses; each clause's text parses back with its where.py clause parser."""
        clauses = []
        if self.set:
            clauses.append("SET " + debug_assignments(self.set))
        if self.remove:
            clauses.append("REMOVE " + ", ".join(p.debug() for p in self.remove))
        if self.add:
            clauses.append("ADD " + debug_assignments(self.add))
        if self.delete:
            clauses.append("DELETE " + debug_assignments(self.delete))
        return " ".join(clauses)


def _encode_pairs(pairs: tuple[tuple[Path, Value], ...], ph: Placeholders) -> str:
    # ADD and DELETE write "path value", without the "=" of SET.
    return ", ".join(f"{ph.path(p)} {v.encode(ph, p.debug())}" for p, v in pairs)


def debug_assignments(pairs: Iterable[tuple[Path, UpdateOperand]]) -> str:
    """``a = 1, n = n + 1``: the text form of SET, ADD and DELETE clauses."""
    return ", ".join(f"{path.debug()} = {value.debug()}" for path, value in pairs)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def check_add_value(value: Any, path: str) -> None:
    """Refuse what ADD cannot take: it adds a number, or the elements of a set."""
    if not (_is_number(value) or isinstance(value, (set, frozenset))):
        raise ValidationError(
            f"ADD {path}: ADD takes a number or a set, not {type(value).__name__} "
            "(use SET for other values)"
        )


def check_delete_value(value: Any, path: str) -> None:
    """Refuse what DELETE cannot take: it removes the elements of a set from a set."""
    if not isinstance(value, (set, frozenset)):
        raise ValidationError(
            f"DELETE {path}: DELETE takes a set of elements to remove, not {type(value).__name__} "
            "(use REMOVE to delete an attribute)"
        )


PathMapping: TypeAlias = "Mapping[str, Any] | Mapping[Path, Any] | Mapping[PathLike, Any]"
