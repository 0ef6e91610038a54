"""One tick on its own (`claim.tick`, issue 2's compare-and-set): ticks that repeat change
nothing, the unique constraint as the last line of defence, off-grid and never-planned jobs,
reservations that are not executions in progress, the leader lease, the tick's log line and
a planning slower than PostgreSQL's idle-in-transaction timeout. Simulated time
(tests/scheduling/simulation.py); nothing here sleeps.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from facho.extensions import db
from facho.models import PENDING, Execution, SnmpJob, SnmpJobHost
from facho.scheduling import claim, sql
from facho.scheduling.lease import LeaderLease
from tests.scheduling import simulation
from tests.scheduling.simulation import execution_rows, seed

UTC = timezone.utc
START = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
T = Execution.__table__


# --- idempotence and the last line of defence ---------------------------------------------------

def _snapshot():
    rows = db.session.execute(sa.select(T.c.id, T.c.job_id, T.c.olt_id, T.c.scheduled_for,
                                        T.c.status, T.c.message_id).order_by(T.c.id)).all()
    jobs = db.session.execute(sa.select(SnmpJob.id, SnmpJob.next_run_at,
                                        SnmpJob.missed_slots).order_by(SnmpJob.id)).all()
    db.session.rollback()
    return [tuple(r) for r in rows], [tuple(j) for j in jobs]


def test_duplicate_ticks_at_the_same_instant_change_nothing(any_app):
    with any_app.app_context():
        seed(3, [{"nombre": n, "interval_raw": n} for n in ("30s", "5m")], start=START)
        now = START + timedelta(seconds=3)
        first_sender = simulation.RecordingSender()
        first = claim.tick(now, horizon_s=75, sender=first_sender)
        assert first.claimed == 3 * 3 + 3 and first.sent == 6   # START due at once, 2 ahead
        before = _snapshot()
        for _ in range(2):
            again_sender = simulation.RecordingSender()
            again = claim.tick(now, horizon_s=75, sender=again_sender)
            assert (again.claimed, again.skipped, again.sent, again.armed) == (0, 0, 0, 0)
            assert again_sender.executions == [] and again_sender.slots == []
        assert _snapshot() == before


def test_the_unique_constraint_stops_a_duplicate_slot_and_the_job_moves_on(any_app):
    with any_app.app_context():
        ids = seed(1, [{"nombre": "a", "interval_raw": "30s"},
                       {"nombre": "b", "interval_raw": "30s"}], start=START)["jobs"]
        host = SnmpJobHost.query.filter_by(job_id=ids["a"]).one()
        # A row for a slot job "a" has not claimed yet (what a bad edit could leave behind).
        clash = START + timedelta(seconds=30)
        db.session.add(Execution(job_id=ids["a"], olt_id=host.olt_id, job_host_id=host.id,
                                 scheduled_for=clash, status=PENDING))
        db.session.commit()
        result = claim.tick(START, horizon_s=75, sender=simulation.RecordingSender())
        assert result.conflicts == 1
        for job_id in ids.values():
            slots = Counter(r.scheduled_for for r in execution_rows(job_id))
            assert max(slots.values()) == 1
            assert sorted(slots) == [START + timedelta(seconds=s) for s in (0, 30, 60)]
            assert db.session.get(SnmpJob, job_id).next_run_at == START + timedelta(seconds=90)
        again = claim.tick(START + timedelta(seconds=60), horizon_s=75,
                              sender=simulation.RecordingSender())
        assert again.conflicts == 0 and again.claimed == 4       # 90 s and 120 s, both jobs


def test_next_run_at_off_the_grid_is_brought_back_to_it(sqlite_app):
    with sqlite_app.app_context():
        ids = seed(1, [{"nombre": "a", "interval_raw": "30s"}], start=START)["jobs"]
        db.session.execute(sa.update(SnmpJob.__table__).values(
            next_run_at=START + timedelta(seconds=7)))
        db.session.commit()
        claim.tick(START, horizon_s=75, sender=simulation.RecordingSender())
        assert [r.scheduled_for for r in execution_rows(ids["a"])] == [
            START + timedelta(seconds=30), START + timedelta(seconds=60)]
        assert db.session.get(SnmpJob, ids["a"]).next_run_at == START + timedelta(seconds=90)


def test_a_job_never_planned_is_planned_by_the_tick(sqlite_app):
    with sqlite_app.app_context():
        ids = seed(1, [{"nombre": "a", "interval_raw": "5m"}], start=START)["jobs"]
        db.session.execute(sa.update(SnmpJob.__table__).values(next_run_at=None, anchor_at=None))
        db.session.commit()
        now = START + timedelta(seconds=12, microseconds=5000)
        result = claim.tick(now, horizon_s=75, sender=simulation.RecordingSender())
        job = db.session.get(SnmpJob, ids["a"])
        assert job.anchor_at == START + timedelta(seconds=12)
        assert [r.scheduled_for for r in execution_rows(ids["a"])] == [START + timedelta(seconds=12)]
        assert result.sent == 1 and job.next_run_at == START + timedelta(minutes=5, seconds=12)


def test_one_claim_batch_wins_exactly_the_jobs_nobody_moved_since_its_read(any_app, monkeypatch):
    """The set-based compare-and-set of one batch, job by job: between the tick's read and
    its claim another scheduler moved "moved" and an edit bumped "edited"'s version without
    moving it; "kept", "new" (never planned: NULL next_run_at and anchor) and "late" (a
    backlog past the catch-up window) are claimed, with their anchor and missed slots."""
    from facho.scheduling import schedule
    with any_app.app_context():
        ids = seed(1, [{"nombre": n, "interval_raw": "30s"}
                       for n in ("kept", "moved", "edited", "new", "late")], start=START)["jobs"]
        jobs = SnmpJob.__table__
        db.session.execute(sa.update(jobs).where(jobs.c.id == ids["new"])
                           .values(next_run_at=None, anchor_at=None))
        db.session.execute(sa.update(jobs).where(jobs.c.id == ids["late"])
                           .values(next_run_at=START - timedelta(hours=1)))
        db.session.commit()
        real_plan_due, raced = schedule.plan_due, []

        def plan_then_race(*args, **kwargs):
            if not raced:        # after the read, before the claim: another connection
                with db.engine.begin() as other:
                    other.execute(sa.update(jobs).where(jobs.c.id == ids["moved"])
                                  .values(next_run_at=START + timedelta(seconds=30)))
                    other.execute(sa.update(jobs).where(jobs.c.id == ids["edited"])
                                  .values(schedule_version=jobs.c.schedule_version + 1))
                raced.append(True)
            return real_plan_due(*args, **kwargs)

        monkeypatch.setattr(schedule, "plan_due", plan_then_race)
        result = claim.tick(START, horizon_s=20, sender=simulation.RecordingSender())
        assert result.lost_cas == 2 and result.conflicts == 0
        slots = {name: [r.scheduled_for for r in execution_rows(job_id)]
                 for name, job_id in ids.items()}
        assert slots == {"kept": [START], "moved": [], "edited": [], "new": [START],
                         "late": [START]}
        stored = {row.id: row for row in db.session.execute(sa.select(jobs)).all()}
        assert stored[ids["moved"]].next_run_at == START + timedelta(seconds=30)
        assert stored[ids["edited"]].next_run_at == START
        assert stored[ids["new"]].anchor_at == START
        assert stored[ids["late"]].missed_slots == 120 == result.missed
        assert {stored[ids[n]].next_run_at for n in ("kept", "new", "late")} == {
            START + timedelta(seconds=30)}
        db.session.rollback()


def test_a_reservation_is_not_an_execution_in_progress(sqlite_app):
    """What manual runs and the panel should ask: reservations (slots claimed ahead, no
    message yet) do not count as queued or running."""
    with sqlite_app.app_context():
        seed(1, [{"nombre": "a", "interval_raw": "30s"}], start=START)
        claim.tick(START, horizon_s=75, sender=simulation.RecordingSender())
        by_slot = {r.scheduled_for: r.id for r in db.session.execute(sa.select(T)).all()}
        assert len(by_slot) == 3
        active = set(db.session.execute(sa.select(T.c.id).where(
            sql.active_condition(START + timedelta(seconds=1)))).scalars())
        assert active == {by_slot[START]}                    # sent, not yet started
        # at the reservation's second, before its fan-out ran, it counts as due
        later = set(db.session.execute(sa.select(T.c.id).where(
            sql.active_condition(START + timedelta(seconds=30)))).scalars())
        assert later == {by_slot[START], by_slot[START + timedelta(seconds=30)]}


# --- lease and logs ----------------------------------------------------------------------------

def test_only_the_lease_holder_ticks_and_it_records_its_last_tick(sqlite_app, redis_client):
    with sqlite_app.app_context():
        seed(1, [{"nombre": "a", "interval_raw": "30s"}], start=START)
        leader = LeaderLease(redis_client, name="facho:test:leader", ttl_ms=5000, owner="one")
        other = LeaderLease(redis_client, name="facho:test:leader", ttl_ms=5000, owner="two")
        assert claim.tick(START, horizon_s=75, sender=simulation.RecordingSender(),
                             lease=leader).claimed == 3
        follower = claim.tick(START, horizon_s=75, sender=simulation.RecordingSender(),
                                 lease=other)
        assert follower.leader is False and follower.claimed == 0
        info = leader.last_tick()
        assert info["owner"] == "one" and info["claimed"] == 3 and info["leader"] is True


def test_one_log_line_per_tick_that_did_something_and_none_for_idle_ones(sqlite_app, caplog):
    with sqlite_app.app_context():
        seed(1, [{"nombre": "a", "interval_raw": "1h"}], start=START)
        with caplog.at_level(logging.INFO, logger="facho.scheduling.claim"):
            claim.tick(START, horizon_s=75, sender=simulation.RecordingSender())
            claim.tick(START + timedelta(minutes=1), horizon_s=75,
                          sender=simulation.RecordingSender())
        lines = [r.getMessage() for r in caplog.records if r.name == "facho.scheduling.claim"]
        assert len(lines) == 1
        assert lines[0].startswith("event=tick claimed=1 skipped=0 missed=0 interrupted=0 ")
        assert "lag_ms=0" in lines[0]


def test_a_tick_whose_planning_outlasts_the_idle_transaction_timeout_still_claims(
        pg_app, monkeypatch):
    """The scheduler process cuts PostgreSQL sessions idle in a transaction (a frozen
    leader must not hold the job rows); the tick must not sit in its read transaction
    while it plans."""
    import time as time_lib

    from facho.scheduling import schedule as sched
    with pg_app.app_context():
        seed(2, [{"nombre": "a", "interval_raw": "5m"}, {"nombre": "b", "interval_raw": "5m"}],
             start=START)
        db.session.execute(sa.text("SET idle_in_transaction_session_timeout = 1000"))
        slow_plan = sched.plan_due

        def plan_due_slowly(*args, **kwargs):
            time_lib.sleep(0.7)             # two jobs: 1.4 s of planning, past the 1 s limit
            return slow_plan(*args, **kwargs)

        monkeypatch.setattr(sched, "plan_due", plan_due_slowly)
        result = claim.tick(START, horizon_s=75, sender=simulation.RecordingSender())
        assert result.claimed == 4 and result.conflicts == 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(T)).scalar() == 4
        db.session.execute(sa.text("RESET idle_in_transaction_session_timeout"))
        db.session.commit()
