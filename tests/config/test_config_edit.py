"""Editing station.toml: one key changes, every comment and everything else stays."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from station.config import parse_config
from station.config_edit import with_table_keys
from station.config_template import render_config
from station.errors import ConfigError
from station.home import StationHome

WHERE = Path("/srv/station/station.toml")
URI = "pkcs11:token=station;object=intermediate"

OK = {
    "ok/comment-after-table": (
        '[station]\nid = "s"\n\n[ca]  # the station CA\nintermediate_key = "k.pem"  # file\n',
        '[station]\nid = "s"\n\n[ca]  # the station CA\nintermediate_key = "' + URI + '"  # file\n',
    ),
    "ok/key-added-to-the-table": (
        '[ca]\n# a comment\nroot_cert = "r.pem"\n\n[jig]\nstart = "auto"\n',
        '[ca]\n# a comment\nroot_cert = "r.pem"\nintermediate_key = "'
        + URI
        + '"\n\n[jig]\nstart = "auto"\n',
    ),
    "ok/table-added": (
        '[station]\nid = "s"\n',
        '[station]\nid = "s"\n\n[ca]\nintermediate_key = "' + URI + '"\n',
    ),
}


@pytest.mark.parametrize("case", OK)
def test_ok(case: str) -> None:
    text, expected = OK[case]
    assert with_table_keys(text, "ca", {"intermediate_key": URI}, WHERE) == expected


FAIL = {
    "fail/not-toml": ("[ca\nx = 1\n", f"{WHERE} is not valid TOML"),
    "fail/ca-not-a-table": ('ca = "file"\n', f"{WHERE}: [ca] is not a table"),
}


@pytest.mark.parametrize("case", FAIL)
def test_fail(case: str) -> None:
    text, message = FAIL[case]
    with pytest.raises(ConfigError, match="run this again") as caught:
        with_table_keys(text, "ca", {"intermediate_key": URI}, WHERE)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_template_keeps_every_comment_and_loads() -> None:
    text = render_config("st-1", "Acme").replace("[ca]\n", "[ca]   # moved to a token in 2026\n")
    edited = with_table_keys(
        text, "ca", {"intermediate_key": URI, "pkcs11_module": "/usr/lib/x.so"}, WHERE
    )
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in edited.splitlines() if line.lstrip().startswith("#")] == comments
    assert "[ca]   # moved to a token in 2026\n" in edited
    changed = [
        (a, b) for a, b in zip(text.splitlines(), edited.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        ('intermediate_key = "ca/intermediate.key.pem"', f'intermediate_key = "{URI}"'),
        ('pkcs11_module = ""', 'pkcs11_module = "/usr/lib/x.so"'),
    ]
    config = parse_config(tomllib.loads(edited), StationHome(WHERE.parent), str(WHERE))
    assert str(config.ca.intermediate_key) == URI
