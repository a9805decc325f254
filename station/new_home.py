"""A new station home from explicit values and secrets: station.toml, the CA hierarchy and an
empty audit database (what `station init` and the demo make).

Nothing here prompts, prints or reads the environment: the caller passes every secret. Two
steps, so that a caller asks for secrets only once the home is known to be free and the
configuration valid: :func:`plan_home`, then :func:`create_home` (or both at once with
:func:`create_station_home`).

Order: the CA material first, then the audit database's ``STATION_INIT`` event, then
station.toml last, so a home is a station home only once everything in it exists.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime

from station.audit import AuditDB, EventContext, NewEvent
from station.config import StationConfig, parse_config
from station.config_template import render_config
from station.errors import ConfigError
from station.files import write_new_file
from station.home import StationHome
from station.pki import ca_store
from station.pki.keys import KeySecrets, KeySpec
from station.pki.pkcs11_uri import Pkcs11Uri

DEFAULT_ROOT_KEY = "ec-p384"
DEFAULT_INTERMEDIATE_KEY = "ec-p256"
DEFAULT_ROOT_DAYS = 9125
DEFAULT_INTERMEDIATE_DAYS = 5475
_ROOT_KEY = KeySpec.parse(DEFAULT_ROOT_KEY)
_INTERMEDIATE_KEY = KeySpec.parse(DEFAULT_INTERMEDIATE_KEY)


@dataclass(frozen=True, kw_only=True)
class HomeSpec:
    """What a new station is: its identity and its CA hierarchy's key types and lifetimes."""

    org: str
    station_id: str
    root_key: KeySpec = _ROOT_KEY
    intermediate_key: KeySpec = _INTERMEDIATE_KEY
    root_days: int = DEFAULT_ROOT_DAYS
    intermediate_days: int = DEFAULT_INTERMEDIATE_DAYS
    #: No root here: make the intermediate key and a CSR for the operator's own root to sign.
    external_root: bool = False
    #: The intermediate key on a PKCS#11 token at this URI instead of an encrypted file.
    pkcs11_uri: Pkcs11Uri | None = None
    #: The PKCS#11 module recorded in station.toml when the URI names none.
    pkcs11_module: str = ""


@dataclass(frozen=True)
class HomeSecrets:
    """What protects the new keys: the intermediate's passphrase (or token PIN and module), and
    the root key's passphrase (unused with an external root)."""

    intermediate: KeySecrets
    root_passphrase: str = field(default="", repr=False)


@dataclass(frozen=True)
class HomePlan:
    """A station home about to be created: its station.toml (text and parsed) and CA paths."""

    home: StationHome
    spec: HomeSpec
    config_text: str
    config: StationConfig
    paths: ca_store.IntermediatePaths


def plan_home(home: StationHome, spec: HomeSpec) -> HomePlan:
    """Check that ``home`` is not a station home yet and render its station.toml.

    Raises :class:`ConfigError` when the home exists or the values make an invalid config.
    """
    if home.config.exists():
        raise ConfigError(f"{home.config} exists: {home.root} is already a station home")
    uri = spec.pkcs11_uri
    if uri is None:
        text = render_config(spec.station_id, spec.org)
    else:  # record the module used unless the URI names it
        module = "" if uri.module_path else spec.pkcs11_module
        text = render_config(
            spec.station_id, spec.org, intermediate_key=str(uri), pkcs11_module=module
        )
    config = parse_config(tomllib.loads(text), home, f"station.toml for {home.root}")
    paths = ca_store.IntermediatePaths(
        config.ca.intermediate_key,
        config.ca.intermediate_cert,
        config.ca.root_cert,
        home.ca_dir / "intermediate.csr.pem",
    )
    return HomePlan(home, spec, text, config, paths)


def create_home(plan: HomePlan, secrets: HomeSecrets, now: datetime) -> StationConfig:
    """Create what ``plan`` describes: the root (unless external) and the intermediate key
    with its certificate (or its CSR), the audit database, then station.toml."""
    spec, home, paths = plan.spec, plan.home, plan.paths
    if spec.external_root:
        ca_store.intermediate_csr(
            paths, spec.org, spec.station_id, spec.intermediate_key, secrets.intermediate
        )
    else:
        root, key = ca_store.create_root(
            home.offline_root_key,
            home.offline_root_cert,
            spec.org,
            spec.root_key,
            spec.root_days,
            secrets.root_passphrase,
            now,
        )
        ca_store.create_intermediate(
            paths,
            root,
            key,
            spec.org,
            spec.station_id,
            spec.intermediate_key,
            spec.intermediate_days,
            secrets.intermediate,
            now,
        )
    with AuditDB.open(home.audit_db) as audit:
        audit.record_event(
            NewEvent("STATION_INIT", data={"org": spec.org, "external_root": spec.external_root}),
            EventContext(station_id=plan.config.station.id),
            now,
        )
    write_new_file(home.config, plan.config_text.encode("utf-8"), 0o644)
    return plan.config


def create_station_home(
    home: StationHome, spec: HomeSpec, secrets: HomeSecrets, now: datetime
) -> StationConfig:
    """:func:`plan_home` and :func:`create_home` in one: a new station home; its config."""
    return create_home(plan_home(home, spec), secrets, now)
