"""Click options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from station.phrasing import quoted
from station.pki.keys import KeySpec
from station.pki.pkcs11_uri import Pkcs11Uri, UriError, parse_key_uri

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:  # click >= 8.2 types ParamType by its value; older clicks cannot subscript it
    _ParamType = click.ParamType[KeySpec]
    _TimeParamType = click.ParamType[datetime]
    _UriParamType = click.ParamType[Pkcs11Uri]
else:
    _ParamType = _TimeParamType = _UriParamType = click.ParamType


class TimeType(_TimeParamType):
    """An ISO 8601 time such as ``2025-03-01T06:00`` (local time) or ``...T05:00Z`` (UTC)."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            at = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                f"{quoted(value)} is not an ISO 8601 time such as 2025-03-01T06:00", param, ctx
            )
        return at if at.tzinfo else at.astimezone()  # no zone given: the station's local time


class KeySpecType(_ParamType):
    """A key type such as ``ec-p256`` or ``rsa-3072``."""

    name = "KEYTYPE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> KeySpec:
        if isinstance(value, KeySpec):
            return value
        try:
            return KeySpec.parse(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


class KeyUriType(_UriParamType):
    """An RFC 7512 ``pkcs11:`` URI naming a private key on a token."""

    name = "PKCS11-URI"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Pkcs11Uri:
        if isinstance(value, Pkcs11Uri):
            return value
        try:
            return parse_key_uri(str(value))
        except UriError as e:
            self.fail(str(e), param, ctx)


pkcs11_option = click.option(
    "--pkcs11",
    "pkcs11_uri",
    type=KeyUriType(),
    default=None,
    help="Generate the intermediate key on a PKCS#11 token, non-extractable, e.g. "
    "'pkcs11:token=station;object=intermediate' (PIN from STATION_PKCS11_PIN or a prompt; "
    "module from the URI's module-path, [ca] pkcs11_module or STATION_PKCS11_MODULE).",
)


def key_type_option(name: str, default: str, help_text: str) -> Callable[[F], F]:
    """``--xxx-key ec-p256``: a key type with a default."""
    return click.option(
        name,
        type=KeySpecType(),
        default=default,
        show_default=True,
        help=f"{help_text} One of ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096.",
    )


def ca_days_option(name: str, default: int, help_text: str) -> Callable[[F], F]:
    """``--xxx-days N``: a CA validity in days."""
    return click.option(
        name, type=click.IntRange(1, 36500), default=default, show_default=True, help=help_text
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def timeout_option(f: F) -> F:
    return click.option(
        "--timeout",
        type=click.FloatRange(0.1, 60),
        default=2.0,
        show_default=True,
        help="Seconds to wait for each answer before re-sending.",
    )(f)


def baud_option(f: F) -> F:
    return click.option(
        "--baud", type=click.IntRange(300), default=115200, show_default=True, help="Baud rate."
    )(f)
