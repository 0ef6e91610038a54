"""The heartbeat of a running execution: proof for other workers and the reconciler
that its owner is still walking (`owner.owner_state`, `reconcile.close_dead_running`).

Every execution running in the process is beaten by one shared thread (`keeper.Keeper`),
one UPDATE for all of them, so a walk in flight costs no thread of its own here."""
from __future__ import annotations

import logging

from facho.executions import transitions
from facho.executions.keeper import Entry, Keeper, grouped
from facho.extensions import db
from facho.logging_setup import kv

log = logging.getLogger("facho.executions")

EXIT_WAIT_S = 5     # how long leaving a Heartbeat waits for a beat of it in progress


class Heartbeat(Entry):
    """Refresh the row's heartbeat_at every `every_s` seconds while the block runs (the
    shared thread has its own app context, so its own database session). `lost` is set when
    the row is no longer ours."""

    def __init__(self, app, execution_id: int, worker: str, every_s: float):
        super().__init__(every_s)
        self.app, self.execution_id, self.worker = app, execution_id, worker

    def __enter__(self):
        return BEATS.add(self)

    def __exit__(self, *exc_info):
        BEATS.remove(self, EXIT_WAIT_S)

    def lose(self) -> None:
        super().lose()
        log.warning(kv(event="execution_heartbeat_lost", execution=self.execution_id,
                       worker=self.worker))


def beat(due: list[Heartbeat]) -> list[Heartbeat]:
    """One UPDATE per app (tests run several apps in one process); the beats it found no
    longer ours. A database hiccup is logged and the next period tries again."""
    lost: list[Heartbeat] = []
    for group in grouped(due, "app"):
        try:
            with group[0].app.app_context():
                try:
                    ours = transitions.heartbeat_owned(
                        [(h.execution_id, h.worker) for h in group])
                finally:
                    db.session.remove()
        except Exception as exc:
            for h in group:
                log.warning(kv(event="execution_heartbeat_failed", execution=h.execution_id,
                               error=str(exc)))
            continue
        lost.extend(h for h in group if h.execution_id not in ours)
    return lost


BEATS = Keeper("execution-heartbeats", beat)
