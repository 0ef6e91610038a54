"""SIGKILL the scheduler leader under 500 job-OLT pairs at 30 s (issue 6, faults).

The real-process, real-clock companion of tests/scheduling/test_scheduler_race.py (which races on a
simulated clock): several `python -m actors.scheduler_process --every 3` processes against
PostgreSQL and real Redis, 50 jobs x 10 OLTs at 30 s with their anchors spread over the
30 s (about 17 slots due every second), and a stub worker consuming the real execution
queues with the real worker guard and no SNMP (see tests/reliability/_scheduler_kill.py
for why). The leader (the lease holder in Redis) is SIGKILLed; the failover is measured
from the kill to another process holding the lease and to that process's first tick.

Then the executions table is audited over the observed window: for every pair, every
30 s slot exactly once (no duplicate, no off-grid row), none lost (no missing row, none
left unsent, none SKIPPED as late: the failover is far inside the catch-up window), every
sent execution delivered exactly once; the unique constraint never had to refuse a row
(`conflicts`, from the schedulers' tick logs).

A leader killed between committing a message id and enqueueing the message leaves a row
that only the reconciler re-sends (DESIGN 3.8, after a 60 s grace); the test runs that
pass once at the end with the grace shortened, and checks that whatever it had to re-send
was due around a kill.

Then the new leader is *frozen* (SIGSTOP) inside its claim transaction, holding the jobs'
row locks (tests/reliability/_scheduler_kill.py: `freeze_leader_inside_claim`): a VM
pause, or a scheduler machine cut off with its TCP connection still open on the server.
Its lease expires, but the next leader's claim waits on those locks: before the fix the
whole cluster stopped claiming (and the workers stopped finishing, their `last_run_at`
update waits too) for as long as the frozen process lived. The scheduler's PostgreSQL
sessions now carry `idle_in_transaction_session_timeout` (facho/scheduler_process.py), so
the server ends the frozen session and the next leader claims; the frozen process is then
thawed (SIGCONT) and must neither duplicate nor lose a slot as it finds its lease gone.

Fast variant (CI): one kill, one freeze. `long`: four minutes, five kills (one of the new
leader right after its first tick, its fan-out messages not yet fired; one aimed inside a
tick) and a freeze, each killed leader replaced by a new process, so the cluster keeps
three schedulers.
"""
from __future__ import annotations

import random
import signal
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from facho.scheduling.process import idle_transaction_timeout_ms
from tests.reliability._scheduler_kill import (Cluster, Kill, audit_window, backend_alive,
                                               freeze_leader_inside_claim, percentile,
                                               resend_lost_messages, seed_pairs, utc_now,
                                               whole_second)

JOBS, OLTS = 50, 10                 # 500 job-OLT pairs
SCHEDULERS = 3
EVERY_S = 3.0
LEASE_TTL_MS = 1500
KEEPER_PERIOD_S = LEASE_TTL_MS / 3000
CATCHUP_WINDOW_S = 300              # the default: the failover must fit well inside it
SETTLE_S = 3                        # slots this close to the stop may not have been sent yet
IDLE_TX_TIMEOUT_S = idle_transaction_timeout_ms(LEASE_TTL_MS) / 1000

VARIANTS = {
    # kills: seconds after the first slot (None: the new leader, as soon as it ticked),
    # mid_tick: which kills aim inside a tick, freeze_s: when the leader is frozen,
    # run_s: when the schedulers stop, respawn: replace each killed process
    "fast": dict(kills=[6], mid_tick=(), freeze_s=10, run_s=33, respawn=False),
    "long": dict(kills=[20, 65, None, 130, 190], mid_tick=(3,), freeze_s=215, run_s=245,
                 respawn=True),
}


def _sleep_until(t) -> None:
    left = (t - utc_now()).total_seconds()
    if left > 0:
        time.sleep(left)


@pytest.mark.parametrize("variant", [
    "fast", pytest.param("long", marks=pytest.mark.long)])
def test_killing_or_freezing_the_scheduler_leader_loses_and_duplicates_no_slot_of_500_pairs(
        variant, pg_app, redis_url, redis_client, tmp_path, reliability):
    plan = VARIANTS[variant]
    first_slot = whole_second(utc_now(), 8)
    seed_pairs(pg_app, JOBS, OLTS, first_slot)
    cluster = Cluster(pg_app.config["SQLALCHEMY_DATABASE_URI"], redis_url, tmp_path,
                      schedulers=SCHEDULERS, every_s=EVERY_S, lease_ttl_ms=LEASE_TTL_MS)
    phase = random.Random(6)        # kills at varied phases of the 3 s tick
    try:
        cluster.start()
        started_leading = utc_now()
        for k, offset in enumerate(plan["kills"]):
            if offset is not None:
                _sleep_until(first_slot + timedelta(
                    seconds=offset + (phase.uniform(0, EVERY_S) if k else 0)))
            cluster.check_alive()
            cluster.kill_leader(deadline_s=30, respawn=plan["respawn"],
                                mid_tick=k in plan["mid_tick"])
        _sleep_until(first_slot + timedelta(seconds=plan["freeze_s"]))
        frozen = freeze_leader_inside_claim(cluster)
        thaw = cluster.await_takeover(Kill(owner=frozen.owner, at=frozen.at),
                                      deadline_s=IDLE_TX_TIMEOUT_S + 10)
        frozen_session_ended = not backend_alive(cluster.database_url, frozen.backend_pid)
        cluster.procs[frozen.name].send_signal(signal.SIGCONT)
        _sleep_until(first_slot + timedelta(seconds=plan["run_s"]))
        cluster.check_alive()
        stopped_at = utc_now()
        codes = cluster.stop_schedulers()
        time.sleep(1)                   # the worker takes what was just sent
        resent = resend_lost_messages(pg_app)
        codes["worker"] = cluster.stop_worker(drain_s=2)
    finally:
        cluster.kill_all()
    window_end = stopped_at - timedelta(seconds=SETTLE_S)
    found = audit_window(pg_app, redis_client, first_slot, window_end)
    totals = cluster.tick_totals()
    timing = found.pop("lags")
    lags = sorted(lag for _, lag in timing)
    failovers = [k.tick_s for k in cluster.kills]
    # slots that fell due while no leader was ticking: how late they started
    gap = [lag for k in cluster.kills for slot, lag in timing
           if k.at <= slot <= k.at + (k.tick_s or 30)]
    common = dict(
        duplicates=found.get("duplicates", 0), off_grid=found.get("off_grid", 0),
        lost_in_window=found.get("lost_in_window", 0),
        unique_conflicts=totals["conflicts"] + totals["conflict_events"])
    reliability.record(
        "fault", f"SIGSTOP del líder del scheduler dentro de su reclamo ({variant})",
        pairs=JOBS * OLTS, lease_ttl_ms=LEASE_TTL_MS,
        idle_tx_timeout_ms=int(IDLE_TX_TIMEOUT_S * 1000), lease_takeover_s=thaw.lease_s,
        failover_s=thaw.tick_s, first_claim_s=thaw.claim_s,
        frozen_session_ended=frozen_session_ended, **common)
    reliability.record(
        "fault", f"SIGKILL del líder del scheduler ({variant})",
        pairs=JOBS * OLTS, interval_s=30, schedulers=SCHEDULERS, tick_every_s=EVERY_S,
        leader_kills=len(cluster.kills), lease_ttl_ms=LEASE_TTL_MS,
        catchup_window_s=CATCHUP_WINDOW_S,
        window_s=round((window_end - first_slot).total_seconds(), 1),
        slots_expected=found.get("slots_expected", 0), executions=found.get("executions", 0),
        duplicates=found.get("duplicates", 0), off_grid=found.get("off_grid", 0),
        lost_in_window=found.get("lost_in_window", 0), missing=found.get("missing", 0),
        never_sent=found.get("never_sent", 0), skipped_late=found.get("skipped_late", 0),
        skipped_overlap=found.get("skipped_overlap", 0),
        delivered_twice=found.get("delivered_twice", 0),
        not_delivered=found.get("not_delivered", 0), success=found.get("status_SUCCESS", 0),
        unique_conflicts=totals["conflicts"] + totals["conflict_events"],
        lost_cas=totals["lost_cas"], leader_acquired=totals["leader_acquired"],
        resent_by_reconciler=len(resent),
        failover_s_max=max((f for f in failovers if f is not None), default=None),
        failover_s=failovers, lease_takeover_s=[k.lease_s for k in cluster.kills],
        first_claim_s=[k.claim_s for k in cluster.kills],
        gap_slots=len(gap), gap_start_lag_max_s=max(gap, default=None),
        start_lag_p50_s=percentile(lags, 0.5), start_lag_p99_s=percentile(lags, 0.99),
        start_lag_max_s=lags[-1] if lags else None,
        wall_s=round((stopped_at - started_leading).total_seconds(), 1))

    # the frozen leader's locks did not stop the next leader: the server ended the session
    assert frozen_session_ended, (thaw, cluster.logs_tail())
    assert thaw.lease_s is not None and thaw.claim_s is not None, (thaw, cluster.logs_tail())
    assert thaw.claim_s <= IDLE_TX_TIMEOUT_S + LEASE_TTL_MS / 1000 + EVERY_S + 3.0, thaw
    kills = len(plan["kills"])
    assert len({k.owner for k in cluster.kills}) == kills, "each kill hit a different leader"
    for name, code in codes.items():
        assert code in (0, -9), (name, code, cluster.logs_tail())
    assert sum(code == -9 for code in codes.values()) == kills
    for kill in cluster.kills:
        # a follower took the lease within the TTL plus one keeper period (2 s of slack
        # for a loaded 2-core machine), and then ticked
        assert kill.lease_s is not None and kill.new_owner != kill.owner, cluster.logs_tail()
        assert kill.lease_s <= LEASE_TTL_MS / 1000 + KEEPER_PERIOD_S + 2.0, kill
        assert kill.tick_s is not None, (kill, cluster.logs_tail())
        assert kill.tick_s < CATCHUP_WINDOW_S
    assert found["slots_expected"] >= JOBS * OLTS          # every pair had a slot
    assert found["duplicates"] == 0 and found["off_grid"] == 0, found
    assert found["lost_in_window"] == 0, found
    assert found["executions"] == found["slots_expected"], found
    assert found["delivered_twice"] == 0 and found["not_delivered"] == 0, found
    assert found.get("guard_refusals", 0) == 0, found
    # only a leader killed between commit and enqueue may leave a message to re-send
    for slot in resent:
        assert any(k.at - 5 <= slot <= k.at + 5 for k in cluster.kills), (slot, resent)
    assert totals["conflicts"] == 0 and totals["conflict_events"] == 0, totals


def test_the_scheduler_process_sessions_are_ended_by_postgresql_when_idle_in_a_transaction(
        pg_app, redis_url):
    """The fix the freeze above needs, checked directly: every PostgreSQL session of a
    scheduler process carries `idle_in_transaction_session_timeout` (3 lease TTLs)."""
    import actors
    from facho.extensions import db
    from facho.scheduling.process import SchedulerProcess

    process = SchedulerProcess(actors.broker, pg_app, actors.scheduler.scheduler_tick, every_s=EVERY_S)
    with pg_app.app_context():
        shown = db.session.execute(
            sa.text("SELECT setting FROM pg_settings "
                    "WHERE name = 'idle_in_transaction_session_timeout'")).scalar()
        db.session.rollback()
    assert int(shown) == process.idle_tx_timeout_ms == 3 * pg_app.config["FACHO"].lease_ttl_ms
