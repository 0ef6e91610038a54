"""The tick and its claim: which slots are due, claimed once by a compare-and-set on
`snmp_jobs` and one INSERT of their executions (see docs/architecture.md, section 4)."""
from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError

from facho.extensions import db
from facho.logging_setup import kv
from facho.models import (PENDING, RUNNING, SKIPPED)
from facho.scheduling import schedule as sched
from facho.scheduling.edits import interrupt_disabled
from facho.messaging import Outgoing, Sender, default_sender, new_message_id
from facho.reasons import overlap_reason
from facho.scheduling.release import active_execution_id, arm_slots, arm_pending, send_due, send_outgoing
from facho.scheduling.schedule import schedule_of
from facho.scheduling.sql import (DEFAULT_BATCH, EXECS, HOSTS, JOBS, OLTS, app_config, aware,
                                  chunks, insert_ignoring_duplicates, is_in, rows_of_arrays,
                                  rows_of_json)

log = logging.getLogger(__name__)
UTC = timezone.utc


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


def default_horizon_s() -> int:
    """A minute tick plus margin: everything due before the next tick (and a bit) is claimed."""
    return app_config().claim_horizon_s


@dataclass
class _JobPlan:
    id: int
    job_type: str
    seen: datetime | None
    plan: sched.Plan
    anchor: datetime | None      # set when the job had none
    version: int = 0             # schedule_version the plan was made from


# What a claim plans from; the compare-and-set re-checks next_run_at and schedule_version.
_PLAN_COLUMNS = (JOBS.c.id, JOBS.c.job_type, JOBS.c.interval_raw, JOBS.c.cron_expr,
                 JOBS.c.cron_tz, JOBS.c.anchor_at, JOBS.c.next_run_at,
                 JOBS.c.schedule_version)


def tick(now: datetime, *, horizon_s: int | None = None, catchup_window_s: int | None = None,
         sender: Sender | None = None, lease=None, fanout: bool = True,
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
    now = aware(now)
    if lease is not None and not lease.acquire():
        return TickResult(now=now, leader=False)
    config = app_config()
    horizon = timedelta(seconds=config.claim_horizon_s if horizon_s is None else horizon_s)
    window_s = config.catchup_window_s if catchup_window_s is None else catchup_window_s
    window = timedelta(seconds=window_s)
    sender = sender or default_sender()
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
             .where(JOBS.c.enabled,
                    sa.or_(JOBS.c.next_run_at < now + horizon, JOBS.c.next_run_at.is_(None)))
             .order_by(JOBS.c.id))
    if only_jobs is not None:
        query = query.where(JOBS.c.id.in_(list(only_jobs)))
    found = session.execute(query)
    names = list(found.keys())
    due = found.all()
    # End the read before planning: with thousands of jobs planning takes a while, and the
    # scheduler process's PostgreSQL sessions are cut when idle in a transaction that long.
    # The compare-and-set of each claim re-checks what this read saw.
    session.commit()
    result.jobs = len(due)

    plans: list[_JobPlan] = []
    for row in due:
        job = SimpleNamespace(**dict(zip(names, row)))
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
    for batch in chunks(plans, batch_size):
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
        sent, errors = send_outgoing(sender, outcome.outgoing)   # committed: send this batch now
        result.sent += sent
        result.send_errors += errors

    if fanout and future_slots:
        result.armed = arm_slots(sender, now, future_slots)

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
    now = aware(now)
    sender = sender or default_sender()
    result = tick(now, sender=sender, only_jobs=list(job_ids))
    try:
        result.armed += arm_pending(now, now + timedelta(seconds=default_horizon_s()),
                                    sender=sender, job_ids=list(job_ids))
    except Exception as exc:  # the scheduler re-arms on the next tick / takeover
        log.error(kv(event="claim_arm_failed", error=repr(exc)[:200]))
    return result


def _replan_fresh(one: _JobPlan, now, horizon, window) -> _JobPlan | None:
    """Re-read one job after a conflict and plan it again from what is stored now."""
    job = db.session.execute(
        sa.select(*_PLAN_COLUMNS, JOBS.c.enabled).where(JOBS.c.id == one.id)).one_or_none()
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


# The columns the claim writes; every other column of `executions` keeps its default.
_EXEC_COLUMNS = ("job_id", "job_host_id", "olt_id", "scheduled_for", "attempt", "created_at",
                 "status", "message_id", "error_message", "finished_at")
_RETURNED = (EXECS.c.id, EXECS.c.job_id, EXECS.c.olt_id, EXECS.c.scheduled_for,
             EXECS.c.status, EXECS.c.message_id)


def _insert(rows: list[dict], ignore_conflicts: bool):
    """One bulk INSERT … RETURNING. PostgreSQL: `INSERT … SELECT * FROM unnest(arrays)`,
    one statement whose text does not depend on the row count (10,000 rows as multi-row
    VALUES cost a compile and a parameter list per 1,000). SQLite: SQLAlchemy's
    multi-row VALUES batches."""
    if not rows:
        return []
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        source = rows_of_arrays("r", {name: EXECS.c[name].type for name in _EXEC_COLUMNS},
                                [tuple(row[name] for name in _EXEC_COLUMNS) for row in rows])
        stmt = postgresql.insert(EXECS).from_select(_EXEC_COLUMNS, sa.select(*source.c))
        if ignore_conflicts:
            stmt = stmt.on_conflict_do_nothing()
        return session.execute(stmt.returning(*_RETURNED)).all()
    if ignore_conflicts:
        stmt = insert_ignoring_duplicates(EXECS, session)
    else:
        stmt = sa.insert(EXECS)
    return session.execute(stmt.returning(*_RETURNED), rows).all()


def _compare_and_set(batch: Sequence[_JobPlan]) -> list[_JobPlan]:
    """The claim: move each job's `next_run_at` from what we saw to what we planned, in ONE
    statement for the whole batch:

        UPDATE snmp_jobs SET next_run_at = v.new, missed_slots = missed_slots + v.missed
        FROM unnest(:ids, :seens, :news, :misseds, :anchors, :versions)
             AS v(id, seen, new, missed, anchor, version)
        WHERE snmp_jobs.id = v.id AND enabled AND schedule_version = v.version
          AND next_run_at IS NOT DISTINCT FROM v.seen
        RETURNING id

    (on SQLite the same FROM a `json_each` of one bound JSON array: `rows_of_json`). The
    batch's rows are bound as one array per column (one JSON text on SQLite), so the
    statement's text is the same for every batch and compiled once.

    A job another scheduler moved first does not match and is not returned, nor does one an
    edit changed since the plan was read (its `schedule_version` moved, even when the edit
    stored the same `next_run_at`: 5m -> 30s keeps 12:05 on both grids). On PostgreSQL
    the batch's rows are first locked in id order (`SELECT … ORDER BY id FOR UPDATE`): not
    for correctness, which the compare-and-set gives, but so that racing schedulers take
    row locks in one order and never deadlock.
    """
    session = db.session
    stamp = JOBS.c.next_run_at.type
    columns = {"id": sa.Integer(), "seen": stamp, "new": stamp, "missed": sa.Integer(),
               "anchor": stamp, "version": sa.Integer()}
    rows = [(p.id, p.seen, p.plan.next_run_at, p.plan.missed, p.anchor, p.version)
            for p in batch]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(JOBS.c.id).where(is_in(JOBS.c.id, [p.id for p in batch],
                                                         session))
                        .order_by(JOBS.c.id).with_for_update())
        # one bound array per column: the same statement text for every batch
        v = rows_of_arrays("v", columns, rows)
    else:
        v = rows_of_json("v", columns, rows, session)   # one bound JSON text
    statement = (JOBS.update()
                 .where(JOBS.c.id == v.c.id, JOBS.c.enabled,
                        JOBS.c.schedule_version == v.c.version,
                        JOBS.c.next_run_at.is_not_distinct_from(v.c.seen))
                 .values(next_run_at=v.c.new,
                         missed_slots=JOBS.c.missed_slots + v.c.missed,
                         anchor_at=sa.func.coalesce(JOBS.c.anchor_at, v.c.anchor)))
    claimed = set(session.execute(statement.returning(JOBS.c.id)).scalars())
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
            sa.select(HOSTS.c.id, HOSTS.c.job_id, HOSTS.c.olt_id)
            .join(OLTS, OLTS.c.id == HOSTS.c.olt_id)
            .where(is_in(HOSTS.c.job_id, won_ids, session), HOSTS.c.enabled,
                   OLTS.c.habilitar_olt)
            .order_by(HOSTS.c.job_id, HOSTS.c.olt_id)):
        hosts[h.job_id].append((h.id, h.olt_id))

    # Executions active before this tick that can block a slot due now (reservations not
    # yet due never block).
    active: dict[tuple[int, int], tuple[int, datetime | None]] = {}
    if any(p.plan.slots and p.plan.slots[0] <= now for p in won):
        for b in session.execute(
                sa.select(EXECS.c.id, EXECS.c.job_id, EXECS.c.olt_id,
                          EXECS.c.scheduled_for)
                .where(is_in(EXECS.c.job_id, won_ids, session),
                       EXECS.c.status.in_((PENDING, RUNNING)),
                       sa.or_(EXECS.c.scheduled_for.is_(None),
                              EXECS.c.scheduled_for <= now))
                .order_by(EXECS.c.id)):
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
                               error_message=overlap_reason(blocker[0], blocker[1] is None))
                    first_rows.append(row)
                elif i == 0:
                    row["message_id"] = new_message_id()
                    first_rows.append(row)
                else:  # blocked by this claim's first due slot, whose id is not known yet
                    later_due.append((row, key))
            for slot in future:
                first_rows.append({
                    "job_id": p.id, "job_host_id": host_id, "olt_id": olt_id,
                    "scheduled_for": slot, "attempt": 0, "created_at": now,
                    "status": PENDING, "error_message": None, "finished_at": None,
                    "message_id": None if fanout else new_message_id()})

    inserted = _insert(first_rows, ignore_conflicts)
    first_of: dict[tuple[int, int], int] = {}
    for row in inserted:
        if row.status == PENDING and row.scheduled_for <= now:
            first_of[(row.job_id, row.olt_id)] = row.id
    rows_b = []
    for row, key in later_due:
        blocker = first_of.get(key)
        if blocker is None:  # its first slot conflicted away (ignore_conflicts path)
            blocker = active_execution_id(key)
        row.update(status=SKIPPED, finished_at=now,
                   error_message=overlap_reason(blocker, False) if blocker else
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
