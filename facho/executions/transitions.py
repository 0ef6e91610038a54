"""Execution state transitions, each a compare-and-set committed on its own.

The worker guard (DESIGN 3.7): Dramatiq delivers at least once, so every transition is an
UPDATE … WHERE on the state we expect; when it matches no row, someone else got there
first and the caller does nothing. Each transition commits at once, so other sessions
(panel, CLI, reconciler) see RUNNING while the walk is still going.

Times are aware UTC; `stale_after_s` is how long a RUNNING row may go without a
heartbeat before its worker is presumed dead.
"""
from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho import reasons
from facho.extensions import db
from facho.models import (FAILED, INTERRUPTED, PENDING, RUNNING, SUCCESS, Execution, Olt,
                          SnmpJob, SnmpJobHost, utcnow)

STALE_AFTER_S = 90       # heartbeats every 15 s while running; 6 missed = dead owner
HEARTBEAT_EVERY_S = 15


def worker_name() -> str:
    """host:pid:thread — unique per worker thread, readable in the panel."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


@dataclass(frozen=True)
class Started:
    execution_id: int
    attempt: int
    worker: str
    took_over: bool          # a RUNNING row of a dead worker was resumed


def _commit_update(stmt) -> int:
    result = db.session.execute(stmt)
    db.session.commit()
    return result.rowcount


def start(execution_id: int, worker: str, now: datetime | None = None,
          stale_after_s: int = STALE_AFTER_S) -> Started | None:
    """PENDING -> RUNNING (or take over a RUNNING row whose worker stopped heartbeating).

    Returns None when the row is not ours to run: already running elsewhere, finished,
    interrupted, or gone.
    """
    now = now or utcnow()
    table = Execution.__table__
    stale = now - timedelta(seconds=stale_after_s)
    for took_over, condition in (
        (False, table.c.status == PENDING),
        (True, sa.and_(table.c.status == RUNNING, table.c.heartbeat_at < stale)),
    ):
        count = _commit_update(
            table.update()
            .where(table.c.id == execution_id, condition)
            .values(status=RUNNING, started_at=now, heartbeat_at=now, worker=worker,
                    attempt=table.c.attempt + 1, finished_at=None))
        if count == 1:
            attempt = db.session.execute(
                sa.select(table.c.attempt).where(table.c.id == execution_id)).scalar_one()
            return Started(execution_id, attempt, worker, took_over)
    return None


def disabled_reason(execution: Execution) -> str | None:
    """Why this execution must not run now (Spanish), or None when everything is enabled."""
    job = db.session.get(SnmpJob, execution.job_id)
    olt = db.session.get(Olt, execution.olt_id)
    host = db.session.get(SnmpJobHost, execution.job_host_id) if execution.job_host_id else None
    return reasons.disabled_reason(job, olt, host)


def heartbeat_owned(owned: list[tuple[int, str]]) -> set[int]:
    """Refresh heartbeat_at of every RUNNING row still owned as listed (execution id,
    worker), in one statement; return the ids that were (the others are no longer ours)."""
    if not owned:
        return set()
    table = Execution.__table__
    result = db.session.execute(
        table.update()
        .where(table.c.status == RUNNING, sa.tuple_(table.c.id, table.c.worker).in_(owned))
        .values(heartbeat_at=utcnow()).returning(table.c.id))
    ours = {row[0] for row in result}
    db.session.commit()
    return ours


def finish(execution_id: int, worker: str, status: str, *, summary: dict | None = None,
           error: str | None = None, now: datetime | None = None) -> bool:
    """RUNNING (owned by `worker`) -> SUCCESS / FAILED / INTERRUPTED, and update the job
    host's counters and the job's last_run_at. False when the row was not ours anymore."""
    assert status in (SUCCESS, FAILED, INTERRUPTED)
    now = now or utcnow()
    table = Execution.__table__
    row = db.session.execute(
        sa.select(table.c.started_at, table.c.job_id, table.c.job_host_id)
        .where(table.c.id == execution_id)).one_or_none()
    if row is None:
        return False
    duration_ms = int((now - row.started_at).total_seconds() * 1000) if row.started_at else None
    result = db.session.execute(
        table.update().where(table.c.id == execution_id, table.c.status == RUNNING,
                             table.c.worker == worker)
        .values(status=status, finished_at=now, duration_ms=duration_ms,
                result_summary=summary, error_message=error))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    hosts = SnmpJobHost.__table__
    if row.job_host_id and status == SUCCESS:
        db.session.execute(hosts.update().where(hosts.c.id == row.job_host_id).values(
            last_success_at=now, consecutive_failures=0))
    elif row.job_host_id and status == FAILED:
        db.session.execute(hosts.update().where(hosts.c.id == row.job_host_id).values(
            last_failure_at=now, consecutive_failures=hosts.c.consecutive_failures + 1))
    jobs = SnmpJob.__table__
    db.session.execute(jobs.update().where(jobs.c.id == row.job_id).values(last_run_at=now))
    db.session.commit()
    return True


def back_to_pending(execution_id: int, worker: str, error: str | None = None) -> bool:
    """RUNNING -> PENDING for a later attempt (retry after a transient error, or an OLT
    that was busy). The attempt count stays; `start` increments it."""
    table = Execution.__table__
    return _commit_update(
        table.update().where(table.c.id == execution_id, table.c.status == RUNNING,
                             table.c.worker == worker)
        .values(status=PENDING, worker=None, heartbeat_at=None, error_message=error)) == 1


def interrupt(execution_id: int, reason: str, expected: tuple[str, ...] = (PENDING,)) -> bool:
    table = Execution.__table__
    return _commit_update(
        table.update().where(table.c.id == execution_id, table.c.status.in_(expected))
        .values(status=INTERRUPTED, finished_at=utcnow(), error_message=reason)) == 1


def _as_seen(table, execution_id: int, seen_worker: str | None, seen_attempt: int,
             seen_heartbeat: datetime | None):
    """The row is still RUNNING as it was seen: same owner, attempt and heartbeat. A
    heartbeat that arrives meanwhile means the owner lives, and a take-over changes the
    owner: both make a dead-owner transition a no-op."""
    same_worker = (table.c.worker.is_(None) if seen_worker is None
                   else table.c.worker == seen_worker)
    same_beat = (table.c.heartbeat_at.is_(None) if seen_heartbeat is None
                 else table.c.heartbeat_at == seen_heartbeat)
    return sa.and_(table.c.id == execution_id, table.c.status == RUNNING, same_worker,
                   table.c.attempt == seen_attempt, same_beat)


def interrupt_dead(execution_id: int, seen_worker: str | None, seen_attempt: int,
                   seen_heartbeat: datetime | None, reason: str,
                   now: datetime | None = None) -> bool:
    """RUNNING of a dead (or silent) owner -> INTERRUPTED, only if the row is still as it
    was seen (`_as_seen`). `now` (UTC) is the end time written (default: the clock)."""
    table = Execution.__table__
    now = now or utcnow()
    row = db.session.execute(sa.select(table.c.started_at).where(
        table.c.id == execution_id)).one_or_none()
    duration_ms = (int((now - row.started_at).total_seconds() * 1000)
                   if row is not None and row.started_at else None)
    return _commit_update(
        table.update().where(_as_seen(table, execution_id, seen_worker, seen_attempt,
                                      seen_heartbeat))
        .values(status=INTERRUPTED, finished_at=now, duration_ms=duration_ms,
                error_message=reason)) == 1


def resume_dead(execution_id: int, seen_worker: str | None, seen_attempt: int,
                seen_heartbeat: datetime | None, message_id: str, reason: str) -> bool:
    """RUNNING of a dead owner -> PENDING for its next attempt under a new message id (the
    reconciler sends it), only if the row is still as it was seen (`_as_seen`)."""
    table = Execution.__table__
    return _commit_update(
        table.update().where(_as_seen(table, execution_id, seen_worker, seen_attempt,
                                      seen_heartbeat))
        .values(status=PENDING, worker=None, heartbeat_at=None, message_id=message_id,
                error_message=reason)) == 1
