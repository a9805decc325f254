"""`station init`: a new station home with config, CA hierarchy and an empty audit database."""

from __future__ import annotations

from pathlib import Path

import click

from station.commands.loaders import home_of
from station.commands.options import ca_days_option, json_option, key_type_option, pkcs11_option
from station.commands.passphrases import ca_key_secrets, root_passphrase, token_module
from station.commands.reports import action_record, certificate_record, emit_action
from station.new_home import (
    DEFAULT_INTERMEDIATE_DAYS,
    DEFAULT_INTERMEDIATE_KEY,
    DEFAULT_ROOT_DAYS,
    DEFAULT_ROOT_KEY,
    HomeSecrets,
    HomeSpec,
    create_home,
    plan_home,
)
from station.pki.ca import load_certificate
from station.pki.keys import KeySpec
from station.pki.pkcs11_uri import Pkcs11Uri
from station.pki.signer import utc_now

ROOT_WARNING = (
    "WARNING: the root CA key is in {dir}.\n"
    "Move that folder to offline storage (an encrypted medium in a safe) now: the station\n"
    "needs only ca/ to run; the root key is needed again only to sign a new intermediate."
)


@click.command()
@click.option("--org", required=True, help="Organisation name (O= of the CA certificates).")
@click.option("--station-id", required=True, help="Station identifier, e.g. line1-st01.")
@key_type_option("--root-key", DEFAULT_ROOT_KEY, "Root CA key type.")
@key_type_option(
    "--intermediate-key", DEFAULT_INTERMEDIATE_KEY, "Station intermediate CA key type."
)
@ca_days_option("--root-days", DEFAULT_ROOT_DAYS, "Root CA validity in days.")
@ca_days_option(
    "--intermediate-days", DEFAULT_INTERMEDIATE_DAYS, "Intermediate CA validity in days."
)
@click.option(
    "--external-root",
    is_flag=True,
    help="Do not create a root: make the intermediate key and a CSR for your own root to sign, "
    "then run `station ca import-intermediate`.",
)
@pkcs11_option
@json_option
@click.pass_context
def init(
    ctx: click.Context,
    org: str,
    station_id: str,
    root_key: KeySpec,
    intermediate_key: KeySpec,
    root_days: int,
    intermediate_days: int,
    external_root: bool,
    pkcs11_uri: Pkcs11Uri | None,
    as_json: bool,
) -> None:
    """Create a station home: station.toml, root and intermediate CA, empty audit database.

    Passphrases come from STATION_ROOT_PASSPHRASE and STATION_CA_PASSPHRASE, or are asked for.
    With --pkcs11 the intermediate key is generated on the token (PIN from STATION_PKCS11_PIN
    or asked for) and station.toml names it.
    """
    home = home_of(ctx)
    # The module recorded in station.toml for a token key whose URI names none.
    module = "" if pkcs11_uri is None or pkcs11_uri.module_path else token_module("")
    spec = HomeSpec(
        org=org,
        station_id=station_id,
        root_key=root_key,
        intermediate_key=intermediate_key,
        root_days=root_days,
        intermediate_days=intermediate_days,
        external_root=external_root,
        pkcs11_uri=pkcs11_uri,
        pkcs11_module=module,
    )
    plan = plan_home(home, spec)  # a home in use or a bad config fails before any prompt
    root_pass = "" if external_root else root_passphrase(new=True)
    config = plan.config
    secrets = HomeSecrets(
        intermediate=ca_key_secrets(config.ca.intermediate_key, config.ca.pkcs11_module, new=True),
        root_passphrase=root_pass,
    )
    create_home(plan, secrets, utc_now())
    paths = plan.paths
    files = {
        "config": home.config,
        "audit_db": home.audit_db,
        "intermediate_key": paths.key if isinstance(paths.key, Path) else None,
        "intermediate_csr": paths.csr if external_root else None,
        "intermediate_cert": None if external_root else paths.cert,
        "root_cert": None if external_root else paths.root_cert,
        "offline_root_key": None if external_root else home.offline_root_key,
    }
    intermediate = None if external_root else load_certificate(paths.cert)
    record = action_record(
        "init",
        files,
        station_id=station_id,
        home=str(home.root),
        external_root=external_root,
        certificate=None if intermediate is None else certificate_record(intermediate),
    )
    first = f"Station {station_id} initialised in {home.root}"
    if external_root:
        emit_action(
            as_json,
            record,
            first,
            f"Intermediate CSR: {paths.csr}\nHave your root sign it (CA:TRUE pathLen 0, "
            "keyCertSign+cRLSign), then run `station ca import-intermediate --cert FILE "
            "--root-cert FILE`.",
        )
    else:
        emit_action(as_json, record, first, f"Intermediate CA: {paths.cert}")
        click.echo(ROOT_WARNING.format(dir=home.offline_root_dir), err=True)


COMMANDS = (init,)
