"""Changes to an existing station.toml that keep everything else as the user wrote it.

tomlkit parses the file into a document that keeps comments, blank lines, key order and
quoting, so setting one key changes one line. The result is parsed again with the reader the
station itself uses before anyone writes it: a station.toml is never replaced by a broken one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from station.errors import ConfigError


def with_table_keys(text: str, table: str, values: Mapping[str, str], where: Path) -> str:
    """``text`` (the content of ``where``) with ``values`` set in ``[table]`` (added if missing);
    comments and everything else kept."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as e:
        raise ConfigError(f"{where} is not valid TOML ({e}): fix it, then run this again") from e
    section = doc.get(table)
    if section is None:
        section = tomlkit.table()
        doc.add(table, section)
    if not isinstance(section, Table):
        raise ConfigError(f"{where}: [{table}] is not a table: make it one, then run this again")
    for key, value in values.items():
        section[key] = value
    edited = tomlkit.dumps(doc)
    try:
        tomllib.loads(edited)
    except tomllib.TOMLDecodeError as e:  # tomlkit and tomllib disagree: write nothing
        raise ConfigError(
            f"{where}: setting [{table}] {', '.join(values)} gives invalid TOML ({e}); set "
            "them by hand"
        ) from e
    return edited
