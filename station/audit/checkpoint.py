"""Verify from the last signed checkpoint: only the events after an export's signed head.

An export's manifest is signed by the audit-signing key and says "the chain up to event N
hashes to H" (``chain.head_seq`` and ``chain.head_hash``). Trusting that statement takes, in
this order: the signature over the manifest and the signer's chain to the station's root
(:mod:`station.audit.cms`, :mod:`station.audit.signer_chain`); the manifest being this
station's; event N in the database still hashing to H; then the chain from N+1 to the head,
linked to H, and the certificate records of every certificate those events touch.

What this mode does not look for: a change to an event before N (only N itself is rehashed)
or to a certificate no event after N names. A full ``station audit verify`` finds those.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from station.audit.chain import values_hash
from station.audit.chain_read import walk_connection
from station.audit.chain_scan import COLUMNS, ChainState
from station.audit.cms import CmsError, verify_detached
from station.audit.errors import AuditError
from station.audit.export import FORMAT, MANIFEST, SIGNATURE
from station.audit.readonly import connect_readonly
from station.audit.verify import Finding, certificate_findings
from station.errors import ExitCode
from station.phrasing import quoted

_FULL = "run a full `station audit verify`"


class CheckpointError(AuditError):
    """No checkpoint to verify from, or one that cannot be trusted."""


class NoCheckpoint(CheckpointError):
    """No signed export to take the checkpoint from."""

    exit_code = ExitCode.USAGE


class CheckpointRefused(CheckpointError):
    """The export's manifest is not signed by this station's audit-signing chain, or is not a
    manifest of this station."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain up to event ``seq`` hashes to ``hash``."""

    folder: Path
    seq: int
    hash: str
    signer: str  # the audit-signing certificate's subject
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "seq": self.seq,
            "hash": self.hash,
            "signer": self.signer,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class CheckpointVerify:
    checkpoint: Checkpoint
    state: ChainState  # the events after the checkpoint
    findings: list[Finding]


def load_checkpoint(folder: Path, root: x509.Certificate, station_id: str) -> Checkpoint:
    """The checkpoint an export folder's signed manifest states; :class:`CheckpointRefused`
    if the signature, the signer's chain or the manifest is wrong."""
    try:
        manifest_bytes = (folder / MANIFEST).read_bytes()
        p7s = (folder / SIGNATURE).read_bytes()
    except OSError as e:
        raise CheckpointRefused(
            f"checkpoint {folder}: cannot read {Path(str(e.filename)).name} ({e.strerror}); "
            f"give an export folder (with {MANIFEST} and {SIGNATURE}), or {_FULL}"
        ) from e
    try:
        signature = verify_detached(p7s, manifest_bytes, root)
    except CmsError as e:
        raise CheckpointRefused(
            f"checkpoint {folder}: its signature does not verify against the station's root "
            f"({e}); it cannot be trusted: {_FULL}"
        ) from e
    try:
        manifest = json.loads(manifest_bytes)
        chain = manifest["chain"]
        seq, head = chain["head_seq"], chain["head_hash"]
        if manifest.get("format") != FORMAT or not isinstance(seq, int) or seq < 0:
            raise ValueError("not an audit export manifest")
        if not isinstance(head, str):
            raise ValueError("no chain head")
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointRefused(
            f"checkpoint {folder}: {MANIFEST} is signed but not a manifest this station reads "
            f"({e}); {_FULL}"
        ) from e
    if manifest.get("station_id") != station_id:
        raise CheckpointRefused(
            f"checkpoint {folder}: exported by station {quoted(manifest.get('station_id'))}, "
            f"not this station ({quoted(station_id)}); give one of this station's exports"
        )
    return Checkpoint(
        folder,
        seq,
        head,
        signature.signer.subject.rfc4514_string(),
        str(manifest.get("created_at")),
    )


def newest_checkpoint(db_path: Path, root: x509.Certificate, station_id: str) -> Checkpoint:
    """The newest export the database records whose folder is still there, checked by
    :func:`load_checkpoint`. The database only says where to look: what is trusted is the
    signature."""
    conn = connect_readonly(db_path)
    try:
        recorded = [
            Path(r[0]) for r in conn.execute("SELECT out_dir FROM exports ORDER BY id DESC")
        ]
    finally:
        conn.close()
    present = [f for f in recorded if (f / MANIFEST).is_file()]
    if not present:
        where = (
            f"none of the {len(recorded)} recorded export folders is there any more"
            if recorded
            else "no export was ever made"
        )
        raise NoCheckpoint(
            f"no signed checkpoint for {db_path} ({where}): give an export folder with "
            f"--from-checkpoint PATH, make one with `station audit export`, or {_FULL}"
        )
    return load_checkpoint(present[0], root, station_id)


def verify_from_checkpoint(db_path: Path, checkpoint: Checkpoint) -> CheckpointVerify:
    """Event N against the checkpoint, then the events after it and their certificates."""
    conn = connect_readonly(db_path)
    try:
        last = int(conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)
        found = _check_anchor(conn, checkpoint, last)
        if found:
            return CheckpointVerify(checkpoint, ChainState(), found)
        state = walk_connection(conn, checkpoint.seq + 1, last, prev=checkpoint.hash)
        found = certificate_findings(state, conn)
    finally:
        conn.close()
    return CheckpointVerify(checkpoint, state, found)


def _check_anchor(conn: sqlite3.Connection, cp: Checkpoint, last: int) -> list[Finding]:
    if cp.seq == 0:
        return []
    seq = str(cp.seq)
    row = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq = ?",  # noqa: S608
        (cp.seq,),
    ).fetchone()
    if row is None:
        return [
            Finding(
                "events",
                seq,
                f"missing: the checkpoint ({cp.folder}) says the chain reaches it, the "
                f"database ends at {last}; {_FULL}",
            )
        ]
    try:
        rehashed: str | None = values_hash(row[:-1])
    except (TypeError, ValueError):
        rehashed = None
    if row[-1] != cp.hash or rehashed != cp.hash:
        return [
            Finding(
                "events",
                seq,
                f"does not hash to the checkpoint's {cp.hash[:16]}... ({cp.folder}): the chain "
                f"up to it was changed; {_FULL} to find the first changed event",
            )
        ]
    return []
