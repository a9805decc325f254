"""`station ca ...`: root, intermediate (local or external root), show, AWS verification cert."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from station.audit import NewEvent
from station.commands.loaders import (
    config_of,
    event_context,
    home_of,
    open_audit,
    open_ca_key,
)
from station.commands.options import ca_days_option, json_option, key_type_option, pkcs11_option
from station.commands.passphrases import ca_key_secrets, root_passphrase
from station.commands.reports import action_record, certificate_record, emit_action
from station.config import StationConfig, parse_config
from station.config_edit import with_table_keys
from station.errors import StationError
from station.files import replace_file
from station.pki import ca_store
from station.pki.aws import verification_certificate
from station.pki.ca import load_certificate
from station.pki.keys import KeyRef, KeySecrets, KeySpec, load_private_key
from station.pki.pkcs11_uri import Pkcs11Uri
from station.pki.serials import random_serial, serial_hex
from station.pki.signer import utc_now

_SHA256 = hashes.SHA256()
FILE = click.Path(dir_okay=False, path_type=Path)
EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


def _paths(config: StationConfig, key: KeyRef | None = None) -> ca_store.IntermediatePaths:
    return ca_store.IntermediatePaths(
        key or config.ca.intermediate_key,
        config.ca.intermediate_cert,
        config.ca.root_cert,
        config.home.ca_dir / "intermediate.csr.pem",
    )


def _config_for_token(config: StationConfig, uri: Pkcs11Uri, secrets: KeySecrets) -> str:
    """station.toml naming the token key (and the module used, if nothing names one yet), with
    everything else as it was. Made and checked before the key exists, so a station.toml that
    cannot be edited stops the command while nothing has changed yet."""
    path = config.home.config
    values = {"intermediate_key": str(uri)}
    if uri.module_path is None and not config.ca.pkcs11_module and secrets.module:
        values["pkcs11_module"] = secrets.module
    text = with_table_keys(path.read_text(encoding="utf-8"), "ca", values, path)
    parse_config(tomllib.loads(text), config.home, str(path))  # never write a broken file
    return text


def _write_config(config: StationConfig, text: str, uri: Pkcs11Uri) -> None:
    """Replace station.toml (atomically: the old one stays whole if this fails)."""
    path = config.home.config
    try:
        replace_file(path, text.encode("utf-8"))
    except OSError as e:
        raise StationError(
            f"the intermediate key {uri} is on the token and recorded in the audit database, "
            f"but {path} could not be updated ({e.strerror or e}); set [ca] intermediate_key = "
            f'"{uri}" there by hand'
        ) from e


def _key_ref(config: StationConfig, uri: Pkcs11Uri | None) -> KeyRef:
    return uri if uri is not None else config.ca.intermediate_key


def _config_if(config: StationConfig, uri: Pkcs11Uri | None) -> Path | None:
    """station.toml, when the command pointed it at a token key."""
    return None if uri is None else config.home.config


def _written(config: StationConfig, ref: KeyRef, uri: Pkcs11Uri | None) -> dict[str, Path | None]:
    """The files an intermediate's creation writes (a token key is no file)."""
    return {
        "intermediate_key": ref if isinstance(ref, Path) else None,
        "intermediate_cert": config.ca.intermediate_cert,
        "config": _config_if(config, uri),
    }


def _record(
    config: StationConfig, kind: str, cert: x509.Certificate, key: KeyRef | None = None
) -> None:
    data = {"sha256": cert.fingerprint(_SHA256).hex()}
    if isinstance(key, Pkcs11Uri):
        data["key"] = str(key)
    with open_audit(config) as audit:
        audit.record_event(
            NewEvent(
                kind,
                serial=serial_hex(cert.serial_number),
                text=cert.subject.rfc4514_string(),
                data=data,
            ),
            event_context(config),
            utc_now(),
        )


@click.group()
def ca() -> None:
    """Manage the station's CA hierarchy (root, intermediate, AWS registration)."""


@ca.command("create-root")
@key_type_option("--key-type", "ec-p384", "Root key type.")
@ca_days_option("--days", 9125, "Validity in days.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write root.key.pem and root.cert.pem [default: HOME/offline-root].",
)
@json_option
@click.pass_context
def create_root(
    ctx: click.Context, key_type: KeySpec, days: int, out_dir: Path | None, as_json: bool
) -> None:
    """Create a root CA key (encrypted, STATION_ROOT_PASSPHRASE) and self-signed certificate."""
    config = config_of(ctx)
    out = out_dir or home_of(ctx).offline_root_dir
    cert, _ = ca_store.create_root(
        out / "root.key.pem",
        out / "root.cert.pem",
        config.station.org,
        key_type,
        days,
        root_passphrase(new=True),
        utc_now(),
    )
    files = {"root_key": out / "root.key.pem", "root_cert": out / "root.cert.pem"}
    record = action_record("ca create-root", files, certificate=certificate_record(cert))
    emit_action(as_json, record, f"Root CA {cert.subject.rfc4514_string()} written to {out}")
    click.echo(f"WARNING: move {out} to offline storage; the station does not need it.", err=True)


@ca.command("create-intermediate")
@click.option("--root-cert", type=EXISTING, required=True, help="Root CA certificate (PEM).")
@click.option("--root-key", type=EXISTING, required=True, help="Root CA key (encrypted PEM).")
@key_type_option("--key-type", "ec-p256", "Intermediate key type.")
@ca_days_option("--days", 5475, "Validity in days (capped at the root's).")
@pkcs11_option
@json_option
@click.pass_context
def create_intermediate(
    ctx: click.Context,
    root_cert: Path,
    root_key: Path,
    key_type: KeySpec,
    days: int,
    pkcs11_uri: Pkcs11Uri | None,
    as_json: bool,
) -> None:
    """Create the station intermediate key and certificate, signed by the given root.

    With --pkcs11 the key is generated on the token and station.toml is pointed at it.
    """
    config = config_of(ctx)
    root = load_certificate(root_cert)
    key = load_private_key(root_key, root_passphrase())
    ref = _key_ref(config, pkcs11_uri)
    secrets = ca_key_secrets(ref, config.ca.pkcs11_module, new=True)
    # Order: the new station.toml is made and checked first, then the key and certificate, then
    # the audit event; station.toml is replaced last, so any failure leaves the old one whole.
    new_config = None if pkcs11_uri is None else _config_for_token(config, pkcs11_uri, secrets)
    cert = ca_store.create_intermediate(
        _paths(config, ref),
        root,
        key,
        config.station.org,
        config.station.id,
        key_type,
        days,
        secrets,
        utc_now(),
    )
    _record(config, "CA_INTERMEDIATE_CREATED", cert, ref)
    if pkcs11_uri is not None and new_config is not None:
        _write_config(config, new_config, pkcs11_uri)
    record = action_record(
        "ca create-intermediate",
        _written(config, ref, pkcs11_uri),
        certificate=certificate_record(cert),
        key=str(ref),
    )
    subject, where = cert.subject.rfc4514_string(), config.ca.intermediate_cert
    emit_action(as_json, record, f"Intermediate CA {subject} written to {where}")


@ca.command("intermediate-csr")
@key_type_option("--key-type", "ec-p256", "Intermediate key type (when the key is created).")
@click.option("--out", type=FILE, help="Also write the CSR here.")
@pkcs11_option
@json_option
@click.pass_context
def intermediate_csr(
    ctx: click.Context,
    key_type: KeySpec,
    out: Path | None,
    pkcs11_uri: Pkcs11Uri | None,
    as_json: bool,
) -> None:
    """Write a CSR for the station intermediate, for an external root to sign.

    With --pkcs11 the key is on the token (generated there if missing) and station.toml is
    pointed at it.
    """
    config = config_of(ctx)
    ref = _key_ref(config, pkcs11_uri)
    paths = _paths(config, ref)
    new = isinstance(ref, Path) and not ref.exists()
    secrets = ca_key_secrets(ref, config.ca.pkcs11_module, new=new)
    new_config = None if pkcs11_uri is None else _config_for_token(config, pkcs11_uri, secrets)
    csr = ca_store.intermediate_csr(paths, config.station.org, config.station.id, key_type, secrets)
    if pkcs11_uri is not None and new_config is not None:
        _write_config(config, new_config, pkcs11_uri)
    if out:
        replace_file(out, csr.public_bytes(serialization.Encoding.PEM))
    files = {"csr": paths.csr, "out": out, "config": _config_if(config, pkcs11_uri)}
    if new and isinstance(ref, Path):
        files["intermediate_key"] = ref
    record = action_record(
        "ca intermediate-csr", files, subject=csr.subject.rfc4514_string(), key=str(ref)
    )
    emit_action(as_json, record, f"Intermediate CSR written to {out or paths.csr}")


@ca.command("import-intermediate")
@click.option("--cert", type=EXISTING, required=True, help="Intermediate certificate (PEM).")
@click.option("--root-cert", type=EXISTING, required=True, help="The root that signed it (PEM).")
@json_option
@click.pass_context
def import_intermediate(ctx: click.Context, cert: Path, root_cert: Path, as_json: bool) -> None:
    """Install an intermediate certificate signed by an external root, after checking it."""
    config = config_of(ctx)
    secrets = ca_key_secrets(config.ca.intermediate_key, config.ca.pkcs11_module)
    installed = ca_store.import_intermediate(_paths(config), cert, root_cert, secrets)
    _record(config, "CA_INTERMEDIATE_IMPORTED", installed)
    files = {"intermediate_cert": config.ca.intermediate_cert, "root_cert": config.ca.root_cert}
    record = action_record(
        "ca import-intermediate", files, certificate=certificate_record(installed)
    )
    emit_action(as_json, record, f"Intermediate CA {installed.subject.rfc4514_string()} installed")


def _describe(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"path": str(path), "present": False}
    cert = load_certificate(path)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return {
        "path": str(path),
        "present": True,
        **certificate_record(cert),
        "path_length": bc.path_length,
        "subject_key_id": ski.digest.hex(),
    }


def _describe_key(ref: KeyRef) -> dict[str, Any]:
    if isinstance(ref, Pkcs11Uri):  # presence needs the PIN; `station crl` or `sign` checks it
        return {"uri": str(ref), "token": ref.token, "object": ref.object}
    return {"path": str(ref), "present": ref.exists()}


@ca.command("show")
@json_option
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Show the station's intermediate and root certificates."""
    config = config_of(ctx)
    info: dict[str, Any] = {
        "station_id": config.station.id,
        "intermediate": _describe(config.ca.intermediate_cert),
        "root": _describe(config.ca.root_cert),
        "intermediate_key": _describe_key(config.ca.intermediate_key),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"Station {config.station.id}")
    for role in ("intermediate", "root"):
        click.echo(f"{role}:")
        for key, value in info[role].items():
            click.echo(f"  {key}: {value}")


@ca.command("aws-verification-cert")
@click.option("--registration-code", required=True, help="From `aws iot get-registration-code`.")
@click.option("--out", type=FILE, help="Write the certificate here [default: stdout].")
@json_option
@click.pass_context
def aws_verification_cert(
    ctx: click.Context, registration_code: str, out: Path | None, as_json: bool
) -> None:
    """A verification certificate (CN = registration code) to register the intermediate with
    AWS IoT in DEFAULT mode."""
    config = config_of(ctx)
    issuer = load_certificate(config.ca.intermediate_cert)
    key = open_ca_key(config)
    cert = verification_certificate(
        issuer, key, registration_code, now=utc_now(), serial=random_serial()
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if out:
        replace_file(out, pem)
    if as_json:
        record = action_record(
            "ca aws-verification-cert",
            {"out": out},
            certificate=certificate_record(cert),
            pem=pem.decode("ascii"),
        )
        emit_action(True, record)
    elif out:
        click.echo(f"Verification certificate written to {out}", err=True)
    else:
        click.echo(pem.decode("ascii"), nl=False)


COMMANDS = (ca,)
