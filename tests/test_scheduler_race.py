"""Racing schedulers: separate processes, each with its own connection, ticking the same
simulated clock sequence against one database (bench/scheduler_sim.py: `racer_main`).

- lease off: every process claims on every step; the compare-and-set on `next_run_at`
  alone keeps each (job, OLT, slot) exactly once, and the unique constraint is never the
  thing that saves us (IntegrityErrors are counted: zero);
- lease on: followers stay idle;
- the leader SIGKILLed while it holds a claim transaction open: a follower takes over
  within the lease TTL and no slot inside the catch-up window is lost.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bench.scheduler_sim import RaceSpec, audit, run_race, seed
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
