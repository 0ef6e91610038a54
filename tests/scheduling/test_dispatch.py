"""The dispatcher over simulated time: every slot exactly once, at its instant.

A driven clock ticks every 60 s (plus the fan-out messages the ticks arm, and a simulated
worker that takes each message with the same compare-and-set as the real one), so a whole
day runs in seconds (tests/scheduling/simulation.py). Nothing here sleeps.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from facho import reasons
from facho.extensions import db
from facho.models import INTERRUPTED, PENDING, RUNNING, SKIPPED, SUCCESS, Execution, SnmpJob
from facho.scheduling import claim, edits
from tests.scheduling.simulation import Simulation, audit, execution_rows, fast_commits, seed

UTC = timezone.utc
START = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
T = Execution.__table__


def _sim(**kw) -> Simulation:
    # A warm-up tick one minute before START claims START itself ahead of time.
    return Simulation(start=START - timedelta(minutes=1), **kw)


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
        got = [r.scheduled_for for r in execution_rows(ids["hourly"])
               if r.scheduled_for < fall_end]
        expected = ([fall_start + timedelta(hours=h) for h in range(3)]          # 00,01,02 CEST
                    + [fall_start + timedelta(hours=h) for h in range(4, 25)])   # 03..23 CET
        assert len(expected) == 24
        assert got == expected
        assert all(r.status == SUCCESS and r.started_at == r.scheduled_for
                   for r in execution_rows(ids["hourly"]) if r.scheduled_for < fall_end)

        spring_start = datetime(2025, 3, 29, 23, 0, tzinfo=UTC)    # 00:00 CET
        ids = seed(1, [{"nombre": "nightly", "cron_expr": "30 2 * * *",
                        "cron_tz": "Europe/Madrid"},
                       {"nombre": "half-past", "cron_expr": "30 * * * *",
                        "cron_tz": "Europe/Madrid"}],
                   start=spring_start, olt_prefix="S")["jobs"]
        Simulation(start=spring_start - timedelta(minutes=1)).run_until(
            spring_start + timedelta(hours=4))
        assert [r.scheduled_for for r in execution_rows(ids["nightly"])] == [
            datetime(2025, 3, 30, 1, 0, tzinfo=UTC)]
        assert [r.scheduled_for for r in execution_rows(ids["half-past"])
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
            ran = [r for r in execution_rows(job_id, status=SUCCESS)
                   if down_from <= r.scheduled_for <= back]
            # one run per OLT for the whole outage: the most recent slot (here `back` itself)
            assert len(ran) == 2 and {r.scheduled_for for r in ran} == {back}, name
            job = db.session.get(SnmpJob, job_id)
            assert job.missed_slots == gap_slots, name     # every other slot of the outage
            # and nothing is unaccounted for: ran + missed == ideal, per OLT
            report = audit(job_id, START, end)
            ran_slots = {r.scheduled_for for r in execution_rows(job_id, status=SUCCESS)
                         if r.scheduled_for < end}
            assert len(ran_slots) + job.missed_slots == report["ideal"], name
            assert report["duplicates"] == 0
            late = [r for r in execution_rows(job_id, status=SKIPPED)]
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
        rows = [r for r in execution_rows(job_id) if r.scheduled_for < end]
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
        reserved = {name: len([r for r in execution_rows(job_id, status=PENDING)
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
            after = [r for r in execution_rows(ids[name]) if r.scheduled_for > cut]
            assert len(after) == reserved[name], name          # nothing new was claimed
            assert {r.status for r in after} == {INTERRUPTED}, name
            assert {r.error_message for r in after} == {
                "Interrumpida: la tarea fue deshabilitada"}
            assert not [r for r in execution_rows(ids[name], status=SUCCESS) if r.started_at > cut]
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
        rows = [r for r in execution_rows(job_id) if r.scheduled_for < end]
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
