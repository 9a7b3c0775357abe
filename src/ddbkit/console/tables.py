"""The console's table list and table pages: session facts, table info, create and delete."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from ddbkit import IndexSpec, __version__, present
from ddbkit.console.http import Answer, Call, Refused

KEY_TYPES = ("S", "N", "B")


def session_facts(call: Call) -> dict[str, Any]:
    """What the page needs to know about this console before anything else."""
    session = call.session
    formats = [f for f in present.EXPORT_FORMATS if f != "parquet" or _has("pyarrow")]
    return {
        "endpoint": session.db.endpoint,
        "region": session.db.region,
        "local": session.local,
        "read_only": session.read_only,
        "version": __version__,
        "sql": _has("duckdb"),
        "export_formats": formats,
    }


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def list_tables(call: Call) -> dict[str, Any]:
    return {"tables": call.session.db.tables()}


def table_info(call: Call) -> dict[str, Any]:
    return {"info": call.session.table(call.path["name"]).info().to_dict()}


def create_table(call: Call) -> Answer:
    name = call.text("name").strip()
    if not name:
        raise Refused(400, "give the new table a name")
    indexes = call.body.get("indexes") or [] if isinstance(call.body, Mapping) else []
    if not isinstance(indexes, list):
        raise Refused(400, "indexes must be a list")
    ttl = call.text("ttl").strip() or None
    call.session.forget(name)
    table = call.session.db.create_table(
        name,
        partition_key=_key(call.field("partition_key"), "partition key"),
        sort_key=_optional_key(call.body.get("sort_key"), "sort key"),
        indexes=[_index(spec, number) for number, spec in enumerate(indexes, start=1)],
        ttl=ttl,
    )
    return Answer(201, {"info": table.info().to_dict()})


def delete_table(call: Call) -> dict[str, Any]:
    name = call.session.table(call.path["name"]).name  # a name DynamoDB accepts, or 400
    if call.text("confirm") != name:
        raise Refused(400, f"type the table's name, {name}, to delete it")
    call.session.db.delete_table(name)
    call.session.forget(name)
    return {"deleted": name}


def _index(spec: Any, number: int) -> IndexSpec:
    if not isinstance(spec, Mapping):
        raise Refused(400, f"index {number} must be an object with a name and keys")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Refused(400, f"index {number} needs a name")
    return IndexSpec(
        name.strip(),
        _key(spec.get("partition_key"), f"index {name}'s partition key"),
        _optional_key(spec.get("sort_key"), f"index {name}'s sort key"),
    )


def _optional_key(given: Any, what: str) -> tuple[str, str] | None:
    if given is None or (isinstance(given, Mapping) and not str(given.get("name") or "").strip()):
        return None
    return _key(given, what)


def _key(given: Any, what: str) -> tuple[str, str]:
    if not isinstance(given, Mapping):
        raise Refused(400, f"the {what} needs a name and a type")
    name = given.get("name")
    kind = given.get("type", "S")
    if not isinstance(name, str) or not name.strip():
        raise Refused(400, f"the {what} needs a name")
    if kind not in KEY_TYPES:
        raise Refused(400, f"the {what}'s type must be S, N or B, not {kind!r}")
    return name.strip(), kind
