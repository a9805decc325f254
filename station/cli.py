"""The `station` command line. Thin: each command lives in `station.commands.*`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from station import __version__
from station.context import CliContext
from station.errors import StationError

#: Exit codes (DESIGN section 6): 0 success, 1 a board or check failed, 2 usage or configuration.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def default_home() -> Path:
    return Path.home() / ".station"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="station")
@click.option(
    "--home",
    envvar="STATION_HOME",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_home,
    show_default="~/.station",
    help="Station home: station.toml, CA material, audit database, logs (env STATION_HOME).",
)
@click.pass_context
def cli(ctx: click.Context, home: Path) -> None:
    """Factory provisioning station for AWS IoT device certificates."""
    ctx.obj = CliContext(home=home)


def _register() -> None:
    # Each module in station.commands exposes COMMANDS, a tuple of click commands or groups.
    import importlib

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"station.commands.{module_name}")
        for command in module.COMMANDS:
            cli.add_command(command)


#: Command modules, in the order `station --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "init",
    "ca",
    "sign",
    "revoke",
    "provision",
    "rotate",
    "qa",
    "audit",
    "factory",
    "bench",
    "sim",
    "probe",
    "conformance",
    "demo",
    "tui",
)


_register()


def main() -> None:
    """Console entry point: a StationError becomes one line on stderr, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_FAILED)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except StationError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
