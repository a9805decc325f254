"""station.toml: read once into frozen dataclasses; unknown keys rejected; all problems at once.

Each top-level table has its own reader in :data:`SECTIONS`; a new table is a dataclass, a
reader in :data:`SECTIONS` and a field on :class:`StationConfig`.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from station.config_reader import TableReader
from station.errors import ConfigError
from station.factory_config import FactorySection, read_factory
from station.home import StationHome
from station.jig import JigSection, read_jig
from station.phrasing import one_of, quoted
from station.pki.audit_signer import SignerFiles
from station.pki.keys import KeyRef
from station.pki.pkcs11_uri import UriError, is_pkcs11_uri, parse_key_uri
from station.pki.policy import CsrPolicy
from station.pki.profile import DeviceProfile

#: Curves and RSA sizes AWS IoT Core accepts for device certificates (DESIGN section 4).
AWS_EC_CURVES = ("P-256", "P-384", "P-521")
AWS_MIN_RSA_BITS = 2048
SUBJECT_FIELDS = ("uid", "model", "station")


@dataclass(frozen=True)
class StationSection:
    id: str
    org: str
    min_free_mib: int  # no cycle starts with less free space in the home; 0: no check


@dataclass(frozen=True)
class CaSection:
    intermediate_key: KeyRef  # a file path, or a pkcs11: URI (RFC 7512) of a token-held key
    pkcs11_module: str  # PKCS#11 library for token keys whose URI has no module-path; "" if none
    intermediate_cert: Path
    root_cert: Path


@dataclass(frozen=True)
class ProfileSection:
    """The device certificate profile (DESIGN section 4)."""

    common_name: str
    organization: str
    validity_days: int | None  # None: no well-defined expiry (notAfter 99991231235959Z)
    backdate_minutes: int
    ec_key_agreement: bool


@dataclass(frozen=True)
class PolicySection:
    """What a CSR may carry."""

    ec_curves: tuple[str, ...]
    rsa_sizes: tuple[int, ...]
    max_csr_bytes: int


@dataclass(frozen=True)
class CrlSection:
    next_update_hours: int
    path: Path


@dataclass(frozen=True)
class QaSection:
    """What `station qa verify` demands of a provisioned board."""

    min_remaining_days: int  # AWS IoT flags certificates expiring within 30 days


@dataclass(frozen=True)
class ExportSection:
    """The audit-signing certificate that signs shift-end export manifests."""

    signer_key: Path
    signer_cert: Path
    signer_days: int
    folder: Path  # where the operator's end-of-shift action writes its export


@dataclass(frozen=True)
class StationConfig:
    home: StationHome
    station: StationSection
    ca: CaSection
    profile: ProfileSection
    policy: PolicySection
    crl: CrlSection
    qa: QaSection
    export: ExportSection
    jig: JigSection
    factory: FactorySection

    # The PKI objects station.toml configures; the config builds them, so station.pki never
    # reads the config.

    def device_profile(self) -> DeviceProfile:
        """The device certificate profile of ``[profile]``."""
        p = self.profile
        return DeviceProfile(
            common_name=p.common_name,
            organization=p.organization,
            validity_days=p.validity_days,
            backdate=timedelta(minutes=p.backdate_minutes),
            ec_key_agreement=p.ec_key_agreement,
            station_id=self.station.id,
        )

    def csr_policy(self) -> CsrPolicy:
        """The CSR policy of ``[policy]``."""
        p = self.policy
        return CsrPolicy(
            ec_curves=p.ec_curves, rsa_sizes=p.rsa_sizes, max_csr_bytes=p.max_csr_bytes
        )

    def audit_signer_files(self) -> SignerFiles:
        """Where the audit-signing certificate and key live, and what it is issued for."""
        return SignerFiles(
            key=self.export.signer_key,
            cert=self.export.signer_cert,
            intermediate_cert=self.ca.intermediate_cert,
            org=self.station.org,
            station_id=self.station.id,
            days=self.export.signer_days,
        )


def _station(t: TableReader, home: StationHome) -> StationSection:
    return StationSection(
        id=t.text("id", pattern=r"[A-Za-z0-9._-]{1,32}"),
        org=t.text("org"),
        min_free_mib=t.integer("min_free_mib", 200, low=0, high=1024 * 1024),
    )


def key_ref(t: TableReader, key: str, default: str, home: StationHome) -> KeyRef:
    """A CA key reference: a ``pkcs11:`` URI, or a path relative to the home."""
    value = t.text(key, default)
    if not is_pkcs11_uri(value):
        return home.resolve(value or default)
    try:
        return parse_key_uri(value)
    except UriError as e:
        t.problem(key, str(e))
        return home.resolve(default)


def _ca(t: TableReader, home: StationHome) -> CaSection:
    return CaSection(
        intermediate_key=key_ref(t, "intermediate_key", "ca/intermediate.key.pem", home),
        pkcs11_module=t.text("pkcs11_module", ""),
        intermediate_cert=home.resolve(t.text("intermediate_cert", "ca/intermediate.cert.pem")),
        root_cert=home.resolve(t.text("root_cert", "ca/root.cert.pem")),
    )


def _template(t: TableReader, key: str, default: str) -> str:
    value = t.text(key, default)
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as e:
        t.problem(key, f"bad template {quoted(value)}: {e}")
        return default
    unknown = sorted(fields - set(SUBJECT_FIELDS))
    if unknown:
        t.problem(key, f"unknown placeholder(s) {unknown}; use {{uid}}, {{model}}, {{station}}")
    elif "uid" not in fields:
        t.problem(key, "must contain {uid} so every device gets its own name")
    return value


def _profile(t: TableReader, home: StationHome) -> ProfileSection:
    validity = t.raw("validity_days", 7300)
    days: int | None = 7300
    if validity == "forever":
        days = None
    elif isinstance(validity, int) and not isinstance(validity, bool) and 1 <= validity <= 36500:
        days = validity
    else:
        t.problem("validity_days", 'must be a number of days (1..36500) or "forever"')
    return ProfileSection(
        common_name=_template(t, "common_name", "{uid}"),
        organization=t.text("organization", ""),
        validity_days=days,
        backdate_minutes=t.integer("backdate_minutes", 5, low=0, high=1440),
        ec_key_agreement=t.boolean("ec_key_agreement", True),
    )


def _policy(t: TableReader, home: StationHome) -> PolicySection:
    curves = t.text_list("ec_curves", list(AWS_EC_CURVES))
    for curve in curves:
        if curve not in AWS_EC_CURVES:
            t.problem(
                "ec_curves",
                f"{quoted(curve)} is not accepted by AWS IoT; use {one_of(AWS_EC_CURVES)}",
            )
    sizes = t.int_list("rsa_sizes", [2048, 3072, 4096])
    for bits in sizes:
        if not AWS_MIN_RSA_BITS <= bits <= 8192 or bits % 8:
            t.problem("rsa_sizes", f"{bits} is not a usable RSA size (2048..8192, whole bytes)")
    if not curves and not sizes:
        t.problem("ec_curves", "ec_curves and rsa_sizes are both empty: no CSR could pass")
    return PolicySection(
        ec_curves=tuple(curves),
        rsa_sizes=tuple(sizes),
        max_csr_bytes=t.integer("max_csr_bytes", 16384, low=512, high=1 << 20),
    )


def _crl(t: TableReader, home: StationHome) -> CrlSection:
    return CrlSection(
        next_update_hours=t.integer("next_update_hours", 168, low=1, high=24 * 366),
        path=home.resolve(t.text("path", "crl/station.crl.pem")),
    )


def _qa(t: TableReader, home: StationHome) -> QaSection:
    return QaSection(min_remaining_days=t.integer("min_remaining_days", 30, low=0, high=36500))


def _export(t: TableReader, home: StationHome) -> ExportSection:
    return ExportSection(
        signer_key=home.resolve(t.text("signer_key", "ca/audit-signer.key.pem")),
        signer_cert=home.resolve(t.text("signer_cert", "ca/audit-signer.cert.pem")),
        signer_days=t.integer("signer_days", 1825, low=1, high=36500),
        folder=home.resolve(t.text("folder", "exports")),
    )


#: Top-level tables, in file order. Required tables must be present.
SECTIONS = {
    "station": _station,
    "ca": _ca,
    "profile": _profile,
    "policy": _policy,
    "crl": _crl,
    "qa": _qa,
    "export": _export,
    "jig": read_jig,
    "factory": read_factory,
}
REQUIRED = ("station",)


def parse_config(data: dict[str, Any], home: StationHome, source: str) -> StationConfig:
    """Turn parsed TOML into a :class:`StationConfig`, or raise one :class:`ConfigError`
    listing every problem with its key path."""
    problems: list[str] = []
    for name in sorted(set(data) - set(SECTIONS)):
        problems.append(f"{name}: unknown table or key")
    sections: dict[str, Any] = {}
    for name, reader in SECTIONS.items():
        raw = data.get(name, {})
        if name in REQUIRED and name not in data:
            problems.append(f"{name}: required table is missing")
        if not isinstance(raw, dict):
            problems.append(f"{name}: must be a table")
            raw = {}
        table = TableReader(name, raw, problems)
        sections[name] = reader(table, home)
        table.reject_unknown()
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise ConfigError(f"{source} has {len(problems)} problem(s):\n{listed}")
    return StationConfig(home=home, **sections)


def load_config(home: StationHome) -> StationConfig:
    """Read ``station.toml`` from a station home (once, at command start)."""
    try:
        text = home.config.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(
            f"no station.toml in {home.root}: run `station --home {home.root} init` first, "
            "or pass the right --home"
        ) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{home.config} is not valid TOML: {e}") from e
    return parse_config(data, home, str(home.config))
