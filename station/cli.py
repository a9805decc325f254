"""The `station` command line. Thin: each command lives in `station.commands.*`."""

from __future__ import annotations

import importlib
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


class _Commands(click.Group):
    """Imports a command's module only when that command runs (or help lists them all): each
    module brings its own libraries (Textual, psycopg, boto3, the engine), and an auditor's
    `station audit verify` should not wait for those of `station tui`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"station.commands.{module_name}")
        found: tuple[click.Command, ...] = module.COMMANDS
        return next((c for c in found if c.name == cmd_name), None)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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


#: Each command's module in station.commands (which exposes COMMANDS, a tuple of click commands
#: or groups), in the order `station --help` lists them.
COMMAND_MODULES: dict[str, str] = {
    "init": "init",
    "ca": "ca",
    "sign": "sign",
    "revoke": "revoke",
    "crl": "revoke",
    "provision": "provision",
    "rotate": "rotate",
    "qa": "qa",
    "audit": "audit",
    "aws": "aws",
    "factory": "factory",
    "bench": "bench",
    "sim": "sim",
    "ports": "probe",
    "probe": "probe",
    "conformance": "conformance",
    "demo": "demo",
    "tui": "tui",
}


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
