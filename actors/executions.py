"""The SNMP execution actors: `run_discovery` (queue `discovery_main`) and `run_get`
(queue `get_main`). Each message carries one execution id.

What one message does (DESIGN 3.7, 4):

1. Load the row. Finished, interrupted or skipped: nothing (redeliveries are harmless).
   RUNNING under a live owner: look again when its heartbeat would go stale (a
   redelivery that came too early). RUNNING under a dead owner (heartbeat stale, or a
   worker process of this host that no longer exists): resume it as a new attempt, or,
   when the job has no attempt left, close it INTERRUPTED with the reason (as the
   reconciler does).
2. Disabled job, job host or OLT: INTERRUPTED with the reason, before touching the OLT.
3. Take one of the OLT's `max_concurrent` slots (per-holder leases in Redis that a killed
   worker's slot outlives by at most the lease TTL). Busy: re-send the same execution a
   few seconds later; that consumes no retry.
4. Per-OLT start rate (`max_starts_per_minute`): over it, re-send after the wait.
5. Compare-and-set PENDING -> RUNNING (`facho.executions.transitions.start`); lost: nothing. Re-check
   that nothing was disabled meanwhile.
6. Walk, with a heartbeat every HEARTBEAT_EVERY_S seconds; write the inventory and the
   final state in one transaction (a worker that lost its row writes nothing).
7. Transient SNMP errors (timeout, unreachable, walk deadline, genErr) become new attempts
   of the same execution after `retry_delay_seconds * 2^(attempt-1)` seconds (capped),
   up to the job's `max_retries`; anything else fails at once with a Spanish message.
   A bug or Dramatiq's time limit also end as FAILED, never as a row left RUNNING. When the
   database goes away (or refuses the write) while the row is ours, the worker waits for
   it (DB_OUTAGE_WAIT_S) and gives the row back as a new attempt (or INTERRUPTED when none
   is left).

Dramatiq itself never retries these messages (`max_retries=0`): retries are attempts of the
execution, visible in the panel, not copies of a message.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from datetime import timedelta

import dramatiq
import psutil
import redis as redis_lib
import sqlalchemy as sa
from dramatiq.middleware import Shutdown, TimeLimitExceeded
from flask import current_app

from facho import messaging
from facho.inventory import discovery
from facho.executions import transitions as executions
from facho.inventory import get_values
from facho.executions.transitions import Started
from facho.extensions import db
from facho.ops.health import connection_lost
from facho.inventory.writes import InventoryConfigError
from facho.logging_setup import kv
from facho.models import (FAILED, FINAL_STATUSES, INTERRUPTED, PENDING, RUNNING, SUCCESS,
                          Execution, utcnow)
from facho.executions.olt_limiter import OltBusy, OltLimiter
from facho.scheduling.reconcile import REASON_DEAD
from facho.redis_conn import get_redis
from facho.snmp import SnmpError
from facho.executions.targets import EXECUTION_TIME_LIMIT_MS, olt_limits, snmp_target

log = logging.getLogger("facho.actors.executions")

TIME_LIMIT_MS = EXECUTION_TIME_LIMIT_MS
# Module attributes (not constants) so tests and benchmarks can shorten them.
BUSY_DELAY_MS = (2000, 5000)        # re-send window when the OLT has no free slot
RATE_JITTER_MS = (100, 1000)        # added to the start-rate limiter's wait
HEARTBEAT_EVERY_S = executions.HEARTBEAT_EVERY_S
STALE_AFTER_S = executions.STALE_AFTER_S
MAX_RETRY_DELAY_S = 15 * 60
RECHECK_MIN_MS = 1000


@dramatiq.actor(actor_name="run_discovery", queue_name="discovery_main", max_retries=0,
                time_limit=TIME_LIMIT_MS, notify_shutdown=True)
def run_discovery(execution_id: int) -> None:
    run_execution(int(execution_id), "descubrimiento")


@dramatiq.actor(actor_name="run_get", queue_name="get_main", max_retries=0,
                time_limit=TIME_LIMIT_MS, notify_shutdown=True)
def run_get(execution_id: int) -> None:
    run_execution(int(execution_id), "get")


# -- owner checks -----------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # cannot tell: assume alive (the stale heartbeat decides later)


def owner_state(row: Execution, now, stale_after_s: float | None = None) -> str:
    """`stale`, `dead` or `alive` for a RUNNING row.

    `dead` is only claimed when it is certain: the owner ran on this host and its process
    is gone, or it was this very process and its thread no longer exists (a restarted
    worker that got the same pid, as happens in containers)."""
    stale_after_s = STALE_AFTER_S if stale_after_s is None else stale_after_s
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
        return "alive" if _pid_alive(pid) else "dead"
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


# -- re-sending -------------------------------------------------------------------------

def resend(execution_id: int, job_type: str, delay_ms: int, reason: str) -> str | None:
    """Enqueue the same execution again and record the new message id. When Redis refuses,
    the row stays as it is and the reconciler re-sends it later."""
    try:
        message_id = messaging.send_execution(execution_id, job_type, delay_ms=max(0, delay_ms))
    except messaging.BrokerUnavailable as exc:
        log.error(kv(event="execution_resend_failed", execution=execution_id, reason=reason,
                     error=str(exc)))
        return None
    table = Execution.__table__
    db.session.execute(table.update().where(
        table.c.id == execution_id, table.c.status.in_((PENDING, RUNNING)))
        .values(message_id=message_id))
    db.session.commit()
    log.debug(kv(event="execution_resent", execution=execution_id, reason=reason,
                 delay_ms=delay_ms))
    return message_id


def busy_delay_ms() -> int:
    low, high = BUSY_DELAY_MS
    return random.randint(int(low), int(high))


def retry_delay_s(retry_delay_seconds: int, attempt: int) -> int:
    """Backoff before attempt `attempt + 1`: base * 2^(attempt-1), capped."""
    return int(min(max(0, retry_delay_seconds) * 2 ** max(0, attempt - 1), MAX_RETRY_DELAY_S))


# -- heartbeat ------------------------------------------------------------------------------

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
                        if not executions.heartbeat(self.execution_id, self.worker):
                            self.lost.set()
                            log.warning(kv(event="execution_heartbeat_lost",
                                           execution=self.execution_id, worker=self.worker))
                            return
                    finally:
                        db.session.remove()
            except Exception as exc:  # a database hiccup: the next beat may work
                log.warning(kv(event="execution_heartbeat_failed", execution=self.execution_id,
                               error=str(exc)))


# -- the execution ------------------------------------------------------------------------------

class _Job:
    """Plain values read once, so error handling never needs the database."""

    def __init__(self, row: Execution):
        job, olt = row.job, row.olt
        self.nombre = job.nombre if job is not None else None
        self.job_type = job.job_type if job is not None else None
        self.max_retries = job.max_retries if job is not None else 0
        self.retry_delay_seconds = job.retry_delay_seconds if job is not None else 0
        self.olt = olt.abreviatura if olt is not None else None


class _Progress:
    claimed = False      # True once this worker owns the row (RUNNING)
    job_type = None


def run_execution(execution_id: int, job_type: str) -> None:
    """Run one execution (see the module docstring). Never raises."""
    worker = executions.worker_name()
    progress = _Progress()
    progress.job_type = job_type
    try:
        _run(execution_id, job_type, worker, progress)
    except BaseException as exc:  # noqa: BLE001 - last line: nothing may leave a row RUNNING
        _last_resort(execution_id, worker, exc, progress)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise


def _run(execution_id: int, job_type: str, worker: str, progress: _Progress) -> None:
    app = current_app._get_current_object()
    config = app.config["FACHO"]
    row = db.session.get(Execution, execution_id)
    if row is None:
        log.warning(kv(event="execution_skipped", execution=execution_id, reason="not_found"))
        return
    if row.status in FINAL_STATUSES:
        log.debug(kv(event="execution_skipped", execution=execution_id, status=row.status))
        return
    job_type = row.job.job_type if row.job is not None else job_type
    progress.job_type = job_type
    verdict = None
    seen_worker, seen_attempt = row.worker, row.attempt
    if row.status == RUNNING:
        now = utcnow()
        verdict = owner_state(row, now)
        if verdict == "alive":
            # Too early to tell whether the owner died: look again once its heartbeat would
            # be stale. A live owner finishes first and the next look does nothing.
            stale_at = row.heartbeat_at + timedelta(seconds=STALE_AFTER_S)
            wait_ms = int((stale_at - now).total_seconds() * 1000) + random.randint(500, 3000)
            db.session.rollback()
            resend(execution_id, job_type, max(RECHECK_MIN_MS, wait_ms), "owner_alive")
            return
        if _close_if_exhausted(row):
            return
    if row.status == PENDING:
        reason = executions.disabled_reason(row)
        if reason:
            if executions.interrupt(execution_id, reason):
                _log_end(execution_id, _Job(row), INTERRUPTED, reason=reason)
            return
    info = _Job(row)
    limits = olt_limits(row.olt, config)
    db.session.rollback()  # no transaction stays open while we wait on Redis or the OLT
    limiter = OltLimiter(get_redis(config))
    try:
        with limiter.hold(limits.olt_id, limits.max_concurrent, ttl_ms=limits.lease_ttl_ms):
            wait_ms = limiter.start_wait_ms(limits.olt_id, limits.max_starts_per_minute)
            if wait_ms:
                resend(execution_id, job_type, wait_ms + random.randint(*RATE_JITTER_MS),
                       "olt_start_rate")
                return
            if verdict == "dead":
                started = take_over_dead(execution_id, seen_worker, seen_attempt, worker)
            else:
                started = executions.start(execution_id, worker, stale_after_s=STALE_AFTER_S)
            if started is None:
                log.debug(kv(event="execution_skipped", execution=execution_id,
                             reason="claimed_elsewhere"))
                return
            progress.claimed = True
            _execute(app, config, started, info, job_type)
    except OltBusy:
        db.session.rollback()
        resend(execution_id, job_type, busy_delay_ms(), "olt_busy")


def _close_if_exhausted(row: Execution) -> bool:
    """A RUNNING row whose owner is dead or stale and that has no attempt left: close it
    INTERRUPTED with the reason, as the reconciler does (DESIGN 3.7: resumed or
    INTERRUPTED). A killed worker is not a failure of the OLT, so never FAILED. The
    compare-and-set names the owner, attempt and heartbeat seen, so a late heartbeat or
    another take-over wins. True when the row needs nothing more from this message."""
    allowed = 1 + (row.job.max_retries if row.job is not None else 0)
    if row.attempt < allowed:
        return False
    info = _Job(row)
    reason = executions.disabled_reason(row) or REASON_DEAD.format(
        worker=row.worker or "?", attempt=row.attempt, allowed=allowed)
    if executions.interrupt_dead(row.id, row.worker, row.attempt, row.heartbeat_at, reason):
        _log_end(row.id, info, INTERRUPTED, attempt=row.attempt, reason=reason)
    else:
        db.session.rollback()
        log.debug(kv(event="execution_skipped", execution=row.id, reason="claimed_elsewhere"))
    return True


def _execute(app, config, started: Started, info: _Job, job_type: str) -> None:
    execution_id, worker, attempt = started.execution_id, started.worker, started.attempt
    if started.took_over:
        log.warning(kv(event="execution_resumed", execution=execution_id, attempt=attempt,
                       worker=worker))
    row = db.session.get(Execution, execution_id)
    reason = executions.disabled_reason(row)
    if reason:
        _finish(execution_id, worker, INTERRUPTED, info, attempt, error=reason)
        return
    if started.took_over and attempt > info.max_retries + 1:
        # Normally closed before the take-over (`_close_if_exhausted`); this is the race
        # where the row was read PENDING and went stale before `start` took it.
        _finish(execution_id, worker, INTERRUPTED, info, attempt, error=REASON_DEAD.format(
            worker="?", attempt=attempt - 1, allowed=info.max_retries + 1))
        return
    olt, job = row.olt, row.job
    target = snmp_target(olt, config)
    with Heartbeat(app, execution_id, worker, HEARTBEAT_EVERY_S):
        try:
            if job_type == "descubrimiento":
                summary = discovery.run_discovery(execution_id, job, olt, target,
                                                  config.absent_after_misses, utcnow())
            else:
                summary = get_values.run_get(execution_id, job, olt, target, utcnow())
        except SnmpError as exc:
            db.session.rollback()
            _failed_or_retry(execution_id, worker, info, attempt, exc.message, exc.transient,
                             job_type)
            return
        except InventoryConfigError as exc:
            db.session.rollback()
            _finish(execution_id, worker, FAILED, info, attempt, error=str(exc))
            return
        except (sa.exc.OperationalError, sa.exc.IntegrityError) as exc:
            # The database went away, or another execution wrote this OLT's inventory at the
            # same moment: both pass, so try again as a new attempt.
            db.session.rollback()
            log.warning(kv(event="execution_db_error", execution=execution_id,
                           error=str(exc.orig if getattr(exc, "orig", None) else exc)[:300]))
            _failed_or_retry(execution_id, worker, info, attempt,
                             "Error de base de datos al guardar el inventario "
                             f"({type(getattr(exc, 'orig', exc)).__name__}).", True, job_type)
            return
        summary["attempt"] = attempt
        note = summary.get("note")
        _finish(execution_id, worker, SUCCESS, info, attempt, summary=summary, error=note)


def _failed_or_retry(execution_id, worker, info: _Job, attempt: int, message: str,
                     transient: bool, job_type: str) -> None:
    if transient and attempt <= info.max_retries:
        delay_s = retry_delay_s(info.retry_delay_seconds, attempt)
        text = (f"Intento {attempt} de {info.max_retries + 1} falló: {message} "
                f"Se reintentará en {delay_s} s.")
        if executions.back_to_pending(execution_id, worker, error=text):
            log.info(kv(event="execution_retry", execution=execution_id, job=info.nombre,
                        olt=info.olt, attempt=attempt, delay_s=delay_s, error=message))
            resend(execution_id, job_type, delay_s * 1000, "retry")
        else:
            log.warning(kv(event="execution_lost", execution=execution_id, worker=worker))
        return
    if transient and attempt > 1:
        message = f"{message} (falló en los {attempt} intentos)"
    _finish(execution_id, worker, FAILED, info, attempt, error=message)


def _finish(execution_id, worker, status, info: _Job, attempt, *, summary=None, error=None):
    if executions.finish(execution_id, worker, status, summary=summary, error=error):
        _log_end(execution_id, info, status, attempt=attempt, summary=summary, reason=error)
    else:
        # Someone else owns the row now (taken over, interrupted by an operator): the
        # inventory written in this transaction was rolled back with it.
        log.warning(kv(event="execution_lost", execution=execution_id, worker=worker,
                       status=status))


def _log_end(execution_id, info: _Job, status, *, attempt=None, summary=None, reason=None):
    """The one line per execution end: stable key=value fields, never the community."""
    fields = dict(event="execution_end", execution=execution_id, job=info.nombre,
                  job_type=info.job_type, olt=info.olt, status=status, attempt=attempt)
    for key in ("duration_ms", "varbinds", "found", "new", "returned", "gone", "onus",
                "updated", "unchanged", "missing", "method"):
        if key in (summary or {}):
            fields[key] = summary[key]
    if reason:
        fields["error"] = reason
    (log.info if status == SUCCESS else log.warning)(kv(**fields))


INFRA_ERRORS = (redis_lib.RedisError, OSError, sa.exc.OperationalError,
                sa.exc.InterfaceError, sa.exc.DisconnectionError)
INFRA_RETRY_MS = (5000, 15000)
DB_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)
DB_OUTAGE_WAIT_S = 60.0     # how long a worker waits for the database to give a row back
REASON_DB_LOST = "Error de base de datos al registrar el resultado ({what}); se reanudará."
REASON_DB_LOST_LAST = ("Interrumpida: error de base de datos al registrar el resultado "
                       "({what}) y no quedan reintentos ({attempt} de {allowed} intentos)")


def _last_resort(execution_id: int, worker: str, exc: BaseException,
                 progress: _Progress) -> None:
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
            if executions.back_to_pending(
                    execution_id, worker,
                    error="El trabajador se detuvo durante la ejecución; se reanudará."):
                resend(execution_id, progress.job_type, 0, "worker_shutdown")
                log.warning(kv(event="execution_requeued", execution=execution_id,
                               reason="worker_shutdown"))
            return
        if isinstance(exc, DB_ERRORS):
            _give_back_after_db_outage(execution_id, worker, exc, progress.job_type)
            return
        if isinstance(exc, TimeLimitExceeded):
            message = ("La ejecución superó el tiempo límite del trabajador "
                       f"({TIME_LIMIT_MS // 60000} min) y se canceló.")
        else:
            log.exception(kv(event="execution_bug", execution=execution_id,
                             error=f"{type(exc).__name__}: {exc}"[:300]), exc_info=exc)
            message = _bug_message(exc)
        if executions.finish(execution_id, worker, FAILED, error=message):
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
            allowed = 1 + (row.job.max_retries if row.job is not None else 0)
            if row.attempt >= allowed:
                info, reason = _Job(row), REASON_DB_LOST_LAST.format(
                    what=what, attempt=row.attempt, allowed=allowed)
                if executions.finish(execution_id, worker, INTERRUPTED, error=reason):
                    _log_end(execution_id, info, INTERRUPTED, attempt=row.attempt,
                             reason=reason)
            elif executions.back_to_pending(execution_id, worker,
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
    return (f"Error interno del trabajador ({type(exc).__name__}: {str(exc)[:200]}). "
            "Avise al administrador.")


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
