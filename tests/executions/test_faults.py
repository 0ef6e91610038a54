"""Faults, with real parts: a closed UDP port, a wrong community on a real snmpsim agent, a
worker process killed with SIGKILL in the middle of a walk, and ten executions racing for
an OLT that accepts one at a time."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

from facho.config import REPO_ROOT
from facho.extensions import db
from facho.models import FAILED, PENDING, RUNNING, SUCCESS, Olt, utcnow
from facho.executions.olt_limiter import OltLimiter
from tests.conftest import _fresh_schema, make_test_app
from tests.execution_helpers import (RowWatcher, end_lines, fetch, in_process_worker, onus,
                                     peak_overlap, send_execution, slow_huawei_agent,
                                     wait_final, wait_for)
from tests.factories import int_discovery_oid, make_job, make_olt, new_execution, seed_catalog
from tests.snmp_agents import udp_free_port

REPO = str(REPO_ROOT)


@pytest.fixture
def fast_requeue(monkeypatch):
    import actors  # noqa: F401 - the broker, with every actor declared
    import facho.executions.run as module
    monkeypatch.setattr(module, "BUSY_DELAY_MS", (50, 150))
    monkeypatch.setattr(module, "RATE_JITTER_MS", (10, 50))
    return module


def _app(tmp_path, **env):
    app = make_test_app(f"sqlite:///{tmp_path / 'facho.db'}", tmp_path, **env)
    _fresh_schema(app)
    return app


def test_a_closed_port_fails_with_a_clear_message_after_its_retries(
        tmp_path, redis_url, fast_requeue):
    app = _app(tmp_path, FACHO_SNMP_TIMEOUT_S="0.5", FACHO_SNMP_RETRIES="0")
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-CERRADA", udp_free_port(), "publica")
        job_id = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,),
                          max_retries=2, retry_delay_seconds=1)
        execution_id = new_execution(job_id, olt_id)
    with in_process_worker(app), RowWatcher(app, [execution_id]) as watcher:
        send_execution(app, execution_id)
        row = wait_final(app, [execution_id], timeout_s=20)[execution_id]
    assert row.status == FAILED and row.attempt == 3
    assert "rechazó la conexión SNMP" in row.error_message
    assert "127.0.0.1:" in row.error_message and "publica" not in row.error_message
    assert row.error_message.endswith("(falló en los 3 intentos)")
    # between attempts the row waits PENDING with the reason; an attempt against a closed
    # port lasts milliseconds, so the waits (1 s, then 2 s of backoff) are what we see
    history = watcher.history[execution_id]
    waits = [(h[0], h[4]) for h in history if h[1] == PENDING and h[4]]
    first_wait = next(t for t, m in waits if m.startswith("Intento 1 de 3 falló: La OLT"))
    second_wait = next(t for t, m in waits if m.startswith("Intento 2 de 3 falló: La OLT"))
    assert "Se reintentará en 1 s." in dict(waits)[first_wait]
    assert "Se reintentará en 2 s." in dict(waits)[second_wait]
    failed_at = row.finished_at.timestamp()
    assert second_wait - first_wait >= 0.9 and failed_at - second_wait >= 1.9


def test_a_wrong_community_times_out_retries_and_fails(tmp_path, redis_url, olt_agents,
                                                       fast_requeue):
    app = _app(tmp_path, FACHO_SNMP_TIMEOUT_S="0.2", FACHO_SNMP_RETRIES="1")
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-COMUNIDAD", olt_agents.port, "equivocada")
        job_id = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,),
                          max_retries=1, retry_delay_seconds=0)
        execution_id = new_execution(job_id, olt_id)
    with in_process_worker(app):
        send_execution(app, execution_id)
        row = wait_final(app, [execution_id], timeout_s=20)[execution_id]
    assert row.status == FAILED and row.attempt == 2
    assert row.error_message.startswith(
        f"Sin respuesta SNMP de 127.0.0.1:{olt_agents.port} "
        "(espera de 0.2 s por envío, 1 reintento SNMP)")
    assert "la comunidad" in row.error_message and "equivocada" not in row.error_message
    assert row.error_message.endswith("(falló en los 2 intentos)")
    assert onus(app, olt_id) == {}


WORKER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from app import create_app
    from facho.middleware.app_context import bind_app
    import dramatiq
    import actors  # noqa: F401 - the broker, with every actor declared
    import facho.executions.run as module
    module.BUSY_DELAY_MS = (50, 150)
    app = create_app()
    bind_app(app)
    worker = dramatiq.Worker(dramatiq.get_broker(), queues={{"discovery_main"}},
                             worker_threads=2, worker_timeout=100)
    worker.start()
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(1)
""")


def test_a_worker_killed_mid_walk_finishes_once_and_frees_its_olt_slot(tmp_path, redis_url,
                                                                       caplog):
    ttl_ms = 1500
    database = f"sqlite:///{tmp_path / 'facho.db'}"
    app = _app(tmp_path, FACHO_OLT_LEASE_TTL_MS=str(ttl_ms))
    caplog.set_level(logging.INFO, logger="facho.executions")
    import actors  # noqa: F401 - the broker, with every actor declared
    import facho.executions.run as module
    import dramatiq
    from dramatiq.brokers.redis import MAINTENANCE_SCALE
    with slow_huawei_agent(rows=300, delay_s=0.12) as agent:
        with app.app_context():
            seed_catalog()
            discovery_oid = int_discovery_oid()
            olt_id = make_olt("OLT-LENTA", agent.port, "publica", max_concurrent=1)
            first_job = make_job("Descubrir A", [discovery_oid], olt_ids=(olt_id,))
            second_job = make_job("Descubrir B", [discovery_oid], olt_ids=(olt_id,))
            first = new_execution(first_job, olt_id)
            second = new_execution(second_job, olt_id)
        script = tmp_path / "worker.py"
        script.write_text(WORKER_SCRIPT.format(repo=REPO))
        env = dict(os.environ, FACHO_ENV="testing", DATABASE_URL=database,
                   REDIS_URL=redis_url, SECRET_KEY="test-secret-key-0123456789",
                   FACHO_VAR_DIR=str(tmp_path), FACHO_OLT_LEASE_TTL_MS=str(ttl_ms),
                   FACHO_LOG_LEVEL="INFO")
        log_path = tmp_path / "worker.log"
        with open(log_path, "wb") as log_file:
            victim = subprocess.Popen([sys.executable, str(script)], env=env, cwd=REPO,
                                      stdout=subprocess.PIPE, stderr=log_file)
        try:
            assert victim.stdout.readline().startswith(b"ready"), log_path.read_text()
            limiter = OltLimiter(__import__("redis").Redis.from_url(redis_url))
            live_holders = lambda: [h.token for h in limiter.holders(olt_id)]  # noqa: E731
            with RowWatcher(app, [first, second], extra=live_holders) as watcher:
                send_execution(app, first)
                deadline = time.monotonic() + 15
                while not (fetch(app, first).status == RUNNING and len(agent.requests) >= 3):
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.01)
                victim_worker = fetch(app, first).worker
                assert victim_worker.split(":")[1] == str(victim.pid)
                assert len(agent.requests) < 10                  # mid-walk: 13 requests in all
                os.kill(victim.pid, signal.SIGKILL)
                killed_at = time.time()
                victim.wait(5)
                held = live_holders()
                assert len(held) == 1 and f":{victim.pid}:" in held[0]  # its lease outlived it

                broker = dramatiq.get_broker()
                saved = broker.heartbeat_timeout, broker.maintenance_chance
                # Dramatiq gives a dead worker's unacked messages back after its heartbeat
                # timeout (60 s in production); 2 s here, checked on every command.
                broker.heartbeat_timeout, broker.maintenance_chance = 2000, MAINTENANCE_SCALE
                try:
                    with in_process_worker(app, threads=2, queues=("discovery_main",)):
                        module_busy = module.BUSY_DELAY_MS
                        module.BUSY_DELAY_MS = (50, 150)
                        try:
                            send_execution(app, second)
                            rows = wait_final(app, [first, second], timeout_s=30)
                            # written just after the row's commit: wait while the worker runs
                            wait_for(lambda: end_lines(caplog, first), 30,
                                     "no end line for the resumed execution")
                        finally:
                            module.BUSY_DELAY_MS = module_busy
                finally:
                    broker.heartbeat_timeout, broker.maintenance_chance = saved
        finally:
            if victim.poll() is None:
                victim.kill()
                victim.wait(5)

    # the victim's slot freed within the lease TTL while the other executions waited
    freed = next(t for t, tokens in watcher.extra_seen
                 if t > killed_at and not any(f":{victim.pid}:" in x for x in tokens))
    assert freed - killed_at <= ttl_ms / 1000 + 0.3
    assert max(len(tokens) for _, tokens in watcher.extra_seen) == 1  # never two on the OLT

    # the interrupted execution: one attempt by the victim, then exactly one resumed attempt
    a, b = rows[first], rows[second]
    assert (a.status, a.attempt) == (SUCCESS, 2) and a.worker != victim_worker
    history = watcher.states(first)
    running = [s for s in history if s[0] == RUNNING]
    assert running == [(RUNNING, victim_worker, 1), (RUNNING, a.worker, 2)]
    after = history[history.index((RUNNING, a.worker, 2)):]
    assert all(worker == a.worker and attempt == 2 for _, worker, attempt in after)
    resumed_at = next(h[0] for h in watcher.history[first] if h[1:4] == (RUNNING, a.worker, 2))
    assert resumed_at > killed_at
    ends = end_lines(caplog, first)
    assert len(ends) == 1 and "status=SUCCESS" in ends[0]
    assert "event=execution_end" not in log_path.read_text()  # the victim never finished it

    # the other execution used the OLT once the slot was free, never alongside
    assert b.status == SUCCESS and b.attempt == 1 and b.started_at is not None
    intervals = sorted([(a.started_at, a.finished_at), (b.started_at, b.finished_at)])
    assert intervals[0][1] <= intervals[1][0]
    assert len(onus(app, olt_id)) == 300


@pytest.mark.parametrize("database,limit", [("sqlite", 1), ("postgresql", 1), ("sqlite", 3)])
def test_ten_executions_on_one_olt_respect_max_concurrent(request, database, limit,
                                                          fast_requeue):
    app = request.getfixturevalue("sqlite_app" if database == "sqlite" else "pg_app")
    with slow_huawei_agent(rows=100, delay_s=0.04) as agent:
        with app.app_context():
            seed_catalog()
            discovery_oid = int_discovery_oid()
            olt_id = make_olt("OLT-UNA", agent.port, "publica", max_concurrent=limit)
            job_id = make_job("Descubrir", [discovery_oid], olt_ids=(olt_id,))
            # ten slots of the same job (only one manual run per job and OLT may be active)
            base = utcnow().replace(microsecond=0)
            ids = [new_execution(job_id, olt_id, scheduled_for=base - timedelta(minutes=k))
                   for k in range(10)]
        with in_process_worker(app, threads=10):
            for execution_id in ids:
                send_execution(app, execution_id)
            rows = wait_final(app, ids, timeout_s=60)
    assert all(r.status == SUCCESS and r.attempt == 1 for r in rows.values()), [
        (r.status, r.attempt, r.error_message) for r in rows.values()]
    intervals = [(r.started_at, r.finished_at) for r in rows.values()]
    peak = peak_overlap(intervals)
    if limit == 1:
        assert peak == 1
        ordered = sorted(intervals)
        assert all(prev[1] <= nxt[0] for prev, nxt in zip(ordered, ordered[1:]))
    else:
        # the same measurement sees overlap when the OLT allows it
        assert 2 <= peak <= limit
    assert len(onus(app, olt_id)) == 100
    with app.app_context():
        assert db.session.get(Olt, olt_id).max_concurrent == limit


class _HoldBeforeTheActor:
    """Keeps a worker thread inside `before_process_message` (after Dramatiq registered it
    for shutdown notifications, before the actor body) until the worker stops, so that the
    Shutdown lands where the actor cannot hand its row back (as when a worker process
    takes a message at the moment it is told to stop, and builds the app or puts the
    message back first)."""

    def __init__(self):
        from dramatiq.middleware import Middleware

        self.entered, self.stopping = threading.Event(), threading.Event()
        self.interrupted: list[str] = []
        outer = self

        class Hold(Middleware):
            def before_worker_shutdown(self, broker, worker):
                outer.stopping.set()

            def before_process_message(self, broker, message):
                outer.entered.set()
                deadline = time.monotonic() + 10
                try:
                    while time.monotonic() < deadline:   # Shutdown lands in a sleep here
                        time.sleep(0.01)
                except BaseException as exc:
                    outer.interrupted.append(type(exc).__name__)
                    raise

        self.middleware = Hold()


def test_a_shutdown_that_interrupts_a_worker_thread_before_the_actor_keeps_the_message(
        tmp_path, redis_url, redis_client):
    """Dramatiq raises Shutdown in every thread registered for the message it took, also
    while the thread is still in a middleware hook; the actor never runs, so only
    Dramatiq sees the exception. The message must go back to the queue (the row stays
    PENDING and a later worker runs it), not to the dead letters with the row PENDING
    until the reconciler's grace."""
    import dramatiq
    from dramatiq.middleware import ShutdownNotifications

    import actors  # noqa: F401 - the broker, with every actor declared
    from facho import messaging
    from facho.scheduling.reconcile import inflight_execution_ids

    app = _app(tmp_path)
    hold = _HoldBeforeTheActor()
    broker = dramatiq.get_broker()
    with slow_huawei_agent(rows=20, delay_s=0.0) as agent:
        with app.app_context():
            seed_catalog()
            olt_id = make_olt("OLT", agent.port, "public")
            job_id = make_job("Descubrir", [int_discovery_oid()], olt_ids=(olt_id,),
                              max_retries=0)
            execution_id = new_execution(job_id, olt_id)
        broker.add_middleware(hold.middleware, after=ShutdownNotifications)
        try:
            with in_process_worker(app, threads=1):
                send_execution(app, execution_id)
                assert hold.entered.wait(20), "the worker did not take the message"
        finally:
            broker.middleware.remove(hold.middleware)
        assert hold.interrupted == ["Shutdown"]
        row = fetch(app, execution_id)
        assert (row.status, row.attempt) == (PENDING, 0)
        assert redis_client.zcard(messaging.dead_key("discovery_main")) == 0
        assert execution_id in inflight_execution_ids(redis_client)
        with in_process_worker(app, threads=1):
            row = wait_final(app, [execution_id], timeout_s=20)[execution_id]
    assert (row.status, row.attempt) == (SUCCESS, 1)
