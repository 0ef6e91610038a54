"""Releasing claimed slots: `send_due` sends each PENDING scheduled row whose slot has come
(the per-second fan-out `dispatch_slot` and the tick's sweep), deciding overlap and lateness
then; `arm_pending` / `arm_slots` put one delayed `dispatch_slot` message per slot second."""
from __future__ import annotations

import logging
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

import sqlalchemy as sa

from facho.extensions import db
from facho.logging_setup import kv
from facho.models import (INTERRUPTED, PENDING, RUNNING, SKIPPED)
from facho.messaging import (NAMESPACE, SCHEDULER_QUEUE, SLOT_ACTOR, Outgoing, Sender,
                             default_sender, held_first_args)
from facho.reasons import REASON_JOB, REASON_JOB_HOST, REASON_LATE, REASON_OLT, overlap_reason
from facho.scheduling.schedule import slot_epoch_s
from facho.scheduling.sql import EXECS, HOSTS, JOBS, OLTS, app_config, aware, chunks

log = logging.getLogger(__name__)
UTC = timezone.utc


@dataclass
class SendResult:
    sent: int = 0          # messages enqueued
    skipped: int = 0       # due rows SKIPPED by the overlap rule
    late: int = 0          # due rows older than the catch-up window: SKIPPED, counted as missed
    interrupted: int = 0   # due rows of a job / OLT / job host disabled since they were claimed
    send_errors: int = 0
    lag_ms: int = 0        # worst lateness (now - slot) among rows sent


def send_due(now: datetime, *, sender: Sender | None = None,
             catchup_window_s: int | None = None) -> SendResult:
    """Send every PENDING scheduled execution whose slot is <= now and that has no message yet.

    Per (job, OLT), in slot order: if an earlier execution (earlier slot, or a manual run)
    is PENDING or RUNNING, the row becomes SKIPPED with the reason; otherwise its message id
    is claimed with a compare-and-set and the message enqueued after commit. Rows older
    than the catch-up window are not replayed: SKIPPED, and counted in the job's
    `missed_slots`. Idempotent and safe to run concurrently. Commits.
    """
    now = aware(now)
    window = app_config().catchup_window_s if catchup_window_s is None else catchup_window_s
    result = SendResult()
    session = db.session
    # The jobs with due unsent rows (message_id NULL) first, as plain ids: as one IN
    # (subquery) PostgreSQL, whose statistics rarely know how many rows are PENDING right
    # after a claim, nested-looped every active row against every other (4,000 queued
    # pairs made an idle tick take seconds).
    due_jobs = session.execute(
        sa.select(EXECS.c.job_id).distinct()
        .where(EXECS.c.status == PENDING, EXECS.c.message_id.is_(None),
               EXECS.c.scheduled_for <= now)).scalars().all()
    if not due_jobs:
        session.commit()     # end the read transaction (the scheduler's sessions time out idle)
        return result
    # Then the due rows and, for the same jobs, every other active row that may block
    # them (reservations not yet due excluded).
    found = session.execute(
        sa.select(EXECS.c.id, EXECS.c.job_id, EXECS.c.olt_id, EXECS.c.scheduled_for,
                  EXECS.c.status, EXECS.c.message_id, JOBS.c.job_type,
                  JOBS.c.enabled.label("job_enabled"), OLTS.c.habilitar_olt,
                  HOSTS.c.enabled.label("host_enabled"))
        .join(JOBS, JOBS.c.id == EXECS.c.job_id)
        .join(OLTS, OLTS.c.id == EXECS.c.olt_id)
        .outerjoin(HOSTS, HOSTS.c.id == EXECS.c.job_host_id)
        .where(EXECS.c.job_id.in_(due_jobs), EXECS.c.status.in_((PENDING, RUNNING)),
               sa.or_(EXECS.c.scheduled_for.is_(None), EXECS.c.scheduled_for <= now))
        .order_by(EXECS.c.scheduled_for, EXECS.c.id)).all()
    rows = [r for r in found if r.status == PENDING and r.message_id is None
            and r.scheduled_for is not None]
    if not rows:
        session.commit()
        return result
    # Edits take effect at once, even one made with a Core UPDATE since the last tick.
    disabled = [(r.id, REASON_JOB if not r.job_enabled else REASON_OLT
                 if not r.habilitar_olt else REASON_JOB_HOST)
                for r in rows if not (r.job_enabled and r.habilitar_olt
                                      and r.host_enabled is not False)]
    if disabled:
        session.execute(
            EXECS.update().where(EXECS.c.id == sa.bindparam("b_id"),
                                  EXECS.c.status == PENDING, EXECS.c.message_id.is_(None))
            .values(status=INTERRUPTED, finished_at=now,
                    error_message=sa.bindparam("b_reason")),
            [{"b_id": i, "b_reason": reason} for i, reason in disabled])
        result.interrupted = len(disabled)
        gone = {i for i, _ in disabled}
        rows = [r for r in rows if r.id not in gone]
        found = [r for r in found if r.id not in gone]
    oldest_allowed = now - timedelta(seconds=window)
    late = [r for r in rows if r.scheduled_for < oldest_allowed]
    fresh = [r for r in rows if r.scheduled_for >= oldest_allowed]

    if late:
        reason = REASON_LATE.format(window=window)
        late_ids = [r.id for r in late]
        changed = []
        for chunk in chunks(late_ids, 1000):
            changed += [row.id for row in session.execute(
                EXECS.update().where(EXECS.c.id.in_(chunk), EXECS.c.status == PENDING,
                                      EXECS.c.message_id.is_(None))
                .values(status=SKIPPED, finished_at=now, error_message=reason)
                .returning(EXECS.c.id))]
        changed_set = set(changed)
        slots_by_job: dict[int, set] = defaultdict(set)
        for r in late:
            if r.id in changed_set:
                slots_by_job[r.job_id].add(r.scheduled_for)
        for job_id, slots in slots_by_job.items():
            # Slots, not rows: missed_slots counts a slot once however many OLTs it had.
            missed = _newly_missed(job_id, slots, changed, reason)
            if missed:
                session.execute(JOBS.update().where(JOBS.c.id == job_id)
                                .values(missed_slots=JOBS.c.missed_slots + missed))
        result.late = len(changed)

    to_send: list = []
    to_skip: list[tuple[int, str]] = []
    if fresh:
        active: dict[tuple[int, int], tuple[int, bool]] = {}
        for b in sorted(found, key=lambda r: r.id):
            if b.status == PENDING and b.message_id is None and b.scheduled_for is not None:
                continue   # due and unsent: decided below, in slot order
            active.setdefault((b.job_id, b.olt_id), (b.id, b.scheduled_for is None))
        for r in fresh:
            key = (r.job_id, r.olt_id)
            blocker = active.get(key)
            if blocker is not None:
                to_skip.append((r.id, overlap_reason(*blocker)))
            else:
                to_send.append(r)
                active[key] = (r.id, False)
        if to_skip:
            session.execute(
                EXECS.update().where(EXECS.c.id == sa.bindparam("b_id"),
                                      EXECS.c.status == PENDING,
                                      EXECS.c.message_id.is_(None))
                .values(status=SKIPPED, finished_at=now,
                        error_message=sa.bindparam("b_reason")),
                [{"b_id": i, "b_reason": reason} for i, reason in to_skip])
            result.skipped = len(to_skip)
    claimed: dict[int, str] = {}
    if to_send:
        prefix = uuid.uuid4().hex[:20] + "-"
        for chunk in chunks([r.id for r in to_send], 1000):
            for row in session.execute(
                    EXECS.update().where(EXECS.c.id.in_(chunk), EXECS.c.status == PENDING,
                                          EXECS.c.message_id.is_(None))
                    .values(message_id=sa.literal(prefix) + sa.cast(EXECS.c.id, sa.String))
                    .returning(EXECS.c.id, EXECS.c.message_id)):
                claimed[row.id] = row.message_id
    session.commit()
    if claimed:
        outgoing = [Outgoing(r.id, r.job_type, claimed[r.id]) for r in to_send if r.id in claimed]
        result.lag_ms = max(int((now - r.scheduled_for) / timedelta(milliseconds=1))
                            for r in to_send if r.id in claimed)
        result.sent, result.send_errors = send_outgoing(sender or default_sender(), outgoing)
    return result


def _newly_missed(job_id, slots, changed, reason) -> int:
    """Slots of `slots` not already counted as missed by an earlier pass (another OLT's
    row for the same slot SKIPPED before)."""
    counted = {row[0] for row in db.session.execute(
        sa.select(EXECS.c.scheduled_for).distinct()
        .where(EXECS.c.job_id == job_id, EXECS.c.scheduled_for.in_(list(slots)),
               EXECS.c.id.not_in(changed), EXECS.c.status == SKIPPED,
               EXECS.c.error_message == reason))}
    return len(set(slots) - counted)


def send_outgoing(sender: Sender, outgoing: list[Outgoing]) -> tuple[int, int]:
    """Enqueue; returns (sent, errors). A failure leaves the rows with a message id and no
    message: the reconciler re-sends them."""
    if not outgoing:
        return 0, 0
    try:
        sender.send_executions(outgoing)
        return len(outgoing), 0
    except Exception as exc:  # broker down: the database stays the source of truth
        log.error(kv(event="dispatch_send_failed", count=len(outgoing), error=repr(exc)))
        return 0, len(outgoing)


def arm_pending(now: datetime, until: datetime, *, sender: Sender | None = None,
                already_armed: set[int] | None = None,
                job_ids: Sequence[int] | None = None) -> int:
    """(Re-)arm one `dispatch_slot` message per distinct second of reservations due in
    (now, until] that have no message yet, except the seconds in `already_armed`. Used
    when taking over leadership (the previous leader's delayed messages may be stuck in a
    dead worker's memory) and by the reconciler. Duplicates are harmless (send_due is
    idempotent). Returns how many messages were sent."""
    now, until = aware(now), aware(until)
    query = (sa.select(EXECS.c.scheduled_for).distinct()
             .where(EXECS.c.status == PENDING, EXECS.c.message_id.is_(None),
                    EXECS.c.scheduled_for > now, EXECS.c.scheduled_for <= until))
    if job_ids is not None:
        query = query.where(EXECS.c.job_id.in_(list(job_ids)))
    slots = db.session.execute(query).scalars().all()
    db.session.rollback()
    if already_armed:
        slots = [s for s in slots if slot_epoch_s(s) not in already_armed]
    return arm_slots(sender or default_sender(), now, slots)


def armed_slot_epochs(client, namespace: str = NAMESPACE) -> set[int]:
    """Slot seconds that have a `dispatch_slot` message in Redis (delayed, queued or held)."""
    return held_first_args(client, SCHEDULER_QUEUE, {SLOT_ACTOR}, namespace)


def arm_slots(sender: Sender, now: datetime, slots: Iterable[datetime]) -> int:
    epochs = sorted({slot_epoch_s(s) for s in slots})
    now_ms = now.timestamp() * 1000
    armed = 0
    for epoch in epochs:
        try:
            sender.arm_slot(epoch, max(0, int(math.ceil(epoch * 1000 - now_ms))))
            armed += 1
        except Exception as exc:  # the tick's sweep and the reconciler catch up
            log.error(kv(event="dispatch_arm_failed", slot=epoch, error=repr(exc)))
            break
    return armed


def active_execution_id(key: tuple[int, int]) -> int | None:
    return db.session.execute(
        sa.select(EXECS.c.id).where(EXECS.c.job_id == key[0], EXECS.c.olt_id == key[1],
                                     EXECS.c.status.in_((PENDING, RUNNING)))
        .order_by(EXECS.c.id).limit(1)).scalar()


def release_slot(slot_epoch: int, *, now: datetime | None = None,
                  sender: Sender | None = None) -> SendResult | None:
    """Body of the `dispatch_slot` actor: at a slot second, send what is due.

    If the message arrived early (clock skew), it re-arms itself for the right second.
    """
    from facho.models import utcnow
    now = aware(now or utcnow())
    sender = sender or default_sender()
    early_ms = int(slot_epoch * 1000 - now.timestamp() * 1000)
    if early_ms > 0:
        sender.arm_slot(slot_epoch, early_ms)
        return None
    result = send_due(now, sender=sender)
    if result.sent or result.skipped or result.late:
        log.info(kv(event="dispatch_slot", slot=slot_epoch, sent=result.sent,
                    skipped=result.skipped, late=result.late, lag_ms=result.lag_ms))
    return result
