"""The composition root: the one place a :class:`StationContext` is built from station.toml.

Commands, the demo, the benchmarks and the tests all come here, so what a cycle runs with (one
device profile shared by the signer and the context, the configured policy, the free-space
guard) is spelled once. Secrets are not read here: the caller opens the CA key its own way (a
prompt, the environment, a passphrase it made up) and passes the opener in.
"""

from __future__ import annotations

from collections.abc import Callable

from station.audit import AuditDB
from station.config import StationConfig
from station.disk import MIB, SpaceGuard
from station.engine.reservation import Reserver
from station.engine.station import DEFAULT_KEY_PREFERENCE, StationContext
from station.pki.ca import load_certificate
from station.pki.keys import CaPrivateKey
from station.pki.signer import DeviceSigner


def device_signer(config: StationConfig, open_key: Callable[[], CaPrivateKey]) -> DeviceSigner:
    """The device signer over the configured intermediate; the certificate is read before
    ``open_key`` is called, so a missing certificate fails before any prompt."""
    cert = load_certificate(config.ca.intermediate_cert)
    return DeviceSigner(cert, open_key(), config.device_profile())


def space_guard(config: StationConfig) -> SpaceGuard:
    """The free-space check run before each cycle ([station] min_free_mib)."""
    return SpaceGuard(config.home.root, config.station.min_free_mib * MIB)


def station_context(
    config: StationConfig,
    audit: AuditDB,
    signer: DeviceSigner,
    *,
    request_timeout: float = 2.0,
    retries: int = 3,
    revoke_superseded: bool = True,
    key_preference: tuple[str, ...] = DEFAULT_KEY_PREFERENCE,
    guard_space: bool = True,
    reserver: Reserver | None = None,
    max_baud: int | None = None,
) -> StationContext:
    """What the engine needs from this station for cycles on its slots. ``guard_space``
    False: no free-space check (a throwaway home: the demo, benchmarks, tests). ``reserver``:
    the factory store's key reservation before signing (built by the caller from [factory],
    since the store sits above the engine), or None. ``max_baud``: the jig's, when it is not
    station.toml's ([jig] max_baud)."""
    return StationContext(
        station_id=config.station.id,
        signer=signer,
        policy=config.csr_policy(),
        audit=audit,
        key_preference=key_preference,
        revoke_superseded=revoke_superseded,
        request_timeout=request_timeout,
        retries=retries,
        space=space_guard(config) if guard_space else None,
        reserver=reserver,
        max_baud=config.jig.max_baud if max_baud is None else max_baud,
    )
