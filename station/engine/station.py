"""Everything a cycle needs from the station, passed down explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from station.audit import AuditDB
from station.disk import SpaceGuard
from station.engine.rate import RateMemory
from station.engine.reservation import Reserver
from station.pki.policy import CsrPolicy
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner

#: Key types the engine asks boards for, most preferred first (AWS IoT accepts all of them).
DEFAULT_KEY_PREFERENCE = ("ec-p256", "ec-p384", "ec-p521", "rsa-2048", "rsa-3072", "rsa-4096")


@dataclass(frozen=True)
class StationContext:
    """Built from station.toml in one place, :func:`station.engine.compose.station_context`."""

    station_id: str
    signer: DeviceSigner
    policy: CsrPolicy
    audit: AuditDB
    key_preference: tuple[str, ...] = DEFAULT_KEY_PREFERENCE
    #: Revoke a certificate that a re-provisioned board's new one supersedes.
    revoke_superseded: bool = True
    request_timeout: float = 2.0
    retries: int = 3
    #: Checked before each cycle: no cycle starts below the free-space minimum. None: no check.
    space: SpaceGuard | None = None
    #: Reserves each key in the factory store before signing ([factory] reserve). None: off.
    reserver: Reserver | None = None
    #: The fastest line rate the jig's cables and adapters carry ([jig] max_baud; SPEC.md
    #: 7.10); the default 115200 means no negotiation.
    max_baud: int = 115200
    #: Boards that could not hold a rate on a slot, not asked again there.
    rates: RateMemory = field(default_factory=RateMemory)

    @property
    def profile(self) -> DeviceProfile:
        """The device certificate profile: the signer's own, so the subject the engine asks
        the board for and the certificate the signer builds cannot disagree."""
        return self.signer.profile
