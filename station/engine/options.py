"""How one cycle is to run: a value the line controller and the commands build. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class CycleOptions:
    operator: str | None = None
    expect_id: str | None = None  # the id on the board's label: stop before KEYGEN if it differs
    reprovision: bool = False  # replace the certificate of a board provisioned before
