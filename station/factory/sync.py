"""Push one station's events to the factory store, in sequence, batched, resumable.

The sync starts where the store's head for the station is. If the station's event at that seq
is not the one the store holds (a database rewritten, forked or truncated after it synced), a
binary search over the stored hashes (each hash covers the whole history before it) finds the
first seq where the two histories part, and the sync pushes from there: the store sees the
difference itself and marks the station diverged. The station's word is never taken for it:
every check is made again on the server (migrations/0003_ingest.sql).

Memory stays flat: events are streamed from SQLite and sent ``batch`` at a time; each batch is
its own transaction in the store, so a sync cut off anywhere resumes from the store's head.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

from station.factory.local_chain import LocalChain
from station.factory.store import StationHead, Store

DEFAULT_BATCH = 5000


@dataclass(frozen=True)
class SyncReport:
    """How a sync ended."""

    station_id: str
    pushed: int  # events the store accepted in this sync
    local_seq: int  # the station's head when the sync started
    head: StationHead  # the store's head for the station when the sync ended

    @property
    def behind(self) -> int:
        return max(0, self.local_seq - self.head.seq)

    @property
    def diverged(self) -> bool:
        return self.head.diverged_seq is not None


def first_difference(
    upto: int, local: Callable[[int], str | None], stored: Callable[[int], str | None]
) -> int | None:
    """The smallest seq in 1..upto whose hash differs between ``local`` and ``stored``, or None
    if they agree on all of them. Pure; one probe per halving (hashes chain, so agreeing at a
    seq means agreeing at every seq before it)."""
    if upto < 1 or local(upto) == stored(upto):
        return None
    low, high = 1, upto  # the answer is in [low, high]; high differs
    while low < high:
        mid = (low + high) // 2
        if local(mid) == stored(mid):
            low = mid + 1
        else:
            high = mid
    return low


def sync(
    store: Store,
    chain: LocalChain,
    station_id: str,
    line: str,
    *,
    batch: int = DEFAULT_BATCH,
    on_batch: Callable[[SyncReport], None] | None = None,
) -> SyncReport:
    """Push the station's events the store lacks; return where both stand."""
    local_seq, local_hash = chain.head()
    head = store.head(station_id)
    if head.diverged_seq is not None:
        return SyncReport(station_id, 0, local_seq, head)
    start = head.seq
    if head.seq and chain.hash_at(head.seq) != head.hash:
        parted = first_difference(
            min(head.seq, local_seq),
            chain.hash_at,
            lambda seq: store.hashes(station_id, [seq]).get(seq),
        )
        start = (parted - 1) if parted is not None else local_seq
    pushed = 0
    events = chain.events(start, local_seq)
    # The next batch is read from SQLite while the store checks this one (one batch ahead, so
    # memory stays at two batches).
    with ThreadPoolExecutor(1, thread_name_prefix="factory-read") as reader:
        ahead = reader.submit(lambda: list(islice(events, batch)))
        while True:
            chunk = ahead.result()
            if len(chunk) == batch:
                ahead = reader.submit(lambda: list(islice(events, batch)))
            result = store.ingest(station_id, line, chunk, (local_seq, local_hash))
            pushed += result.accepted
            head = result.head
            report = SyncReport(station_id, pushed, local_seq, head)
            if on_batch is not None:
                on_batch(report)
            if head.diverged_seq is not None or len(chunk) < batch:
                return report
