"""The dispatcher over simulated time: every slot exactly once, at its instant.

A driven clock ticks every 60 s (plus the fan-out messages the ticks arm, and a simulated
worker that takes each message with the same compare-and-set as the real one), so a whole
day runs in seconds (tests/scheduling/simulation.py). Nothing here sleeps.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.scheduling.simulation import Simulation, audit, fast_commits, seed
from facho.scheduling import claim
from facho.scheduling import edits
from facho import reasons
from facho.scheduling import release
from facho.scheduling import schedule
from tests.scheduling import simulation
from facho.scheduling import sql
from facho.extensions import db
from facho.scheduling.lease import LeaderLease
from facho.models import (INTERRUPTED, PENDING, RUNNING, SKIPPED, SUCCESS, Execution, SnmpJob,
                          SnmpJobHost)

UTC = timezone.utc
START = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
T = Execution.__table__


def _sim(**kw) -> Simulation:
    # A warm-up tick one minute before START claims START itself ahead of time.
    return Simulation(start=START - timedelta(minutes=1), **kw)


def _rows(job_id, **filters):
    query = sa.select(T).where(T.c.job_id == job_id)
    for key, value in filters.items():
        query = query.where(getattr(T.c, key) == value)
    rows = db.session.execute(query.order_by(T.c.scheduled_for, T.c.olt_id)).all()
    db.session.rollback()
    return rows


# --- exactness -------------------------------------------------------------------------------

def test_a_simulated_day_runs_every_slot_of_every_interval_class_exactly_once(any_app):
    """30s, 5m, 1h, 1d -> 2880, 288, 24, 1 runs per OLT per day, each at its exact slot.
    (PostgreSQL simulates 6 hours to keep the suite short; the benchmark runs its full day.)"""
    fast_commits(any_app)
    hours = 24 if any_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else 6
    with any_app.app_context():
        ids = seed(2, [{"nombre": n, "interval_raw": n} for n in ("30s", "5m", "1h", "1d")],
                   start=START)["jobs"]
        sim = _sim(check_overlap=False)
        end = START + timedelta(hours=hours)
        sim.run_until(end)
        expected = {"30s": hours * 120, "5m": hours * 12, "1h": hours, "1d": 1}
        if hours == 24:
            assert expected == {"30s": 2880, "5m": 288, "1h": 24, "1d": 1}
        for name, job_id in ids.items():
            report = audit(job_id, START, end)
            assert report["ideal"] == expected[name], name
            assert set(report["per_olt"].values()) == {expected[name]}, (name, report)
            assert report["duplicates"] == 0 and report["off_grid"] == 0, (name, report)
            assert report["missing"] == 0, (name, report)
            assert report["max_drift_s"] == 0.0, (name, report)          # started at the slot
            assert report["by_status"] == {SUCCESS: 2 * expected[name]}, (name, report)
        # every message went out once, and every one was taken by the worker
        assert max(sim.sender.sent_ids.values()) == 1
        assert sim.refused == 0
        assert db.session.get(SnmpJob, ids["30s"]).missed_slots == 0


def test_cron_jobs_follow_wall_clock_across_both_dst_changes(sqlite_app):
    """Europe/Madrid: on the fall-back day an hourly job runs 24 times in 25 hours (02:00
    happens twice, runs once); on the spring-forward night 02:30 does not exist and runs
    at the jump (03:00 CEST = 01:00 UTC)."""
    fast_commits(sqlite_app)
    with sqlite_app.app_context():
        fall_start = datetime(2025, 10, 25, 22, 0, tzinfo=UTC)     # 00:00 CEST
        fall_end = datetime(2025, 10, 26, 23, 0, tzinfo=UTC)       # 00:00 CET next day
        ids = seed(1, [{"nombre": "hourly", "cron_expr": "0 * * * *",
                        "cron_tz": "Europe/Madrid"}], start=fall_start)["jobs"]
        Simulation(start=fall_start - timedelta(minutes=1)).run_until(fall_end)
        got = [r.scheduled_for for r in _rows(ids["hourly"])
               if r.scheduled_for < fall_end]
        expected = ([fall_start + timedelta(hours=h) for h in range(3)]          # 00,01,02 CEST
                    + [fall_start + timedelta(hours=h) for h in range(4, 25)])   # 03..23 CET
        assert len(expected) == 24
        assert got == expected
        assert all(r.status == SUCCESS and r.started_at == r.scheduled_for
                   for r in _rows(ids["hourly"]) if r.scheduled_for < fall_end)

        spring_start = datetime(2025, 3, 29, 23, 0, tzinfo=UTC)    # 00:00 CET
        ids = seed(1, [{"nombre": "nightly", "cron_expr": "30 2 * * *",
                        "cron_tz": "Europe/Madrid"},
                       {"nombre": "half-past", "cron_expr": "30 * * * *",
                        "cron_tz": "Europe/Madrid"}],
                   start=spring_start, olt_prefix="S")["jobs"]
        Simulation(start=spring_start - timedelta(minutes=1)).run_until(
            spring_start + timedelta(hours=4))
        assert [r.scheduled_for for r in _rows(ids["nightly"])] == [
            datetime(2025, 3, 30, 1, 0, tzinfo=UTC)]
        assert [r.scheduled_for for r in _rows(ids["half-past"])
                if r.scheduled_for < spring_start + timedelta(hours=4)] == [
            datetime(2025, 3, 29, 23, 30, tzinfo=UTC),   # 00:30 CET
            datetime(2025, 3, 30, 0, 30, tzinfo=UTC),    # 01:30 CET
            datetime(2025, 3, 30, 1, 0, tzinfo=UTC),     # 02:30 does not exist: the jump
            datetime(2025, 3, 30, 1, 30, tzinfo=UTC),    # 03:30 CEST
            datetime(2025, 3, 30, 2, 30, tzinfo=UTC)]    # 04:30 CEST


# --- outages, overlap, edits -------------------------------------------------------------------

def test_a_scheduler_down_for_three_hours_sends_one_run_per_job(any_app):
    fast_commits(any_app)
    down_from, back = START + timedelta(hours=1), START + timedelta(hours=4)
    end = back + timedelta(minutes=10)
    with any_app.app_context():
        ids = seed(2, [{"nombre": n, "interval_raw": n} for n in ("30s", "5m", "1h")],
                   start=START)["jobs"]
        sim = _sim(down=[(down_from, back)])
        first_after = []
        sim.run_until(end, on_tick=lambda s, r: first_after.append(r) if s.now >= back else None)
        # The first tick back sends one run per job and OLT, not 360 + 36 + 3 of them.
        assert first_after[0].sent == 3 * 2
        assert first_after[0].missed > 0
        for name, job_id in ids.items():
            interval = {"30s": 30, "5m": 300, "1h": 3600}[name]
            gap_slots = int((back - down_from).total_seconds()) // interval
            ran = [r for r in _rows(job_id, status=SUCCESS)
                   if down_from <= r.scheduled_for <= back]
            # one run per OLT for the whole outage: the most recent slot (here `back` itself)
            assert len(ran) == 2 and {r.scheduled_for for r in ran} == {back}, name
            job = db.session.get(SnmpJob, job_id)
            assert job.missed_slots == gap_slots, name     # every other slot of the outage
            # and nothing is unaccounted for: ran + missed == ideal, per OLT
            report = audit(job_id, START, end)
            ran_slots = {r.scheduled_for for r in _rows(job_id, status=SUCCESS)
                         if r.scheduled_for < end}
            assert len(ran_slots) + job.missed_slots == report["ideal"], name
            assert report["duplicates"] == 0
            late = [r for r in _rows(job_id, status=SKIPPED)]
            assert all("no se despachó a tiempo" in r.error_message for r in late)
            db.session.rollback()


def test_a_walk_longer_than_its_interval_skips_slots_instead_of_queueing(any_app):
    fast_commits(any_app)
    with any_app.app_context():
        ids = seed(1, [{"nombre": "slow", "interval_raw": "30s"}], start=START)["jobs"]
        job_id = ids["slow"]
        sim = _sim(durations={job_id: 75}, check_overlap=True)
        end = START + timedelta(minutes=10)
        sim.run_until(end)
        rows = [r for r in _rows(job_id) if r.scheduled_for < end]
        assert len(rows) == 20
        # runs at slots 0, 3, 6, ... (each lasts 75 s); the two slots in between are skipped
        for k, row in enumerate(rows):
            if k % 3 == 0:   # the last one (09:00) is still running at the end
                assert row.status == (SUCCESS if k < 18 else RUNNING), k
                assert row.started_at == row.scheduled_for, k
            else:
                running = rows[k - k % 3]
                assert row.status == SKIPPED, k
                assert row.error_message == (
                    f"Omitida: la ejecución #{running.id} de esta tarea en esta OLT "
                    "sigue en curso")
        assert sim.max_active_per_pair == 1          # never a queue behind the running walk
        assert sim.refused == 0


def test_disabling_a_job_mid_day_interrupts_its_pending_executions(any_app):
    fast_commits(any_app)
    with any_app.app_context():
        ids = seed(2, [{"nombre": "orm", "interval_raw": "30s"},
                       {"nombre": "core", "interval_raw": "30s"},
                       {"nombre": "other", "interval_raw": "30s"}], start=START)["jobs"]
        sim = _sim()
        cut = START + timedelta(hours=1, seconds=10)
        sim.run_until(cut)
        reserved = {name: len([r for r in _rows(job_id, status=PENDING)
                               if r.scheduled_for > cut]) for name, job_id in ids.items()}
        assert reserved["orm"] > 0 and reserved["core"] > 0
        job = db.session.get(SnmpJob, ids["orm"])
        job.enabled = False                        # the panel: the ORM listener interrupts
        db.session.commit()
        db.session.execute(sa.update(SnmpJob.__table__)     # a bulk edit: no listener
                           .where(SnmpJob.__table__.c.id == ids["core"]).values(enabled=False))
        db.session.commit()
        sim.run_until(START + timedelta(hours=2))
        for name in ("orm", "core"):
            after = [r for r in _rows(ids[name]) if r.scheduled_for > cut]
            assert len(after) == reserved[name], name          # nothing new was claimed
            assert {r.status for r in after} == {INTERRUPTED}, name
            assert {r.error_message for r in after} == {
                "Interrumpida: la tarea fue deshabilitada"}
            assert not [r for r in _rows(ids[name], status=SUCCESS) if r.started_at > cut]
        # the job left enabled keeps running on its grid
        other = audit(ids["other"], START, START + timedelta(hours=2))
        assert set(other["per_olt"].values()) == {240} and other["missing"] == 0


def test_changing_5m_to_1h_mid_day_follows_the_new_grid(any_app):
    fast_commits(any_app)
    with any_app.app_context():
        ids = seed(2, [{"nombre": "poll", "interval_raw": "5m"}], start=START)["jobs"]
        job_id = ids["poll"]
        sim = _sim()
        edit = START + timedelta(hours=3, minutes=2, seconds=17)
        sim.run_until(edit)
        job = db.session.get(SnmpJob, job_id)
        job.interval_raw = "1h"
        interrupted = edits.replan_job(job, edit)
        db.session.commit()
        end = START + timedelta(hours=8)
        sim.run_until(end)
        rows = [r for r in _rows(job_id) if r.scheduled_for < end]
        before = [r for r in rows if r.scheduled_for < edit]
        after = [r for r in rows if r.scheduled_for >= edit and r.status != INTERRUPTED]
        # 5-minute slots until the edit: 00:00 .. 03:00 (37 per OLT) ...
        assert len(before) == 37 * 2 and {r.status for r in before} == {SUCCESS}
        # ... then hourly slots anchored at the edit, the first at the edit itself (nothing
        # of the old grid was there): 03:02:17, 04:02:17, 05:02:17, 06:02:17, 07:02:17
        new_grid = [edit + timedelta(hours=h) for h in range(0, 5)]
        assert sorted({r.scheduled_for for r in after}) == new_grid
        assert len(after) == 5 * 2 and {r.status for r in after} == {SUCCESS}
        # old-grid reservations past the edit were withdrawn, with the reason
        withdrawn = [r for r in rows if r.status == INTERRUPTED]
        assert len(withdrawn) == interrupted
        assert all(r.error_message == reasons.REASON_REPLANNED for r in withdrawn)


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
        first = claim.tick(now, horizon_s=75, send=first_sender)
        assert first.claimed == 3 * 3 + 3 and first.sent == 6   # START due at once, 2 ahead
        before = _snapshot()
        for _ in range(2):
            again_sender = simulation.RecordingSender()
            again = claim.tick(now, horizon_s=75, send=again_sender)
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
        result = claim.tick(START, horizon_s=75, send=simulation.RecordingSender())
        assert result.conflicts == 1
        for job_id in ids.values():
            slots = Counter(r.scheduled_for for r in _rows(job_id))
            assert max(slots.values()) == 1
            assert sorted(slots) == [START + timedelta(seconds=s) for s in (0, 30, 60)]
            assert db.session.get(SnmpJob, job_id).next_run_at == START + timedelta(seconds=90)
        again = claim.tick(START + timedelta(seconds=60), horizon_s=75,
                              send=simulation.RecordingSender())
        assert again.conflicts == 0 and again.claimed == 4       # 90 s and 120 s, both jobs


def test_next_run_at_off_the_grid_is_brought_back_to_it(sqlite_app):
    with sqlite_app.app_context():
        ids = seed(1, [{"nombre": "a", "interval_raw": "30s"}], start=START)["jobs"]
        db.session.execute(sa.update(SnmpJob.__table__).values(
            next_run_at=START + timedelta(seconds=7)))
        db.session.commit()
        claim.tick(START, horizon_s=75, send=simulation.RecordingSender())
        assert [r.scheduled_for for r in _rows(ids["a"])] == [
            START + timedelta(seconds=30), START + timedelta(seconds=60)]
        assert db.session.get(SnmpJob, ids["a"]).next_run_at == START + timedelta(seconds=90)


def test_a_job_never_planned_is_planned_by_the_tick(sqlite_app):
    with sqlite_app.app_context():
        ids = seed(1, [{"nombre": "a", "interval_raw": "5m"}], start=START)["jobs"]
        db.session.execute(sa.update(SnmpJob.__table__).values(next_run_at=None, anchor_at=None))
        db.session.commit()
        now = START + timedelta(seconds=12, microseconds=5000)
        result = claim.tick(now, horizon_s=75, send=simulation.RecordingSender())
        job = db.session.get(SnmpJob, ids["a"])
        assert job.anchor_at == START + timedelta(seconds=12)
        assert [r.scheduled_for for r in _rows(ids["a"])] == [START + timedelta(seconds=12)]
        assert result.sent == 1 and job.next_run_at == START + timedelta(minutes=5, seconds=12)


def test_a_reservation_is_not_an_execution_in_progress(sqlite_app):
    """What manual runs and the panel should ask: reservations (slots claimed ahead, no
    message yet) do not count as queued or running."""
    with sqlite_app.app_context():
        seed(1, [{"nombre": "a", "interval_raw": "30s"}], start=START)
        claim.tick(START, horizon_s=75, send=simulation.RecordingSender())
        by_slot = {r.scheduled_for: r.id for r in db.session.execute(sa.select(T)).all()}
        assert len(by_slot) == 3
        active = set(db.session.execute(sa.select(T.c.id).where(
            sql.active_condition(START + timedelta(seconds=1)))).scalars())
        assert active == {by_slot[START]}                    # sent, not yet started
        # at the reservation's second, before its fan-out ran, it counts as due
        later = set(db.session.execute(sa.select(T.c.id).where(
            sql.active_condition(START + timedelta(seconds=30)))).scalars())
        assert later == {by_slot[START], by_slot[START + timedelta(seconds=30)]}


# --- messages: fan-out per slot second, through the real broker -------------------------------

def test_fanout_arms_one_message_per_slot_second_and_sends_each_execution_once(
        sqlite_app, redis_client):
    import actors  # noqa: F401 - the broker
    from facho.models import utcnow
    with sqlite_app.app_context():
        now = utcnow().replace(microsecond=0)
        ids = seed(3, [{"nombre": f"j{i}", "interval_raw": "30s"} for i in range(10)],
                   start=now)["jobs"]
        # half of the jobs a second later: two distinct slot seconds per 30 s
        later = [job_id for i, job_id in enumerate(ids.values()) if i % 2]
        db.session.execute(sa.update(SnmpJob.__table__).where(SnmpJob.__table__.c.id.in_(later))
                           .values(anchor_at=now + timedelta(seconds=1),
                                   next_run_at=now + timedelta(seconds=1)))
        db.session.commit()
        result = claim.tick(now, horizon_s=75)
        # due now: 5 jobs x 3 OLTs, sent at once; reservations armed per second, not per row
        assert result.sent == 15
        reserved = db.session.execute(sa.select(T.c.scheduled_for).where(
            T.c.message_id.is_(None), T.c.status == PENDING)).scalars().all()
        assert len(reserved) == 5 * 3 * 2 + 5 * 3 * 3
        armed = release.armed_slot_epochs(redis_client)
        assert armed == {schedule.slot_epoch_s(s) for s in reserved}
        assert result.armed == len(armed) == 5
        queued = _queued_execution_ids(redis_client, "discovery_main")
        sent_rows = db.session.execute(sa.select(T.c.id, T.c.message_id).where(
            T.c.message_id.is_not(None))).all()
        assert set(queued) == {(r.id, r.message_id) for r in sent_rows}

        second = now + timedelta(seconds=1)
        first = release.dispatch_slot(schedule.slot_epoch_s(second), now=second)
        assert first.sent == 15 and first.skipped == 0
        again = release.dispatch_slot(schedule.slot_epoch_s(second), now=second)
        assert again.sent == 0
        queued = _queued_execution_ids(redis_client, "discovery_main")
        assert len(queued) == 30 and len({i for i, _ in queued}) == 30
        # a fan-out message that arrives early re-arms itself instead of sending early
        early = release.dispatch_slot(schedule.slot_epoch_s(now + timedelta(seconds=30)),
                                       now=now + timedelta(seconds=29))
        assert early is None


def _queued_execution_ids(client, queue):
    found = []
    for _, body in client.hscan_iter(f"facho:{queue}.msgs"):
        message = json.loads(body)
        found.append((message["args"][0], message["message_id"]))
    return found


# --- lease and logs ----------------------------------------------------------------------------

def test_only_the_lease_holder_ticks_and_it_records_its_last_tick(sqlite_app, redis_client):
    with sqlite_app.app_context():
        seed(1, [{"nombre": "a", "interval_raw": "30s"}], start=START)
        leader = LeaderLease(redis_client, name="facho:test:leader", ttl_ms=5000, owner="one")
        other = LeaderLease(redis_client, name="facho:test:leader", ttl_ms=5000, owner="two")
        assert claim.tick(START, horizon_s=75, send=simulation.RecordingSender(),
                             lease=leader).claimed == 3
        follower = claim.tick(START, horizon_s=75, send=simulation.RecordingSender(),
                                 lease=other)
        assert follower.leader is False and follower.claimed == 0
        info = leader.last_tick()
        assert info["owner"] == "one" and info["claimed"] == 3 and info["leader"] is True


def test_one_log_line_per_tick_that_did_something_and_none_for_idle_ones(sqlite_app, caplog):
    with sqlite_app.app_context():
        seed(1, [{"nombre": "a", "interval_raw": "1h"}], start=START)
        with caplog.at_level(logging.INFO, logger="facho.scheduling.claim"):
            claim.tick(START, horizon_s=75, send=simulation.RecordingSender())
            claim.tick(START + timedelta(minutes=1), horizon_s=75,
                          send=simulation.RecordingSender())
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
        result = claim.tick(START, horizon_s=75, send=simulation.RecordingSender())
        assert result.claimed == 4 and result.conflicts == 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(T)).scalar() == 4
        db.session.execute(sa.text("RESET idle_in_transaction_session_timeout"))
        db.session.commit()


# --- edits: the new grid starts at the edit, skipping only what would collide (issue 9) ----

def test_a_1d_job_changed_to_30s_starts_its_new_grid_at_the_edit(any_app):
    """Nothing of the old grid was claimed in the next 75 s: no new slot is skipped (the
    old conservative bound started the new grid up to 75 s after the edit)."""
    from facho.scheduling import edits as lifecycle
    with any_app.app_context():
        job_id = seed(2, [{"nombre": "1d", "interval_raw": "1d"}], start=START)["jobs"]["1d"]
        _sim().run_until(START + timedelta(hours=5))          # 00:00 claimed and run
        edit = START + timedelta(hours=5, seconds=12, milliseconds=300)
        job = db.session.get(SnmpJob, job_id)
        job.interval_raw = "30s"
        lifecycle.plan_job(job, created=False, now=edit)
        db.session.commit()
        assert db.session.get(SnmpJob, job_id).next_run_at == edit.replace(microsecond=0)
        db.session.rollback()


def test_an_edit_whose_new_grid_meets_an_old_reservation_loses_no_slot(any_app):
    """1m -> 30s half a minute after a tick: the old grid's 01:01:00 reservation is also a
    slot of the new grid (anchored at 01:00:30). Every new-grid slot runs once, the unique
    constraint never has to refuse a row, and nothing between is skipped."""
    from facho.scheduling import edits as lifecycle
    with any_app.app_context():
        job_id = seed(2, [{"nombre": "1m", "interval_raw": "1m"}], start=START)["jobs"]["1m"]
        sim = _sim()
        edit = START + timedelta(hours=1, seconds=30, milliseconds=300)
        sim.run_until(edit)
        job = db.session.get(SnmpJob, job_id)
        job.interval_raw = "30s"
        lifecycle.plan_job(job, created=False, now=edit)
        db.session.commit()
        claim.claim_jobs([job_id], edit, sender=sim.sender)     # the panel, after saving
        end = START + timedelta(hours=1, minutes=5)
        sim.run_until(end)
        report = audit(job_id, edit.replace(microsecond=0), end)
    assert report["ideal"] == 9
    assert report["missing"] == 0 and report["duplicates"] == 0, report
    assert report["by_status"] == {SUCCESS: 18}, report
    assert sum(t.conflicts for t in sim.ticks) == 0
