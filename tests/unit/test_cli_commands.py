"""The command line loads a command's module only when that command is used: every command of
every module must still be reachable by its name, and listed in `station --help`."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest

import station.commands
from station.cli import COMMAND_MODULES, cli


def _modules_with_commands() -> dict[str, tuple[click.Command, ...]]:
    found = {}
    for info in pkgutil.iter_modules(station.commands.__path__):
        module = importlib.import_module(f"station.commands.{info.name}")
        if hasattr(module, "COMMANDS"):
            found[info.name] = module.COMMANDS
    return found


def test_every_command_of_every_module_is_reached_by_its_name() -> None:
    modules = _modules_with_commands()
    ctx = click.Context(cli)
    top = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    assert None not in top.values()
    for name, module in COMMAND_MODULES.items():
        assert top[name] in modules[module], f"{name} is not {module}'s"
    for module in set(COMMAND_MODULES.values()):  # none of a listed module's commands left out
        assert {c.name for c in modules[module]} <= set(COMMAND_MODULES)
    # A module not listed holds subcommands of a listed group (`audit export`), or is forgotten.
    groups = [g for g in top.values() if isinstance(g, click.Group)]
    for module, commands in modules.items():
        if module not in COMMAND_MODULES.values():
            for command in commands:
                assert any(g.commands.get(command.name or "") is command for g in groups), (
                    f"station.commands.{module}: {command.name} is in no command or group"
                )
    assert cli.get_command(ctx, "no-such-command") is None


@pytest.mark.component  # a Python process of its own, for a clean sys.modules
def test_a_command_does_not_load_the_libraries_of_the_others() -> None:
    code = (
        "import sys\n"
        "from station.cli import cli\n"
        "try:\n"
        "    cli.main(['audit', '--help'], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = [m for m in ('textual', 'psycopg', 'boto3', 'badkeys') if m in sys.modules]\n"
        "    print('loaded:' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "loaded:"
