"""The heartbeat of a running execution: proof for other workers and the reconciler
that its owner is still walking (`owner.owner_state`, `reconcile.close_dead_running`)."""
from __future__ import annotations

import logging
import threading

from facho.executions import transitions
from facho.extensions import db
from facho.logging_setup import kv

log = logging.getLogger("facho.executions")


class Heartbeat:
    """Refresh the row's heartbeat_at every HEARTBEAT_EVERY_S from a daemon thread (own app
    context, so its own database session). `lost` is set when the row is no longer ours."""

    def __init__(self, app, execution_id: int, worker: str, every_s: float):
        self.app, self.execution_id, self.worker, self.every_s = app, execution_id, worker, every_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"heartbeat-{execution_id}")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        while not self._stop.wait(self.every_s):
            try:
                with self.app.app_context():
                    try:
                        if not transitions.heartbeat(self.execution_id, self.worker):
                            self.lost.set()
                            log.warning(kv(event="execution_heartbeat_lost",
                                           execution=self.execution_id, worker=self.worker))
                            return
                    finally:
                        db.session.remove()
            except Exception as exc:  # a database hiccup: the next beat may work
                log.warning(kv(event="execution_heartbeat_failed", execution=self.execution_id,
                               error=str(exc)))
