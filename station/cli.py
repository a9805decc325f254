"""The `station` command line. Thin: each command lives in `station.commands.*`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from device_protocol import DeviceError, LinkError, ProtocolError
from station.context import CliContext
from station.engine.failures import one_line
from station.errors import ExitCode, StationError
from station.log_setup import log_verbose_to_stderr


def default_home() -> Path:
    return Path.home() / ".station"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from station.versions import version_lines  # loads cryptography's OpenSSL binding

    click.echo("\n".join(version_lines()))
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the station's version and those of cryptography, OpenSSL, textual and pyserial.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log to stderr at DEBUG, with a wire trace: every frame to (>) and from (<) a board.",
)
@click.option(
    "--home",
    envvar="STATION_HOME",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_home,
    show_default="~/.station",
    help="Station home: station.toml, CA material, audit database, logs (env STATION_HOME).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool, home: Path) -> None:
    """Factory provisioning station for AWS IoT device certificates."""
    if verbose:
        log_verbose_to_stderr()
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
    "aws",
    "factory",
    "bench",
    "sim",
    "probe",
    "conformance",
    "demo",
    "tui",
)


_register()


def link_error_line(error: LinkError) -> str:
    """A board or port fault as one line: the port, what failed, what to do next. Faults of the
    wire (a port that cannot be opened, a board gone or silent) say what to do themselves."""
    text = str(error)
    if isinstance(error, DeviceError | ProtocolError):
        text += "; retry, and if it repeats check the board's firmware version"
    return one_line(text)


def main() -> None:
    """Console entry point: a StationError, or a LinkError from a board or port, becomes one
    line on stderr, never a traceback; the exit code is an :class:`ExitCode`."""
    try:
        code = cli.main(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(ExitCode.FAILED)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except StationError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except LinkError as e:
        click.echo(f"error: {link_error_line(e)}", err=True)
        sys.exit(ExitCode.FAILED)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit:
        raise
