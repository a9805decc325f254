"""Option decorators shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")(f)


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
