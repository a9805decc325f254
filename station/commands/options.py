"""Click options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from station.pki.keys import KeySpec

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:  # click >= 8.2 types ParamType by its value; older clicks cannot subscript it
    _ParamType = click.ParamType[KeySpec]
    _TimeParamType = click.ParamType[datetime]
else:
    _ParamType = click.ParamType
    _TimeParamType = click.ParamType


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
            self.fail(f"{value!r} is not an ISO 8601 time such as 2025-03-01T06:00", param, ctx)
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
