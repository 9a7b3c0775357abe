"""Text for a terminal never carries control characters from item values or names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ddbkit.cli.report import safe


def test_escape_sequences_are_shown_not_sent() -> None:
    assert safe("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07"
    assert safe("right\u202eleft") == "right\\u202eleft"
    assert safe("line\nnext\ttab") == "line\nnext\ttab"
    assert safe("line\nnext", one_line=True) == "line\\x0anext"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    shown = safe(text, one_line=True)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    shown.encode("utf-8")  # no lone surrogate either: a terminal could not be sent one
