"""Numeric settings are checked once, the same way for the library and the command line."""

from __future__ import annotations

from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbkit.cli.flags import SettingType
from ddbkit.errors import ValidationError
from ddbkit.options import LIMIT, RATE, SEGMENTS, WORKERS


@pytest.mark.parametrize(
    ("setting", "bad"),
    [
        (RATE, float("nan")),
        (RATE, float("inf")),
        (RATE, -1),
        (RATE, 0),
        (RATE, "5"),
        (RATE, True),
        (SEGMENTS, "4"),
        (SEGMENTS, 2.5),
        (SEGMENTS, 0),
        (SEGMENTS, 1_000_001),
        (SEGMENTS, True),
        (WORKERS, 0),
        (WORKERS, 65),
        (LIMIT, -1),
        (LIMIT, "3"),
    ],
)
def test_bad_values_are_one_validation_error_naming_the_setting(setting: Any, bad: Any) -> None:
    with pytest.raises(ValidationError, match=f"{setting.name} \\({setting.flag}\\)"):
        setting.check(bad)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-1", "0", "abc", "1e309", "", "1e-300"])
def test_cli_rate_refuses_what_the_library_refuses(text: str) -> None:
    with pytest.raises(click.BadParameter, match="--rcu is a number of 0.001 or more"):
        SettingType(RATE).convert(text, None, None)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_rate_is_accepted_exactly_when_it_is_finite_and_at_least_a_thousandth(
    value: float,
) -> None:
    ok = value == value and value not in (float("inf"), float("-inf")) and value >= 0.001
    try:
        assert RATE.check(value) == value and ok
    except ValidationError:
        assert not ok
