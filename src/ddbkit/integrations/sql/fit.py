"""Columns declared in advance, and the values that do not fit them.

``load.define`` decides each column's type from all the items it converts. A Dask frame must
declare its columns before any partition is read, so they are decided from a sample
(:func:`declare`), and every partition is converted to exactly those columns (:func:`select`):

- a value of the declared type goes to its column, converted by the same expression as in SQL;
- a column of JSON type (maps, lists, mixed types, huge numbers) takes a value of any type;
- a DynamoDB NULL is SQL NULL, as in SQL;
- anything else (a value of another type, a number the column cannot hold exactly, an
  attribute the sample never saw) leaves its column NULL and goes, as DynamoDB JSON with its
  type, to the rest column: a JSON object of attribute name -> typed value. Nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ddbkit.integrations.sql.load import (
    _AV,
    _NUMBER,
    Column,
    Source,
    _json_expr,
    decide,
    detect,
    qi,
    ql,
)

REST = "_extra"  # the default name of the rest column
_ITEM = "ddbkit item"  # the whole item as JSON text, beside its attribute columns
_SIMPLE = {"VARCHAR": "S", "BOOLEAN": "BOOL", "BLOB": "B", "VARCHAR[]": "SS", "BLOB[]": "BS"}


@dataclass(frozen=True)
class Declared:
    """The columns of every partition: their conversions, and the rest column's name."""

    columns: tuple[Column, ...]
    rest: str

    @property
    def names(self) -> list[str]:
        return [c.attr for c in self.columns]


def declare(con: Any, source: Source, attrs: list[str], *, rest: str = REST) -> Declared:
    """Columns for ``attrs`` typed from the sample in ``source`` (``load.decide``'s rules)."""
    cols = decide(attrs, detect(con, source, attrs)) if attrs else []
    while rest in attrs:  # an attribute of that name keeps its column
        rest += "_"
    return Declared(tuple(cols), rest)


def _number_fits(v: str, sql_type: str) -> str:
    """SQL: the number text ``v`` converts to ``sql_type`` exactly."""
    canonical = f"regexp_full_match({v}, {ql(_NUMBER)})"
    if sql_type == "BIGINT":
        return f"(regexp_full_match({v}, '-?[0-9]+') AND TRY_CAST({v} AS BIGINT) IS NOT NULL)"
    if sql_type.startswith("DECIMAL"):
        scale = int(sql_type.split(",")[1].rstrip(")"))
        int_digits = f"length(ltrim(split_part(ltrim({v}, '-'), '.', 1), '0'))"
        return (
            f"({canonical} AND {int_digits} <= {38 - scale} "
            f"AND length(split_part({v}, '.', 2)) <= {scale})"
        )
    if sql_type == "DOUBLE":  # at most 15 significant digits survive the double exactly
        return f"({canonical} AND length(trim(replace(ltrim({v}, '-'), '.', ''), '0')) <= 15)"
    raise AssertionError(f"not a number type: {sql_type}")


def _fits(col: Column) -> str | None:
    """SQL: this item's value goes to ``col`` (None: every value does, the column is JSON)."""
    c = qi(col.attr)
    if col.sql_type == "JSON":
        return None
    if col.sql_type in _SIMPLE:
        return f'{c}."{_SIMPLE[col.sql_type]}" IS NOT NULL'
    if col.sql_type.endswith("[]"):  # a number set: every member fits
        member = _number_fits("v", col.sql_type[:-2])
        return f'({c}."NS" IS NOT NULL AND len(list_filter({c}."NS", lambda v: NOT {member})) = 0)'
    return f'({c}."N" IS NOT NULL AND {_number_fits(f"{c}.{chr(34)}N{chr(34)}", col.sql_type)})'


def _value(col: Column) -> str:
    """SQL: the column's value, NULL where the item's value does not fit it."""
    c = qi(col.attr)
    if col.sql_type == "JSON":  # any type: the mixed-type conversion covers them all
        return f"CAST({_json_expr(c)} AS VARCHAR)"
    return f"CASE WHEN {_fits(col)} THEN {col.expr} END"


def _misfit(col: Column) -> str | None:
    """SQL: the item holds a value (not NULL) for ``col`` that does not fit it."""
    fits = _fits(col)
    if fits is None:
        return None
    c = qi(col.attr)
    return f'({c} IS NOT NULL AND {c}."NULL" IS NULL AND NOT ({fits}))'


def select(source_files: str, declared: Declared) -> str:
    """SQL: one row per item of the page files, with exactly the declared columns and the rest."""
    cols = declared.columns
    spec = "{" + ",".join(f"{orjson.dumps(c.attr).decode()}:{_AV}" for c in cols) + "}"
    item = qi(_ITEM)
    rows = (
        f"SELECT i AS {item}, unnest(from_json(i, {ql(spec)})) FROM ("
        'SELECT unnest(from_json(content, \'{"Items":["JSON"]}\').Items) AS i '
        f"FROM read_text({source_files}))"
        if cols
        else f"SELECT i AS {item} FROM (SELECT unnest(from_json(content, "
        f'\'{{"Items":["JSON"]}}\').Items) AS i FROM read_text({source_files}))'
    )
    misfits = [(c.attr, m) for c in cols if (m := _misfit(c)) is not None]
    present = " + ".join(f"({qi(c.attr)} IS NOT NULL)::INTEGER" for c in cols) or "0"
    unfit_names = (
        "list_filter(["
        + ", ".join(f"CASE WHEN {m} THEN {ql(a)} END" for a, m in misfits)
        + "], lambda x: x IS NOT NULL)"
        if misfits
        else "[]::VARCHAR[]"
    )
    any_misfit = " OR ".join(m for _, m in misfits) or "false"
    rest = (
        f"CASE WHEN len(json_keys({item})) > {present} OR {any_misfit} "
        f"THEN ddb_rest({item}, {unfit_names}) END"
    )
    out = [f"{_value(c)} AS {qi(c.attr)}" for c in cols]
    out.append(f"{rest} AS {qi(declared.rest)}")
    return f"SELECT {', '.join(out)} FROM ({rows})"


def register_rest(con: Any, declared: Declared) -> None:
    """``ddb_rest(item_json, unfit_names)``: the typed JSON of what no column holds."""
    import pyarrow as pa

    names = frozenset(declared.names)

    def rest(items: Any, unfit: Any) -> Any:
        out: list[str | None] = []
        for text, misfits in zip(items.to_pylist(), unfit.to_pylist(), strict=True):
            item = orjson.loads(text)
            left = {k: v for k, v in item.items() if k not in names or k in misfits}
            out.append(orjson.dumps(left).decode() if left else None)
        return pa.array(out, pa.string())

    con.create_function(
        "ddb_rest", rest, ["VARCHAR", "VARCHAR[]"], "VARCHAR", type="arrow", side_effects=False
    )
