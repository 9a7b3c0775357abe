"""Docs that cannot drift: every command has help and a place in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

import ddbkit
from ddbkit.cli.main import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
CONTEXT = click.Context(cli)
COMMANDS = cli.list_commands(CONTEXT)  # the commands load on first use: ask the group, not a dict


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    command = cli.get_command(CONTEXT, name)
    assert command is not None, f"ddbkit {name} is listed but cannot be loaded"
    assert (command.help or "").strip(), f"ddbkit {name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert param.help, f"ddbkit {name} {param.opts[0]} has no help"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name: str) -> None:
    assert re.search(rf"ddbkit (--local )?{re.escape(name)}\b", README), (
        f"README.md never shows 'ddbkit {name}'"
    )


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands[1:] == ["./run demo", "./run test"]


def test_exported_names_are_pinned() -> None:
    assert "connect" in ddbkit.__all__ and "Table" in ddbkit.__all__
    assert all(hasattr(ddbkit, name) for name in ddbkit.__all__)
