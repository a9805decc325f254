"""The commented station.toml that `station init` writes: every key, its default, and why."""

from __future__ import annotations

import json

_TEMPLATE = """\
# station.toml: configuration of one provisioning station.
# Read once when a command starts. Unknown keys are errors; every problem is reported with its
# key path. Relative paths are relative to this station home.

[station]
# Station identifier: letters, digits, '.', '_' or '-', at most 32 characters. It names the
# station's intermediate CA and is written into every audit event.
id = {station_id}
# Organisation: O= of the CA certificates.
org = {org}
# No cycle starts while the disk holding this home has less free space than this, in MiB (the
# audit database, the log and exports live here; a full disk stops cycles midway). 0: no check.
min_free_mib = 200

[ca]
# The station intermediate CA key: an encrypted PKCS#8 PEM file (passphrase from
# STATION_CA_PASSPHRASE or a prompt; keep it mode 0600), or a key on a PKCS#11 token / HSM named
# by an RFC 7512 URI, e.g. "pkcs11:token=station;object=intermediate" (PIN from
# STATION_PKCS11_PIN or a prompt; the key never leaves the token).
intermediate_key = {intermediate_key}
# PKCS#11 module (shared library) for a token key whose URI has no module-path; empty: use
# STATION_PKCS11_MODULE. E.g. "/usr/lib/softhsm/libsofthsm2.so".
pkcs11_module = {pkcs11_module}
# The intermediate CA certificate, sent to boards with their device certificate.
intermediate_cert = "ca/intermediate.cert.pem"
# The root CA certificate (public part only; its key belongs offline).
root_cert = "ca/root.cert.pem"

[profile]
# Device certificate subject. CN = this template; serialNumber = the board's unique id;
# O = organization below (left out when empty). Placeholders: {{uid}} (board unique id, required),
# {{model}} (board model), {{station}} (station id). The CN is also the AWS IoT thing name.
common_name = "{{uid}}"
# O= of device certificates; empty to leave it out.
organization = {org}
# Validity of device certificates in days, or "forever" for notAfter 99991231235959Z (no
# well-defined expiry, RFC 5280 4.1.2.5). A finite validity never outlives the intermediate.
validity_days = 7300
# notBefore is set this many minutes in the past, for boards whose clocks run behind.
backdate_minutes = 5
# EC device certificates also get keyUsage keyAgreement (for ECDH with the static key).
ec_key_agreement = true

[policy]
# Curves accepted in CSRs (AWS IoT accepts P-256, P-384 and P-521 only).
ec_curves = ["P-256", "P-384", "P-521"]
# RSA modulus sizes accepted in CSRs, in bits (AWS IoT needs at least 2048).
rsa_sizes = [2048, 3072, 4096]
# Largest CSR accepted, in bytes (DER or PEM); anything bigger is refused unread.
max_csr_bytes = 16384

[crl]
# nextUpdate of each CRL is this many hours after its thisUpdate.
next_update_hours = 168
# Where `station crl` writes the current CRL (PEM).
path = "crl/station.crl.pem"

[qa]
# `station qa verify` fails a board whose certificate expires within this many days (AWS IoT
# flags certificates expiring within 30 days).
min_remaining_days = 30

[export]
# The audit-signing key and certificate that sign each export's manifest.json (detached CMS,
# manifest.json.p7s). Issued by the station intermediate on the first `station audit export`.
# The signing key: encrypted PKCS#8 (mode 0600), passphrase from STATION_AUDIT_PASSPHRASE, or
# STATION_CA_PASSPHRASE if that is unset.
signer_key = "ca/audit-signer.key.pem"
# The audit-signing certificate; the export signature carries it and the intermediate.
signer_cert = "ca/audit-signer.cert.pem"
# Validity of a new audit-signing certificate in days (capped at the intermediate's notAfter).
signer_days = 1825
# Where the operator's "end shift" action in `station tui` writes the shift's export (one new
# folder per shift, named after the station and the time). Relative paths are in the home.
folder = "exports"
[jig]
# How a cycle starts once a board answers HELLO on a slot: "auto" (at once) or "key" (the
# operator presses S on the slot).
start = "auto"
# Ask for the board's label (a barcode scanner types it, then Enter) before each cycle; the cycle
# stops before KEYGEN when the board reports another id.
label_scan = false
# Milliseconds between looks at a slot for a new board.
poll_ms = 500
# The fastest baud rate every slot's cable and USB-UART adapter carries. Boards that announce
# faster rates (SPEC.md 7.10) are switched to the highest one up to this; 115200: no switching.
max_baud = 115200
# One table per slot, in the order the screen shows them. A slot's port is a URL, or the USB
# adapter's vid:pid plus its serial number and/or physical location (see `station ports`), so a
# re-plugged adapter keeps its slot. Examples: fixtures/jigs/*.toml in the source tree.
# [jig.slots.1]
# url = "/dev/ttyUSB0"
# [jig.slots.2]
# usb = "0403:6001"
# serial_number = "FT4ABC12"
# [jig.slots.3]
# usb = "0403:6011"
# location = "1-1.4:1.2"

# The factory store this station pushes its events to and reserves keys in (PostgreSQL; see
# the README, "The factory store"). Without it the station keeps to itself. The password is
# never written here: libpq reads PGPASSWORD, ~/.pgpass or PGPASSFILE.
# [factory]
# url = "postgresql://st01@store.factory.lan/factory?sslmode=verify-full&sslrootcert=/etc/station/store-ca.pem"
# line = "L1"
# Before signing: "required" (no store, no signing), "best-effort" (sign even when the store
# cannot be asked; the next sync reports any conflict) or "off" (local checks only).
# reserve = "required"
# Seconds a cycle or a sync waits for the store.
# connect_timeout = 3
# The shifts of `station factory report`: each one's name and local start time (it lasts
# until the next one starts, and is named by the day it starts), in an IANA time zone.
# timezone = "UTC"
# shifts = ["A 06:00", "B 14:00", "C 22:00"]
"""


def render_config(
    station_id: str,
    org: str,
    *,
    intermediate_key: str = "ca/intermediate.key.pem",
    pkcs11_module: str = "",
) -> str:
    """The default station.toml for a new station, with every key commented."""
    # json.dumps yields a valid TOML basic string for any text.
    return _TEMPLATE.format(
        station_id=json.dumps(station_id),
        org=json.dumps(org),
        intermediate_key=json.dumps(intermediate_key),
        pkcs11_module=json.dumps(pkcs11_module),
    )
