"""Turning command-line text into the library's plain Python arguments."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from ddbkit.errors import ValidationError
from ddbkit.models import KeySchema, TableInfo
from ddbkit.present import loads_exact, loads_typed, param_targets


def parse_key(args: Sequence[str], keys: KeySchema) -> dict[str, Any]:
    """``user_id=u1 [sk=3]`` typed by the key schema, or one JSON object."""
    if not args:
        wanted = " ".join(f"{k.name}=..." for k in keys.attributes)
        raise ValidationError(f"give the key: {wanted} (or a JSON object)")
    if len(args) == 1 and args[0].lstrip().startswith("{"):
        key = loads_exact(args[0])
        if not isinstance(key, dict):
            raise ValidationError("the key must be a JSON object")
        return key
    types = {k.name: k.type for k in keys.attributes}
    key = {}
    for arg in args:
        name, sep, text = arg.partition("=")
        if not sep or not name:
            raise ValidationError(
                f"bad key part {arg!r}: write NAME=VALUE, e.g. {keys.partition_key.name}=abc"
            )
        if name in key:
            raise ValidationError(f"key attribute {name!r} is given twice: give it once")
        key[name] = _typed(text, types.get(name, "S"), name)
    return key


def parse_params(
    texts: Sequence[str], info: Callable[[], TableInfo], *conditions: str | None
) -> dict[str, Any] | None:
    """``--param`` values as Python values (None if there are none); see flags.PARAM_HELP.

    ``info`` is asked for the table's keys only when a parameter meets a key attribute.
    """
    if not texts:
        return None
    given: dict[str, str] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name = name.strip().removeprefix(":")
        if not sep or not name:
            raise ValidationError(f"bad --param {text!r}: write NAME=VALUE, e.g. --param min=30")
        if name in given:
            raise ValidationError(f"--param {name} is given twice: give each parameter once")
        given[name] = value
    targets = param_targets(*conditions)
    key_types = _key_types(info()) if any(targets.values()) else {}
    params: dict[str, Any] = {}
    for name, value in given.items():
        types = {key_types[a] for a in targets.get(name, ()) if a in key_types}
        if len(types) == 1:
            params[name] = _typed(value, types.pop(), name, what="--param")
        else:
            params[name] = _json_or_text(value)
    return params


def _key_types(info: TableInfo) -> dict[str, str]:
    types = {k.name: k.type for k in info.keys.attributes}
    for index in info.indexes:
        types.update((k.name, k.type) for k in index.keys.attributes)
    return types


def _json_or_text(text: str) -> Any:
    try:
        return loads_exact(text)
    except ValidationError:
        return text


def _typed(text: str, key_type: str, name: str, *, what: str = "key attribute") -> Any:
    if key_type == "N":
        try:
            value = loads_exact(text)
        except ValidationError:
            value = None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise ValidationError(
                f"{what} {name!r} is compared with a number (N) key: {text!r} is not a number"
                if what == "--param"
                else f"key attribute {name!r} is a number (N): {text!r} is not a number"
            )
        return value
    if key_type == "B":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError(f"{what} {name!r} is binary (B): give it as base64") from exc
    return text


def split_attributes(text: str | None) -> list[str] | None:
    """``a,b.c,`x,y``` -> ["a", "b.c", "`x,y`"]: commas inside backticks do not split."""
    if text is None:
        return None
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "`":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    names = [p for p in parts if p]
    if not names:
        raise ValidationError("--attributes needs at least one name, e.g. --attributes id,name")
    return names


def read_items(stream: IO[str], *, typed: bool, source: str) -> Iterator[dict[str, Any]]:
    """JSON Lines items from a stream; a bad line is an error naming its line number."""
    loads = loads_typed if typed else loads_exact
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = loads(line)
        except ValidationError as exc:
            raise ValidationError(f"{source} line {number}: {exc}") from exc
        if not isinstance(item, dict):
            raise ValidationError(f"{source} line {number}: an item must be a JSON object")
        yield item


def parse_item(text: str, *, typed: bool) -> dict[str, Any]:
    item = loads_typed(text) if typed else loads_exact(text)
    if not isinstance(item, dict):
        raise ValidationError('an item must be a JSON object, e.g. \'{"id": "a1", "age": 30}\'')
    return item
