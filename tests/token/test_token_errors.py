"""What an operator sees when the token cannot be used: one line on stderr naming what is
missing, exit 1 (a check failed) or 2 (configuration), never a traceback. Real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config_edit import with_table_keys
from tests.token.conftest import uri
from tests.token.test_token_station import init, station


@pytest.fixture(scope="module")
def template(token_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("token-errors") / "home"
    init(token_env, home, "--pkcs11", uri("errors-ca"))
    return home


def with_ca(home: Path, **values: str) -> None:
    path = home / "station.toml"
    path.write_text(with_table_keys(path.read_text(), "ca", values, path))


CASES = {
    "fail/wrong-pin": (
        {"STATION_PKCS11_PIN": "not-the-pin"},
        {},
        1,
        "wrong PIN for token 'station-test' (check STATION_PKCS11_PIN",
    ),
    "fail/module-file-missing": (
        {},
        {"pkcs11_module": "/nonexistent/libnothing.so"},
        2,
        "PKCS#11 module /nonexistent/libnothing.so not found",
    ),
    "fail/no-module-configured": (
        {"STATION_PKCS11_MODULE": ""},
        {"pkcs11_module": ""},
        2,
        "no PKCS#11 module given: add ?module-path=",
    ),
    "fail/object-missing": (
        {},
        {"intermediate_key": "pkcs11:token=station-test;object=nope"},
        1,
        "no private key object 'nope' on token 'station-test'",
    ),
    "fail/token-missing": (
        {},
        {"intermediate_key": "pkcs11:token=elsewhere;object=errors-ca"},
        1,
        "no token 'elsewhere' in PKCS#11 module",
    ),
    "fail/uri-malformed": (
        {},
        {"intermediate_key": "pkcs11:token=station-test;objekt=x"},
        2,
        "ca.intermediate_key: unknown path attribute 'objekt'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "command", [("crl",), ("ca", "aws-verification-cert", "--registration-code", "x")]
)
def test_one_line_errors(
    case: str,
    command: tuple[str, ...],
    template: Path,
    token_env: dict[str, str],
    tmp_path: Path,
) -> None:
    import shutil

    env_changes, toml_changes, code, message = CASES[case]
    home = tmp_path / "home"
    shutil.copytree(template, home)
    with_ca(home, **toml_changes)
    result = station({**token_env, **env_changes}, home, *command)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or (case == "fail/uri-malformed" and len(lines) == 2), lines


def test_the_pin_is_never_taken_from_argv(template: Path, token_env: dict[str, str]) -> None:
    env = {k: v for k, v in token_env.items() if k != "STATION_PKCS11_PIN"}
    result = station(env, template, "crl", "--pin", "x")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    prompted = station(env, template, "crl")  # no PIN in the environment: asked for (no tty)
    assert "User PIN of token station-test (or set STATION_PKCS11_PIN)" in prompted.stderr
    assert prompted.returncode == 1
