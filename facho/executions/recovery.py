"""When something other than the OLT ends an execution: a bug, the time limit, a worker
shutdown, Redis or the database going away. The row must neither stay RUNNING under a
worker that stopped caring nor stay PENDING with no message left to run it."""
from __future__ import annotations

import logging
import random
import time

import redis as redis_lib
import sqlalchemy as sa
from dramatiq.middleware import Shutdown, TimeLimitExceeded

from facho.executions import transitions
from facho.executions.outcome import JobSnapshot, log_end
from facho.executions.resend import resend
from facho.executions.retries import attempts_allowed
from facho.executions.targets import EXECUTION_TIME_LIMIT_MS
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import FAILED, INTERRUPTED, PENDING, RUNNING, Execution, utcnow
from facho.ops.health import connection_lost
from facho.reasons import (REASON_BUG, REASON_DB_LOST, REASON_DB_LOST_LAST, REASON_SHUTDOWN,
                           REASON_TIME_LIMIT)

log = logging.getLogger("facho.executions")

INFRA_ERRORS = (redis_lib.RedisError, OSError, sa.exc.OperationalError,
                sa.exc.InterfaceError, sa.exc.DisconnectionError)
INFRA_RETRY_MS = (5000, 15000)
DB_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)
DB_OUTAGE_WAIT_S = 60.0     # how long a worker waits for the database to give a row back
# A message whose worker thread was stopped before the actor body could hand it back goes
# back to its queue after this many ms (doubling, capped, for a message stopped again).
SHUTDOWN_REQUEUE_MS = (1000, 5000)


def requeue_when(retries: int, exc: BaseException) -> bool:
    """Dramatiq's `retry_when` for the execution actors (which never retry otherwise: an
    attempt is a row's business, see `max_retries=0`). A worker that stops raises Shutdown
    in every thread registered for an execution message, also while that thread is still
    in a middleware hook (building the app, putting the message back for a restart) or
    has just left the actor: the actor's `last_resort` never sees it, and Dramatiq's
    Retries would dead-letter the message, leaving the row PENDING with nothing to run it
    until the reconciler's grace (60 s after it was due, at its next minute). Such a
    message goes back to its queue instead; a copy that arrives for a finished row does
    nothing."""
    return isinstance(exc, Shutdown)


def last_resort(execution_id: int, worker: str, exc: BaseException,
                 progress) -> None:
    """A bug, an outage, the time limit or a shutdown reached the top. The row must neither
    stay RUNNING under us nor stay PENDING with no message left to run it."""
    try:
        db.session.rollback()
    except BaseException:  # noqa: BLE001
        pass
    try:
        if not progress.claimed:
            _before_start_failed(execution_id, exc, progress.job_type)
            return
        if isinstance(exc, Shutdown):
            if transitions.back_to_pending(
                    execution_id, worker,
                    error=REASON_SHUTDOWN):
                resend(execution_id, progress.job_type, 0, "worker_shutdown")
                log.warning(kv(event="execution_requeued", execution=execution_id,
                               reason="worker_shutdown"))
            return
        if isinstance(exc, DB_ERRORS):
            _give_back_after_db_outage(execution_id, worker, exc, progress.job_type)
            return
        if isinstance(exc, TimeLimitExceeded):
            message = REASON_TIME_LIMIT.format(minutes=EXECUTION_TIME_LIMIT_MS // 60000)
        else:
            log.exception(kv(event="execution_bug", execution=execution_id,
                             error=f"{type(exc).__name__}: {exc}"[:300]), exc_info=exc)
            message = _bug_message(exc)
        if transitions.finish(execution_id, worker, FAILED, error=message):
            log.warning(kv(event="execution_end", execution=execution_id, status=FAILED,
                           error=message))
    except BaseException as second:  # noqa: BLE001 - the database itself is failing
        log.error(kv(event="execution_unfinished", execution=execution_id,
                     error=f"{type(second).__name__}: {second}"[:300]))


def _give_back_after_db_outage(execution_id: int, worker: str, exc: BaseException,
                               job_type: str | None) -> None:
    """The database went away while the row was ours, so its outcome could not be written.
    Wait for it (bounded) and give the row back for a new attempt, as a shutdown does, or
    close it INTERRUPTED when no attempt is left; without this the row stays RUNNING until
    the reconciler finds its heartbeat stale (STALE_AFTER_S, 90 s). Raises the database
    error when it is still down after DB_OUTAGE_WAIT_S: the reconciler is then the net."""
    log.warning(kv(event="execution_db_lost", execution=execution_id,
                   error=f"{type(exc).__name__}: {exc}"[:300]))
    what = _db_trouble(exc)
    deadline = time.monotonic() + DB_OUTAGE_WAIT_S
    pause = 0.5
    while True:
        try:
            db.session.rollback()
            row = db.session.get(Execution, execution_id)
            if row is None or row.status != RUNNING or row.worker != worker:
                return                      # someone else settled it meanwhile
            allowed = attempts_allowed(row.job.max_retries if row.job is not None else 0)
            if row.attempt >= allowed:
                info, reason = JobSnapshot(row), REASON_DB_LOST_LAST.format(
                    what=what, attempt=row.attempt, allowed=allowed)
                if transitions.finish(execution_id, worker, INTERRUPTED, error=reason):
                    log_end(execution_id, info, INTERRUPTED, attempt=row.attempt,
                             reason=reason)
            elif transitions.back_to_pending(execution_id, worker,
                                            error=REASON_DB_LOST.format(what=what)):
                # the database is back: at once; a deadlock or timeout: after a pause
                delay_ms = 0 if connection_lost(exc) else random.randint(*INFRA_RETRY_MS)
                resend(execution_id, job_type or row.job.job_type, delay_ms, "database_lost")
                log.warning(kv(event="execution_requeued", execution=execution_id,
                               reason="database_lost"))
            return
        except DB_ERRORS:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def _db_trouble(exc: BaseException) -> str:
    """'se perdió la conexión' for a lost or refused connection, else the driver's error
    name (DeadlockDetected, SerializationFailure…)."""
    if connection_lost(exc):
        return "se perdió la conexión"
    return type(getattr(exc, "orig", None) or exc).__name__


def _bug_message(exc: BaseException) -> str:
    return REASON_BUG.format(kind=type(exc).__name__, detail=str(exc)[:200])


def _before_start_failed(execution_id: int, exc: BaseException, job_type: str | None) -> None:
    """Failed before the row was ours (loading it, the OLT lease, the start rate…).

    An outage (Redis, the database) or a shutdown: send the message again, so the row is
    not left PENDING with nothing in the queue (the reconciler would find it, minutes
    later). A bug: fail the still-PENDING row at once with the reason."""
    if isinstance(exc, (Shutdown, TimeLimitExceeded) + INFRA_ERRORS):
        reason = "worker_shutdown" if isinstance(exc, Shutdown) else "infrastructure_error"
        delay = 0 if isinstance(exc, Shutdown) else random.randint(*INFRA_RETRY_MS)
        log.warning(kv(event="execution_requeued", execution=execution_id, reason=reason,
                       delay_ms=delay, error=f"{type(exc).__name__}: {exc}"[:300]))
        if job_type:
            resend(execution_id, job_type, delay, reason)
        return
    log.exception(kv(event="execution_bug", execution=execution_id,
                     error=f"{type(exc).__name__}: {exc}"[:300]), exc_info=exc)
    table = Execution.__table__
    message = _bug_message(exc)
    result = db.session.execute(table.update().where(
        table.c.id == execution_id, table.c.status == PENDING)
        .values(status=FAILED, finished_at=utcnow(), error_message=message))
    db.session.commit()
    if result.rowcount == 1:
        log.warning(kv(event="execution_end", execution=execution_id, status=FAILED,
                       error=message))
