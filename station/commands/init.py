"""`station init`: a new station home with config, CA hierarchy and an empty audit database."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from station.audit import AuditDB, NewEvent
from station.commands.loaders import event_context, home_of
from station.commands.options import ca_days_option, json_option, key_type_option, pkcs11_option
from station.commands.passphrases import ca_key_secrets, root_passphrase, token_module
from station.commands.reports import action_record, certificate_record, emit_action
from station.config import parse_config
from station.config_template import render_config
from station.errors import ConfigError
from station.files import write_new_file
from station.pki import ca_store
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
@key_type_option("--root-key", "ec-p384", "Root CA key type.")
@key_type_option("--intermediate-key", "ec-p256", "Station intermediate CA key type.")
@ca_days_option("--root-days", 9125, "Root CA validity in days.")
@ca_days_option("--intermediate-days", 5475, "Intermediate CA validity in days.")
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
    if home.config.exists():
        raise ConfigError(f"{home.config} exists: {home.root} is already a station home")
    if pkcs11_uri is None:
        text = render_config(station_id, org)
    else:  # record the module used unless the URI names it
        module = "" if pkcs11_uri.module_path else token_module("")
        text = render_config(
            station_id, org, intermediate_key=str(pkcs11_uri), pkcs11_module=module
        )
    config = parse_config(tomllib.loads(text), home, f"station.toml for {home.root}")
    paths = ca_store.IntermediatePaths(
        config.ca.intermediate_key,
        config.ca.intermediate_cert,
        config.ca.root_cert,
        home.ca_dir / "intermediate.csr.pem",
    )
    now = utc_now()
    intermediate = None
    if external_root:
        secrets = ca_key_secrets(paths.key, config.ca.pkcs11_module, new=True)
        ca_store.intermediate_csr(paths, org, station_id, intermediate_key, secrets)
    else:
        root_pass = root_passphrase(new=True)
        secrets = ca_key_secrets(paths.key, config.ca.pkcs11_module, new=True)
        root, key = ca_store.create_root(
            home.offline_root_key, home.offline_root_cert, org, root_key, root_days, root_pass, now
        )
        intermediate = ca_store.create_intermediate(
            paths,
            root,
            key,
            org,
            station_id,
            intermediate_key,
            intermediate_days,
            secrets,
            now,
        )
    with AuditDB.open(home.audit_db) as audit:
        audit.record_event(
            NewEvent("STATION_INIT", data={"org": org, "external_root": external_root}),
            event_context(config),
            now,
        )
    write_new_file(home.config, text.encode("utf-8"), 0o644)
    files = {
        "config": home.config,
        "audit_db": home.audit_db,
        "intermediate_key": paths.key if isinstance(paths.key, Path) else None,
        "intermediate_csr": paths.csr if external_root else None,
        "intermediate_cert": None if external_root else paths.cert,
        "root_cert": None if external_root else paths.root_cert,
        "offline_root_key": None if external_root else home.offline_root_key,
    }
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
