"""Fault: a worker process SIGKILLed while 50 discovery executions run on PostgreSQL.

Real parts: the victim and the rescuer are worker processes (`dramatiq.Worker`), Redis is
the real broker and holds the per-OLT leases, the database is PostgreSQL, and each of the
50 OLTs is its own slow SNMP agent on 127.0.0.1. The victim is killed once the database
shows all 50 RUNNING under it. Two recovery paths exist and each is run alone, so the
figures say which one recovers what:

- `dramatiq`: the rescuer's broker gives the dead worker's unacknowledged messages back
  after Dramatiq's heartbeat timeout (60 s in production, 2 s here); the worker guard sees
  a RUNNING row whose owner process is gone and resumes it as a new attempt, or closes
  it INTERRUPTED when no attempt is left.
- `reconciler`: Dramatiq keeps the messages (its timeout is not reached); the database-side
  reconciler finds RUNNING rows whose heartbeat went stale (90 s in production, 3 s here)
  and puts them back PENDING with a new message, or closes them INTERRUPTED.
- `both`, with times where they race (the guard's take-over waits for the OLT lease, 3 s,
  while the stale threshold passes): each execution is recovered by exactly one of them,
  and `flask facho recover` afterwards finds nothing to do.
- `dramatiq-otra-maquina` (long): the rescuer poses as another host, so it cannot see the
  victim's process is gone and waits for the stale heartbeat.

Either way: each execution ends once, never two walks of one execution at the same time
(seen by the OLT itself: one UDP socket per walk), the dead worker's per-OLT slots free
within the lease TTL, and the inventory holds each ONU once.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import redis
import sqlalchemy as sa

from facho.scheduling import reconcile
from facho.extensions import db
from facho.models import FINAL_STATUSES, INTERRUPTED, RUNNING, SUCCESS, Execution, Onu
from facho.executions.olt_limiter import OltLimiter
from tests.execution_helpers import (BackgroundLoop, RowWatcher, onus, peak_overlap,
                                     send_execution, wait_final, wait_for)
from tests.factories import int_discovery_oid, make_job, make_olt, new_execution, seed_catalog
from tests.reliability._worker_kill import (REPO, holders_by_olt, lease_expiries, slow_olts,
                                            start_worker)

EXECUTIONS = 50
WITHOUT_RETRIES = 10        # the last 10 jobs allow one attempt: they must end INTERRUPTED
ROWS = 150                  # ONUs per OLT: 7 GetBulk requests of 25 rows per walk
SLOW_DELAY_S = 2.0          # per answer while the victim walks (a walk lasts ~14 s)
FAST_DELAY_S = 0.02         # per answer once it is dead (the resumed walks are quick)
LEASE_TTL_MS = 3000
HEARTBEAT_EVERY_S = 0.5
STALE_AFTER_S = 3
DRAMATIQ_HEARTBEAT_TIMEOUT_MS = 2000


def _running_under(app, pid: int) -> int:
    with app.app_context():
        count = db.session.execute(sa.select(sa.func.count()).select_from(Execution).where(
            Execution.status == RUNNING, Execution.worker.like(f"%:{pid}:%"))).scalar_one()
        db.session.remove()
    return count


class Reconciler(BackgroundLoop):
    """`facho.scheduling.reconcile.reconcile` every half second from its own thread, as periodiq runs
    it every minute, with the shortened stale threshold."""

    def __init__(self, app):
        self.app, self.resumed, self.interrupted, self.errors = app, 0, 0, 0
        super().__init__()

    join_timeout_s = 30.0

    def _run(self):
        while not self._stop.wait(0.5):
            with self.app.app_context():
                result = reconcile.reconcile(stale_after_s=STALE_AFTER_S)
                db.session.remove()
            self.resumed += result.resumed
            self.interrupted += result.interrupted
            self.errors += result.errors


def _ends_logged(log: str) -> dict[int, list[str]]:
    ends: dict[int, list[str]] = {}
    for line in log.splitlines():
        match = re.search(r"event=execution_end execution=(\d+) .*status=(\w+)", line)
        if match:
            ends.setdefault(int(match.group(1)), []).append(match.group(2))
    return ends


@pytest.mark.parametrize("recovery", [
    "dramatiq", "reconciler", "both",
    # the rescuer on another machine: it cannot see that the victim's process is gone, so
    # the guard waits for the victim's heartbeat to go stale before it takes over
    pytest.param("dramatiq-otra-maquina", marks=pytest.mark.long)])
def test_a_worker_killed_with_50_discoveries_running_ends_each_once_without_copies(
        recovery, pg_app, pg_database_url, tmp_path, redis_url, reliability):
    app = pg_app
    env = dict(FACHO_ENV="testing", DATABASE_URL=pg_database_url, REDIS_URL=redis_url,
               SECRET_KEY="test-secret-key-0123456789", FACHO_VAR_DIR=str(tmp_path),
               FACHO_OLT_LEASE_TTL_MS=str(LEASE_TTL_MS), FACHO_LOG_LEVEL="INFO",
               FACHO_SNMP_TIMEOUT_S="5", FACHO_SNMP_RETRIES="1")
    limiter = OltLimiter(redis.Redis.from_url(redis_url))
    workers = []
    with slow_olts(EXECUTIONS, ROWS, SLOW_DELAY_S) as agents:
        with app.app_context():
            seed_catalog()
            discovery_oid = int_discovery_oid()
            olt_ids = [make_olt(f"OLT-{n:02d}", agent.port, "publica", max_concurrent=1)
                       for n, agent in enumerate(agents)]
            retried = make_job("Descubrir con reintento", [discovery_oid], max_retries=1,
                               olt_ids=tuple(olt_ids[:-WITHOUT_RETRIES]))
            once = make_job("Descubrir sin reintentos", [discovery_oid], max_retries=0,
                            olt_ids=tuple(olt_ids[-WITHOUT_RETRIES:]))
            ids = [new_execution(retried if n < EXECUTIONS - WITHOUT_RETRIES else once, olt_id)
                   for n, olt_id in enumerate(olt_ids)]
        olt_of = dict(zip(ids, olt_ids))
        agent_of = dict(zip(ids, agents))
        try:
            victim = start_worker(tmp_path, "victim", env, threads=EXECUTIONS + 10,
                                  heartbeat_every_s=HEARTBEAT_EVERY_S,
                                  stale_after_s=STALE_AFTER_S)
            workers.append(victim)
            with RowWatcher(app, ids, every_s=0.05,
                            extra=lambda: holders_by_olt(limiter, olt_ids)) as watcher:
                sent_at = time.time()
                for execution_id in ids:
                    send_execution(app, execution_id)
                deadline = time.monotonic() + 40
                while not (_running_under(app, victim.pid) == EXECUTIONS
                           and all(agent.agent.requests for agent in agents)):
                    assert time.monotonic() < deadline, victim.log()[-3000:]
                    time.sleep(0.05)
                running_at_kill = _running_under(app, victim.pid)
                all_running_s = time.time() - sent_at
                requests_at_kill = [len(a.agent.requests) for a in agents]
                victim.proc.send_signal(signal.SIGKILL)
                killed_at = time.time()
                victim.proc.wait(10)
                # SIGKILL is delivered asynchronously: the victim may still renew a slot
                # between send_signal and its death; expiries are bounded from its death
                dead_at = time.time()
                victim_leases = lease_expiries(limiter, olt_ids, f":{victim.pid}:")
                for agent in agents:
                    agent.agent.delay_s = FAST_DELAY_S
                rescuer = start_worker(
                    tmp_path, "rescuer", env, threads=20, heartbeat_every_s=HEARTBEAT_EVERY_S,
                    stale_after_s=STALE_AFTER_S,
                    dramatiq_heartbeat_timeout_ms=(DRAMATIQ_HEARTBEAT_TIMEOUT_MS
                                                   if recovery != "reconciler" else 0),
                    hostname="otra-maquina" if recovery == "dramatiq-otra-maquina" else "")
                workers.append(rescuer)
                reconciler = Reconciler(app)
                if recovery in ("reconciler", "both"):
                    with reconciler:
                        rows = wait_final(app, ids, timeout_s=90)
                else:
                    rows = wait_final(app, ids, timeout_s=90)
                # the watcher's last look, to catch any late change: one whole pass
                # begun after the rows were final
                looked = watcher.passes
                wait_for(lambda: watcher.passes >= looked + 2, 10, "the watcher stopped")
                if recovery == "both":   # what an operator would run after the crash
                    recover = subprocess.run(
                        [sys.executable, "-m", "flask", "--app", "app", "facho", "recover",
                         "--json"], env=dict(os.environ, **env), cwd=REPO,
                        capture_output=True, text=True, timeout=60)
        finally:
            for worker in workers:
                worker.stop()
        walks = {i: agent_of[i].walks() for i in ids}

    # -- measure -------------------------------------------------------------------------
    victim_tag = f":{victim.pid}:"
    finals = {i: [h for h in watcher.history[i] if h[1] in FINAL_STATUSES] for i in ids}
    recovered_at = max(finals[i][0][0] for i in ids if finals[i])
    freed_at = next((t for t, by_olt in watcher.extra_seen if t > killed_at and not any(
        victim_tag in token for tokens in by_olt.values() for token in tokens)), None)
    # walks as the OLT saw them (the watcher polls, and a resumed walk can be too quick)
    walks_before = {i: [w for w in walks[i] if w[0] < killed_at] for i in ids}
    walks_after = {i: [w for w in walks[i] if w[0] >= killed_at] for i in ids}
    copies = max(peak_overlap(w) for w in walks.values())
    with app.app_context():
        duplicates = db.session.execute(
            sa.select(Onu.olt_id, Onu.raw_index).group_by(Onu.olt_id, Onu.raw_index)
            .having(sa.func.count() > 1)).all()
    inventory = {i: len(onus(app, olt_of[i])) for i in ids}
    rescuer_log, victim_log = rescuer.log(), victim.log()
    worker_ends = _ends_logged(rescuer_log)
    took_over = [int(n) for n in re.findall(r"event=execution_resumed execution=(\d+) ",
                                             rescuer_log)]
    success = [i for i in ids if rows[i].status == SUCCESS]
    interrupted = [i for i in ids if rows[i].status == INTERRUPTED]
    reliability.record(
        "fault", f"SIGKILL de un worker con 50 descubrimientos en curso (recupera: {recovery})",
        executions=EXECUTIONS, running_at_kill=running_at_kill,
        all_running_after_s=all_running_s,
        success=len(success), interrupted=len(interrupted),
        resumed_attempts=sum(len(w) for w in walks_after.values()),
        resumed_by_worker_guard=len(took_over), resumed_by_reconciler=reconciler.resumed,
        interrupted_by_worker=sum(v == [INTERRUPTED] for v in worker_ends.values()),
        interrupted_by_reconciler=reconciler.interrupted,
        max_concurrent_copies=copies,
        slots_held_at_kill=len(victim_leases),
        slot_expiry_after_s=max(victim_leases.values(), default=killed_at) - killed_at,
        slot_freed_after_s=None if freed_at is None else freed_at - killed_at,
        lease_ttl_s=LEASE_TTL_MS / 1000, duplicate_onus=len(duplicates),
        recovery_s=recovered_at - killed_at, database="postgresql")

    # -- assert --------------------------------------------------------------------------
    assert running_at_kill == EXECUTIONS
    assert all(0 < n < 7 for n in requests_at_kill), requests_at_kill   # all of them mid-walk
    assert "event=execution_end" not in victim_log                      # it finished nothing
    # every execution ended once and never changed afterwards
    for i in ids:
        assert len(finals[i]) == 1 and watcher.history[i][-1] is finals[i][0], \
            watcher.history[i]
        assert len(worker_ends.get(i, [])) <= 1, worker_ends[i]
    assert len(success) == EXECUTIONS - WITHOUT_RETRIES and len(interrupted) == WITHOUT_RETRIES
    for i in ids:
        assert len(walks_before[i]) == 1, walks[i]        # the victim's, cut by the kill
    for i in success:   # one new attempt, by the rescuer, after the kill
        assert rows[i].attempt == 2 and len(walks_after[i]) == 1, (walks[i], watcher.states(i))
        assert rows[i].worker.split(":")[1] == str(rescuer.pid)
        if recovery == "dramatiq-otra-maquina":
            assert rows[i].worker.startswith("otra-maquina:")
        assert inventory[i] == ROWS
    for i in interrupted:   # no attempt left: closed with the reason, nothing written
        assert rows[i].attempt == 1 and walks_after[i] == [], (walks[i], watcher.states(i))
        assert rows[i].error_message.startswith("Interrumpida: el worker ")
        assert victim_tag in rows[i].error_message and "no quedan reintentos" in \
            rows[i].error_message
        assert inventory[i] == 0
    assert copies == 1          # per OLT (one execution each): never two walks at once
    assert duplicates == []
    # the dead worker held a slot on every OLT; each freed by its own expiry, within the
    # lease TTL (exact, on the Redis clock), and the watcher saw them all gone (it polls)
    assert len(victim_leases) == EXECUTIONS
    assert max(victim_leases.values()) - dead_at <= LEASE_TTL_MS / 1000
    assert freed_at is not None and freed_at - dead_at <= LEASE_TTL_MS / 1000 + 1.0
    # which path did the work
    if recovery.startswith("dramatiq"):
        assert sorted(took_over) == sorted(success) and reconciler.resumed == 0
        assert {i for i, v in worker_ends.items() if v == [INTERRUPTED]} == set(interrupted)
    elif recovery == "reconciler":
        assert took_over == [] and reconciler.errors == 0
        assert reconciler.resumed == len(success)
        assert reconciler.interrupted == len(interrupted)
    else:   # both at once: each execution recovered by exactly one of them
        assert reconciler.errors == 0
        # and `flask facho recover` afterwards finds nothing left to do
        assert recover.returncode == 0, recover.stderr[-2000:]
        assert json.loads(recover.stdout) == dict.fromkeys(
            json.loads(recover.stdout), 0), recover.stdout
        assert len(took_over) + reconciler.resumed == len(success)
        interrupted_by_worker = {i for i, v in worker_ends.items() if v == [INTERRUPTED]}
        assert len(interrupted_by_worker) + reconciler.interrupted == len(interrupted)


def test_a_dead_workers_execution_with_no_attempt_left_is_interrupted_not_failed(
        sqlite_app, reliability):
    """The worker guard's side of the fix found above: a redelivered message of a killed
    worker, for a job without retries, closes the row INTERRUPTED with the reason (as the
    reconciler does), keeps the attempt count and never contacts the OLT (a closed port
    here: any walk would end FAILED). It used to end FAILED after a phantom attempt 2."""
    import socket as socket_lib

    from facho.executions import transitions as executions
    from facho.models import utcnow
    from tests.execution_helpers import run_now
    from tests.snmp_agents import udp_free_port

    app = sqlite_app
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)                                    # a pid whose process no longer exists
    dead_owner = f"{socket_lib.gethostname()}:{gone.pid}:4242"
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-CERRADA", udp_free_port(), "publica")
        job_id = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,),
                          max_retries=0)
        execution_id = new_execution(job_id, olt_id)
        beat = utcnow()
        db.session.execute(Execution.__table__.update().where(
            Execution.__table__.c.id == execution_id).values(
            status=RUNNING, worker=dead_owner, attempt=1, started_at=beat, heartbeat_at=beat))
        db.session.commit()
        # a heartbeat that moved since the row was read means the owner lives: no-op
        assert not executions.interrupt_dead(execution_id, dead_owner, 1,
                                             beat.replace(year=2000), "x")
    row = run_now(app, execution_id)
    reliability.record("fault", "mensaje reentregado de un worker muerto sin reintentos",
                       status=row.status, attempt=row.attempt)
    assert (row.status, row.attempt) == (INTERRUPTED, 1)
    assert row.error_message == (f"Interrumpida: el worker {dead_owner} dejó de responder y "
                                 "no quedan reintentos (1 de 1 intentos)")
    assert row.finished_at is not None and row.duration_ms is not None
