"""Cursors: where a walk over pages stands, per segment, as an opaque URL-safe string.

A cursor records, per segment, where the pages handed out so far end, so a walk can resume
exactly there (``start=``), whether it stopped by ``limit``, by a crash or by choice.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from ddbkit import errors
from ddbkit.options import check_share, share_segments

Wire = dict[str, Any]
_DONE = "done"


# -- cursors --------------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(cursor: str) -> str:
    return base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()


# A key travels as typed JSON text (B as base64) written by the stdlib with ASCII escapes: a key
# another tool stored with a lone surrogate in it round-trips exactly, where the value
# converter (rightly) refuses to write one, and a changed key would resume somewhere else.


def _key_text(key: Mapping[str, Mapping[str, Any]]) -> str:
    plain = {
        name: {tag: base64.b64encode(raw).decode() if tag == "B" else raw}
        for name, av in key.items()
        for tag, raw in av.items()
    }
    return json.dumps(plain, separators=(",", ":"))


def _key_from_text(text: str) -> Wire:
    key = json.loads(text)
    if not isinstance(key, dict) or not key:
        raise ValueError("not a key")
    return wire_key(key)


def encode_cursor(key: Mapping[str, Mapping[str, Any]]) -> str:
    """An opaque, URL-safe string for a LastEvaluatedKey."""
    return _b64(_key_text(key))


def decode_cursor(cursor: str) -> Wire:
    """The LastEvaluatedKey behind a cursor made by :func:`encode_cursor`."""
    try:
        return _key_from_text(_unb64(cursor))
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc


def _bad_cursor() -> errors.ValidationError:
    return errors.ValidationError(
        "invalid cursor: pass the exact string printed by --cursor (or Page.cursor)"
    )


class SegmentCursors:
    """Where each segment stands: not started (absent), at a key, or done."""

    def __init__(self, segments: int, positions: dict[int, Wire | str] | None = None) -> None:
        self.segments = segments
        self.positions: dict[int, Wire | str] = dict(positions or {})

    @classmethod
    def only(cls, segments: int, wanted: Iterable[int]) -> SegmentCursors:
        """A walk of ``segments`` segments that reads only ``wanted`` (the others count as done)."""
        keep = set(wanted)
        return cls(segments, {s: _DONE for s in range(segments) if s not in keep})

    @classmethod
    def share(cls, segments: int, k: int, n: int) -> SegmentCursors:
        """The start of host ``k``'s share of ``n`` in a ``segments``-segment scan.

        Segments k, k+n, k+2n, ... are not started and every other one is done, so a walk from
        :meth:`encode`'s cursor reads only that share, and the cursors it hands out (checkpoints,
        ``--resume``) keep the other hosts' segments done. Checked by
        :func:`ddbkit.options.check_share`.
        """
        return cls.only(segments, share_segments(segments, check_share((k, n), segments)))

    def advance(self, segment: int, last_key: Wire | None) -> None:
        self.positions[segment] = _DONE if last_key is None else last_key

    def start_key(self, segment: int) -> Wire | None:
        position = self.positions.get(segment)
        return position if isinstance(position, dict) else None

    def finished(self, segment: int) -> bool:
        return self.positions.get(segment) == _DONE

    @property
    def all_done(self) -> bool:
        return all(self.finished(s) for s in range(self.segments))

    def encode(self) -> str | None:
        """The cursor string; None once every segment is done (nothing left to resume)."""
        if self.all_done:
            return None
        if self.segments == 1:
            key = self.start_key(0)
            # A single segment that has not started yet has no cursor of its own.
            return encode_cursor(key) if key else None
        state = {
            str(s): (p if p == _DONE else _key_text(p))  # type: ignore[arg-type]
            for s, p in self.positions.items()
        }
        return "P" + _b64(orjson.dumps({"segments": self.segments, "at": state}).decode())

    @staticmethod
    def segments_of(cursor: str) -> int:
        """How many segments the walk that made ``cursor`` had (a cursor resumes only so)."""
        if not isinstance(cursor, str) or not cursor.startswith("P"):
            return 1
        try:
            return int(orjson.loads(_unb64(cursor[1:]))["segments"])
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise _bad_cursor() from exc

    @classmethod
    def decode(cls, cursor: str | None, segments: int) -> SegmentCursors:
        if cursor is not None and not isinstance(cursor, str):
            raise _bad_cursor()
        if not cursor:
            return cls(segments)
        if not cursor.startswith("P"):
            if segments != 1:
                raise errors.ValidationError(
                    "this cursor comes from a 1-segment walk: resume it with segments=1"
                )
            return cls(1, {0: decode_cursor(cursor)})
        try:
            state = orjson.loads(_unb64(cursor[1:]))
            count = int(state["segments"])
            positions: dict[int, Wire | str] = {
                int(s): (p if p == _DONE else _key_from_text(p)) for s, p in state["at"].items()
            }
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise _bad_cursor() from exc
        if count != segments:
            raise errors.ValidationError(
                f"this cursor comes from a {count}-segment scan: resume it with segments={count}"
            )
        return cls(count, positions)


_KEY_TAGS = frozenset(("S", "N", "B"))


def wire_key(raw_key: Mapping[str, Any]) -> Wire:
    """A raw-JSON key (B as base64 text) in the form botocore sends (B as bytes).

    Only B changes: S and N go back exactly as DynamoDB sent them, whatever they hold.
    """
    key: Wire = {}
    for name, av in raw_key.items():
        ((tag, raw),) = av.items()
        if tag not in _KEY_TAGS or not isinstance(raw, str):
            raise ValueError(f"not a key attribute value: {av!r}")
        key[name] = {"B": base64.b64decode(raw, validate=True)} if tag == "B" else {tag: raw}
    return key
