"""Dispatch: the tick that turns the due-time table into executions (DESIGN 3).

Everything here takes the clock as an argument (`now`, aware UTC), so tests drive whole
simulated days without sleeping. The scheduler process calls `tick(utcnow())` once a
minute (periodiq) and `send_due(utcnow())` at each slot second (`dispatch_slot`).

A tick, in order:

1. Safety net for edits made without the ORM listener (`facho.scheduling.edits`): PENDING
   executions of a disabled job, OLT or job host become INTERRUPTED.
2. `send_due`: PENDING executions whose slot has come and that were never sent
   (`message_id IS NULL`: their fan-out message was lost, or it has not fired yet) are
   sent now, subject to the overlap rule; those older than the catch-up window are not
   replayed: they become SKIPPED and count as missed slots.
3. Claim: ONE indexed query reads the enabled jobs whose `next_run_at < now + horizon`
   (NULL = never planned: `first_run_at`). For each, `schedule.plan_due` gives the slots
   and the new `next_run_at`. Jobs are claimed in batches (1,000), each batch ONE
   transaction: a compare-and-set for every job of the batch in one statement,
   `UPDATE snmp_jobs SET next_run_at = v.new, missed_slots = missed_slots + v.missed
   FROM (VALUES …) v WHERE id = v.id AND next_run_at = v.seen AND schedule_version =
   v.version RETURNING id` (the jobs another scheduler moved first, or an edit changed
   since the read, do not come back, and nothing is inserted for them; on
   PostgreSQL the rows are first locked in id order so racing schedulers never
   deadlock), then one bulk INSERT of the executions of the jobs won: one row per slot
   and enabled job host whose OLT has `habilitar_olt`. The unique constraint (job, OLT,
   scheduled_for) is the last guard: an IntegrityError rolls the batch back, is counted
   (`conflicts`), and the batch is redone job by job with conflicting rows ignored, so
   one bad row can neither duplicate a slot nor wedge the job.
4. After each batch commits, its due rows are sent at once (in one Redis pipeline).
   Future slots are not sent as one delayed message per execution: one delayed
   `dispatch_slot(epoch_s)` message per distinct slot second (fan-out) calls `send_due`
   when that second comes. So a worker holds a handful of delayed messages, not tens of
   thousands (Dramatiq prefetches delayed messages into worker memory).

Overlap (DESIGN 3.5) and slots claimed ahead of time. A tick claims up to a horizon
ahead, so a 30 s job has its next two slots claimed while the current run is going. A
claimed future slot is a *reservation*: a PENDING row with `scheduled_for` in the future
and no message. Whether it overlaps is decided when its slot comes (in `send_due`), not
when it is claimed: if then an earlier execution of the same job on the same OLT (an
earlier slot or a manual run) is still PENDING or RUNNING, the reservation becomes
SKIPPED with the reason ("Omitida: la ejecución #123 de esta tarea en esta OLT sigue en
curso"); otherwise it is sent. Deciding at claim time would skip every other slot of a
30 s job, since the previous slot is always still pending when the next is reserved.
Due slots claimed by the tick itself (first slot of a new job, catch-up after downtime)
are decided at once, against the executions active before the tick and the earlier due
slots of the same claim, so late slots inside the catch-up window are all recorded but
only the first runs: queueing them behind each other is what the overlap rule forbids.
Reservations never block: a manual run or a due slot is not refused because of a future
reservation. In steady state every slot is reserved by the tick before it and sent by its
`dispatch_slot` at its second: that is what makes start times second-exact.

Message ids. A due row gets its message id in the INSERT itself and is enqueued right
after commit; a reservation gets one in `send_due` by a compare-and-set claim
(`UPDATE … SET message_id = … WHERE message_id IS NULL RETURNING …`) that one sender
wins, so concurrent fan-out messages, tick sweeps and reconcilers never send a row twice.
If the process dies between commit and enqueue, the row has a message id but no message:
the reconciler finds it (`facho.scheduling.reconcile`), and the worker's compare-and-set guard makes
any duplicate delivery harmless anyway.
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Callable, Iterable, Sequence

import dramatiq
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from facho.scheduling import schedule as sched
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import (INTERRUPTED, PENDING, RUNNING, SKIPPED, Execution, Olt, SnmpJob,
                          SnmpJobHost)

log = logging.getLogger(__name__)

UTC = timezone.utc
SCHEDULER_QUEUE = "scheduler"
MAINTENANCE_QUEUE = "maintenance"
SLOT_ACTOR = "dispatch_slot"
DEFAULT_BATCH = 1000

REASON_OVERLAP = "Omitida: la ejecución #{blocker} de esta tarea en esta OLT sigue en curso"
REASON_OVERLAP_MANUAL = ("Omitida: la ejecución manual #{blocker} de esta tarea en esta OLT "
                         "sigue en curso")
REASON_LATE = ("Omitida: no se despachó a tiempo (más de {window} s de retraso; "
               "el programador estuvo detenido)")
REASON_REPLANNED = "Interrumpida: la programación de la tarea cambió"
# Same wording as facho.scheduling.edits / facho.executions.transitions.disabled_reason.
REASON_JOB = "Interrumpida: la tarea fue deshabilitada"
REASON_OLT = "Interrumpida: la OLT fue deshabilitada"
REASON_JOB_HOST = "Interrumpida: la tarea está deshabilitada para esta OLT"

_jobs = SnmpJob.__table__
_hosts = SnmpJobHost.__table__
_olts = Olt.__table__
_execs = Execution.__table__


# --- sending ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    """One execution message to enqueue (`delay_ms` 0 = now)."""

    execution_id: int
    job_type: str
    message_id: str
    delay_ms: int = 0


class Sender:
    """Where dispatch puts its messages. The default sends through Dramatiq; tests and
    benchmarks record instead. Implementations raise on a broker failure."""

    def send_executions(self, items: Sequence[Outgoing]) -> None:
        raise NotImplementedError

    def arm_slot(self, slot_epoch_s: int, delay_ms: int) -> None:
        """Make `dispatch_slot(slot_epoch_s)` run in `delay_ms` ms."""
        raise NotImplementedError


class DramatiqSender(Sender):
    """Messages built by actor name (`facho.messaging`), so no actor module is imported."""

    def __init__(self, broker=None):
        self._broker = broker

    @property
    def broker(self):
        if self._broker is None:
            from facho.messaging import get_broker
            self._broker = get_broker()
        return self._broker

    def send_executions(self, items: Sequence[Outgoing]) -> None:
        from facho.messaging import ACTOR_BY_JOB_TYPE
        from facho.models import QUEUE_BY_JOB_TYPE
        messages = [(dramatiq.Message(
            queue_name=QUEUE_BY_JOB_TYPE[item.job_type],
            actor_name=ACTOR_BY_JOB_TYPE[item.job_type], args=(item.execution_id,),
            kwargs={}, options={}, message_id=item.message_id),
            item.delay_ms if item.delay_ms > 0 else None) for item in items]
        if len(messages) >= PIPELINE_MIN and _pipelined_enqueue(self.broker, messages):
            return
        for message, delay in messages:
            self.broker.enqueue(message, delay=delay)

    def arm_slot(self, slot_epoch_s: int, delay_ms: int) -> None:
        message = dramatiq.Message(queue_name=SCHEDULER_QUEUE, actor_name=SLOT_ACTOR,
                                   args=(int(slot_epoch_s),), kwargs={}, options={})
        self.broker.enqueue(message, delay=delay_ms if delay_ms > 0 else None)


PIPELINE_MIN = 20          # from this many messages on, enqueue them in one Redis pipeline


def _pipelined_enqueue(broker, messages) -> bool:
    """Enqueue many messages in one Redis round trip, exactly as RedisBroker.enqueue does
    one by one (same Lua script, same arguments, same middleware hooks). Returns False,
    having sent nothing, when the broker is not the Redis broker this was written for
    (Dramatiq 2.2): the caller then enqueues one by one."""
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.common import current_millis, dq_name
    needed = ("scripts", "client", "namespace", "broker_id", "heartbeat_timeout",
              "dead_message_ttl", "_should_do_maintenance", "_max_unpack_size")
    if not isinstance(broker, RedisBroker) or not all(hasattr(broker, a) for a in needed):
        return False
    script = broker.scripts["dispatch"]
    pipe = broker.client.pipeline(transaction=False)
    sent = []
    for message, delay in messages:
        queue_name = message.queue_name
        message = message.copy(options={"redis_message_id": str(uuid.uuid4())})
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name,
                                   options={"eta": current_millis() + delay})
        broker.emit_before("enqueue", message, delay)
        script(keys=[broker.namespace], client=pipe, args=[
            "enqueue", current_millis(), queue_name, broker.broker_id,
            broker.heartbeat_timeout, broker.dead_message_ttl,
            broker._should_do_maintenance("enqueue"), broker._max_unpack_size(),
            message.options["redis_message_id"], message.encode()])
        sent.append((message, delay))
    pipe.execute()
    for message, delay in sent:
        broker.emit_after("enqueue", message, delay)
    return True


class RecordingSender(Sender):
    """Keeps what would have been sent (tests, benchmarks, simulations)."""

    def __init__(self):
        self.executions: list[Outgoing] = []
        self.slots: list[tuple[int, int]] = []   # (slot_epoch_s, delay_ms)

    def send_executions(self, items: Sequence[Outgoing]) -> None:
        self.executions.extend(items)

    def arm_slot(self, slot_epoch_s: int, delay_ms: int) -> None:
        self.slots.append((int(slot_epoch_s), int(delay_ms)))


def default_sender() -> Sender:
    return DramatiqSender()


# --- results -----------------------------------------------------------------------------

@dataclass
class SendResult:
    sent: int = 0          # messages enqueued
    skipped: int = 0       # due rows SKIPPED by the overlap rule
    late: int = 0          # due rows older than the catch-up window: SKIPPED, counted as missed
    interrupted: int = 0   # due rows of a job / OLT / job host disabled since they were claimed
    send_errors: int = 0
    lag_ms: int = 0        # worst lateness (now - slot) among rows sent


@dataclass
class TickResult:
    now: datetime
    leader: bool = True
    jobs: int = 0           # jobs read as due
    claimed: int = 0        # PENDING executions inserted
    skipped: int = 0        # SKIPPED executions (overlap), inserted or at send time
    missed: int = 0         # slots that will never run (coalesced, or dispatched too late)
    interrupted: int = 0    # PENDING executions of disabled jobs / OLTs / job hosts
    lost_cas: int = 0       # jobs another scheduler claimed first
    conflicts: int = 0      # IntegrityErrors: the unique constraint stopped a duplicate
    invalid: int = 0        # jobs whose stored schedule does not parse
    errors: int = 0         # claim batches that failed (database error) and were rolled back
    sent: int = 0           # execution messages enqueued
    armed: int = 0          # dispatch_slot messages enqueued (fan-out)
    send_errors: int = 0
    lag_ms: int = 0         # worst lateness of a slot sent by this tick
    duration_ms: int = 0
    claimed_slots: list = field(default_factory=list, repr=False)  # (job_id, slot) pairs

    @property
    def busy(self) -> bool:
        return bool(self.claimed or self.skipped or self.missed or self.interrupted
                    or self.sent or self.conflicts or self.send_errors or self.invalid
                    or self.errors)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("claimed_slots")
        data["now"] = self.now.isoformat()
        return data

    def log_fields(self) -> dict:
        return dict(event="tick", claimed=self.claimed, skipped=self.skipped,
                    missed=self.missed, interrupted=self.interrupted, sent=self.sent,
                    armed=self.armed, lost_cas=self.lost_cas, conflicts=self.conflicts,
                    lag_ms=self.lag_ms, duration_ms=self.duration_ms)


# --- helpers -----------------------------------------------------------------------------

def _config():
    from flask import current_app
    return current_app.config["FACHO"]


def default_horizon_s() -> int:
    """A minute tick plus margin: everything due before the next tick (and a bit) is claimed."""
    return 60 + _config().tick_margin_s


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return t.astimezone(UTC)


def slot_epoch_s(slot: datetime) -> int:
    """The whole second at or after `slot` (fan-out messages are per second)."""
    return math.ceil(slot.timestamp())


def schedule_of(job) -> sched.Schedule:
    """The Schedule of a job row (ORM object or Core row)."""
    return sched.Schedule.build(interval_raw=job.interval_raw, cron_expr=job.cron_expr,
                                cron_tz=job.cron_tz, anchor=job.anchor_at)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _new_message_id() -> str:
    return str(uuid.uuid4())


def _overlap_reason(blocker_id: int, manual: bool) -> str:
    return (REASON_OVERLAP_MANUAL if manual else REASON_OVERLAP).format(blocker=blocker_id)


def active_condition(now: datetime):
    """SQL condition for executions that are really queued or running: RUNNING, or PENDING
    except reservations (a slot claimed ahead: `scheduled_for > now`, no message yet).
    For "is this job already running on this OLT?" questions (manual runs, the panel):
    a reservation is not a run in progress and must not block anything."""
    reservation = sa.and_(_execs.c.scheduled_for > _aware(now), _execs.c.message_id.is_(None))
    return sa.or_(_execs.c.status == RUNNING,
                  sa.and_(_execs.c.status == PENDING, sa.not_(reservation)))


# --- edits: interrupt and re-plan ---------------------------------------------------------

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
        sa.select(sa.literal("job"), _jobs.c.id, sa.cast(sa.null(), sa.Integer))
        .where(~_jobs.c.enabled),
        sa.select(sa.literal("olt"), _olts.c.id, sa.cast(sa.null(), sa.Integer))
        .where(~_olts.c.habilitar_olt),
        sa.select(sa.literal("host"), _hosts.c.job_id, _hosts.c.olt_id).where(~_hosts.c.enabled),
    )).all()
    if not found:
        return 0   # nothing written: the caller's transaction goes on
    jobs = [first for kind, first, _ in found if kind == "job"]
    olts = [first for kind, first, _ in found if kind == "olt"]
    pairs = [(first, second) for kind, first, second in found if kind == "host"]
    total = 0
    for condition, reason in (
            (_execs.c.job_id.in_(jobs) if jobs else None, REASON_JOB),
            (_execs.c.olt_id.in_(olts) if olts else None, REASON_OLT),
            (sa.tuple_(_execs.c.job_id, _execs.c.olt_id).in_(pairs) if pairs else None,
             REASON_JOB_HOST)):
        if condition is None:
            continue
        total += session.execute(
            _execs.update().where(_execs.c.status == PENDING, condition)
            .values(status=INTERRUPTED, finished_at=now, error_message=reason)).rowcount or 0
    if total:
        session.commit()
    return total


def _interrupt_pending(session, *, job_id=None, olt_id=None, job_host_id=None, reason,
                       now=None) -> int:
    conditions = [_execs.c.status == PENDING]
    for column, value in ((_execs.c.job_id, job_id), (_execs.c.olt_id, olt_id),
                          (_execs.c.job_host_id, job_host_id)):
        if value is not None:
            conditions.append(column == value)
    return session.execute(_execs.update().where(*conditions).values(
        status=INTERRUPTED, error_message=reason, finished_at=now)).rowcount or 0


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
        sa.select(_jobs.c.next_run_at, _jobs.c.missed_slots, _jobs.c.schedule_version)
        .where(_jobs.c.id == job.id).with_for_update()).one_or_none()
    if fresh is None:
        return
    state = sa.inspect(job)
    for name in ("next_run_at", "missed_slots", "schedule_version"):
        if not state.attrs[name].history.has_changes():
            sa.orm.attributes.set_committed_value(job, name, getattr(fresh, name))


def _session_of(job):
    return sa.inspect(job).session or db.session


def replan_job(job: SnmpJob, now: datetime, *, horizon_s: int | None = None,
               new_anchor: bool = True) -> int:
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
    `horizon_s` is accepted for compatibility; the plan no longer depends on it.
    """
    now = _aware(now)
    if job.interval_raw and (new_anchor or job.anchor_at is None):
        job.anchor_at = now.replace(microsecond=0)
    planned = schedule_of(job)
    if job.id is None:
        job.next_run_at = sched.first_run_at(planned, now)
        return 0
    session = _session_of(job)
    lock_job(session, job)
    rows = session.execute(
        sa.select(_execs.c.id, _execs.c.scheduled_for, _execs.c.status, _execs.c.message_id)
        .where(_execs.c.job_id == job.id, _execs.c.scheduled_for >= now)).all()
    unsent = [r for r in rows if r.scheduled_for > now and r.message_id is None
              and r.status in (PENDING, INTERRUPTED)]
    replaced = [r.id for r in unsent if sched.on_grid(planned, r.scheduled_for)]
    withdrawn = [r.id for r in unsent if r.id not in set(replaced) and r.status == PENDING]
    gone = set(replaced)
    taken = [r.scheduled_for for r in rows if r.id not in gone]
    for chunk in _chunks(replaced, 1000):
        session.execute(_execs.delete().where(_execs.c.id.in_(chunk),
                                              _execs.c.message_id.is_(None)))
    count = 0
    for chunk in _chunks(withdrawn, 1000):
        count += session.execute(
            _execs.update().where(_execs.c.id.in_(chunk), _execs.c.status == PENDING,
                                  _execs.c.message_id.is_(None))
            .values(status=INTERRUPTED, finished_at=now, error_message=REASON_REPLANNED)
        ).rowcount or 0
    job.next_run_at = sched.replan(planned, now, taken)
    return count


def reenable_job(job: SnmpJob, now: datetime) -> int:
    """Plan a job being re-enabled (before the edit commits): same grid, from now on.

    Reservations its disabling interrupted whose slot has not come yet (never sent,
    `scheduled_for > now`) become PENDING again: disabling and re-enabling before a slot
    must not lose it (their fan-out message is still armed; the caller re-arms anyway).
    Slots that came while the job was disabled are not missed runs: `next_run_at` is the
    stored one when it is still ahead, else the first slot at or after now. Returns how
    many reservations came back."""
    now = _aware(now)
    planned = schedule_of(job)
    first = sched.first_run_at(planned, now)
    if job.id is None:
        job.next_run_at = first
        return 0
    session = _session_of(job)
    lock_job(session, job)
    revived = session.execute(
        _execs.update().where(_execs.c.job_id == job.id, _execs.c.status == INTERRUPTED,
                              _execs.c.error_message == REASON_JOB,
                              _execs.c.message_id.is_(None), _execs.c.scheduled_for > now)
        .values(status=PENDING, finished_at=None, error_message=None)).rowcount or 0
    stored = job.next_run_at
    job.next_run_at = first if stored is None or stored < first else stored
    return revived


# --- send_due: the fan-out body, also the tick's sweep -------------------------------------

def send_due(now: datetime, *, sender: Sender | None = None,
             catchup_window_s: int | None = None) -> SendResult:
    """Send every PENDING scheduled execution whose slot is <= now and that has no message yet.

    Per (job, OLT), in slot order: if an earlier execution (earlier slot, or a manual run)
    is PENDING or RUNNING, the row becomes SKIPPED with the reason; otherwise its message id
    is claimed with a compare-and-set and the message enqueued after commit. Rows older
    than the catch-up window are not replayed: SKIPPED, and counted in the job's
    `missed_slots`. Idempotent and safe to run concurrently. Commits.
    """
    now = _aware(now)
    window = _config().catchup_window_s if catchup_window_s is None else catchup_window_s
    result = SendResult()
    session = db.session
    # The jobs with due unsent rows (message_id NULL) first, as plain ids: as one IN
    # (subquery) PostgreSQL, whose statistics rarely know how many rows are PENDING right
    # after a claim, nested-looped every active row against every other (4,000 queued
    # pairs made an idle tick take seconds).
    due_jobs = session.execute(
        sa.select(_execs.c.job_id).distinct()
        .where(_execs.c.status == PENDING, _execs.c.message_id.is_(None),
               _execs.c.scheduled_for <= now)).scalars().all()
    if not due_jobs:
        session.commit()     # end the read transaction (the scheduler's sessions time out idle)
        return result
    # Then the due rows and, for the same jobs, every other active row that may block
    # them (reservations not yet due excluded).
    found = session.execute(
        sa.select(_execs.c.id, _execs.c.job_id, _execs.c.olt_id, _execs.c.scheduled_for,
                  _execs.c.status, _execs.c.message_id, _jobs.c.job_type,
                  _jobs.c.enabled.label("job_enabled"), _olts.c.habilitar_olt,
                  _hosts.c.enabled.label("host_enabled"))
        .join(_jobs, _jobs.c.id == _execs.c.job_id)
        .join(_olts, _olts.c.id == _execs.c.olt_id)
        .outerjoin(_hosts, _hosts.c.id == _execs.c.job_host_id)
        .where(_execs.c.job_id.in_(due_jobs), _execs.c.status.in_((PENDING, RUNNING)),
               sa.or_(_execs.c.scheduled_for.is_(None), _execs.c.scheduled_for <= now))
        .order_by(_execs.c.scheduled_for, _execs.c.id)).all()
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
            _execs.update().where(_execs.c.id == sa.bindparam("b_id"),
                                  _execs.c.status == PENDING, _execs.c.message_id.is_(None))
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
        for chunk in _chunks(late_ids, 1000):
            changed += [row.id for row in session.execute(
                _execs.update().where(_execs.c.id.in_(chunk), _execs.c.status == PENDING,
                                      _execs.c.message_id.is_(None))
                .values(status=SKIPPED, finished_at=now, error_message=reason)
                .returning(_execs.c.id))]
        changed_set = set(changed)
        slots_by_job: dict[int, set] = defaultdict(set)
        for r in late:
            if r.id in changed_set:
                slots_by_job[r.job_id].add(r.scheduled_for)
        for job_id, slots in slots_by_job.items():
            # Slots, not rows: missed_slots counts a slot once however many OLTs it had.
            missed = _newly_missed(job_id, slots, changed, reason)
            if missed:
                session.execute(_jobs.update().where(_jobs.c.id == job_id)
                                .values(missed_slots=_jobs.c.missed_slots + missed))
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
                to_skip.append((r.id, _overlap_reason(*blocker)))
            else:
                to_send.append(r)
                active[key] = (r.id, False)
        if to_skip:
            session.execute(
                _execs.update().where(_execs.c.id == sa.bindparam("b_id"),
                                      _execs.c.status == PENDING,
                                      _execs.c.message_id.is_(None))
                .values(status=SKIPPED, finished_at=now,
                        error_message=sa.bindparam("b_reason")),
                [{"b_id": i, "b_reason": reason} for i, reason in to_skip])
            result.skipped = len(to_skip)
    claimed: dict[int, str] = {}
    if to_send:
        prefix = uuid.uuid4().hex[:20] + "-"
        for chunk in _chunks([r.id for r in to_send], 1000):
            for row in session.execute(
                    _execs.update().where(_execs.c.id.in_(chunk), _execs.c.status == PENDING,
                                          _execs.c.message_id.is_(None))
                    .values(message_id=sa.literal(prefix) + sa.cast(_execs.c.id, sa.String))
                    .returning(_execs.c.id, _execs.c.message_id)):
                claimed[row.id] = row.message_id
    session.commit()
    if claimed:
        outgoing = [Outgoing(r.id, r.job_type, claimed[r.id]) for r in to_send if r.id in claimed]
        result.lag_ms = max(int((now - r.scheduled_for) / timedelta(milliseconds=1))
                            for r in to_send if r.id in claimed)
        result.sent, result.send_errors = _send(sender or default_sender(), outgoing)
    return result


def _newly_missed(job_id, slots, changed, reason) -> int:
    """Slots of `slots` not already counted as missed by an earlier pass (another OLT's
    row for the same slot SKIPPED before)."""
    counted = {row[0] for row in db.session.execute(
        sa.select(_execs.c.scheduled_for).distinct()
        .where(_execs.c.job_id == job_id, _execs.c.scheduled_for.in_(list(slots)),
               _execs.c.id.not_in(changed), _execs.c.status == SKIPPED,
               _execs.c.error_message == reason))}
    return len(set(slots) - counted)


def _send(sender: Sender, outgoing: list[Outgoing]) -> tuple[int, int]:
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
    now, until = _aware(now), _aware(until)
    query = (sa.select(_execs.c.scheduled_for).distinct()
             .where(_execs.c.status == PENDING, _execs.c.message_id.is_(None),
                    _execs.c.scheduled_for > now, _execs.c.scheduled_for <= until))
    if job_ids is not None:
        query = query.where(_execs.c.job_id.in_(list(job_ids)))
    slots = db.session.execute(query).scalars().all()
    db.session.rollback()
    if already_armed:
        slots = [s for s in slots if slot_epoch_s(s) not in already_armed]
    return _arm(sender or default_sender(), now, slots)


def armed_slot_epochs(client, namespace: str | None = None) -> set[int]:
    """Slot seconds that have a `dispatch_slot` message in Redis (delayed, queued or held)."""
    import json
    if namespace is None:
        from facho.broker import NAMESPACE as namespace
    found: set[int] = set()
    for key in (f"{namespace}:{SCHEDULER_QUEUE}.DQ.msgs", f"{namespace}:{SCHEDULER_QUEUE}.msgs"):
        for _, body in client.hscan_iter(key, count=1000):
            try:
                message = json.loads(body)
                if message.get("actor_name") == SLOT_ACTOR and message.get("args"):
                    found.add(int(message["args"][0]))
            except (ValueError, TypeError, AttributeError):
                continue
    return found


def _arm(sender: Sender, now: datetime, slots: Iterable[datetime]) -> int:
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


# --- the tick ------------------------------------------------------------------------------

@dataclass
class _JobPlan:
    id: int
    job_type: str
    seen: datetime | None
    plan: sched.Plan
    anchor: datetime | None      # set when the job had none
    version: int = 0             # schedule_version the plan was made from


# What a claim plans from; the compare-and-set re-checks next_run_at and schedule_version.
_PLAN_COLUMNS = (_jobs.c.id, _jobs.c.job_type, _jobs.c.interval_raw, _jobs.c.cron_expr,
                 _jobs.c.cron_tz, _jobs.c.anchor_at, _jobs.c.next_run_at,
                 _jobs.c.schedule_version)


def tick(now: datetime, *, horizon_s: int | None = None, catchup_window_s: int | None = None,
         send: Sender | None = None, lease=None, fanout: bool = True,
         batch_size: int = DEFAULT_BATCH,
         on_claim: Callable[[list[int]], None] | None = None,
         only_jobs: Sequence[int] | None = None) -> TickResult:
    """One dispatcher pass at `now` (see the module doc). Idempotent: a second tick at the
    same instant claims and sends nothing new.

    `lease`: a facho.scheduling.lease.LeaderLease; when given, a process that cannot acquire it returns
    at once (`leader=False`) and the leader records what it did (`record_tick`). With
    `lease=None` the tick runs unconditionally: correctness never depends on the lease.
    `fanout=False` sends one delayed message per future execution instead of one
    `dispatch_slot` per slot second (only for comparisons). `on_claim(job_ids)` is a test
    hook called inside each claim transaction, after the compare-and-set, before commit.
    `only_jobs`: claim these jobs only, without the sweeps and without recording a tick
    (`claim_jobs`: a job just saved in the panel).
    """
    started = time.perf_counter()
    now = _aware(now)
    if lease is not None and not lease.acquire():
        return TickResult(now=now, leader=False)
    config = _config()
    horizon = timedelta(seconds=60 + config.tick_margin_s if horizon_s is None else horizon_s)
    window_s = config.catchup_window_s if catchup_window_s is None else catchup_window_s
    window = timedelta(seconds=window_s)
    sender = send or default_sender()
    result = TickResult(now=now)

    if only_jobs is None:
        result.interrupted = interrupt_disabled(now)
        swept = send_due(now, sender=sender, catchup_window_s=window_s)
        result.sent += swept.sent
        result.skipped += swept.skipped
        result.missed += swept.late
        result.interrupted += swept.interrupted
        result.send_errors += swept.send_errors
        result.lag_ms = max(result.lag_ms, swept.lag_ms)

    session = db.session
    query = (sa.select(*_PLAN_COLUMNS)
             .where(_jobs.c.enabled,
                    sa.or_(_jobs.c.next_run_at < now + horizon, _jobs.c.next_run_at.is_(None)))
             .order_by(_jobs.c.id))
    if only_jobs is not None:
        query = query.where(_jobs.c.id.in_(list(only_jobs)))
    due = session.execute(query).all()
    # End the read before planning: with thousands of jobs planning takes a while, and the
    # scheduler process's PostgreSQL sessions are cut when idle in a transaction that long.
    # The compare-and-set of each claim re-checks what this read saw.
    session.commit()
    result.jobs = len(due)

    plans: list[_JobPlan] = []
    for row in due:
        job = SimpleNamespace(**row._asdict())
        try:
            anchor = None
            if job.interval_raw and job.anchor_at is None:
                anchor = job.anchor_at = now.replace(microsecond=0)
            planned = schedule_of(job)
            start = job.next_run_at or sched.first_run_at(planned, anchor or now)
            plan = sched.plan_due(planned, start, now, horizon, window)
        except ValueError as exc:
            result.invalid += 1
            log.error(kv(event="tick_invalid_schedule", job=job.id, error=str(exc)))
            continue
        if not plan.slots and plan.next_run_at == job.next_run_at and anchor is None:
            continue
        plans.append(_JobPlan(job.id, job.job_type, job.next_run_at, plan, anchor,
                              job.schedule_version))

    future_slots: set[datetime] = set()
    for batch in _chunks(plans, batch_size):
        try:
            try:
                outcome = _claim_batch(batch, now, fanout, ignore_conflicts=False,
                                       on_claim=on_claim)
            except IntegrityError as exc:
                db.session.rollback()
                result.conflicts += 1
                log.warning(kv(event="tick_conflict", jobs=len(batch),
                               error=str(exc.orig)[:200]))
                outcome = _Outcome()
                for one in batch:  # job by job, re-read, conflicting rows ignored
                    fresh = _replan_fresh(one, now, horizon, window)
                    if fresh is not None:
                        outcome.merge(_claim_batch([fresh], now, fanout, ignore_conflicts=True,
                                                   on_claim=on_claim))
        except DBAPIError as exc:
            # Nothing of this batch was committed; its jobs are still due and the next
            # tick claims them (inside the catch-up window they all still run).
            db.session.rollback()
            result.errors += 1
            log.error(kv(event="tick_batch_failed", jobs=len(batch), error=repr(exc)[:300]))
            continue
        result.lost_cas += outcome.lost
        result.claimed += outcome.claimed
        result.skipped += outcome.skipped
        result.missed += outcome.missed
        result.claimed_slots += outcome.slots
        future_slots |= outcome.future_slots
        result.lag_ms = max(result.lag_ms, outcome.lag_ms)
        sent, errors = _send(sender, outcome.outgoing)   # committed: send this batch now
        result.sent += sent
        result.send_errors += errors

    if fanout and future_slots:
        result.armed = _arm(sender, now, future_slots)

    db.session.rollback()   # end the read transaction (no-op after a commit)
    result.duration_ms = int((time.perf_counter() - started) * 1000)
    if result.busy:
        log.info(kv(**result.log_fields()))
    else:
        log.debug(kv(**result.log_fields()))
    if lease is not None and only_jobs is None:
        try:
            lease.record_tick(result.as_dict())
        except Exception as exc:  # ops information only
            log.warning(kv(event="tick_record_failed", error=repr(exc)))
    return result


def claim_jobs(job_ids: Sequence[int], now: datetime, *, sender: Sender | None = None
               ) -> TickResult:
    """Right after an edit commits (the panel's save, enable): claim these jobs' slots up to
    the tick's horizon now, send what is due and arm the fan-out, instead of waiting up to
    a minute for the tick. Same claim as the tick (compare-and-set, one winner), so a tick
    racing it claims nothing twice. Also re-arms their reservations (revived ones too)."""
    now = _aware(now)
    sender = sender or default_sender()
    result = tick(now, send=sender, only_jobs=list(job_ids))
    try:
        result.armed += arm_pending(now, now + timedelta(seconds=default_horizon_s()),
                                    sender=sender, job_ids=list(job_ids))
    except Exception as exc:  # the scheduler re-arms on the next tick / takeover
        log.error(kv(event="claim_arm_failed", error=repr(exc)[:200]))
    return result


def _replan_fresh(one: _JobPlan, now, horizon, window) -> _JobPlan | None:
    """Re-read one job after a conflict and plan it again from what is stored now."""
    job = db.session.execute(
        sa.select(*_PLAN_COLUMNS, _jobs.c.enabled).where(_jobs.c.id == one.id)).one_or_none()
    db.session.rollback()
    if job is None or not job.enabled:
        return None
    job = SimpleNamespace(**job._asdict())
    anchor = None
    if job.interval_raw and job.anchor_at is None:
        anchor = job.anchor_at = now.replace(microsecond=0)
    planned = schedule_of(job)
    start = job.next_run_at or sched.first_run_at(planned, anchor or now)
    return _JobPlan(job.id, job.job_type, job.next_run_at,
                    sched.plan_due(planned, start, now, horizon, window), anchor,
                    job.schedule_version)


@dataclass
class _Outcome:
    lost: int = 0
    claimed: int = 0
    skipped: int = 0
    missed: int = 0
    lag_ms: int = 0
    slots: list = field(default_factory=list)
    future_slots: set = field(default_factory=set)
    outgoing: list = field(default_factory=list)

    def merge(self, other: "_Outcome") -> None:
        self.lost += other.lost
        self.claimed += other.claimed
        self.skipped += other.skipped
        self.missed += other.missed
        self.lag_ms = max(self.lag_ms, other.lag_ms)
        self.slots += other.slots
        self.future_slots |= other.future_slots
        self.outgoing += other.outgoing


def _insert(rows: list[dict], ignore_conflicts: bool):
    """Bulk INSERT … RETURNING (SQLAlchemy batches it as multi-row VALUES)."""
    if not rows:
        return []
    session = db.session
    if ignore_conflicts:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(_execs).on_conflict_do_nothing()
    else:
        stmt = sa.insert(_execs)
    stmt = stmt.returning(_execs.c.id, _execs.c.job_id, _execs.c.olt_id,
                          _execs.c.scheduled_for, _execs.c.status, _execs.c.message_id)
    return session.execute(stmt, rows).all()


def _compare_and_set(batch: Sequence[_JobPlan]) -> list[_JobPlan]:
    """The claim: move each job's `next_run_at` from what we saw to what we planned, in ONE
    statement for the whole batch:

        UPDATE snmp_jobs SET next_run_at = v.new, missed_slots = missed_slots + v.missed
        FROM (VALUES (:id, :seen, :new, :missed, :anchor, :version), …) AS v
        WHERE snmp_jobs.id = v.id AND enabled AND schedule_version = v.version
          AND next_run_at IS NOT DISTINCT FROM v.seen
        RETURNING id

    (on SQLite the same with `CASE id WHEN :id THEN :new … END` expressions).

    A job another scheduler moved first does not match and is not returned, nor does one an
    edit changed since the plan was read (its `schedule_version` moved, even when the edit
    stored the same `next_run_at`: 5m -> 30s keeps 12:05 on both grids). On PostgreSQL
    the batch's rows are first locked in id order (`SELECT … ORDER BY id FOR UPDATE`): not
    for correctness, which the compare-and-set gives, but so that racing schedulers take
    row locks in one order and never deadlock.
    """
    session = db.session
    ids = [p.id for p in batch]
    stamp = _jobs.c.next_run_at.type
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(_jobs.c.id).where(_jobs.c.id.in_(ids))
                        .order_by(_jobs.c.id).with_for_update())
        # UPDATE … FROM (VALUES (id, seen, new, missed, anchor), …) AS v: a hash join.
        v = sa.values(sa.column("id", sa.Integer), sa.column("seen", stamp),
                      sa.column("new", stamp), sa.column("missed", sa.Integer),
                      sa.column("anchor", stamp), sa.column("version", sa.Integer),
                      name="v").data(
            [(p.id, p.seen, p.plan.next_run_at, p.plan.missed, p.anchor, p.version)
             for p in batch])
        # NULLs are sent as untyped literals: cast, or PostgreSQL reads them as text.
        statement = (_jobs.update()
                     .where(_jobs.c.id == v.c.id, _jobs.c.enabled,
                            _jobs.c.schedule_version == v.c.version,
                            _jobs.c.next_run_at.is_not_distinct_from(sa.cast(v.c.seen, stamp)))
                     .values(next_run_at=v.c.new,
                             missed_slots=_jobs.c.missed_slots + v.c.missed,
                             anchor_at=sa.func.coalesce(_jobs.c.anchor_at,
                                                        sa.cast(v.c.anchor, stamp))))
    else:
        # SQLite cannot name the columns of a VALUES subquery; CASE id WHEN … is portable.
        def per_job(attribute, type_):
            return sa.case({p.id: sa.bindparam(None, attribute(p), type_=type_)
                            for p in batch}, value=_jobs.c.id)

        values = {"next_run_at": per_job(lambda p: p.plan.next_run_at, stamp)}
        if any(p.plan.missed for p in batch):
            values["missed_slots"] = _jobs.c.missed_slots + per_job(lambda p: p.plan.missed,
                                                                    sa.Integer())
        if any(p.anchor is not None for p in batch):
            values["anchor_at"] = sa.func.coalesce(_jobs.c.anchor_at,
                                                   per_job(lambda p: p.anchor, stamp))
        statement = (_jobs.update()
                     .where(_jobs.c.id.in_(ids), _jobs.c.enabled,
                            _jobs.c.schedule_version == per_job(lambda p: p.version,
                                                                sa.Integer()),
                            _jobs.c.next_run_at.is_not_distinct_from(
                                per_job(lambda p: p.seen, stamp)))
                     .values(**values))
    claimed = set(session.execute(statement.returning(_jobs.c.id)).scalars())
    return [p for p in batch if p.id in claimed]


def _claim_batch(batch: Sequence[_JobPlan], now: datetime, fanout: bool, *,
                 ignore_conflicts: bool, on_claim=None) -> _Outcome:
    """One transaction: CAS each job of the batch, bulk-insert the executions of the jobs
    won, commit. IntegrityError propagates (after nothing was committed)."""
    session = db.session
    out = _Outcome()
    won = _compare_and_set(batch)
    out.lost = len(batch) - len(won)
    out.missed = sum(p.plan.missed for p in won)
    if on_claim is not None:
        on_claim([p.id for p in won])
    if not won:
        session.commit()
        return out

    won_ids = [p.id for p in won]
    hosts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for h in session.execute(
            sa.select(_hosts.c.id, _hosts.c.job_id, _hosts.c.olt_id)
            .join(_olts, _olts.c.id == _hosts.c.olt_id)
            .where(_hosts.c.job_id.in_(won_ids), _hosts.c.enabled, _olts.c.habilitar_olt)
            .order_by(_hosts.c.job_id, _hosts.c.olt_id)):
        hosts[h.job_id].append((h.id, h.olt_id))

    # Executions active before this tick that can block a slot due now (reservations not
    # yet due never block).
    active: dict[tuple[int, int], tuple[int, datetime | None]] = {}
    if any(p.plan.slots and p.plan.slots[0] <= now for p in won):
        for b in session.execute(
                sa.select(_execs.c.id, _execs.c.job_id, _execs.c.olt_id,
                          _execs.c.scheduled_for)
                .where(_execs.c.job_id.in_(won_ids), _execs.c.status.in_((PENDING, RUNNING)),
                       sa.or_(_execs.c.scheduled_for.is_(None),
                              _execs.c.scheduled_for <= now))
                .order_by(_execs.c.id)):
            active.setdefault((b.job_id, b.olt_id), (b.id, b.scheduled_for))

    first_rows: list[dict] = []     # first due slot of each job + every future slot
    later_due: list[tuple[dict, tuple[int, int]]] = []  # other due slots: blocked by the first
    job_type = {p.id: p.job_type for p in won}
    for p in won:
        due_slots = [s for s in p.plan.slots if s <= now]
        future = [s for s in p.plan.slots if s > now]
        out.slots += [(p.id, s) for s in p.plan.slots]
        for host_id, olt_id in hosts.get(p.id, ()):
            key = (p.id, olt_id)
            for i, slot in enumerate(due_slots):
                row = {"job_id": p.id, "job_host_id": host_id, "olt_id": olt_id,
                       "scheduled_for": slot, "attempt": 0, "created_at": now,
                       "status": PENDING, "message_id": None, "error_message": None,
                       "finished_at": None}
                blocker = active.get(key)
                if blocker is not None and (blocker[1] is None or blocker[1] < slot):
                    row.update(status=SKIPPED, finished_at=now,
                               error_message=_overlap_reason(blocker[0], blocker[1] is None))
                    first_rows.append(row)
                elif i == 0:
                    row["message_id"] = _new_message_id()
                    first_rows.append(row)
                else:  # blocked by this claim's first due slot, whose id is not known yet
                    later_due.append((row, key))
            for slot in future:
                first_rows.append({
                    "job_id": p.id, "job_host_id": host_id, "olt_id": olt_id,
                    "scheduled_for": slot, "attempt": 0, "created_at": now,
                    "status": PENDING, "error_message": None, "finished_at": None,
                    "message_id": None if fanout else _new_message_id()})

    inserted = _insert(first_rows, ignore_conflicts)
    first_of: dict[tuple[int, int], int] = {}
    for row in inserted:
        if row.status == PENDING and row.scheduled_for <= now:
            first_of[(row.job_id, row.olt_id)] = row.id
    rows_b = []
    for row, key in later_due:
        blocker = first_of.get(key)
        if blocker is None:  # its first slot conflicted away (ignore_conflicts path)
            blocker = _active_id(key)
        row.update(status=SKIPPED, finished_at=now,
                   error_message=_overlap_reason(blocker, False) if blocker else
                   "Omitida: otra ejecución de esta tarea en esta OLT sigue en curso")
        rows_b.append(row)
    inserted += _insert(rows_b, ignore_conflicts)
    session.commit()

    for row in inserted:
        if row.status == SKIPPED:
            out.skipped += 1
            continue
        out.claimed += 1
        if row.scheduled_for <= now:
            out.outgoing.append(Outgoing(row.id, job_type[row.job_id], row.message_id))
            out.lag_ms = max(out.lag_ms,
                             int((now - row.scheduled_for) / timedelta(milliseconds=1)))
        elif fanout:
            out.future_slots.add(row.scheduled_for)
        else:
            delay = int(math.ceil((row.scheduled_for - now) / timedelta(milliseconds=1)))
            out.outgoing.append(Outgoing(row.id, job_type[row.job_id], row.message_id, delay))
    return out


def _active_id(key: tuple[int, int]) -> int | None:
    return db.session.execute(
        sa.select(_execs.c.id).where(_execs.c.job_id == key[0], _execs.c.olt_id == key[1],
                                     _execs.c.status.in_((PENDING, RUNNING)))
        .order_by(_execs.c.id).limit(1)).scalar()


def dispatch_slot(slot_epoch: int, *, now: datetime | None = None,
                  sender: Sender | None = None) -> SendResult | None:
    """Body of the `dispatch_slot` actor: at a slot second, send what is due.

    If the message arrived early (clock skew), it re-arms itself for the right second.
    """
    from facho.models import utcnow
    now = _aware(now or utcnow())
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
