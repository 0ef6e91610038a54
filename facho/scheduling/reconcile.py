"""The reconciler (DESIGN 3.8): the database is the source of truth, Redis only carries it.

Run every minute by periodiq (`actors.maintenance.reconcile`), from any process: every
change is a compare-and-set, so two reconcilers (or a reconciler and the dispatcher)
never act twice on one row, and the worker's own compare-and-set guard makes a duplicate
message harmless anyway: an execution never runs twice.

What it does, in order:

1. Sweep: PENDING scheduled executions whose slot has come and that were never sent
   (their fan-out message was lost, or the scheduler was down) -> `release.send_due`
   (overlap rule and catch-up window apply), and reservations due within the horizon
   whose slot second has no `dispatch_slot` message left in Redis get one again.
2. Lost messages: a PENDING execution that has a message id but whose message is no
   longer in Redis (Redis restarted empty, flushed, or a send failed after commit).
   Detection, chosen to avoid both false positives and a scan per minute:
   - candidates by age: PENDING, created AND due more than `grace_s` (60 s) ago. A
     healthy system has almost none (the worker takes rows within a second), so the
     common pass is one indexed query and no Redis traffic;
   - then presence in Redis: Dramatiq's Redis broker keeps every message's body in the
     hash `<ns>:<queue>.msgs` (or `<ns>:<queue>.DQ.msgs` while delayed) from enqueue until
     it is acknowledged, including while a worker holds it. The reconciler reads those
     hashes (HSCAN) for the execution queues and collects the execution ids in the
     bodies. Matching by execution id, not message id, also covers messages the worker
     re-sent itself (busy OLT, retry backoff). A backlogged worker therefore never gets
     its queue re-filled: only rows whose message is really gone are re-sent. A delayed
     message still in `.DQ.msgs` more than `grace_s` after its due time counts as gone:
     a live worker moves it to its queue within a second, so nobody is going to deliver
     it (a worker's delay-queue consumer died, or dropped it from memory while Redis kept
     it; `facho.broker` prevents both, this is the net).
   A lost scheduled row still inside the catch-up window is re-sent with a fresh message
   id (CAS on the old one); an older one is not replayed (SKIPPED, counted as a missed
   slot: the next slot runs instead), as for a scheduler outage. Manual runs are always
   re-sent: an operator asked for them.
3. Dead workers: RUNNING with no heartbeat for `executions.STALE_AFTER_S`. If the job,
   OLT or job host was disabled meanwhile -> INTERRUPTED with that reason; else if
   attempts remain (`attempt < 1 + job.max_retries`) -> back to PENDING with a new
   message (the worker's `start` counts the new attempt); else INTERRUPTED with a
   Spanish reason.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho import messaging, reasons
from facho.executions.retries import attempts_allowed
from facho.executions import transitions
from facho.executions.transitions import STALE_AFTER_S
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import PENDING, RUNNING, SKIPPED, Olt, SnmpJob, SnmpJobHost, utcnow
from facho.reasons import REASON_DEAD, REASON_LOST_LATE, REASON_RESUMED
from facho.scheduling import claim, release, sql

log = logging.getLogger(__name__)

GRACE_S = 60
_execs = sql.EXECS
_jobs = sql.JOBS


@dataclass
class ReconcileResult:
    swept: int = 0         # due, never-sent executions sent now
    skipped: int = 0       # of those, SKIPPED by the overlap rule
    late: int = 0          # due, never sent, too old: SKIPPED as missed
    rearmed: int = 0       # dispatch_slot messages re-armed
    resent: int = 0        # lost messages sent again
    lost_late: int = 0     # lost messages too old to replay: SKIPPED as missed
    resumed: int = 0       # dead worker's RUNNING rows back to PENDING and re-sent
    interrupted: int = 0   # dead worker's RUNNING rows closed
    errors: int = 0

    @property
    def busy(self) -> bool:
        return any(asdict(self).values())


def _redis():
    from flask import current_app
    from facho.redis_conn import get_redis
    return get_redis(current_app.config["FACHO"])


def inflight_execution_ids(client, namespace: str | None = None,
                           queues=tuple(messaging.QUEUE_BY_JOB_TYPE.values()),
                           due_before: datetime | None = None) -> set[int]:
    """Execution ids of every execution message Redis still holds: queued, delayed, or
    fetched by a worker and not yet acknowledged (dead-lettered ones do not count). With
    `due_before` (UTC), a delayed message due before then does not count: no worker is
    going to deliver it (`messaging.held_first_args`)."""
    due_ms = None if due_before is None else int(due_before.timestamp() * 1000)
    found: set[int] = set()
    for queue in queues:
        found |= messaging.held_first_args(client, queue, messaging.EXECUTION_ACTORS,
                                           namespace or messaging.NAMESPACE, due_ms)
    return found


def resend_lost(now: datetime, *, grace_s: int = GRACE_S, sender=None, redis_client=None,
                catchup_window_s: int | None = None) -> tuple[int, int]:
    """Re-send PENDING executions whose message is gone from Redis; returns (resent, late)."""
    from flask import current_app
    window = (current_app.config["FACHO"].catchup_window_s if catchup_window_s is None
              else catchup_window_s)
    cutoff = now - timedelta(seconds=grace_s)
    session = db.session
    candidates = session.execute(
        sa.select(_execs.c.id, _execs.c.job_id, _execs.c.message_id, _execs.c.scheduled_for,
                  _jobs.c.job_type)
        .join(_jobs, _jobs.c.id == _execs.c.job_id)
        .where(_execs.c.status == PENDING, _execs.c.message_id.is_not(None),
               _execs.c.created_at < cutoff,
               sa.func.coalesce(_execs.c.scheduled_for, _execs.c.created_at) < cutoff)
        .order_by(_execs.c.id)).all()
    session.rollback()
    if not candidates:
        return 0, 0
    # a delayed message still waiting `grace_s` after its due time has no consumer left
    inflight = inflight_execution_ids(redis_client or _redis(), due_before=cutoff)
    lost = [c for c in candidates if c.id not in inflight]
    if not lost:
        return 0, 0
    oldest = now - timedelta(seconds=window)
    outgoing, late_slots = [], {}
    for row in lost:
        same = sa.and_(_execs.c.id == row.id, _execs.c.status == PENDING,
                       _execs.c.message_id == row.message_id)
        if row.scheduled_for is not None and row.scheduled_for < oldest:
            reason = REASON_LOST_LATE.format(window=window)
            if session.execute(_execs.update().where(same).values(
                    status=SKIPPED, finished_at=now, error_message=reason)).rowcount:
                late_slots.setdefault(row.job_id, set()).add(row.scheduled_for)
            continue
        new_id = str(uuid.uuid4())
        if session.execute(_execs.update().where(same).values(message_id=new_id)).rowcount:
            outgoing.append(messaging.Outgoing(row.id, row.job_type, new_id))
    for job_id, slots in late_slots.items():
        session.execute(_jobs.update().where(_jobs.c.id == job_id)
                        .values(missed_slots=_jobs.c.missed_slots + len(slots)))
    session.commit()
    sent, _errors = release.send_outgoing(sender or messaging.default_sender(), outgoing)
    late = sum(len(s) for s in late_slots.values())
    if lost:
        log.warning(kv(event="reconcile_lost_messages", lost=len(lost), resent=sent,
                       late=late))
    return sent, late


def _disabled_reason(job_id: int, olt_id: int) -> str | None:
    job = db.session.get(SnmpJob, job_id)
    olt = db.session.get(Olt, olt_id)
    host = SnmpJobHost.query.filter_by(job_id=job_id, olt_id=olt_id).first()
    return reasons.disabled_reason(job, olt, host)


def close_dead_running(now: datetime, *, stale_after_s: int = STALE_AFTER_S,
                       sender=None) -> tuple[int, int]:
    """RUNNING rows whose worker stopped heartbeating: resume or interrupt; (resumed, interrupted)."""
    stale = now - timedelta(seconds=stale_after_s)
    session = db.session
    last_sign = sa.func.coalesce(_execs.c.heartbeat_at, _execs.c.started_at, _execs.c.created_at)
    rows = session.execute(
        sa.select(_execs.c.id, _execs.c.job_id, _execs.c.olt_id, _execs.c.worker,
                  _execs.c.heartbeat_at, _execs.c.attempt, _execs.c.started_at,
                  _jobs.c.max_retries, _jobs.c.job_type)
        .join(_jobs, _jobs.c.id == _execs.c.job_id)
        .where(_execs.c.status == RUNNING, last_sign < stale)
        .order_by(_execs.c.id)).all()
    resumed, interrupted, outgoing = 0, 0, []
    for row in rows:
        allowed = attempts_allowed(row.max_retries)
        worker = row.worker or "?"
        disabled = _disabled_reason(row.job_id, row.olt_id)
        seen = (row.id, row.worker, row.attempt, row.heartbeat_at)
        if disabled or row.attempt >= allowed:
            reason = disabled or REASON_DEAD.format(worker=worker, attempt=row.attempt,
                                                    allowed=allowed)
            interrupted += transitions.interrupt_dead(*seen, reason, now=now)
            continue
        new_id = str(uuid.uuid4())
        if transitions.resume_dead(*seen, new_id, REASON_RESUMED.format(
                worker=worker, attempt=row.attempt + 1, allowed=allowed)):
            resumed += 1
            outgoing.append(messaging.Outgoing(row.id, row.job_type, new_id))
    release.send_outgoing(sender or messaging.default_sender(), outgoing)
    if rows:
        log.warning(kv(event="reconcile_dead_workers", resumed=resumed, interrupted=interrupted))
    return resumed, interrupted


def reconcile(now: datetime | None = None, *, grace_s: int = GRACE_S,
              stale_after_s: int = STALE_AFTER_S, sender=None, redis_client=None,
              horizon_s: int | None = None) -> ReconcileResult:
    """One reconciler pass (see the module doc). Each step is independent: a failing step
    (Redis down, say) is logged and counted, and the others still run."""
    now = now or utcnow()
    sender = sender or messaging.default_sender()
    result = ReconcileResult()
    steps = (
        ("sweep", lambda: _sweep(now, sender, redis_client, result, horizon_s)),
        ("lost", lambda: _lost(now, grace_s, sender, redis_client, result)),
        ("dead", lambda: _dead(now, stale_after_s, sender, result)),
    )
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - one broken step must not stop the rest
            db.session.rollback()
            result.errors += 1
            log.error(kv(event="reconcile_failed", step=name, error=repr(exc)[:300]))
    fields = dict(event="reconcile", **asdict(result))
    if result.busy:
        log.info(kv(**fields))
    else:
        log.debug(kv(**fields))
    return result


def _sweep(now, sender, redis_client, result: ReconcileResult, horizon_s) -> None:
    swept = release.send_due(now, sender=sender)
    result.swept, result.skipped, result.late = swept.sent, swept.skipped, swept.late
    horizon = claim.default_horizon_s() if horizon_s is None else horizon_s
    armed = release.armed_slot_epochs(redis_client or _redis())
    result.rearmed = release.arm_pending(now, now + timedelta(seconds=horizon), sender=sender,
                                          already_armed=armed)


def _lost(now, grace_s, sender, redis_client, result: ReconcileResult) -> None:
    result.resent, result.lost_late = resend_lost(now, grace_s=grace_s, sender=sender,
                                                  redis_client=redis_client)


def _dead(now, stale_after_s, sender, result: ReconcileResult) -> None:
    result.resumed, result.interrupted = close_dead_running(
        now, stale_after_s=stale_after_s, sender=sender)
