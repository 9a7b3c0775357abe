"""Options declared once and shared by many commands: numeric settings checked by the library,
``--output``/``--typed`` for commands that print items, ``--param`` for those taking a condition,
``--share`` for a read split between hosts, ``--to-*`` for a second table somewhere else.

Light on purpose: the root command imports it, so ``ddbkit --version`` pays for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ddbkit.errors import ValidationError
from ddbkit.options import SHARE_HELP, Setting, parse_share

if TYPE_CHECKING:  # click >= 8.2 types ParamType by its value; older click cannot subscript it
    _ParamType = click.ParamType[Any]
else:
    _ParamType = click.ParamType

FORMATS = ("table", "json", "jsonl", "csv")
F = TypeVar("F", bound=Callable[..., Any])


class SettingType(_ParamType):
    """A numeric option checked by the library's own :class:`~ddbkit.options.Setting`."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self.name = "integer" if setting.integer else "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        given = value
        try:
            if isinstance(value, str):
                value = int(value) if self.setting.integer else float(value)
            return self.setting.check(value)
        except (ValueError, ValidationError):  # ValidationError is a ValueError: both say why
            self.fail(f"{given!r}: {self.setting.flag} {self.setting.expects()}", param, ctx)


def setting_option(setting: Setting, *, help: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """The one declaration of a numeric option: flag, range and help from the library."""
    return click.option(
        setting.flag, type=SettingType(setting), help=help or setting.help, **kwargs
    )


def output_options(func: F) -> F:
    """``--output`` and ``--typed`` for a command that prints items."""

    @click.option(
        "--output",
        "-o",
        "output",
        type=click.Choice(FORMATS),
        default=None,
        help="table (default on a terminal), json, jsonl (default when piped) or csv.",
    )
    @click.option(
        "--typed",
        is_flag=True,
        default=False,
        help='Print DynamoDB JSON ({"S": ...}) instead of plain JSON values.',
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


PARAM_HELP = (
    "A value for :NAME in the condition, bound, never spliced into the text. Typed like KEY "
    "arguments where :NAME is compared with a key attribute; otherwise JSON if it reads as JSON "
    '(30, true, null, "007", [1,2]), else plain text. Repeat for more.'
)


def param_option(func: F) -> F:
    """``--param NAME=VALUE`` for every command that takes a condition."""
    return click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help=PARAM_HELP)(
        func
    )


class ShareType(_ParamType):
    """``--share K/N``, read by the library's :func:`~ddbkit.options.parse_share`."""

    name = "K/N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return parse_share(str(value))
        except ValidationError as exc:
            self.fail(str(exc), param, ctx)


def share_option(func: F) -> F:
    """``--share K/N``: this host's share of a parallel scan split between N hosts."""
    return click.option("--share", type=ShareType(), metavar="K/N", help=SHARE_HELP)(func)


@dataclass(frozen=True)
class Elsewhere:
    """Where a command's second table is (``--to-endpoint/--to-region/--to-profile/--to-local``);
    all None/False: beside the first, on the same connection."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    local: bool = False

    def __bool__(self) -> bool:
        return bool(self.endpoint_url or self.region or self.profile or self.local)


def elsewhere_options(what: str) -> Callable[[F], F]:
    """``--to-endpoint/--to-region/--to-profile/--to-local`` for a command whose second table
    (``what``, e.g. "TARGET") may be on another connection; the function gets ``elsewhere``."""

    def decorate(func: F) -> F:
        @click.option("--to-endpoint", metavar="URL", help=f"{what} is on this endpoint.")
        @click.option("--to-region", metavar="REGION", help=f"{what} is in this region.")
        @click.option("--to-profile", metavar="PROFILE", help=f"Reach {what} with this profile.")
        @click.option("--to-local", is_flag=True, help=f"{what} is on the local engine.")
        @functools.wraps(func)
        def wrapper(
            *args: Any,
            to_endpoint: str | None,
            to_region: str | None,
            to_profile: str | None,
            to_local: bool,
            **kwargs: Any,
        ) -> Any:
            if to_local and to_endpoint:
                raise click.UsageError("give --to-local or --to-endpoint, not both")
            where = Elsewhere(to_endpoint, to_region, to_profile, to_local)
            return func(*args, elsewhere=where, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
