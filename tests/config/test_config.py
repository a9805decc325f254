"""station.toml: the commented template, unknown keys, and every problem reported at once."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from station.config import load_config, parse_config
from station.config_template import render_config
from station.errors import ConfigError
from station.factory_config import DEFAULT_SHIFTS
from station.home import StationHome

HOME = StationHome(Path("/srv/station"))


def test_template_loads_with_the_defaults() -> None:
    config = parse_config(tomllib.loads(render_config("st-1", 'Acme "Devices"')), HOME, "t")
    assert config.station.id == "st-1"
    assert config.station.org == 'Acme "Devices"'
    assert config.profile.organization == 'Acme "Devices"'
    assert config.profile.common_name == "{uid}"
    assert config.profile.validity_days == 7300
    assert config.policy.ec_curves == ("P-256", "P-384", "P-521")
    assert config.policy.rsa_sizes == (2048, 3072, 4096)
    assert config.ca.intermediate_key == Path("/srv/station/ca/intermediate.key.pem")
    assert config.crl.next_update_hours == 168
    # The template states every default explicitly: an empty [profile] etc. means the same.
    minimal = parse_config(
        {
            "station": {"id": "st-1", "org": 'Acme "Devices"'},
            "profile": {"organization": 'Acme "Devices"'},
        },
        HOME,
        "t",
    )
    assert minimal == config


def test_every_key_in_the_template_is_documented() -> None:
    lines = render_config("st-1", "Acme").splitlines()
    for n, line in enumerate(lines):
        if re.match(r"^\w+ = ", line):
            assert lines[n - 1].startswith("#"), f"undocumented key: {line}"


def test_all_problems_reported_at_once_with_key_paths() -> None:
    data = {
        "station": {"id": "bad id!", "colour": "red"},
        "profile": {"validity_days": -1, "common_name": "{serial}", "backdate_minutes": "5"},
        "policy": {"ec_curves": ["P-256", "secp256k1"], "rsa_sizes": [1024]},
        "crl": {"next_update_hours": 0},
        "jig": {"start": "soon", "slots": {"1": {"url": "/dev/ttyUSB0", "usb": "0403:6001"}}},
        "colour": {},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(data, HOME, "station.toml")
    message = str(info.value)
    for path in (
        "colour: unknown table",
        'jig.start: "soon": use auto or key',
        "jig.slots.1.url: give exactly one of url or usb",
        "station.id:",
        "station.org: required",
        "station.colour: unknown key",
        "profile.validity_days:",
        "profile.common_name: unknown placeholder",
        "profile.backdate_minutes: must be an integer",
        'policy.ec_curves: "secp256k1" is not accepted by AWS IoT; use P-256, P-384 or P-521',
        "policy.rsa_sizes: 1024",
        "crl.next_update_hours: 0 is out of range",
    ):
        assert path in message
    assert "12 problem(s)" in message
    assert info.value.exit_code == 2


def test_template_without_uid_and_forever() -> None:
    with pytest.raises(ConfigError, match=r"must contain \{uid\}"):
        parse_config(
            {"station": {"id": "a", "org": "b"}, "profile": {"common_name": "{model}"}}, HOME, "t"
        )
    config = parse_config(
        {"station": {"id": "a", "org": "b"}, "profile": {"validity_days": "forever"}}, HOME, "t"
    )
    assert config.profile.validity_days is None


def test_missing_and_broken_files(tmp_path: Path) -> None:
    home = StationHome(tmp_path)
    with pytest.raises(ConfigError, match="init` first"):
        load_config(home)
    home.config.write_text("[station\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(home)


def test_factory_section() -> None:
    base = {"station": {"id": "st-1", "org": "Acme"}}
    off = parse_config(base, HOME, "t").factory
    assert not off.enabled
    assert off.reserve == "off"
    url = "postgresql://st01@store.lan/factory?sslmode=verify-full"
    on = parse_config({**base, "factory": {"url": url, "line": "L1"}}, HOME, "t").factory
    assert (on.url, on.line, on.reserve, on.connect_timeout) == (url, "L1", "required", 3)
    bad = {"url": "postgresql://st01:secret@store.lan/factory", "reserve": "maybe", "x": 1}
    with pytest.raises(ConfigError) as info:
        parse_config({**base, "factory": bad}, HOME, "station.toml")
    message = str(info.value)
    assert "factory.url: holds a password" in message
    assert "PGPASSWORD" in message
    assert "secret" not in message
    assert "factory.reserve: " in message
    assert "factory.x: unknown" in message


def test_factory_shifts() -> None:
    base = {"station": {"id": "st-1", "org": "Acme"}}
    default = parse_config(base, HOME, "t").factory.shifts
    assert default == DEFAULT_SHIFTS
    assert [(s.name, s.start) for s in default.shifts] == [("A", 360), ("B", 840), ("C", 1320)]
    given = {"timezone": "Europe/Berlin", "shifts": ["Night 21:30", "Early 05:30", "Late 13:30"]}
    plan = parse_config({**base, "factory": given}, HOME, "t").factory.shifts
    assert plan.timezone == "Europe/Berlin"
    assert [(s.name, s.start) for s in plan.shifts] == [
        ("Early", 330),
        ("Late", 810),
        ("Night", 1290),
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"timezone": "Mars/Olympus"}, 'factory.timezone: "Mars/Olympus" is not a time zone'),
        ({"shifts": ["A 6:00"]}, 'factory.shifts: "A 6:00" is not a shift'),
        ({"shifts": ["A 24:00"]}, 'factory.shifts: "A 24:00" is not a shift'),
        ({"shifts": []}, "factory.shifts: needs at least one shift"),
        ({"shifts": ["A 06:00", "A 14:00"]}, "factory.shifts: names a shift or a start time twice"),
        ({"shifts": ["A 06:00", "B 06:00"]}, "factory.shifts: names a shift or a start time twice"),
        ({"shifts": "A 06:00"}, "factory.shifts: must be a list of strings"),
    ],
)
def test_factory_shifts_refused(given: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config({"station": {"id": "st-1", "org": "Acme"}, "factory": given}, HOME, "t")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (57600, "57600 is not a standard"),
        (1_000_001, "1000001 is not a standard"),
        ("fast", "'fast'"),
    ],
)
def test_max_baud_refused_with_what_to_set(value: object, expected: str) -> None:
    data = {"station": {"id": "st-1", "org": "Acme"}, "jig": {"max_baud": value}}
    with pytest.raises(ConfigError) as info:
        parse_config(data, HOME, "station.toml")
    message = str(info.value)
    assert f"jig.max_baud: {expected}" in message
    assert "921600" in message
    assert "115200: no switching" in message


def test_max_baud_defaults_to_no_switching_and_takes_a_standard_rate() -> None:
    base = {"station": {"id": "st-1", "org": "Acme"}}
    assert parse_config(base, HOME, "t").jig.max_baud == 115200
    fast = parse_config({**base, "jig": {"max_baud": 921600}}, HOME, "t")
    assert fast.jig.max_baud == 921600
