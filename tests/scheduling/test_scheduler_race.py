"""Racing schedulers: separate processes, each with its own connection, ticking the same
simulated clock sequence against one database (tests/scheduling/simulation.py: `racer_main`).

- lease off: every process claims on every step; the compare-and-set on `next_run_at`
  alone keeps each (job, OLT, slot) exactly once, and the unique constraint is never the
  thing that saves us (IntegrityErrors are counted: zero);
- lease on: followers stay idle;
- the leader SIGKILLed while it holds a claim transaction open: a follower takes over
  within the lease TTL and no slot inside the catch-up window is lost.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.scheduling.simulation import RaceSpec, audit, run_race, seed
from facho.extensions import db

UTC = timezone.utc
START = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
T0 = START - timedelta(seconds=59.5)       # step k runs at T0 + k minutes
JOBS = [{"nombre": n, "interval_raw": n} for n in ("30s", "5m", "1h", "1d")]


def _spec(app, redis_url, tmp_path, *, hours: float, **kw) -> RaceSpec:
    steps = int(hours * 60) + 2
    return RaceSpec(database_url=app.config["SQLALCHEMY_DATABASE_URI"], redis_url=redis_url,
                    var_dir=str(tmp_path), t0=T0.isoformat(), steps=steps, **kw)


def _check_exactly_once(app, job_ids, spec: RaceSpec):
    last_now = T0 + timedelta(minutes=spec.steps - 1)
    with app.app_context():
        for job_id in job_ids:
            report = audit(job_id, START, last_now)
            assert report["ideal"] > 0
            assert report["duplicates"] == 0, report
            assert report["missing"] == 0, report          # zero lost slots vs the ideal
            assert report["off_grid"] == 0, report
            assert set(report["per_olt"].values()) == {report["ideal"]}, report
        db.session.rollback()


def _no_execution_sent_twice(race):
    assert race.sent_ids and max(race.sent_ids.values()) == 1


def test_three_schedulers_without_lease_claim_every_slot_exactly_once_on_postgresql(
        pg_app, redis_url, tmp_path):
    with pg_app.app_context():
        job_ids = list(seed(2, JOBS, start=START)["jobs"].values())
    spec = _spec(pg_app, redis_url, tmp_path, hours=3, step_wall_s=0.01, lease=False)
    race = run_race(spec, racers=3)
    print(f"\nlease off: wall={race.wall_s}s ticks={len(race.ticks)} "
          f"lost_cas={race.total('lost_cas')} conflicts={race.total('conflicts')}")
    assert not race.errors and set(race.exit_codes.values()) == {0}
    assert len(race.totals) == 3
    assert all(t["ticks"] == spec.steps for t in race.totals.values())   # all really ticked
    assert race.total("conflicts") == 0          # the CAS decided, not the unique constraint
    _check_exactly_once(pg_app, job_ids, spec)
    _no_execution_sent_twice(race)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_three_schedulers_with_the_lease_leave_two_idle_and_lose_nothing(
        backend, request, redis_url, tmp_path):
    app = request.getfixturevalue("pg_app" if backend == "postgresql" else "sqlite_app")
    with app.app_context():
        job_ids = list(seed(2, JOBS, start=START)["jobs"].values())
    spec = _spec(app, redis_url, tmp_path, hours=3, step_wall_s=0.01, lease=True,
                 lease_ttl_ms=1000)
    race = run_race(spec, racers=3)
    assert not race.errors and set(race.exit_codes.values()) == {0}
    leader_ticks = sum(t.get("ticks", 0) for t in race.totals.values())
    idle = sum(t.get("not_leader", 0) for t in race.totals.values())
    print(f"\nlease on ({backend}): wall={race.wall_s}s leader_ticks={leader_ticks} idle={idle}")
    assert leader_ticks >= spec.steps and idle > 0
    assert race.total("lost_cas") == 0 and race.total("conflicts") == 0
    _check_exactly_once(app, job_ids, spec)
    _no_execution_sent_twice(race)


def test_the_leader_killed_mid_claim_is_replaced_within_the_ttl_and_no_slot_is_lost(
        pg_app, redis_url, tmp_path):
    """The sim clock is paced at 15 s per 0.25 s of wall time, so the 1 s TTL spans 60
    simulated seconds: well inside the 300 s catch-up window, as in production (10 s TTL)."""
    with pg_app.app_context():
        job_ids = list(seed(2, JOBS[:2], start=START)["jobs"].values())
    ttl_ms = 1000
    spec = _spec(pg_app, redis_url, tmp_path, hours=0, step_wall_s=0.25, step_s=15,
                 lease=True, lease_ttl_ms=ttl_ms, stall_steps=[12])
    spec.steps = 34
    race = run_race(spec, racers=3)
    assert len(race.kills) == 1
    dead = race.kills[0]["name"]
    assert race.exit_codes[dead] == -9
    assert all(code == 0 for name, code in race.exit_codes.items() if name != dead)
    assert not race.errors
    takeover = race.takeovers_s[0]
    print(f"\nleader {dead} killed at step {race.kills[0]['step']}: "
          f"takeover after {takeover} s (TTL {ttl_ms / 1000} s)")
    assert takeover is not None
    # within the TTL, plus one pacing step to notice it and a tick to run
    assert takeover <= ttl_ms / 1000 + spec.step_wall_s + 0.5
    last_now = T0 + timedelta(seconds=spec.step_s * (spec.steps - 1))
    with pg_app.app_context():
        for job_id in job_ids:
            report = audit(job_id, START, last_now)
            assert report["missing"] == 0 and report["duplicates"] == 0, report
            assert report["off_grid"] == 0, report


# --- schedule edits racing a tick (issue 9) --------------------------------------------------

EDIT_T0 = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)


def _in_thread(app, body):
    """Run `body()` in another thread with its own app context, hence its own session and
    connection: the panel (or a second scheduler) is another process in production."""
    import threading
    box: dict = {}

    def run():
        with app.app_context():
            try:
                box["value"] = body()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
                box["error"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def _job_rows(job_id):
    import sqlalchemy as sa
    from facho.models import Execution
    t = Execution.__table__
    rows = db.session.execute(sa.select(t.c.olt_id, t.c.scheduled_for, t.c.status)
                              .where(t.c.job_id == job_id)).all()
    db.session.rollback()
    return rows


def test_an_interval_edit_between_the_ticks_read_and_its_claim_is_not_overwritten(
        any_app, monkeypatch):
    """5m -> 30s stored while a tick plans with the old interval: the edit keeps the same
    next_run_at (12:05 is on both grids), so a claim that compares only next_run_at wins
    and jumps to 12:10, and the new grid's slots up to then are never created.

    The edit lands at 00:05:00 sharp: the new grid starts at the edit, so that is the one
    edit time whose stored next_run_at equals the old one (an edit at 00:04:30 stores
    00:04:30, which a next_run_at-only claim already refuses: it would not test the
    schedule version)."""
    from facho.scheduling import claim
    from facho.scheduling import schedule
    from tests.scheduling import simulation
    from facho.scheduling import edits as lifecycle
    from facho.models import SnmpJob
    with any_app.app_context():
        job_id = seed(2, [{"nombre": "5m", "interval_raw": "5m"}], start=EDIT_T0)["jobs"]["5m"]
        job = db.session.get(SnmpJob, job_id)
        job.next_run_at = EDIT_T0 + timedelta(minutes=5)      # 00:00 already claimed
        db.session.commit()
        edit_at = EDIT_T0 + timedelta(minutes=5)

        def edit():
            row = db.session.get(SnmpJob, job_id)
            row.interval_raw = "30s"
            lifecycle.plan_job(row, created=False, now=edit_at)
            db.session.commit()
            return row.next_run_at

        real_plan_due = schedule.plan_due
        edits = []

        def plan_then_edit(*args, **kwargs):
            plan = real_plan_due(*args, **kwargs)
            if not edits:                     # the panel saves while the tick plans
                thread, box = _in_thread(any_app, edit)
                thread.join(30)
                assert "error" not in box, box.get("error")
                edits.append(box["value"])
            return plan

        monkeypatch.setattr(schedule, "plan_due", plan_then_edit)
        tick_at = EDIT_T0 + timedelta(minutes=4, seconds=59, milliseconds=900)
        claim.tick(tick_at, sender=simulation.RecordingSender())
        monkeypatch.setattr(schedule, "plan_due", real_plan_due)
        assert edits == [EDIT_T0 + timedelta(minutes=5)], "the edit kept next_run_at"

        stored = db.session.get(SnmpJob, job_id)
        assert stored.interval_raw == "30s"
        assert stored.next_run_at < EDIT_T0 + timedelta(minutes=5, seconds=30), stored.next_run_at
        db.session.rollback()
        # the following ticks claim every slot of the new grid from the edit on
        later = EDIT_T0 + timedelta(minutes=5, seconds=40)
        claim.tick(later, sender=simulation.RecordingSender())
        rows = _job_rows(job_id)
        slots = {s for _, s, _ in rows}
        for k in range(3):                    # 00:05:00, 00:05:30, 00:06:00
            assert EDIT_T0 + timedelta(minutes=5, seconds=30 * k) in slots, sorted(slots)
        assert not any(s == EDIT_T0 + timedelta(minutes=10) for s in slots)


def test_a_tick_cannot_claim_the_old_grid_between_an_edits_replan_and_its_commit(pg_app):
    """PostgreSQL: the panel re-plans (old reservations INTERRUPTED) before its job row is
    written at commit. A tick in between used to claim slots on the old grid and leave
    them PENDING, to be sent after the edit. The edit now holds the job's row lock, so the
    tick waits and then finds the schedule changed."""
    import sqlalchemy as sa
    from facho.scheduling import claim
    from tests.scheduling import simulation
    from facho.scheduling import edits as lifecycle
    from facho.models import PENDING, SnmpJob
    edit_at = EDIT_T0 + timedelta(minutes=1, seconds=1)
    with pg_app.app_context():
        job_id = seed(2, [{"nombre": "30s", "interval_raw": "30s"}], start=EDIT_T0)["jobs"]["30s"]
        claim.tick(EDIT_T0 + timedelta(seconds=0.5), sender=simulation.RecordingSender())
        # the panel's edit: 30s -> 1d, not committed yet
        job = db.session.get(SnmpJob, job_id)
        with db.session.no_autoflush:         # as the panel's update_model: the job row is
            job.interval_raw = "1d"           # written at commit, after the re-plan
            lifecycle.plan_job(job, created=False, now=edit_at)

        thread, box = _in_thread(pg_app, lambda: claim.tick(
            edit_at + timedelta(seconds=0.2), sender=simulation.RecordingSender()))

        def tick_waits_on_a_lock():
            with db.engine.connect() as conn:
                return conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar() > 0

        deadline = time.monotonic() + 30
        while thread.is_alive() and not tick_waits_on_a_lock():
            assert time.monotonic() < deadline, "the tick neither finished nor waited"
            time.sleep(0.02)
        db.session.commit()                   # the edit commits
        thread.join(30)
        assert not thread.is_alive() and "error" not in box, box
        rows = _job_rows(job_id)
    stale = [(olt, s) for olt, s, status in rows
             if status == PENDING and s > edit_at and s != edit_at.replace(microsecond=0)
             and (s - edit_at.replace(microsecond=0)) % timedelta(days=1)]
    assert stale == [], stale


def test_disable_and_re_enable_before_a_reserved_slot_does_not_lose_it(any_app):
    """Disable at 00:00:40, re-enable at 00:00:45: the 00:01:00 reservation (INTERRUPTED by
    the disable) runs, or at least counts as missed; it used to vanish silently."""
    from tests.scheduling.simulation import Simulation, audit
    from facho.scheduling import edits as lifecycle
    from facho.models import SnmpJob, SUCCESS
    with any_app.app_context():
        job_id = seed(2, [{"nombre": "30s", "interval_raw": "30s"}], start=EDIT_T0)["jobs"]["30s"]
        sim = Simulation(start=EDIT_T0 - timedelta(minutes=1))
        sim.run_until(EDIT_T0 + timedelta(seconds=40))
        job = db.session.get(SnmpJob, job_id)
        job.enabled = False
        db.session.commit()
        sim.run_until(EDIT_T0 + timedelta(seconds=45))
        job = db.session.get(SnmpJob, job_id)
        job.enabled = True
        lifecycle.plan_job(job, created=False, now=EDIT_T0 + timedelta(seconds=45))
        db.session.commit()
        sim.run_until(EDIT_T0 + timedelta(minutes=2, seconds=5))
        report = audit(job_id, EDIT_T0 + timedelta(minutes=1), EDIT_T0 + timedelta(minutes=2, seconds=1))
        missed = db.session.get(SnmpJob, job_id).missed_slots
        db.session.rollback()
    # 00:01:00, 00:01:30, 00:02:00 on both OLTs: every one ran (or a lost one was counted)
    ran = report["by_status"].get(SUCCESS, 0)
    assert ran == 6 or (ran + 2 * missed == 6 and missed > 0), (report, missed)
    assert ran == 6, report
