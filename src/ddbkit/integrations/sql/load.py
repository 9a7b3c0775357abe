"""DynamoDB pages into typed DuckDB tables, without decoding items in Python.

1. fetch: the one page loop (paginate, ``decode=False``) on a thread per segment; every page's
   JSON bytes go as they are to a file of their own in a temporary directory.
2. detect: one DuckDB pass over the files counts, per attribute, the type tags of its values and
   the digits of its numbers (a second, narrower pass only when numbers need exact digit counts).
3. convert: ``CREATE TABLE <name> AS SELECT <typed columns>`` straight off the files; the files are
   deleted right after, so the DuckDB connection alone holds the data.

Column types: S -> VARCHAR; N -> BIGINT when every value is integral and fits, DECIMAL(38,s) when
every value fits that exactly, DOUBLE when every value has at most 15 significant digits (so the
double is exact to print back), else JSON (the exact number text); BOOL -> BOOLEAN; B -> BLOB;
SS -> VARCHAR[], NS -> BIGINT[]/DECIMAL[]/DOUBLE[] (sorted), BS -> BLOB[]; M and L -> JSON as plain
JSON text (the form of ddbkit's jsonl); an attribute with values of more than one type -> JSON; a
missing attribute or a DynamoDB NULL -> SQL NULL.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ddbkit.formats.jsonl import _plain_list, _plain_map, plain_value
from ddbkit.read.cursors import SegmentCursors
from ddbkit.read.paginate import _merge, _segment_sources
from ddbkit.read.segments import default_page_size

if TYPE_CHECKING:
    from ddbkit.transport.base import Connection
    from ddbkit.transport.ratelimit import RateLimiter

TAGS = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
_AV = (
    '{"S":"VARCHAR","N":"VARCHAR","B":"VARCHAR","BOOL":"BOOLEAN","NULL":"BOOLEAN",'
    '"M":"JSON","L":"JSON","SS":["VARCHAR"],"NS":["VARCHAR"],"BS":["VARCHAR"]}'
)
_AV_STRUCT = (
    'STRUCT("S" VARCHAR, "N" VARCHAR, "B" VARCHAR, "BOOL" BOOLEAN, "NULL" BOOLEAN, "M" JSON, '
    '"L" JSON, "SS" VARCHAR[], "NS" VARCHAR[], "BS" VARCHAR[])'
)
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"  # DynamoDB's canonical number text (no exponent)
_STAT_KEYS = ("odd", "frac", "big", "int", "scale", "sig", "n")
_SCANNED = re.compile(rb'"ScannedCount"\s*:\s*([0-9]+)')


def qi(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# -- 1. fetch ------------------------------------------------------------------------------------


@dataclass
class FetchStats:
    pages: int = 0
    bytes: int = 0
    scanned: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)


def fetch_pages(
    db: Connection,
    operation: str,
    params: dict[str, Any],
    dest: str,
    *,
    segments: int = 1,
    enough: Callable[[], bool] | None = None,
    progress: Callable[[int], None] | None = None,
    cursors: SegmentCursors | None = None,
    limiter: RateLimiter | None = None,
) -> FetchStats:
    """Every page's raw bytes to ``dest/<segment>-<n>.json``; ``enough()`` may stop after a page.

    ``cursors`` (of ``segments`` segments) says where each segment starts; a finished one is
    not read, so a Dask partition reads its one segment by marking all the others done.
    """
    stats = FetchStats()
    started = time.perf_counter()
    total = segments if operation == "scan" and enough is None else 1
    # The same page size as Table.scan; a Limit already in the request (early LIMIT) is kept.
    size = default_page_size(db) if "Limit" not in params else None
    sources = _segment_sources(
        db,
        operation,
        params,
        params["TableName"],
        cursors if cursors is not None else SegmentCursors(total),
        limiter,
        page_limit=(lambda: size) if size else None,
        decode=False,
    )
    numbers: dict[int, int] = {}
    pages = _merge(sources, total)
    try:
        for segment, reply in pages:
            body: bytes = reply["body"]
            n = numbers.get(segment, 0)
            numbers[segment] = n + 1
            with open(os.path.join(dest, f"{segment:05d}-{n:07d}.json"), "wb") as f:
                f.write(body)
            stats.pages += 1
            stats.bytes += len(body)
            # only for the progress bar: ScannedCount sits next to the page's start or end
            found = _SCANNED.search(body, max(0, len(body) - 400)) or _SCANNED.search(body, 0, 200)
            scanned = int(found.group(1)) if found else 0
            stats.scanned += scanned
            if progress is not None:
                progress(scanned)
            if enough is not None and reply.get("LastEvaluatedKey") and enough():
                stats.stopped_early = True
                break
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()  # stops the segment threads when the walk ends early
    stats.seconds = time.perf_counter() - started
    return stats


# -- sources: one row per item, one AV-struct column per attribute --------------------------------


class Source:
    """Where items come from: DynamoDB page files, or ddb-json lines ({"Item": {...}})."""

    def __init__(self, files_sql: str, *, ddb_json: bool = False) -> None:
        self.files_sql = files_sql
        self.ddb_json = ddb_json

    def rows(self, attrs: list[str]) -> str:
        if self.ddb_json:
            inner = ", ".join(f"{qi(a)} {_AV_STRUCT}" for a in attrs)
            columns = "{'Item': " + ql(f"STRUCT({inner})") + "}"
            return (
                f"SELECT unnest(Item) FROM read_json({self.files_sql}, "
                f"format = 'newline_delimited', columns = {columns})"
            )
        inner = ",".join(f"{orjson.dumps(a).decode()}:{_AV}" for a in attrs)
        spec = ql('{"Items":[{' + inner + "}]}")
        return (
            f"SELECT unnest(from_json(content, {spec}).Items, max_depth := 2) "
            f"FROM read_text({self.files_sql})"
        )

    def attributes(self, con: Any) -> list[str]:
        """Every top-level attribute name (for SELECT *)."""
        if self.ddb_json:
            sql = (
                "SELECT DISTINCT unnest(json_keys(Item)) FROM read_json("
                f"{self.files_sql}, format = 'newline_delimited', columns = {{'Item': 'JSON'}})"
            )
        else:
            sql = (
                "SELECT DISTINCT unnest(json_keys(i)) FROM (SELECT unnest(from_json(content, "
                f'\'{{"Items":["JSON"]}}\').Items) AS i FROM read_text({self.files_sql}))'
            )
        return sorted(str(r[0]) for r in con.execute(sql).fetchall())


# -- 2. detect -----------------------------------------------------------------------------------


def _detection_sql(rows: str, attrs: list[str]) -> str:
    cols = ["count(*) AS items"]
    for i, a in enumerate(attrs):
        c = qi(a)
        cols += [f"count({c}.{qi(t)}) AS {qi(f'{i}|{t}')}" for t in TAGS]
        v, p = f'{c}."N"', f"{i}|N|"
        cols += [
            f"count({v}) AS {qi(p + 'n')}",
            f"count({v}) FILTER (WHERE contains({v}, '.')) AS {qi(p + 'frac')}",
            # exponent forms: DynamoDB never returns them, but never assume
            f"count({v}) FILTER (WHERE contains({v}, 'e') OR contains({v}, 'E')) "
            f"AS {qi(p + 'odd')}",
            f"count(TRY_CAST({v} AS BIGINT)) AS {qi(p + 'big')}",  # rounds fractions: see frac
            # integer-part length (counting '-' and a leading 0): an upper bound of its digits
            f"max(CASE WHEN contains({v}, '.') THEN strpos({v}, '.') - 1 ELSE length({v}) END)"
            f" AS {qi(p + 'int')}",
            f"max(CASE WHEN contains({v}, '.') THEN length({v}) - strpos({v}, '.') ELSE 0 END)"
            f" AS {qi(p + 'scale')}",
        ]
    return f"SELECT {', '.join(cols)} FROM ({rows})"


def _exact_stats(expr: str, p: str, is_list: bool) -> list[str]:
    """Exact facts of number texts: odd forms, fractions, BIGINT fits, digit counts."""
    intd = "length(ltrim(split_part(ltrim({v}, '-'), '.', 1), '0'))"
    scale = "length(split_part({v}, '.', 2))"
    sig = "length(trim(replace(ltrim({v}, '-'), '.', ''), '0'))"
    odd = f"NOT regexp_full_match({{v}}, {ql(_NUMBER)})"
    if not is_list:
        v = expr
        return [
            f"count({v}) FILTER (WHERE {odd.format(v=v)}) AS {qi(p + 'odd')}",
            f"count({v}) FILTER (WHERE contains({v}, '.')) AS {qi(p + 'frac')}",
            f"count(TRY_CAST({v} AS BIGINT)) AS {qi(p + 'big')}",
            f"max({intd.format(v=v)}) AS {qi(p + 'int')}",
            f"max({scale.format(v=v)}) AS {qi(p + 'scale')}",
            f"max({sig.format(v=v)}) AS {qi(p + 'sig')}",
            f"count({v}) AS {qi(p + 'n')}",
        ]

    has_dot = "contains(v, '.')"

    def lsum(pred: str) -> str:
        return f"sum(len(list_filter({expr}, lambda v: {pred})))"

    def lmax(f: str) -> str:
        return f"max(list_max(list_transform({expr}, lambda v: {f})))"

    return [
        f"{lsum(odd.format(v='v'))} AS {qi(p + 'odd')}",
        f"{lsum(has_dot)} AS {qi(p + 'frac')}",
        f"{lsum('TRY_CAST(v AS BIGINT) IS NOT NULL')} AS {qi(p + 'big')}",
        f"{lmax(intd.format(v='v'))} AS {qi(p + 'int')}",
        f"{lmax(scale.format(v='v'))} AS {qi(p + 'scale')}",
        f"{lmax(sig.format(v='v'))} AS {qi(p + 'sig')}",
        f"sum(len({expr})) AS {qi(p + 'n')}",
    ]


def detect(con: Any, source: Source, attrs: list[str]) -> dict[str, Any]:
    """Type facts of every attribute (see _detection_sql), exact digits where they matter."""
    cur = con.execute(_detection_sql(source.rows(attrs), attrs))
    row: dict[str, Any] = dict(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
    wanted: list[tuple[int, str]] = []
    for i in range(len(attrs)):
        row[f"{i}|N|sig"] = 99  # unknown until the exact pass
        n, frac, odd, big = (row[f"{i}|N|{k}"] for k in ("n", "frac", "odd", "big"))
        integral = n and not frac and not odd and big == n
        wide = (row[f"{i}|N|int"] or 0) + (row[f"{i}|N|scale"] or 0) > 38
        if n and not integral and (odd or wide):
            wanted.append((i, "N"))
        if row[f"{i}|NS"]:
            wanted.append((i, "NS"))
        else:
            row.update({f"{i}|NS|{k}": None for k in _STAT_KEYS})
    if wanted:
        sub = sorted({attrs[i] for i, _ in wanted})
        cols: list[str] = []
        for i, tag in wanted:
            cols += _exact_stats(f'{qi(attrs[i])}."{tag}"', f"{i}|{tag}|", tag == "NS")
        cur = con.execute(f"SELECT {', '.join(cols)} FROM ({source.rows(sub)})")
        row.update(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
    return row


# -- 3. convert ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    attr: str
    sql_type: str
    expr: str  # over the AV-struct column
    tags: dict[str, int]
    note: str = ""


def _number_type(s: dict[str, Any]) -> str:
    """The DuckDB type that holds every number with these facts exactly; JSON if none does."""
    n = s["n"] or 0
    if n == 0 or (s["odd"] == 0 and s["frac"] == 0 and s["big"] == n):
        return "BIGINT"
    scale = s["scale"] or 0
    if s["odd"] == 0 and (s["int"] or 0) + scale <= 38:
        return f"DECIMAL(38,{scale})"
    if (s["sig"] or 0) <= 15:
        return "DOUBLE"  # 15 significant digits survive a round trip through a double
    return "JSON"


def decide(attrs: list[str], row: dict[str, Any]) -> list[Column]:
    """One typed column per attribute, from the facts ``detect`` gathered."""
    cols: list[Column] = []
    for i, a in enumerate(attrs):
        c = qi(a)
        tags = {t: int(row[f"{i}|{t}"]) for t in TAGS if row[f"{i}|{t}"]}
        present = [t for t in tags if t != "NULL"]
        if not present:
            note = "only NULL" if tags else "never present (names are case-sensitive)"
            cols.append(Column(a, "JSON", "NULL::JSON", tags, note))
            continue
        if len(present) > 1:
            cols.append(Column(a, "JSON", _json_expr(c), tags, "mixed types"))
            continue
        t = present[0]
        if t == "S":
            cols.append(Column(a, "VARCHAR", f'{c}."S"', tags))
        elif t == "N":
            typ = _number_type({k: row[f"{i}|N|{k}"] for k in _STAT_KEYS})
            note = "numbers beyond DECIMAL(38) and 15 digits" if typ == "JSON" else ""
            cols.append(Column(a, typ, f'CAST({c}."N" AS {typ})', tags, note))
        elif t == "BOOL":
            cols.append(Column(a, "BOOLEAN", f'{c}."BOOL"', tags))
        elif t == "B":
            cols.append(Column(a, "BLOB", f'from_base64({c}."B")', tags))
        elif t == "SS":
            cols.append(Column(a, "VARCHAR[]", f'list_sort({c}."SS")', tags))
        elif t == "NS":
            typ = _number_type({k: row[f"{i}|NS|{k}"] for k in _STAT_KEYS})
            if typ == "JSON":
                cols.append(Column(a, "JSON", f"ddb_plain('NS', to_json({c}.\"NS\"))", tags))
            else:
                expr = f'list_sort(list_transform({c}."NS", lambda v: CAST(v AS {typ})))'
                cols.append(Column(a, f"{typ}[]", expr, tags))
        elif t == "BS":
            expr = f'list_sort(list_transform({c}."BS", lambda v: from_base64(v)))'
            cols.append(Column(a, "BLOB[]", expr, tags))
        else:  # M, L
            cols.append(Column(a, "JSON", f"ddb_plain('{t}', {c}.\"{t}\")", tags))
    return cols


def _json_expr(c: str) -> str:
    """A mixed-type attribute as plain JSON text (a DynamoDB NULL is SQL NULL, as missing)."""
    return (
        f'CASE WHEN {c}."S" IS NOT NULL THEN to_json({c}."S") '
        f'WHEN {c}."N" IS NOT NULL THEN CAST({c}."N" AS JSON) '
        f'WHEN {c}."BOOL" IS NOT NULL THEN to_json({c}."BOOL") '
        f'WHEN {c}."B" IS NOT NULL THEN to_json({c}."B") '
        f'WHEN {c}."SS" IS NOT NULL THEN to_json(list_sort({c}."SS")) '
        f'WHEN {c}."M" IS NOT NULL THEN ddb_plain(\'M\', {c}."M") '
        f'WHEN {c}."L" IS NOT NULL THEN ddb_plain(\'L\', {c}."L") '
        f'WHEN {c}."NS" IS NOT NULL THEN ddb_plain(\'NS\', to_json({c}."NS")) '
        f'WHEN {c}."BS" IS NOT NULL THEN ddb_plain(\'BS\', to_json({c}."BS")) END'
    )


def _plain_udf(tags: Any, texts: Any) -> Any:
    """Typed DynamoDB JSON (an M, L or set) -> plain JSON text as ddbkit's jsonl writes it.

    Vectorised over Arrow arrays; only M/L/set values ever reach Python.
    """
    import pyarrow as pa

    out: list[str | None] = []
    loads, dumps = orjson.loads, orjson.dumps
    for tag, text in zip(tags.to_pylist(), texts.to_pylist(), strict=True):
        if text is None:
            out.append(None)
        elif tag == "M":
            out.append(dumps(_plain_map(loads(text))).decode())
        elif tag == "L":
            out.append(dumps(_plain_list(loads(text))).decode())
        else:
            out.append(dumps(plain_value({tag: loads(text)})).decode())
    return pa.array(out, pa.string())


def register_functions(con: Any) -> None:
    """The ``ddb_plain(tag, typed_json)`` macro the column expressions use (once per connection)."""
    # An Arrow UDF returns VARCHAR; the macro casts to JSON.
    con.create_function(
        "ddb_plain_text",
        _plain_udf,
        ["VARCHAR", "VARCHAR"],
        "VARCHAR",
        type="arrow",
        null_handling="special",
    )
    con.execute("CREATE OR REPLACE MACRO ddb_plain(tag, t) AS CAST(ddb_plain_text(tag, t) AS JSON)")


def define(
    con: Any,
    name: str,
    source: Source,
    attrs: list[str] | None,
    *,
    fallback_attrs: list[str],
    kind: str = "TABLE",
) -> list[Column]:
    """Create table (or view) ``name`` with one typed column per attribute from ``source``.

    ``con`` must have had :func:`register_functions` called on it.
    """
    names = attrs if attrs is not None else source.attributes(con)
    if not names:
        names = fallback_attrs
    cols = decide(names, detect(con, source, names))
    select = ", ".join(f"{col.expr} AS {qi(col.attr)}" for col in cols)
    con.execute(
        f"CREATE OR REPLACE TEMP {kind} {qi(name)} AS SELECT {select} FROM ({source.rows(names)})"
    )
    return cols
