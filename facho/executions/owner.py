"""Whose is a RUNNING row: is its owner alive, and taking over from a dead one.

A RUNNING row names its owner as `host:pid:thread` (`transitions.worker_name`). Dramatiq
redelivers a message whose worker died; the worker that receives it decides here whether
the row's owner is still walking (look again later), certainly dead (take over as a new
attempt) or silent for too long (stale: the same as dead, decided by the heartbeat).
"""
from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

import psutil

from facho.executions.transitions import Started
from facho.extensions import db
from facho.models import RUNNING, Execution, utcnow


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # cannot tell: assume alive (the stale heartbeat decides later)


def owner_state(row: Execution, now, stale_after_s: float) -> str:
    """`stale`, `dead` or `alive` for a RUNNING row.

    `dead` is only claimed when it is certain: the owner ran on this host and its process
    is gone, or it was this very process and its thread no longer exists (a restarted
    worker that got the same pid, as happens in containers)."""
    if row.heartbeat_at is None or row.heartbeat_at < now - timedelta(seconds=stale_after_s):
        return "stale"
    parts = (row.worker or "").rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return "alive"
    try:
        pid, thread = int(parts[1]), int(parts[2])
    except ValueError:
        return "alive"
    if pid != os.getpid():
        return "alive" if pid_alive(pid) else "dead"
    me = threading.current_thread()
    live = {t.ident % 100000 for t in threading.enumerate() if t is not me and t.ident}
    return "alive" if thread in live else "dead"


def take_over_dead(execution_id: int, seen_worker: str, seen_attempt: int,
                   worker: str) -> Started | None:
    """RUNNING of a dead owner -> RUNNING of ours, as a new attempt. The compare-and-set
    names the dead owner and its attempt, so two workers can never both take over."""
    table = Execution.__table__
    now = utcnow()
    result = db.session.execute(
        table.update().where(table.c.id == execution_id, table.c.status == RUNNING,
                             table.c.worker == seen_worker, table.c.attempt == seen_attempt)
        .values(status=RUNNING, started_at=now, heartbeat_at=now, worker=worker,
                attempt=seen_attempt + 1, finished_at=None))
    db.session.commit()
    if result.rowcount != 1:
        return None
    return Started(execution_id, seen_attempt + 1, worker, True)
