"""Shares of a parallel scan: host K of N reads segments K, K+N, K+2N, ... and nothing else."""

from __future__ import annotations

from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbkit.cli.flags import ShareType
from ddbkit.errors import ValidationError
from ddbkit.options import check_share, parse_share, share_segments
from ddbkit.read.cursors import SegmentCursors


@st.composite
def splits(draw: st.DrawFn) -> tuple[int, int]:
    segments = draw(st.integers(1, 300))
    return segments, draw(st.integers(1, segments))


@given(splits())
def test_the_shares_of_a_split_partition_its_segments(split: tuple[int, int]) -> None:
    segments, hosts = split
    shares = [list(share_segments(segments, (k, hosts))) for k in range(hosts)]
    assert all(shares), "every host reads at least one segment"
    assert sorted(s for share in shares for s in share) == list(range(segments))
    assert shares[0][:2] == [0, hosts][: len(shares[0])]


@given(splits(), st.data())
def test_a_share_cursor_leaves_exactly_the_share_to_walk(
    split: tuple[int, int], data: st.DataObject
) -> None:
    segments, hosts = split
    k = data.draw(st.integers(0, hosts - 1))
    cursor = SegmentCursors.share(segments, k, hosts).encode()
    if segments == hosts == 1:
        assert cursor is None  # the one segment of the whole table: no cursor needed
        return
    assert cursor is not None
    walked = SegmentCursors.decode(cursor, segments)  # as the page loop reads it
    pending = [s for s in range(segments) if not walked.finished(s)]
    assert pending == list(range(k, segments, hosts))
    assert all(walked.start_key(s) is None for s in pending)  # from the start of each
    with pytest.raises(ValidationError, match=f"segments={segments}"):
        SegmentCursors.decode(cursor, segments + 1)


def test_a_share_cursor_refuses_a_share_that_does_not_fit() -> None:
    with pytest.raises(ValidationError, match="from 0 to 2"):
        SegmentCursors.share(6, 3, 3)
    with pytest.raises(ValidationError, match="segments=7"):
        SegmentCursors.share(6, 0, 7)


@pytest.mark.parametrize(
    ("text", "share"), [("0/3", (0, 3)), (" 2 / 3 ", (2, 3)), ("0/1", (0, 1)), ("07/10", (7, 10))]
)
def test_share_text_reads_as_k_of_n(text: str, share: tuple[int, int]) -> None:
    assert parse_share(text) == share
    assert ShareType().convert(text, None, None) == share


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("3/3", "from 0 to 2"),
        ("1/0", "1 or more"),
        ("x/3", "e.g. 0/3"),
        ("-1/3", "e.g. 0/3"),
        ("+1/3", "e.g. 0/3"),
        ("1", "e.g. 0/3"),
        ("", "e.g. 0/3"),
        ("0/3/6", "e.g. 0/3"),
        ("1.0/3", "e.g. 0/3"),
        ("\u0661/\u0663", "e.g. 0/3"),  # Arabic-Indic digits are digits to str.isdigit
        ("1/" + "9" * 5000, "e.g. 0/3"),  # longer than int() reads
    ],
)
def test_bad_share_text_is_one_line_naming_the_form(text: str, said: str) -> None:
    with pytest.raises(ValidationError, match=said) as caught:
        parse_share(text)
    assert "\n" not in str(caught.value)
    with pytest.raises(click.BadParameter, match=said):
        ShareType().convert(text, None, None)


@pytest.mark.parametrize(
    ("share", "segments", "said"),
    [
        ((0, 3), None, "pass segments=S \\(--segments S\\)"),
        ((0, 4), 3, "give segments=4 \\(--segments 4\\) or more"),
        ((0, 3), 0, "segments \\(--segments\\)"),
        ((0, 3), 2.0, "segments \\(--segments\\)"),
        ([0, 3, 1], 6, "share=\\(0, 3\\)"),
        ((0, True), 6, "share=\\(0, 3\\)"),
        ({0: 3}, 6, "share=\\(0, 3\\)"),
        (None, 6, "share=\\(0, 3\\)"),
    ],
)
def test_a_share_needs_a_segment_count_that_fits(share: Any, segments: Any, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        check_share(share, segments)


def test_a_share_given_as_a_list_is_a_pair() -> None:
    assert check_share([1, 3], 3) == (1, 3)
