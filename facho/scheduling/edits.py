"""What an edit does to work already planned (DESIGN 3.6): edits take effect at once.

- Disabling an OLT, a job or a job host turns its PENDING executions INTERRUPTED, in the
  same transaction as the edit. The detection lives in one `before_flush` listener on every
  ORM session, so the panel's forms, its bulk actions, the CLI and anything written later
  cannot forget it, as long as they change the attribute through the ORM (a Core UPDATE
  must call `interrupt_pending` itself).
- Saving a job with a new interval or cron expression re-plans it from the new grid.

RUNNING executions are left alone: the worker owns them and finishes or abandons them.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from facho.extensions import db
from facho.reasons import REASON_JOB, REASON_JOB_HOST, REASON_OLT, REASON_REMOVED, REASON_REPLANNED
from facho.scheduling import schedule
from facho.scheduling.sql import EXECS, HOSTS, JOBS, OLTS, aware, chunks
from facho.models import INTERRUPTED, PENDING, Execution, Olt, SnmpJob, SnmpJobHost, utcnow

# session.info key where the listener adds up how many executions it interrupted, so a
# view can tell the operator (the listener itself has no one to talk to).
INTERRUPTED_COUNT = "facho_interrupted"


def interrupt_pending(session, *, job_id: int | None = None, olt_id: int | None = None,
                      job_host_id: int | None = None, reason: str,
                      now: datetime | None = None) -> int:
    """One UPDATE: PENDING executions matching every given id -> INTERRUPTED with `reason`.

    Returns how many rows changed. At least one id is required: an unfiltered call would
    interrupt the whole system.
    """
    conditions = [Execution.status == PENDING]
    for column, value in ((Execution.job_id, job_id), (Execution.olt_id, olt_id),
                          (Execution.job_host_id, job_host_id)):
        if value is not None:
            conditions.append(column == value)
    if len(conditions) == 1:
        raise ValueError("interrupt_pending needs job_id, olt_id or job_host_id")
    result = session.execute(
        sa.update(Execution).where(*conditions)
        .values(status=INTERRUPTED, error_message=reason, finished_at=now or utcnow())
        .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def _became_false(obj, attribute: str) -> bool:
    """True when this flush sets `attribute` to False on a stored row.

    When the old value was never loaded the history cannot tell True from False; that
    counts as a change: interrupting leftovers of an already disabled object is harmless,
    missing a real transition is not.
    """
    history = sa.inspect(obj).attrs[attribute].history
    return history.has_changes() and not getattr(obj, attribute)


def _on_before_flush(session, flush_context, instances) -> None:
    total = 0
    for obj in list(session.dirty):
        if isinstance(obj, Olt) and _became_false(obj, "habilitar_olt"):
            total += interrupt_pending(session, olt_id=obj.id, reason=REASON_OLT)
        elif isinstance(obj, SnmpJob) and _became_false(obj, "enabled"):
            total += interrupt_pending(session, job_id=obj.id, reason=REASON_JOB)
        elif isinstance(obj, SnmpJobHost) and _became_false(obj, "enabled"):
            # Match the pair, not only job_host_id: a manual run may carry no job host.
            total += interrupt_pending(session, job_id=obj.job_id, olt_id=obj.olt_id,
                                       reason=REASON_JOB_HOST)
    for obj in list(session.deleted):
        if isinstance(obj, SnmpJobHost) and obj.job_id is not None:
            total += interrupt_pending(session, job_id=obj.job_id, olt_id=obj.olt_id,
                                       reason=REASON_REMOVED)
    if total:
        session.info[INTERRUPTED_COUNT] = session.info.get(INTERRUPTED_COUNT, 0) + total


def take_interrupted_count(session) -> int:
    """How many executions the listener interrupted since the last call (and reset)."""
    return session.info.pop(INTERRUPTED_COUNT, 0)


def install() -> None:
    """Register the listener on every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _on_before_flush):
        event.listen(Session, "before_flush", _on_before_flush)


# --- re-planning a job after an edit ------------------------------------------------------

def _changed(job: SnmpJob, *attributes: str) -> bool:
    state = sa.inspect(job)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def plan_job(job: SnmpJob, *, created: bool, now: datetime | None = None) -> bool:
    """Set `anchor_at` and `next_run_at` for a job being created or edited; True if re-planned.

    - New job: a fresh anchor (now, to the second) and its first slot at or after now.
    - Interval / cron / zone changed: a fresh anchor, and the dispatcher's own re-plan
      (`replan_job` below): the first new-grid slot past anything the old grid may
      already have claimed, and the old grid's not-yet-due reservations INTERRUPTED.
    - Re-enabled: same grid, from now on (`reenable_job` below: reservations the
      disable interrupted whose slot has not come run after all), so the time spent
      disabled is not reported as missed runs.
    - Anything else keeps the grid untouched.

    Call it before anything autoflushes the session: a flush clears the attribute history
    this reads.
    """
    now = (now or utcnow()).replace(microsecond=0)
    # The zone only matters to a cron expression; an interval is absolute time.
    schedule_changed = created or _changed(
        job, "interval_raw", "cron_expr", *(("cron_tz",) if job.cron_expr else ()))
    re_enabled = not created and job.enabled and _changed(job, "enabled")
    if not (schedule_changed or re_enabled or job.next_run_at is None or job.anchor_at is None):
        return False
    if schedule_changed or job.anchor_at is None:
        job.anchor_at = now
    if created or job.next_run_at is None:
        job.next_run_at = schedule.first_run_at(schedule.schedule_of(job), now)
    elif schedule_changed:
        count = replan_job(job, now, new_anchor=False)
        session = sa.inspect(job).session
        if count and session is not None:
            session.info[INTERRUPTED_COUNT] = session.info.get(INTERRUPTED_COUNT, 0) + count
    else:
        reenable_job(job, now)
    return True


# --- what the scheduler does about an edit ------------------------------------------------

def interrupt_disabled(now: datetime) -> int:
    """PENDING executions of a disabled job, OLT or job host -> INTERRUPTED; returns the count.

    The ORM listener in facho.scheduling.edits (`interrupt_pending`) does this at edit time; this
    catches edits made with a Core UPDATE (or before the listener existed), with the same
    reasons. It first reads only the disabled ids (small tables, no join with executions,
    so its cost does not depend on the planner's statistics); only when there are some does
    it run one bulk UPDATE per kind. Commits only when it changed something.
    """
    session = db.session
    found = session.execute(sa.union_all(
        sa.select(sa.literal("job"), JOBS.c.id, sa.cast(sa.null(), sa.Integer))
        .where(~JOBS.c.enabled),
        sa.select(sa.literal("olt"), OLTS.c.id, sa.cast(sa.null(), sa.Integer))
        .where(~OLTS.c.habilitar_olt),
        sa.select(sa.literal("host"), HOSTS.c.job_id, HOSTS.c.olt_id).where(~HOSTS.c.enabled),
    )).all()
    if not found:
        return 0   # nothing written: the caller's transaction goes on
    jobs = [first for kind, first, _ in found if kind == "job"]
    olts = [first for kind, first, _ in found if kind == "olt"]
    pairs = [(first, second) for kind, first, second in found if kind == "host"]
    total = 0
    for condition, reason in (
            (EXECS.c.job_id.in_(jobs) if jobs else None, REASON_JOB),
            (EXECS.c.olt_id.in_(olts) if olts else None, REASON_OLT),
            (sa.tuple_(EXECS.c.job_id, EXECS.c.olt_id).in_(pairs) if pairs else None,
             REASON_JOB_HOST)):
        if condition is None:
            continue
        total += session.execute(
            EXECS.update().where(EXECS.c.status == PENDING, condition)
            .values(status=INTERRUPTED, finished_at=now, error_message=reason)).rowcount or 0
    if total:
        session.commit()
    return total


def lock_job(session, job) -> None:
    """Take the job's row lock for the rest of the edit's transaction (PostgreSQL; SQLite
    serialises writers anyway) and refresh what the scheduler may have moved since the
    edit loaded the job (`next_run_at`, `missed_slots`, `schedule_version`).

    Why: an edit interrupts reservations with statements run before its own job row is
    written at commit. Without the lock, a tick in between reads the old schedule, its
    claim (which locks the same row first) succeeds, and the old grid's new reservations
    outlive the edit. With it, the tick's claim waits for the edit's commit and then finds
    the schedule version changed. Values the operator is editing are never overwritten:
    only attributes without a pending change are refreshed."""
    fresh = session.execute(
        sa.select(JOBS.c.next_run_at, JOBS.c.missed_slots, JOBS.c.schedule_version)
        .where(JOBS.c.id == job.id).with_for_update()).one_or_none()
    if fresh is None:
        return
    state = sa.inspect(job)
    for name in ("next_run_at", "missed_slots", "schedule_version"):
        if not state.attrs[name].history.has_changes():
            sa.orm.attributes.set_committed_value(job, name, getattr(fresh, name))


def _session_of(job):
    return sa.inspect(job).session or db.session


def replan_job(job: SnmpJob, now: datetime, *, new_anchor: bool = True) -> int:
    """Re-plan a job after its interval / cron / zone changed; call it before committing the edit.

    The new grid starts at the edit (`anchor_at = now`, to the second) unless
    `new_anchor=False`. In the edit's transaction, holding the job's row lock
    (`lock_job`), the old grid's rows that never ran and whose slot has not come
    (PENDING or INTERRUPTED, no message, `scheduled_for > now`) are:
    - deleted when their instant is also a slot of the new grid: the new grid's claim
      makes the same (job, OLT, slot) rows again, so nothing collides and nothing is lost;
    - INTERRUPTED with the reason otherwise (PENDING ones), so from the edit on only the
      new grid runs.
    `next_run_at` becomes the first new-grid slot at or after the edit, past any slot of a
    row that cannot be removed (`schedule.replan`). Returns how many reservations were
    interrupted. Raises ValueError (Spanish) for a bad schedule. The caller commits.
    """
    now = aware(now)
    if job.interval_raw and (new_anchor or job.anchor_at is None):
        job.anchor_at = now.replace(microsecond=0)
    planned = schedule.schedule_of(job)
    if job.id is None:
        job.next_run_at = schedule.first_run_at(planned, now)
        return 0
    session = _session_of(job)
    lock_job(session, job)
    rows = session.execute(
        sa.select(EXECS.c.id, EXECS.c.scheduled_for, EXECS.c.status, EXECS.c.message_id)
        .where(EXECS.c.job_id == job.id, EXECS.c.scheduled_for >= now)).all()
    unsent = [r for r in rows if r.scheduled_for > now and r.message_id is None
              and r.status in (PENDING, INTERRUPTED)]
    replaced = [r.id for r in unsent if schedule.on_grid(planned, r.scheduled_for)]
    withdrawn = [r.id for r in unsent if r.id not in set(replaced) and r.status == PENDING]
    gone = set(replaced)
    taken = [r.scheduled_for for r in rows if r.id not in gone]
    for chunk in chunks(replaced, 1000):
        session.execute(EXECS.delete().where(EXECS.c.id.in_(chunk),
                                              EXECS.c.message_id.is_(None)))
    count = 0
    for chunk in chunks(withdrawn, 1000):
        count += session.execute(
            EXECS.update().where(EXECS.c.id.in_(chunk), EXECS.c.status == PENDING,
                                  EXECS.c.message_id.is_(None))
            .values(status=INTERRUPTED, finished_at=now, error_message=REASON_REPLANNED)
        ).rowcount or 0
    job.next_run_at = schedule.replan(planned, now, taken)
    return count


def reenable_job(job: SnmpJob, now: datetime) -> int:
    """Plan a job being re-enabled (before the edit commits): same grid, from now on.

    Reservations its disabling interrupted whose slot has not come yet (never sent,
    `scheduled_for > now`) become PENDING again: disabling and re-enabling before a slot
    must not lose it (their fan-out message is still armed; the caller re-arms anyway).
    Slots that came while the job was disabled are not missed runs: `next_run_at` is the
    stored one when it is still ahead, else the first slot at or after now. Returns how
    many reservations came back."""
    now = aware(now)
    planned = schedule.schedule_of(job)
    first = schedule.first_run_at(planned, now)
    if job.id is None:
        job.next_run_at = first
        return 0
    session = _session_of(job)
    lock_job(session, job)
    revived = session.execute(
        EXECS.update().where(EXECS.c.job_id == job.id, EXECS.c.status == INTERRUPTED,
                              EXECS.c.error_message == REASON_JOB,
                              EXECS.c.message_id.is_(None), EXECS.c.scheduled_for > now)
        .values(status=PENDING, finished_at=None, error_message=None)).rowcount or 0
    stored = job.next_run_at
    job.next_run_at = first if stored is None or stored < first else stored
    return revived
