"""Fault: PostgreSQL restarted during a tick and during a walk (issue 6).

A private PostgreSQL cluster (initdb + pg_ctl in a temp dir, free port) that the tests stop
with `-m immediate` (a crash: every connection dies, recovery on start) or `-m fast`. Real
worker processes (`dramatiq actors …`) and the real scheduler process
(`python -m actors.scheduler_process --every 1`) run against it, on the shared Redis
(our own database number) and real UDP agents on 127.0.0.1. No process is restarted by the
test: each must reconnect by itself (the engine has `pool_pre_ping`, and every database
step of the tick, the fan-out and the worker is a transaction that either commits whole or
rolls back).

Checked afterwards: the execution interrupted by the restart ends in a final state (with a
Spanish reason) or ran through, never stays RUNNING, never runs twice; each slot exists
once; no half-written claim (a job whose `next_run_at` moved without its executions).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib
import sqlalchemy as sa

from facho.config import REPO_ROOT
from facho.scheduling import claim

from tests.scheduling import simulation
from facho.extensions import db
from facho.scheduling.lease import LeaderLease
from facho.models import (FINAL_STATUSES, INTERRUPTED, RUNNING, SKIPPED, SUCCESS,
                          Execution, SnmpJob, utcnow)
from tests.conftest import _fresh_schema, make_test_app, require
from tests.execution_helpers import fetch, onus, slow_huawei_agent, wait_final, wait_for
from tests.factories import int_discovery_oid, make_job, make_olt, seed_catalog
from tests.processes import start_process, stop_process
from tests.reliability._servers import PrivatePostgres, postgres_usable

REPO = REPO_ROOT
BIN = Path(sys.executable).parent
T = Execution.__table__
J = SnmpJob.__table__


@pytest.fixture(scope="module")
def private_pg():
    usable, missing = postgres_usable()
    require(usable, missing)
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture
def pg_world(private_pg, tmp_path, redis_url):
    """(app, database url, process env) on a fresh database of the private cluster."""
    url = private_pg.create_database(f"facho_{uuid.uuid4().hex[:8]}")
    app = make_test_app(url, tmp_path)
    _fresh_schema(app)
    env = dict(os.environ, FACHO_ENV="testing", DATABASE_URL=url, REDIS_URL=redis_url,
               FACHO_VAR_DIR=str(tmp_path), SECRET_KEY="test-secret-key-0123456789",
               FACHO_LOG_LEVEL="INFO", PYTHONPATH=str(REPO), FACHO_SNMP_TIMEOUT_S="3")
    yield app, url, env
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _worker(env, log_path, threads=2):
    return start_process([str(BIN / "dramatiq"), "actors", "actors.executions",
                          "--processes", "1", "--threads", str(threads),
                          "--queues", "discovery_main", "get_main"], env, log_path, REPO)


def _worker_ready(redis_url: str, proc, log_path) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    try:
        wait_for(lambda: client.keys("facho:worker:*") or proc.poll() is not None, 30,
                  "worker did not start")
    finally:
        client.close()
    assert proc.poll() is None, log_path.read_text()[-3000:]


def _send(app, execution_id: int) -> None:
    from facho import messaging
    with app.app_context():
        message_id = messaging.send_execution(execution_id, "descubrimiento")
        db.session.execute(T.update().where(T.c.id == execution_id)
                           .values(message_id=message_id))
        db.session.commit()


def _new_manual(app, job_id: int, olt_id: int) -> int:
    with app.app_context():
        host_id = db.session.execute(sa.text(
            "SELECT id FROM job_hosts WHERE job_id = :j AND olt_id = :o"),
            {"j": job_id, "o": olt_id}).scalar_one()
        row = Execution(job_id=job_id, olt_id=olt_id, job_host_id=host_id)
        db.session.add(row)
        db.session.commit()
        return row.id


def _ends(log_text: str, execution_id: int) -> list[str]:
    return re.findall(rf"event=execution_end execution={execution_id} [^\n]*", log_text)


# --- during a walk ------------------------------------------------------------------------

WALK_CASES = {
    # case: (max_retries of each walking execution, PostgreSQL back before the walks end)
    "back_before_the_walk_ends": ((1,), True),
    "down_when_the_walks_end": ((1, 0), False),
}
REASON_NO_ATTEMPT_LEFT = ("Interrumpida: error de base de datos al registrar el resultado (se "
                          "perdió la conexión) y no quedan reintentos (1 de 1 intentos)")


@pytest.mark.parametrize("case", list(WALK_CASES))
def test_postgres_restarted_during_a_walk_the_worker_reconnects_and_the_execution_ends_once(
        pg_world, private_pg, redis_url, tmp_path, reliability, case):
    """Back before the walk ends: the walk holds no connection, so it simply succeeds.
    Still down when the walks end: their inventory cannot be written; the worker waits for
    the database and gives each row back as a new attempt, or closes it INTERRUPTED with
    the reason when none is left: none stays RUNNING waiting for the reconciler."""
    app, _url, env = pg_world
    retries, back_early = WALK_CASES[case]
    rows_total, delay_s = 160, 0.25          # 7 requests, about 1.8 s of walk
    with contextlib.ExitStack() as stack:
        agents = [stack.enter_context(slow_huawei_agent(rows=rows_total, delay_s=delay_s))
                  for _ in retries]
        fast = stack.enter_context(slow_huawei_agent(rows=20, delay_s=0.0))
        with app.app_context():
            seed_catalog()
            discovery_oid = int_discovery_oid()
            later = utcnow() + timedelta(hours=12)
            quiet = dict(next_run_at=later, anchor_at=later, retry_delay_seconds=0)
            walks = []                     # (execution id, OLT id, agent, max_retries)
            for n, (agent, max_retries) in enumerate(zip(agents, retries)):
                olt = make_olt(f"OLT-LENTA-{n}", agent.port, "public")
                job = make_job(f"Descubrir lento {n}", [discovery_oid], olt_ids=(olt,),
                               max_retries=max_retries, **quiet)
                walks.append((job, olt, agent, max_retries))
            rapida = make_olt("OLT-RAPIDA", fast.port, "public")
            after_job = make_job("Descubrir después", [discovery_oid], olt_ids=(rapida,),
                                 max_retries=0, **quiet)
        walks = [(_new_manual(app, job, olt), olt, agent, r) for job, olt, agent, r in walks]
        log_path = tmp_path / "worker.log"
        worker = _worker(env, log_path, threads=len(walks) + 1)
        try:
            _worker_ready(redis_url, worker, log_path)
            for walking, *_ in walks:
                _send(app, walking)
            wait_for(lambda: all(fetch(app, w).status == RUNNING and len(a.requests) >= 2
                                  for w, _, a, _ in walks), 30, "the walks did not start")
            stopped_at = time.time()
            private_pg.stop("immediate")
            if back_early:
                time.sleep(1.0)
            else:
                # stay down until every walk has ended and its outcome could not be written
                wait_for(lambda: all(f"event=execution_db_lost execution={w} "
                                      in log_path.read_text() for w, *_ in walks), 30,
                          "the worker did not notice the database was gone")
                time.sleep(0.5)
            private_pg.start()
            up_at = time.time()
            downtime_s = up_at - stopped_at
            for agent in agents:
                agent.delay_s = 0.01
            # the same worker, never restarted, takes new work against the new server
            after = _new_manual(app, after_job, rapida)
            sent_after_at = time.time()
            _send(app, after)
            final = wait_final(app, [w for w, *_ in walks] + [after], timeout_s=45)
            settled_s = time.time() - up_at
            reconnect_s = final[after].started_at.timestamp() - sent_after_at
            alive = worker.poll() is None
        finally:
            stop_process(worker)
    log_text = log_path.read_text()
    ends = {w: _ends(log_text, w) for w, *_ in walks}
    inventory = {w: len(onus(app, olt)) for w, olt, *_ in walks}
    reliability.record(
        "fault", f"PostgreSQL reiniciado (immediate) durante un walk: {case}",
        downtime_s=downtime_s, reconnect_s=reconnect_s, settled_after_s=settled_s,
        executions=len(walks) + 1,
        walks=[{"max_retries": r, "status": final[w].status, "attempts": final[w].attempt,
                "message": final[w].error_message, "onus": inventory[w]}
               for w, _, _, r in walks],
        ends_logged=sorted({len(e) for e in ends.values()}),
        stuck=sum(final[w].status == RUNNING for w, *_ in walks), worker_restarted=not alive)

    assert alive, log_text[-3000:]
    assert final[after].status == SUCCESS and final[after].attempt == 1
    for walking, _olt, _agent, max_retries in walks:
        walked = final[walking]
        assert len(ends[walking]) == 1, ends[walking]        # it ended once, by one worker
        if back_early:
            assert (walked.status, walked.attempt) == (SUCCESS, 1)
        elif max_retries:
            assert (walked.status, walked.attempt) == (SUCCESS, 2)   # walked again, by itself
        else:
            assert (walked.status, walked.attempt) == (INTERRUPTED, 1)
            assert walked.error_message == REASON_NO_ATTEMPT_LEFT
        # the inventory was written whole, once, or not at all
        assert inventory[walking] == (rows_total if walked.status == SUCCESS else 0)


# --- during a tick ------------------------------------------------------------------------

def test_postgres_crash_inside_a_tick_claim_writes_nothing_and_the_next_tick_claims_once(
        pg_world, private_pg, reliability):
    """The server dies inside the claim transaction (after the compare-and-set moved
    `next_run_at`, before the executions are inserted): nothing of it may survive, and the
    next tick, on the same process and engine, claims the slot exactly once."""
    app, _url, _env = pg_world
    with app.app_context():
        seed_catalog()
        olts = [make_olt(f"OLT-{i}", 9, "public") for i in range(3)]
        job_id = make_job("Descubrir 30s", ["Huawei ONT descubrimiento"], olt_ids=tuple(olts),
                          interval_raw="30s")
        now = utcnow().replace(microsecond=0)
        restarts = []

        def crash_inside_the_claim(job_ids):
            if not restarts:
                restarts.append(private_pg.restart("immediate", down_s=0.5))

        sender = simulation.RecordingSender()
        crashed = claim.tick(now, sender=sender, on_claim=crash_inside_the_claim)
        db.session.remove()
        after_crash = db.session.execute(sa.select(J.c.next_run_at, J.c.anchor_at)
                                         .where(J.c.id == job_id)).one()
        rows_after_crash = db.session.execute(sa.select(sa.func.count()).select_from(T)).scalar()
        reconnect_started = time.monotonic()
        ticked = claim.tick(now + timedelta(seconds=1), sender=sender)
        reconnect_s = time.monotonic() - reconnect_started
        again = claim.tick(now + timedelta(seconds=2), sender=sender)
        rows = db.session.execute(sa.select(T.c.olt_id, T.c.scheduled_for, T.c.status)).all()
        job = db.session.execute(sa.select(J.c.next_run_at).where(J.c.id == job_id)).one()
    slots = sorted({r.scheduled_for for r in rows})
    per_pair = {}
    for r in rows:
        per_pair[(r.olt_id, r.scheduled_for)] = per_pair.get((r.olt_id, r.scheduled_for), 0) + 1
    reliability.record(
        "fault", "PostgreSQL caído dentro de la transacción de un tick",
        downtime_s=restarts[0]["downtime_s"], reconnect_s=reconnect_s,
        failed_batches=crashed.errors, rows_left_by_failed_tick=rows_after_crash,
        claimed_next_tick=ticked.claimed, claimed_third_tick=again.claimed,
        executions=len(rows), duplicates=sum(n - 1 for n in per_pair.values()))

    assert crashed.errors == 1 and crashed.claimed == 0 and crashed.sent == 0
    assert rows_after_crash == 0 and after_crash.next_run_at is None  # nothing half-written
    assert ticked.errors == 0 and ticked.claimed == len(ticked.claimed_slots) * len(olts)
    assert ticked.claimed >= len(olts) and again.claimed == 0
    assert set(per_pair.values()) == {1}
    assert {(o, s) for o in olts for s in slots} == set(per_pair)
    assert job.next_run_at == slots[-1] + timedelta(seconds=30)   # moved with its rows


@pytest.mark.parametrize("interval,slot_count,stops", [
    pytest.param(5, 3, ("immediate",), id="one-crash"),
    pytest.param(5, 14, ("immediate", "fast", "immediate"), id="three-restarts",
                 marks=pytest.mark.long),
])
def test_postgres_restarted_under_a_live_scheduler_and_worker_every_slot_runs_once(
        pg_world, private_pg, redis_url, tmp_path, reliability, interval, slot_count, stops):
    """The real scheduler process (ticking every second, per-second fan-out) and a real
    worker, a job every few seconds on two OLTs; PostgreSQL is stopped (`immediate`: a
    crash; `fast`: a clean restart) 0.3 s before a slot, for 2 s, so that slot second falls
    in the outage. Both processes must carry on by themselves: the slot in the outage runs
    once, late (its fan-out message is retried by Dramatiq), and every other slot on time."""
    app, _url, env = pg_world
    outage_slots = [1 + 4 * k for k in range(len(stops))]     # slot indexes hit by a stop
    with slow_huawei_agent(rows=20, delay_s=0.0) as agent:
        with app.app_context():
            seed_catalog()
            discovery_oid = int_discovery_oid()
            olts = [make_olt(f"OLT-{i}", agent.port, "public") for i in range(2)]
            later = utcnow() + timedelta(hours=12)
            job_id = make_job("Descubrir cada 5 s", [discovery_oid], olt_ids=tuple(olts),
                              interval_raw=f"{interval}s", max_retries=0,
                              next_run_at=later, anchor_at=later)
            warm_job = make_job("Calentar", [discovery_oid], olt_ids=(olts[0],),
                                max_retries=0, next_run_at=later, anchor_at=later)
        env = dict(env, FACHO_TICK_EVERY_S="1", FACHO_LEASE_TTL_MS="3000")
        worker_log, scheduler_log = tmp_path / "worker.log", tmp_path / "scheduler.log"
        worker = _worker(env, worker_log)
        scheduler = start_process([sys.executable, "-m", "actors.scheduler_process"], env,
                                  scheduler_log, REPO)
        lease = LeaderLease(redis_lib.Redis.from_url(redis_url))
        try:
            # The slots start only once both processes have done their first work (the
            # scheduler ticked; the worker built its app and ran one execution): at load
            # 9-16 on 2 cores, starting them takes seconds, and a first slot that ends late
            # is still running when PostgreSQL stops before the second one.
            _worker_ready(redis_url, worker, worker_log)
            warm = _new_manual(app, warm_job, olts[0])
            _send(app, warm)
            wait_final(app, [warm], timeout_s=60)
            wait_for(lambda: lease.last_tick() or scheduler.poll() is not None, 60,
                     "the scheduler did not tick")
            assert scheduler.poll() is None, scheduler_log.read_text()[-3000:]
            with app.app_context():
                anchor = (utcnow() + timedelta(seconds=3)).replace(microsecond=0)
                db.session.execute(J.update().where(J.c.id == job_id)
                                   .values(anchor_at=anchor, next_run_at=anchor))
                db.session.commit()
            timings, reconnects = [], []
            for k, mode in enumerate(stops):
                crash_at = anchor + timedelta(seconds=outage_slots[k] * interval,
                                              milliseconds=-300)
                while utcnow() < crash_at:
                    assert scheduler.poll() is None, scheduler_log.read_text()[-3000:]
                    time.sleep(0.02)
                timing = private_pg.restart(mode, down_s=2.0)
                timings.append(timing)
                up_ms = timing["up_at"] * 1000
                wait_for(lambda: int((lease.last_tick() or {}).get("at_ms") or 0) > up_ms, 30,
                          "the scheduler did not tick again after the restart")
                reconnects.append(int(lease.last_tick()["at_ms"]) / 1000 - timing["up_at"])
            # the last slot has had time to run
            end = anchor + timedelta(seconds=(slot_count - 1) * interval + 2)
            while utcnow() < end:
                time.sleep(0.1)
            alive = (worker.poll() is None, scheduler.poll() is None)
        finally:
            scheduler_rc = stop_process(scheduler)
            stop_process(worker)
            lease.redis.close()
    with app.app_context():
        rows = db.session.execute(sa.select(T).where(T.c.job_id == job_id)
                                  .order_by(T.c.scheduled_for, T.c.olt_id)).all()
        next_run_at = db.session.execute(sa.select(J.c.next_run_at)
                                         .where(J.c.id == job_id)).scalar_one()
    slots = [anchor + timedelta(seconds=interval * k) for k in range(slot_count)]
    in_outage = {slots[i] for i in outage_slots}
    per_pair = {}
    for r in rows:
        per_pair.setdefault((r.olt_id, r.scheduled_for), []).append(r)
    ran = {key: found[0] for key, found in per_pair.items() if key[1] in slots}
    lags = {k: (r.started_at - r.scheduled_for).total_seconds() for k, r in ran.items()
            if r.started_at}
    claimed_until = max(r.scheduled_for for r in rows)
    reliability.record(
        "fault", f"PostgreSQL reiniciado ({', '.join(stops)}) con scheduler y worker en marcha",
        restarts=len(stops), downtime_s=max(t["downtime_s"] for t in timings),
        reconnect_s=max(reconnects), executions=len(ran),
        duplicates=sum(len(v) - 1 for v in per_pair.values()),
        stuck=sum(r.status not in FINAL_STATUSES for k, r in ran.items()),
        outage_slot_lag_s=max(lags.get((o, s), -1) for o in olts for s in in_outage),
        max_lag_other_slots_s=max(v for k, v in lags.items() if k[1] not in in_outage),
        statuses=sorted({r.status for r in ran.values()}),
        processes_alive=all(alive), scheduler_rc=scheduler_rc)

    assert all(alive), (worker_log.read_text()[-2000:], scheduler_log.read_text()[-2000:])
    assert scheduler_rc == 0
    assert all(len(v) == 1 for v in per_pair.values())             # each slot exists once
    assert set(ran) == {(o, s) for o in olts for s in slots}       # none lost
    assert all(r.status == SUCCESS and r.attempt == 1 for r in ran.values()), [
        (str(k[1]), k[0], r.status, r.attempt, r.error_message, str(r.started_at))
        for k, r in ran.items() if (r.status, r.attempt) != (SUCCESS, 1)]
    assert all(lag >= 0 for lag in lags.values())
    # no half-written claim: every slot before next_run_at has its rows, none after
    assert next_run_at == claimed_until + timedelta(seconds=interval)
    grid = {r.scheduled_for for r in rows}
    assert all((o, s) in per_pair for o in olts for s in grid)
    assert not [r for r in rows if r.status == SKIPPED and r.scheduled_for in slots]


def _lock_waiters(engine) -> int:
    """Sessions of this database waiting for a row or table lock right now."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar()


def test_a_worker_writing_an_olts_inventory_and_a_tick_claiming_its_job_never_deadlock(
        pg_world, reliability):
    """Found by the live test above: a worker finishing an execution (inventory lock on the
    OLT row, then `last_run_at` on the job row) and the tick claiming the same job's next
    slot (job row locked, then executions inserted, whose foreign key checks share-lock
    the OLT row) took the two rows in opposite orders; PostgreSQL killed one of them as a
    deadlock. Here both transactions are driven step by step into that interleaving."""
    import threading

    from facho.inventory import writes as inventory
    app, _url, _env = pg_world
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-0", 9, "public")
        job_id = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,))
        host_id = db.session.execute(sa.text("SELECT id FROM job_hosts")).scalar_one()
        db.session.remove()
        engine = db.engine
    errors, tick_done = [], threading.Event()

    def tick_side():   # claim._compare_and_set's lock, then _claim_batch's INSERT
        try:
            with engine.connect() as conn:
                with conn.begin():
                    conn.execute(sa.text("SELECT id FROM snmp_jobs WHERE id = :j FOR UPDATE"),
                                 {"j": job_id})
                    locked.set()
                    worker_locked.wait(10)
                    conn.execute(T.insert().values(
                        job_id=job_id, olt_id=olt_id, job_host_id=host_id, status="PENDING",
                        attempt=0, scheduled_for=utcnow()))
        except Exception as exc:  # noqa: BLE001 - the deadlock victim, if any
            errors.append(("tick", type(getattr(exc, "orig", exc)).__name__))
        finally:
            tick_done.set()

    locked, worker_locked = threading.Event(), threading.Event()
    thread = threading.Thread(target=tick_side, daemon=True)
    started = time.monotonic()
    with app.app_context():
        try:
            inventory.lock_olt(olt_id)            # the worker's inventory transaction
            thread.start()
            locked.wait(10)
            worker_locked.set()
            # the tick's INSERT is issued: done (the OLT row's key-share lock is free), or
            # waiting on that lock (the deadlock's first half)
            wait_for(lambda: tick_done.is_set() or _lock_waiters(engine), 10,
                     "the tick's INSERT was not issued")
            db.session.execute(J.update().where(J.c.id == job_id).values(last_run_at=utcnow()))
            db.session.commit()
        except Exception as exc:  # noqa: BLE001
            db.session.rollback()
            errors.append(("worker", type(getattr(exc, "orig", exc)).__name__))
        finally:
            db.session.remove()
    tick_done.wait(15)
    thread.join(5)
    with app.app_context():
        inserted = db.session.execute(sa.select(sa.func.count()).select_from(T)).scalar()
    reliability.record("fault", "tick y worker sobre la misma tarea y OLT (interbloqueo)",
                       deadlocks=len(errors), victims=errors, executions_inserted=inserted,
                       elapsed_s=time.monotonic() - started)
    assert errors == []
    assert inserted == 1
