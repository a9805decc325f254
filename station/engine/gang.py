"""Many slots at once: one worker thread per slot, each with its own Link and Cycle."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult, Listener
from station.engine.station import StationContext


def provision_all(
    station: StationContext,
    ports: Sequence[str],
    *,
    operator: str | None = None,
    expect_ids: dict[str, str] | None = None,
    reprovision: bool = False,
    listener: Listener | None = None,
) -> list[CycleResult]:
    """Provision every port concurrently; results in the order of ``ports``.

    A slow or dead board only holds its own worker: each cycle is bounded by its link's
    per-request timeouts and retries.
    """
    results: list[CycleResult | None] = [None] * len(ports)
    expect_ids = expect_ids or {}

    def work(index: int, port: str) -> None:
        options = CycleOptions(
            operator=operator, expect_id=expect_ids.get(port), reprovision=reprovision
        )
        cycle = Cycle(station, str(index + 1), port, options, listener=listener)
        results[index] = cycle.run()

    threads = [
        threading.Thread(target=work, args=(i, port), name=f"slot-{i + 1}", daemon=True)
        for i, port in enumerate(ports)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]
