"""Running one execution in a worker thread: the path from a message to its final state.

`run_execution(execution_id, job_type)` is what the actors `run_discovery` / `run_get` call
(see `actors/executions.py` for the whole story); it never raises. The steps, in order:
load the row and decide what a redelivery means (`owner`), refuse disabled work, take an
OLT slot and respect its start rate (`olt_limiter`), claim the row (`transitions.start`),
walk with a heartbeat (`heartbeat`), write the outcome (`outcome`); anything unexpected
goes to `recovery`.
"""
from __future__ import annotations

import logging
import random
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from facho.executions import transitions
from facho.executions.heartbeat import Heartbeat
from facho.executions.olt_limiter import OltBusy, OltLimiter
from facho.executions.outcome import JobSnapshot, failed_or_retry, finish, log_end
from facho.executions.owner import owner_state, take_over_dead
from facho.executions.recovery import last_resort
from facho.executions.resend import resend
from facho.executions.retries import attempts_allowed
from facho.executions.targets import olt_limits, snmp_target
from facho.executions.transitions import Started
from facho.extensions import db
from facho.inventory import discovery, get_values
from facho.inventory.writes import InventoryConfigError
from facho.logging_setup import kv
from facho.models import (FAILED, FINAL_STATUSES, INTERRUPTED, PENDING, RUNNING, SUCCESS,
                          Execution, utcnow)
from facho.redis_conn import get_redis
from facho.reasons import REASON_DB_WRITE, REASON_DEAD
from facho.snmp import SnmpError

log = logging.getLogger("facho.executions")

# Module attributes (not constants) so tests and benchmarks can shorten them.
BUSY_DELAY_MS = (2000, 5000)        # re-send window when the OLT has no free slot
RATE_JITTER_MS = (100, 1000)        # added to the start-rate limiter's wait
HEARTBEAT_EVERY_S = transitions.HEARTBEAT_EVERY_S
STALE_AFTER_S = transitions.STALE_AFTER_S
RECHECK_MIN_MS = 1000


def busy_delay_ms() -> int:
    low, high = BUSY_DELAY_MS
    return random.randint(int(low), int(high))


class _Progress:
    claimed = False      # True once this worker owns the row (RUNNING)
    job_type = None


def run_execution(execution_id: int, job_type: str) -> None:
    """Run one execution (see the module docstring). Never raises."""
    worker = transitions.worker_name()
    progress = _Progress()
    progress.job_type = job_type
    try:
        _run(execution_id, job_type, worker, progress)
    except BaseException as exc:  # noqa: BLE001 - last line: nothing may leave a row RUNNING
        last_resort(execution_id, worker, exc, progress)
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
        verdict = owner_state(row, now, STALE_AFTER_S)
        if verdict == "alive":
            # Too early to tell whether the owner died: look again once its heartbeat would
            # be stale. A live owner finishes first and the next look does nothing.
            stale_at = row.heartbeat_at + timedelta(seconds=STALE_AFTER_S)
            wait_ms = int((stale_at - now).total_seconds() * 1000) + random.randint(500, 3000)
            db.session.rollback()
            resend(execution_id, job_type, max(RECHECK_MIN_MS, wait_ms), "owner_alive")
            return
        if close_if_exhausted(row):
            return
    if row.status == PENDING:
        reason = transitions.disabled_reason(row)
        if reason:
            if transitions.interrupt(execution_id, reason):
                log_end(execution_id, JobSnapshot(row), INTERRUPTED, reason=reason)
            return
    info = JobSnapshot(row)
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
                started = transitions.start(execution_id, worker, stale_after_s=STALE_AFTER_S)
            if started is None:
                log.debug(kv(event="execution_skipped", execution=execution_id,
                             reason="claimed_elsewhere"))
                return
            progress.claimed = True
            _execute(app, config, started, info, job_type)
    except OltBusy:
        db.session.rollback()
        resend(execution_id, job_type, busy_delay_ms(), "olt_busy")


def close_if_exhausted(row: Execution) -> bool:
    """A RUNNING row whose owner is dead or stale and that has no attempt left: close it
    INTERRUPTED with the reason, as the reconciler does (DESIGN 3.7: resumed or
    INTERRUPTED). A killed worker is not a failure of the OLT, so never FAILED. The
    compare-and-set names the owner, attempt and heartbeat seen, so a late heartbeat or
    another take-over wins. True when the row needs nothing more from this message."""
    allowed = attempts_allowed(row.job.max_retries if row.job is not None else 0)
    if row.attempt < allowed:
        return False
    info = JobSnapshot(row)
    reason = transitions.disabled_reason(row) or REASON_DEAD.format(
        worker=row.worker or "?", attempt=row.attempt, allowed=allowed)
    if transitions.interrupt_dead(row.id, row.worker, row.attempt, row.heartbeat_at, reason):
        log_end(row.id, info, INTERRUPTED, attempt=row.attempt, reason=reason)
    else:
        db.session.rollback()
        log.debug(kv(event="execution_skipped", execution=row.id, reason="claimed_elsewhere"))
    return True


def _execute(app, config, started: Started, info: JobSnapshot, job_type: str) -> None:
    execution_id, worker, attempt = started.execution_id, started.worker, started.attempt
    if started.took_over:
        log.warning(kv(event="execution_resumed", execution=execution_id, attempt=attempt,
                       worker=worker))
    row = db.session.get(Execution, execution_id)
    reason = transitions.disabled_reason(row)
    if reason:
        finish(execution_id, worker, INTERRUPTED, info, attempt, error=reason)
        return
    if started.took_over and attempt > info.attempts_allowed:
        # Normally closed before the take-over (`_close_if_exhausted`); this is the race
        # where the row was read PENDING and went stale before `start` took it.
        finish(execution_id, worker, INTERRUPTED, info, attempt, error=REASON_DEAD.format(
            worker="?", attempt=attempt - 1, allowed=info.attempts_allowed))
        return
    olt, job = row.olt, row.job
    target = snmp_target(olt, config)
    with Heartbeat(app, execution_id, worker, HEARTBEAT_EVERY_S):
        try:
            if job_type == "descubrimiento":
                summary = discovery.discover(execution_id, job, olt, target,
                                                  config.absent_after_misses, utcnow())
            else:
                summary = get_values.read_values(execution_id, job, olt, target, utcnow(),
                                                  config.power_event_db)
        except SnmpError as exc:
            db.session.rollback()
            failed_or_retry(execution_id, worker, info, attempt, exc.message, exc.transient,
                             job_type)
            return
        except InventoryConfigError as exc:
            db.session.rollback()
            finish(execution_id, worker, FAILED, info, attempt, error=str(exc))
            return
        except (sa.exc.OperationalError, sa.exc.IntegrityError) as exc:
            # The database went away, or another execution wrote this OLT's inventory at the
            # same moment: both pass, so try again as a new attempt.
            db.session.rollback()
            log.warning(kv(event="execution_db_error", execution=execution_id,
                           error=str(exc.orig if getattr(exc, "orig", None) else exc)[:300]))
            failed_or_retry(execution_id, worker, info, attempt,
                             REASON_DB_WRITE.format(what=type(getattr(exc, 'orig', exc)).__name__),
                             True, job_type)
            return
        summary["attempt"] = attempt
        note = summary.get("note")
        finish(execution_id, worker, SUCCESS, info, attempt, summary=summary, error=note)
