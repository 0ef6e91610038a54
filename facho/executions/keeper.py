"""One thread per process that keeps every running execution's leases alive.

A worker keeps one walk in flight per Dramatiq thread, and each walk needs two things
renewed while it runs: its row's heartbeat in the database (`heartbeat.py`) and its OLT
slot in Redis (`olt_limiter.py`). A thread per renewal would be three threads per walk in
flight; a `Keeper` is one daemon thread for all of them (one per kind, so a stalled
database never delays an OLT lease), renewing every due entry in one batch (one UPDATE, one
Redis pipeline) however many walks are in flight.

Entries come and go with the walks. `remove()` waits for a batch that is renewing the entry
to end, so nothing is renewed after its owner let go (an OLT slot re-taken after its
release would stay taken until its TTL). A forked child starts with no entries and its own
thread on its first `add()`.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Entry:
    """One thing to renew every `every_s` seconds (monotonic clock; a renewal may come up to
    a quarter of a period early, to share a batch). `lost` is set when a
    renewal found it no longer ours; the keeper then stops renewing it."""

    def __init__(self, every_s: float):
        if every_s <= 0:
            raise ValueError("every_s must be > 0")
        self.every_s = every_s
        self.lost = threading.Event()
        self.next_at = time.monotonic() + every_s

    def lose(self) -> None:
        """Called once, by the keeper, when a renewal found the entry no longer ours (and
        its owner had not let go yet): subclasses log it."""
        self.lost.set()


def grouped(entries: list[Entry], owner: str) -> list[list[Entry]]:
    """`entries` grouped by the object in their attribute `owner` (the app, the limiter):
    a renew function makes one batch per owner (tests run several in one process)."""
    groups: dict[int, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(id(getattr(entry, owner)), []).append(entry)
    return list(groups.values())


class Keeper:
    """Calls `renew(entries)` with the entries that are due, from one daemon thread.

    `renew` returns the entries it found lost (they are dropped and `lose()`d) and
    handles its own errors: an entry it neither lost nor renewed is simply due again at its
    next period."""

    def __init__(self, name: str, renew: Callable[[list[Entry]], list[Entry]]):
        self.name, self._renew = name, renew
        self._forget()
        # Threads and held locks do not survive fork(): a child starts afresh, with its own
        # thread on its first add().
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._entries: set[Entry] = set()
        self._busy: set[Entry] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, entry: Entry) -> Entry:
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name=self.name)
                self._thread.start()
            self._entries.add(entry)
            self._changed.notify_all()
        return entry

    def remove(self, entry: Entry, wait_s: float) -> None:
        """Stop renewing `entry`; wait up to `wait_s` for a renewal of it in progress."""
        deadline = time.monotonic() + wait_s
        with self._changed:
            self._entries.discard(entry)
            while entry in self._busy and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)

    def __len__(self) -> int:
        return len(self._entries)

    def _run(self) -> None:
        while True:
            with self._changed:
                while True:
                    now = time.monotonic()
                    if any(e.next_at <= now for e in self._entries):
                        # Entries due within a quarter of their period join the batch:
                        # renewing early is harmless, and the batches stay few and large.
                        due = [e for e in self._entries if e.next_at - e.every_s / 4 <= now]
                        break
                    soonest = min((e.next_at for e in self._entries), default=now + 3600)
                    self._changed.wait(soonest - now)
                self._busy = set(due)
            try:
                lost = self._renew(due)
            except Exception:   # renew handles its errors; this keeps the thread alive
                log.exception("event=keeper_renew_failed keeper=%s", self.name)
                lost = []
            with self._changed:
                for entry in due:
                    entry.next_at = time.monotonic() + entry.every_s
                for entry in lost:
                    if entry in self._entries:
                        self._entries.discard(entry)
                        entry.lose()
                self._busy = set()
                self._changed.notify_all()
