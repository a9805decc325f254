"""The line's blocking parts in thread workers: watchers, cycles, QA, the demo's swaps.

Workers never touch widgets or the line's state: they post messages, which the screen hands to
the :class:`~station.line.controller.LineController` on its own thread. Per slot, a lock keeps a
HELLO probe, a cycle, QA and a swap from opening the (exclusively opened) port at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from textual.message import Message
from textual.screen import Screen

from device_protocol import Link, LinkError
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import EngineEvent
from station.errors import StationError
from station.factory.link_status import describe
from station.line.setup import LineSetup
from station.line.watch import watch_slot
from station.qa.runner import QaContext, run_qa
from station.tui.messages import (
    BoardArrived,
    BoardSwapped,
    EngineUpdate,
    FactoryLinkChanged,
    QaDone,
    SlotQuiet,
    WatcherFailed,
)

log = logging.getLogger(__name__)


class SlotWorkers:
    """Starts ``screen``'s workers for the line in ``setup``; results arrive as its messages.

    Worker groups are ``watch-<slot>``, ``cycle-<slot>`` (cycles and QA: one at a time) and
    ``swap-<slot>``.
    """

    def __init__(self, screen: Screen[Any], setup: LineSetup) -> None:
        self.screen = screen
        self.setup = setup
        self._locks = {name: threading.Lock() for name in setup.slots}
        self._stops = {name: threading.Event() for name in setup.slots}
        self._factory_stop = threading.Event()

    def watch(self, slot: str, known_uid: str | None, number: int) -> None:
        """Replace the slot's watcher; its reports carry ``number``."""
        self._stops[slot].set()
        stop = self._stops[slot] = threading.Event()

        def post(message: Message) -> None:
            self.screen.post_message(message)  # thread-safe

        def body() -> None:
            try:
                seen = watch_slot(
                    slot,
                    self.setup.source,
                    lock=self._locks[slot],
                    stop=stop,
                    known_uid=known_uid,
                    on_vacant=lambda vacant: post(SlotQuiet(vacant, number)),
                    probe=self.setup.probe,
                    interval=self.setup.poll,
                )
            except Exception as e:  # anything at all: the controller restarts the watcher
                log.error(
                    "%s slot %s looking for boards failed (watcher %d)",
                    self.setup.station.station_id,
                    slot,
                    number,
                    exc_info=e,
                )
                post(WatcherFailed(slot, number, e))
                return
            if seen is not None:
                post(BoardArrived(seen, number))

        self.screen.run_worker(
            body, name=f"watch slot {slot}", group=f"watch-{slot}", thread=True, exit_on_error=False
        )

    def stop_watching(self, slot: str) -> None:
        """The watcher ends within one poll (and lets go of the port: the lock waits for it)."""
        self._stops[slot].set()

    def cycle(self, slot: str, port: str, options: CycleOptions) -> None:
        """Run a cycle; its events arrive as EngineUpdate messages (the result last)."""
        cycle = Cycle(self.setup.station, slot, port, options, listener=self._engine_event)

        def body() -> None:
            with self._locks[slot]:
                cycle.run()  # never raises; its result arrives through the listener

        self.screen.run_worker(
            body,
            name=f"cycle slot {slot}",
            group=f"cycle-{slot}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _engine_event(self, event: EngineEvent) -> None:
        """From a cycle's worker thread: to the log file, then to the screen as a message."""
        if self.setup.logbook is not None:
            self.setup.logbook(event)
        self.screen.post_message(EngineUpdate(event))

    def qa(self, slot: str, port: str, context: QaContext, operator: str) -> None:
        """QA the board on ``slot``; the result arrives as a QaDone message."""
        qa_context = replace(context, operator=operator, slot=slot)

        def body() -> None:
            post = self.screen.post_message
            try:
                with (
                    self._locks[slot],
                    Link.open_url(port, timeout=self.setup.station.request_timeout) as link,
                ):
                    post(QaDone(slot, run_qa(link, qa_context)))
            except (StationError, LinkError) as e:
                post(QaDone(slot, None, str(e)))

        self.screen.run_worker(
            body,
            name=f"qa slot {slot}",
            group=f"cycle-{slot}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def swap(self, slot: str) -> None:
        """The demo line puts its next board on ``slot``, unless a cycle holds the port."""
        feeder = self.setup.feeder
        if feeder is None:
            return

        def body() -> None:
            if not self._locks[slot].acquire(blocking=False):
                return  # a retry is running: leave that board alone
            try:
                uid = feeder.swap(slot)
            finally:
                self._locks[slot].release()
            self.screen.post_message(BoardSwapped(slot, uid))

        self.screen.run_worker(
            body, name=f"swap slot {slot}", group=f"swap-{slot}", thread=True, exit_on_error=False
        )

    def factory_link(self) -> None:
        """Sync with the factory store, again and again, until :meth:`stop_factory_link`; each
        attempt's line arrives as a FactoryLinkChanged message. A store that is down never
        stops the line: the attempt just says so."""
        link = self.setup.factory
        if link is None:
            return
        stop = self._factory_stop

        def body() -> None:
            try:
                while not stop.is_set():
                    state = link.step()
                    alarm = state.diverged_seq is not None
                    self.screen.post_message(FactoryLinkChanged(describe(state), alarm))
                    stop.wait(link.interval)
            finally:
                link.close()

        self.screen.run_worker(
            body, name="factory link", group="factory-link", thread=True, exit_on_error=False
        )

    def stop_factory_link(self) -> None:
        self._factory_stop.set()
