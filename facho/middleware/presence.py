"""Worker presence in Redis: which processes consume messages right now."""
from __future__ import annotations

import json
import threading
import time

from dramatiq.middleware import Middleware


class WorkerPresence(Middleware):
    """Announce worker processes in Redis (`facho:worker:<host:pid>`, 30 s TTL, refreshed
    every 10 s). Dramatiq's own heartbeats also come from processes that only enqueue
    (web, CLI), so `flask facho workers` and the dashboard count these keys instead."""

    TTL_S = 30
    EVERY_S = 10

    def __init__(self, key: str):
        """`key`: this process's presence key (`facho.messaging.worker_key()`)."""
        self._stop = threading.Event()
        self._key = key

    def key(self) -> str:
        return self._key

    def _beat(self, broker, worker) -> None:
        started = time.time()
        while True:
            try:
                broker.client.set(self.key(), json.dumps({
                    "queues": sorted(worker.consumer_whitelist or broker.get_declared_queues()),
                    "threads": worker.worker_threads, "started_at": started}), ex=self.TTL_S)
            except Exception:  # noqa: BLE001 - Redis down: try again at the next beat
                pass
            if self._stop.wait(self.EVERY_S):
                return

    def after_worker_boot(self, broker, worker):
        self._stop.clear()
        threading.Thread(target=self._beat, args=(broker, worker), daemon=True,
                         name="facho-presence").start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()
        try:
            broker.client.delete(self.key())
        except Exception:  # noqa: BLE001
            pass
