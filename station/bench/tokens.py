"""What a PKCS#11 token costs per board: the same unpaced cycles with the intermediate key in a
file and on a SoftHSM2 token (a software token in this process; a USB HSM adds its own latency,
so measure yours with the same figure)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from station.bench.cpu import cpu_per_board
from station.bench.figures import Figure, info
from station.bench.homes import make_home
from station.bench.softhsm import make_softhsm
from station.pki.errors import TokenModuleError

LABEL = "bench"


def token_vs_file(work: Path, boards: int) -> list[Figure]:
    """Station CPU and wall time per board, EC P-256 intermediate as a file vs on a token."""
    try:
        hsm = make_softhsm(work / "softhsm")
        pin = secrets.token_urlsafe(12)
        hsm.init_token(LABEL, pin, secrets.token_urlsafe(12))
    except TokenModuleError as e:
        return [info("token key / file key, CPU per board", 0.0, "x", f"not measured: {e}")]
    # SoftHSM2 reads its config when the module is first initialised in this process.
    os.environ.update(hsm.env())
    file_home = work / "file-key"
    token_home = work / "token-key"
    file_pass = make_home(file_home)
    token_pass = make_home(
        token_home,
        pkcs11_uri=f"pkcs11:token={LABEL};object=bench-intermediate",
        env={**hsm.env(), "STATION_PKCS11_PIN": pin},
    )
    file_cpu, file_wall = cpu_per_board(file_home, file_pass, "ec-p256", 256, boards, work)
    token_cpu, token_wall = cpu_per_board(
        token_home, token_pass, "ec-p256", 256, boards, work, pin=pin
    )
    note = f"{boards} ec-p256 boards, unpaced, ec-p256 intermediate"
    return [
        info("station CPU / board, file key", file_cpu * 1000, "ms", note),
        info(
            "station CPU / board, token key (SoftHSM2)",
            token_cpu * 1000,
            "ms",
            f"wall {token_wall * 1000:.1f} ms vs {file_wall * 1000:.1f} ms with the file key",
        ),
        info("token key / file key, CPU per board", token_cpu / file_cpu, "x"),
    ]
