"""What a SQL query needs from DynamoDB, read from DuckDB's own parser (``json_serialize_sql``).

``analyze(sql)`` walks the parse tree and reports, per DynamoDB table named in the query, the
top-level attributes it references (None: all of them), the WHERE conjuncts DynamoDB can evaluate,
and whether a LIMIT may stop the read early. ``pushdown`` turns that into a ddbkit :class:`Plan`
through the same planner ``find`` uses.

Every rule is conservative: reading too much is always correct (DuckDB still evaluates the whole
query), reading too little never happens.

- A DynamoDB table is a BASE_TABLE with no schema/catalog whose name is not a CTE in scope.
- ``a.b`` is attribute b of the occurrence aliased a when a is in scope; otherwise attribute a
  (b being struct/JSON field access) of every DynamoDB occurrence in scope.
- ``*``, ``t.*``, NATURAL joins and a bare reference to an alias (a whole row) mean all attributes.
- WHERE conjuncts are pushed only for a table that occurs once in the query, sits in this SELECT's
  FROM, is alone there, and is not on the null-supplying side of an outer join; forms:
  ``col op literal``, BETWEEN, IN (up to 100), IS [NOT] NULL, LIKE 'prefix%', starts_with.
- Anything the walker does not know falls back to: every BASE_TABLE name, all attributes, no
  filter, no early stop.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from ddbkit import errors
from ddbkit.expr.expressions import (
    And,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Exists,
    In,
    Not,
    NotExists,
    Or,
    Path,
    Value,
    and_all,
    render_name,
)
from ddbkit.expr.plan import Plan, plan_find, plan_scan
from ddbkit.models import TableInfo

Node = dict[str, Any]

_lock = threading.Lock()
_parser: Any = None
_aggregates: set[str] | None = None


def duckdb_module() -> Any:
    """The duckdb module, imported only when SQL is used (it is an optional extra)."""
    try:
        import duckdb
    except ImportError as exc:
        raise errors.MissingExtraError("duckdb", "sql") from exc
    return duckdb


def _parser_connection() -> Any:
    global _parser
    with _lock:
        if _parser is None:
            _parser = duckdb_module().connect()
        return _parser


def _aggregate_names() -> set[str]:
    global _aggregates
    if _aggregates is None:
        rows = (
            _parser_connection()
            .execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() "
                "WHERE function_type = 'aggregate'"
            )
            .fetchall()
        )
        _aggregates = {str(r[0]).lower() for r in rows} | {"count_star"}
    return _aggregates


def parse(sql: str) -> Node:
    """The parse tree of one SELECT statement; ValidationError for anything else."""
    con = _parser_connection()
    with _lock:  # one connection, shared: DuckDB connections are not for concurrent use
        raw = con.execute("SELECT json_serialize_sql($1::VARCHAR)", [sql]).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error"):
        raise errors.ValidationError(f"SQL: {tree.get('error_message')}")
    if len(tree["statements"]) != 1:
        raise errors.ValidationError("SQL: exactly one SELECT statement expected")
    node: Node = tree["statements"][0]["node"]
    return node


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushable:
    """One WHERE conjunct DynamoDB can evaluate on attribute ``attr``."""

    attr: str
    op: str  # = <> < <= > >= between in is_null not_null begins_with
    values: tuple[tuple[str, Any], ...]  # (DynamoDB type tag, Python value)

    @property
    def type_tag(self) -> str | None:
        tags = {t for t, _ in self.values}
        return tags.pop() if len(tags) == 1 else None


@dataclass
class TableUse:
    name: str
    attrs: set[str] | None = field(default_factory=set)  # None: all attributes
    conjuncts: list[Pushable] = field(default_factory=list)
    occurrences: int = 0
    filter_ok: bool = True

    def all_attrs(self) -> None:
        self.attrs = None

    def add(self, attr: str) -> None:
        if self.attrs is not None:
            self.attrs.add(attr)


@dataclass
class Analysis:
    tables: dict[str, TableUse]
    limit: int | None  # rows wanted when the read may stop early
    fallback: str | None = None  # why the conservative fallback was taken


class _Unknown(Exception):
    pass


@dataclass
class _Occ:
    use: TableUse | None  # None: not a DynamoDB table (CTE, subquery, table function)
    alias: str
    nullable: bool = False  # on the null-supplying side of an outer join


class _Scope:
    def __init__(self, parent: _Scope | None, ctes: set[str]) -> None:
        self.parent = parent
        self.ctes = set(ctes)
        self.bindings: list[_Occ] = []

    def chain(self) -> list[_Scope]:
        out: list[_Scope] = []
        s: _Scope | None = self
        while s is not None:
            out.append(s)
            s = s.parent
        return out

    def cte_names(self) -> set[str]:
        return {name.lower() for s in self.chain() for name in s.ctes}

    def find_alias(self, name: str) -> _Occ | None:
        low = name.lower()
        for s in self.chain():
            for b in s.bindings:
                if b.alias.lower() == low:
                    return b
        return None

    def dynamo_uses(self) -> list[TableUse]:
        return [b.use for s in self.chain() for b in s.bindings if b.use is not None]


class _Walker:
    def __init__(self) -> None:
        self.tables: dict[str, TableUse] = {}
        self.where_nodes: list[tuple[Node, _Scope]] = []

    def query_node(self, node: Node, parent: _Scope | None) -> None:
        entries = (node.get("cte_map") or {}).get("map", [])
        scope = _Scope(parent, {e["key"] for e in entries})
        for entry in entries:
            self.query_node(entry["value"]["query_node"], scope)
        kind = node["type"]
        if kind == "SELECT_NODE":
            self.from_item(node["from_table"], scope, nullable=False)
            for key in ("select_list", "group_expressions"):
                for e in node.get(key) or []:
                    self.expr(e, scope)
            for key in ("where_clause", "having", "qualify"):
                if node.get(key):
                    self.expr(node[key], scope)
            if node.get("where_clause"):
                self.where_nodes.append((node, scope))
        elif kind in ("SET_OPERATION_NODE", "RECURSIVE_CTE_NODE"):
            for child in (node.get("children") or []) + [node.get("left"), node.get("right")]:
                if child:
                    self.query_node(child, scope)
        else:
            raise _Unknown(f"query node {kind}")
        for mod in node.get("modifiers") or []:
            self.any_exprs(mod, scope)

    def from_item(self, item: Node, scope: _Scope, nullable: bool) -> None:
        kind = item["type"]
        if kind == "BASE_TABLE":
            name = item["table_name"]
            alias = item.get("alias") or name
            if (
                item.get("schema_name")
                or item.get("catalog_name")
                or name.lower() in scope.cte_names()
            ):
                scope.bindings.append(_Occ(None, alias))
                return
            use = self.tables.setdefault(name, TableUse(name))
            use.occurrences += 1
            if item.get("sample"):
                use.filter_ok = False
            scope.bindings.append(_Occ(use, alias, nullable))
        elif kind == "JOIN":
            join = item.get("join_type", "INNER")
            left_null = join in ("RIGHT", "OUTER")
            right_null = join in ("LEFT", "OUTER")
            if join not in ("INNER", "LEFT", "RIGHT", "OUTER", "SEMI", "ANTI"):
                left_null = right_null = True  # unknown join kinds: no filter pushdown
            before = len(scope.bindings)
            self.from_item(item["left"], scope, nullable or left_null)
            self.from_item(item["right"], scope, nullable or right_null)
            joined = [b.use for b in scope.bindings[before:] if b.use is not None]
            if item.get("ref_type") == "NATURAL":
                for use in joined:
                    use.all_attrs()
            for col in item.get("using_columns") or []:
                for use in joined:
                    use.add(col)
            if item.get("condition"):
                self.expr(item["condition"], scope)
        elif kind == "SUBQUERY":
            self.query_node(item["subquery"]["node"], scope)
            scope.bindings.append(_Occ(None, item.get("alias") or ""))
        elif kind == "TABLE_FUNCTION":
            self.expr(item["function"], scope)
            scope.bindings.append(_Occ(None, item.get("alias") or ""))
        elif kind != "EMPTY":
            raise _Unknown(f"from item {kind}")

    def any_exprs(self, obj: Any, scope: _Scope) -> None:
        """Every expression anywhere inside obj (modifiers: ORDER BY, LIMIT, DISTINCT ON)."""
        if isinstance(obj, dict):
            if "class" in obj and "type" in obj:
                self.expr(obj, scope)
                return
            for v in obj.values():
                self.any_exprs(v, scope)
        elif isinstance(obj, list):
            for v in obj:
                self.any_exprs(v, scope)

    def expr(self, e: Node, scope: _Scope) -> None:
        cls = e.get("class")
        if cls == "COLUMN_REF":
            self.column(e["column_names"], scope)
        elif cls == "STAR":
            if e.get("expr"):
                self.expr(e["expr"], scope)
            rel = e.get("relation_name") or ""
            occ = scope.find_alias(rel) if rel else None
            if rel and occ is not None:
                if occ.use is not None:
                    occ.use.all_attrs()
            elif not rel:
                for b in scope.bindings:
                    if b.use is not None:
                        b.use.all_attrs()
                if not scope.bindings:
                    for use in scope.dynamo_uses():
                        use.all_attrs()
            else:  # t.* of something the walker cannot place
                for use in scope.dynamo_uses():
                    use.all_attrs()
        elif cls == "SUBQUERY":
            self.query_node(e["subquery"]["node"], scope)
            if e.get("child"):
                self.expr(e["child"], scope)
        else:
            for k, v in e.items():
                if k != "subquery" and isinstance(v, (dict, list)):
                    self.any_exprs(v, scope)

    def column(self, parts: list[str], scope: _Scope) -> None:
        if len(parts) >= 2:
            for at in (0, 1) if len(parts) >= 3 else (0,):  # alias.col or schema.table.col
                occ = scope.find_alias(parts[at])
                if occ is not None:
                    if occ.use is not None:
                        occ.use.add(parts[at + 1])
                    return
        occ = scope.find_alias(parts[0]) if len(parts) == 1 else None
        if occ is not None and occ.use is not None:
            occ.use.all_attrs()  # may be a whole-row reference: SELECT u FROM users u
        for use in scope.dynamo_uses():
            use.add(parts[0])


# -- WHERE conjuncts -----------------------------------------------------------------------------

_CMP = {
    "COMPARE_EQUAL": "=",
    "COMPARE_NOTEQUAL": "<>",
    "COMPARE_LESSTHAN": "<",
    "COMPARE_LESSTHANOREQUALTO": "<=",
    "COMPARE_GREATERTHAN": ">",
    "COMPARE_GREATERTHANOREQUALTO": ">=",
}
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NUMERIC_KINDS = ("INTEGER", "NUMERIC", "DECIMAL", "BIGINT", "HUGEINT", "DOUBLE")


def _conjuncts(e: Node) -> list[Node]:
    if e.get("class") == "CONJUNCTION" and e.get("type") == "CONJUNCTION_AND":
        return [c for child in e["children"] for c in _conjuncts(child)]
    return [e]


def _const(e: Node) -> tuple[str, Any] | None:
    """A SQL literal as (DynamoDB type tag, Python value); None when not a plain literal."""
    if e.get("class") != "CONSTANT":
        return None
    lit = e.get("literal") or {}
    kind, text = lit.get("kind"), lit.get("text")
    if kind == "STRING" and isinstance(text, str):
        return ("S", text)
    if kind in _NUMERIC_KINDS and isinstance(text, str):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        # DynamoDB numbers: 38 significant digits, exponent within -130..125.
        if not number.is_finite() or len(number.normalize().as_tuple().digits) > 38:
            return None
        if number and not -130 <= number.adjusted() <= 125:
            return None
        return ("N", number)
    if kind == "BOOLEAN" and isinstance(text, str):
        return ("BOOL", text.lower() == "true")
    return None  # NULL, dates, intervals, ...: DuckDB-only semantics


_OccOf = Any  # Callable[[list[str]], tuple[_Occ, str] | None]


def _col(e: Node, occ_of: _OccOf) -> tuple[_Occ, str] | None:
    if e.get("class") != "COLUMN_REF":
        return None
    found: tuple[_Occ, str] | None = occ_of(e["column_names"])
    return found


def _pushable(e: Node, occ_of: _OccOf) -> tuple[_Occ, Pushable] | None:
    cls, typ = e.get("class"), e.get("type")
    if cls == "COMPARISON" and typ in _CMP:
        op = _CMP[typ]
        c, k = _col(e["left"], occ_of), _const(e["right"])
        if c is None or k is None:
            c, k, op = _col(e["right"], occ_of), _const(e["left"]), _FLIP[op]
        if c is None or k is None:
            return None
        return c[0], Pushable(c[1], op, (k,))
    if cls == "BETWEEN":
        c = _col(e["input"], occ_of)
        lo, hi = _const(e["lower"]), _const(e["upper"])
        if c and lo and hi and lo[0] == hi[0] and lo[0] in ("S", "N"):
            return c[0], Pushable(c[1], "between", (lo, hi))
        return None
    if cls == "OPERATOR" and typ == "COMPARE_IN":
        c = _col(e["children"][0], occ_of)
        ks = [_const(x) for x in e["children"][1:]]
        options = [k for k in ks if k is not None]
        if c and options and len(options) == len(ks) <= 100:
            return c[0], Pushable(c[1], "in", tuple(options))
        return None
    if cls == "OPERATOR" and typ in ("OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL"):
        c = _col(e["children"][0], occ_of)
        if c:
            return c[0], Pushable(c[1], "is_null" if typ == "OPERATOR_IS_NULL" else "not_null", ())
        return None
    if cls == "FUNCTION" and e.get("function_name") in ("~~", "starts_with", "prefix"):
        args = e.get("children") or [a.get("expression", a) for a in e.get("arguments", [])]
        if len(args) != 2:
            return None
        c, k = _col(args[0], occ_of), _const(args[1])
        if not c or not k or k[0] != "S":
            return None
        text = str(k[1])
        if e["function_name"] == "~~":
            # only a plain prefix: no other wildcard, no escape character
            if not text.endswith("%") or "_" in text or "%" in text[:-1] or "\\" in text:
                return None
            text = text[:-1]
        if not text:
            return None
        return c[0], Pushable(c[1], "begins_with", (("S", text),))
    return None


def _collect_filters(w: _Walker) -> None:
    for node, scope in w.where_nodes:

        def occ_of(parts: list[str], scope: _Scope = scope) -> tuple[_Occ, str] | None:
            if len(parts) == 2:  # alias.attribute: that occurrence (an inner side, checked later)
                occ = next((b for b in scope.bindings if b.alias.lower() == parts[0].lower()), None)
                return (occ, parts[1]) if occ is not None and occ.use is not None else None
            # an unqualified name only when this FROM is exactly one DynamoDB table: in a join a
            # parser cannot tell which side it belongs to
            only = scope.bindings[0] if len(scope.bindings) == 1 else None
            if len(parts) == 1 and only is not None and only.use is not None:
                return (only, parts[0]) if scope.find_alias(parts[0]) is None else None
            return None

        for conj in _conjuncts(node["where_clause"]):
            found = _pushable(conj, occ_of)
            if found is not None and not found[0].nullable and found[0].use is not None:
                found[0].use.conjuncts.append(found[1])


# -- LIMIT early stop ----------------------------------------------------------------------------


def _has_aggregate_or_window(obj: Any) -> bool:
    if isinstance(obj, dict):
        if obj.get("class") in ("WINDOW", "SUBQUERY"):
            return True
        name = str(obj.get("function_name", "")).lower()
        if obj.get("class") == "FUNCTION" and name in _aggregate_names():
            return True
        return any(_has_aggregate_or_window(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_has_aggregate_or_window(v) for v in obj)
    return False


def _int_literal(e: Node | None) -> int | None:
    if e is None or e.get("class") != "CONSTANT":
        return None
    lit = e.get("literal") or {}
    return int(lit["text"]) if lit.get("kind") == "INTEGER" else None


def _early_limit(node: Node, tables: dict[str, TableUse]) -> int | None:
    if node["type"] != "SELECT_NODE" or (node.get("cte_map") or {}).get("map"):
        return None
    if node["from_table"]["type"] != "BASE_TABLE" or len(tables) != 1:
        return None
    if node.get("group_expressions") or node.get("having") or node.get("qualify"):
        return None
    if node.get("aggregate_handling", "STANDARD_HANDLING") != "STANDARD_HANDLING":
        return None
    if node.get("sample") or node["from_table"].get("sample"):
        return None
    limit: int | None = None
    offset = 0
    for mod in node.get("modifiers") or []:
        if mod["type"] != "LIMIT_MODIFIER":
            return None  # ORDER BY, DISTINCT, LIMIT PERCENT, ...
        limit = _int_literal(mod.get("limit"))
        if limit is None:
            return None
        if mod.get("offset") is not None:
            off = _int_literal(mod.get("offset"))
            if off is None:
                return None
            offset = off
    if limit is None:
        return None
    if _has_aggregate_or_window([node.get("select_list"), node.get("where_clause")]):
        return None
    return limit + offset


def analyze(sql: str) -> Analysis:
    """Tables, attributes, pushable conjuncts and early LIMIT of one SELECT statement."""
    node = parse(sql)
    w = _Walker()
    try:
        w.query_node(node, None)
        _collect_filters(w)
    except (_Unknown, KeyError, TypeError, IndexError) as exc:
        names = _all_base_tables(node)
        return Analysis({n: TableUse(n, None, [], 1, False) for n in names}, None, str(exc))
    for use in w.tables.values():
        if use.occurrences != 1 or not use.filter_ok:
            use.conjuncts = []
    return Analysis(w.tables, _early_limit(node, w.tables))


def _all_base_tables(obj: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(obj, dict):
        if obj.get("type") == "BASE_TABLE" and "table_name" in obj:
            out.add(obj["table_name"])
        for v in obj.values():
            out |= _all_base_tables(v)
    elif isinstance(obj, list):
        for v in obj:
            out |= _all_base_tables(v)
    return out


# -- pushdown ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushdown:
    """The plan for one table, and the attributes DynamoDB filters on with their literal types."""

    plan: Plan
    filtered: dict[str, frozenset[str]]


def _ordered(tag: str, low: Any, high: Any) -> bool:
    if tag == "S":
        return bool(str(low).encode() <= str(high).encode())  # DynamoDB orders UTF-8 bytes
    return bool(low <= high)


def _condition(p: Pushable, path: Path) -> Condition | None:
    """The plain DynamoDB condition of p, or None when DynamoDB would refuse or differ."""
    tag = p.type_tag
    values = [Value(v) for _, v in p.values]
    if tag == "BOOL" and p.op not in ("=", "<>", "in"):
        return None
    if p.op in _FLIP:
        return Compare(p.op, path, values[0])
    if p.op == "between":
        # DynamoDB refuses BETWEEN with low > high; SQL just matches nothing
        if tag is None or not _ordered(tag, p.values[0][1], p.values[1][1]):
            return None
        return Between(path, values[0], values[1])
    if p.op == "in":
        return In(path, tuple(values))
    if p.op == "begins_with":
        return BeginsWith(path, values[0])
    return None


def conditions_for(
    use: TableUse, info: TableInfo
) -> tuple[list[Condition], dict[str, frozenset[str]]]:
    """DynamoDB conditions that keep every item DuckDB would keep, and the attributes filtered.

    Key attributes (of the table or an index) always have their declared type when present, so a
    same-type condition on them is exact; other attributes may hold any type, and DynamoDB
    compares only same-type values where SQL might cast, so those conditions are guarded: an item
    whose attribute has another type is kept and DuckDB decides.
    """
    key_types = {k.name: k.type for k in info.keys.attributes}
    table_keys = set(key_types)
    for index in info.indexes:
        key_types.update({k.name: k.type for k in index.keys.attributes})
    out: list[Condition] = []
    filtered: dict[str, frozenset[str]] = {}

    def note(attr: str, tag: str | None) -> None:
        filtered[attr] = filtered.get(attr, frozenset()) | ({tag} if tag else set())

    for p in use.conjuncts:
        path = Path((p.attr,))
        if p.op == "is_null":
            if p.attr in key_types:
                continue
            out.append(Or((NotExists(path), AttributeType(path, "NULL"))))
            note(p.attr, None)
            continue
        if p.op == "not_null":
            if p.attr in key_types:
                continue
            out.append(And((Exists(path), Not(AttributeType(path, "NULL")))))
            note(p.attr, None)
            continue
        tag = p.type_tag
        if tag is None:
            continue
        cond = _condition(p, path)
        if cond is None:
            continue
        if p.attr in key_types:
            if tag != key_types[p.attr]:
                continue  # SQL would cast; DynamoDB would refuse: DuckDB decides
            if p.op != "<>" or p.attr in table_keys:
                out.append(cond)
                if p.attr not in table_keys:
                    note(p.attr, tag)
                continue
        guard = And((Exists(path), Not(AttributeType(path, tag))))
        out.append(Or((cond, guard)))
        note(p.attr, tag)
    return out, filtered


def pushdown(use: TableUse, info: TableInfo) -> Pushdown:
    """Query (table, GSI or LSI) or Scan for one table of the query, as ``find`` would plan it."""
    conds, filtered = conditions_for(use, info)
    where = and_all(conds)
    if use.attrs is None:
        attributes: tuple[str, ...] | None = None
    else:
        # count(*) alone still needs one row per item: project the partition key
        names = sorted(use.attrs) or [info.partition_key.name]
        attributes = tuple(render_name(a) for a in names)
    # An index holds only items that have its key attributes: use one only when the WHERE itself
    # needs its sort key to exist (its partition key is needed by the equality that picks it).
    constrained = {
        p.attr for p in use.conjuncts if p.op not in ("is_null", "<>") and p.type_tag is not None
    }
    usable = tuple(
        ix for ix in info.indexes if ix.sort_key is None or ix.sort_key.name in constrained
    )
    try:
        plan = plan_find(
            where, replace(info, indexes=usable), attributes=attributes, consistent=False
        )
    except errors.PlanError:
        plan = plan_scan(where, index=None, attributes=attributes, consistent=False)
    return Pushdown(plan, filtered)
