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

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from facho.scheduling import schedule
from facho.models import INTERRUPTED, PENDING, Execution, Olt, SnmpJob, SnmpJobHost, utcnow

# Same wording as the worker's own re-check (facho.executions.transitions.disabled_reason), so an
# operator reads one reason whichever side caught it.
REASON_OLT = "Interrumpida: la OLT fue deshabilitada"
REASON_JOB = "Interrumpida: la tarea fue deshabilitada"
REASON_JOB_HOST = "Interrumpida: la tarea está deshabilitada para esta OLT"
REASON_REMOVED = "Interrumpida: la OLT fue quitada de la tarea"

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

def job_schedule(job: SnmpJob) -> schedule.Schedule:
    return schedule.Schedule.build(interval_raw=job.interval_raw, cron_expr=job.cron_expr,
                                   cron_tz=job.cron_tz, anchor=job.anchor_at)


def _changed(job: SnmpJob, *attributes: str) -> bool:
    state = sa.inspect(job)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def plan_job(job: SnmpJob, *, created: bool, now: datetime | None = None,
             horizon: timedelta = timedelta(seconds=75)) -> bool:
    """Set `anchor_at` and `next_run_at` for a job being created or edited; True if re-planned.

    - New job: a fresh anchor (now, to the second) and its first slot at or after now.
    - Interval / cron / zone changed: a fresh anchor, and the dispatcher's own re-plan
      (facho.scheduling.dispatch.replan_job): the first new-grid slot past anything the old grid may
      already have claimed, and the old grid's not-yet-due reservations INTERRUPTED.
    - Re-enabled: same grid, from now on (facho.scheduling.dispatch.reenable_job: reservations the
      disable interrupted whose slot has not come run after all), so the time spent
      disabled is not reported as missed runs.
    - Anything else keeps the grid untouched.

    Call it before anything autoflushes the session: a flush clears the attribute history
    this reads. `horizon` is how far ahead a scheduler tick claims slots.
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
        job.next_run_at = schedule.first_run_at(job_schedule(job), now)
    elif schedule_changed:
        from facho.scheduling.dispatch import replan_job  # the scheduler owns what "claimed" means

        count = replan_job(job, now, horizon_s=int(horizon.total_seconds()), new_anchor=False)
        session = sa.inspect(job).session
        if count and session is not None:
            session.info[INTERRUPTED_COUNT] = session.info.get(INTERRUPTED_COUNT, 0) + count
    else:
        from facho.scheduling.dispatch import reenable_job  # revives reservations the disable interrupted

        reenable_job(job, now)
    return True
