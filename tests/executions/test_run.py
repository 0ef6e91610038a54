"""The execution actors on a real in-process dramatiq.Worker and the real Redis broker
(database 13), against snmpsim agents on 127.0.0.1."""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from facho import messaging
from facho.extensions import db
from facho.models import (FAILED, INTERRUPTED, PENDING, RUNNING, SUCCESS, Execution,
                          SnmpJobHost, utcnow)
from facho.executions.olt_limiter import OltLimiter
from tests.execution_helpers import (end_lines, fetch, in_process_worker, onus, wait_final,
                                     wait_for)
from tests.factories import make_job, make_olt, new_execution, seed_catalog


@pytest.fixture
def zte(sqlite_app, olt_agents):
    """The simulated ZTE C320 (256 ONUs) with a discovery and a get job."""
    app = sqlite_app
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("C320-SIM", olt_agents.port, "zte_sim", marca="ZTE", modelo="C320")
        discover = make_job("Descubrir ZTE", ["ZTE ONU descubrimiento", "ZTE ONU nombre"],
                            marca="ZTE", olt_ids=(olt_id,))
        get = make_job("Potencia ZTE", ["ZTE ONU potencia RX"], marca="ZTE", job_type="get",
                       olt_ids=(olt_id,))
    return app, olt_id, discover, get


@pytest.fixture
def fast_requeue(monkeypatch):
    import actors  # noqa: F401 - the broker, with every actor declared
    import facho.executions.run as module
    monkeypatch.setattr(module, "BUSY_DELAY_MS", (50, 150))
    monkeypatch.setattr(module, "RATE_JITTER_MS", (10, 50))
    return module


def _send(app, execution_id, job_type):
    with app.app_context():
        message_id = messaging.send_execution(execution_id, job_type)
        row = db.session.get(Execution, execution_id)
        row.message_id = message_id
        db.session.commit()
    return message_id


def test_discovery_then_get_through_the_worker(zte, olt_agents, caplog):
    app, olt_id, discover, get = zte
    caplog.set_level(logging.INFO, logger="facho.executions")
    with app.app_context():
        first = new_execution(discover, olt_id)
    with in_process_worker(app):
        _send(app, first, "descubrimiento")
        row = wait_final(app, [first])[first]
        assert row.status == SUCCESS, row.error_message
        with app.app_context():
            second = new_execution(get, olt_id)
        _send(app, second, "get")
        got = wait_final(app, [second])[second]
        # the end line is written just after the row's commit: wait for it while the
        # worker runs (a loaded machine can hold that thread between the two)
        wait_for(lambda: len(end_lines(caplog)) >= 2, 30, "no end line for the get")
    assert got.status == SUCCESS, got.error_message
    truth = {".".join(map(str, o.index)): o for o in olt_agents.zte}
    assert row.result_summary["found"] == len(truth) and row.attempt == 1
    assert row.worker and row.started_at <= row.finished_at and row.duration_ms >= 0
    assert got.result_summary["method"] == "walk"   # ZTE rx rows carry a trailing .1
    stored = onus(app, olt_id)
    assert set(stored) == set(truth)
    for raw, sim in truth.items():
        assert stored[raw].descripcion == sim.description
        assert stored[raw].name == f"1/{sim.slot}/{sim.port}:{sim.onu_id}"
        if sim.rx_dbm is None:
            assert stored[raw].rx_power is None
        else:
            assert stored[raw].rx_power == pytest.approx(sim.rx_dbm, abs=0.002)
    ends = end_lines(caplog)
    assert len(ends) == 2
    assert f"execution={first} " in ends[0] and "status=SUCCESS" in ends[0]
    assert f"found={len(truth)}" in ends[0] and "olt=C320-SIM" in ends[0]
    assert not any("zte_sim" in r.getMessage() for r in caplog.records)  # the community


def test_a_message_delivered_three_times_runs_the_execution_once(zte, olt_agents):
    app, olt_id, discover, _ = zte
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    with in_process_worker(app, threads=3):
        for _ in range(3):
            _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
        time.sleep(0.5)  # let the other deliveries finish too
        row = fetch(app, execution_id)
    assert row.status == SUCCESS and row.attempt == 1
    assert row.result_summary["new"] == len(olt_agents.zte)
    assert len(onus(app, olt_id)) == len(olt_agents.zte)


def test_a_disabled_job_host_interrupts_the_execution_before_any_snmp(zte, olt_agents):
    app, olt_id, discover, _ = zte
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
        # A Core UPDATE skips the panel's listener that interrupts PENDING executions at
        # once (facho.scheduling.edits): the worker's own check must catch it.
        hosts = SnmpJobHost.__table__
        db.session.execute(hosts.update().where(hosts.c.job_id == discover)
                           .values(enabled=False))
        db.session.commit()
        assert db.session.get(Execution, execution_id).status == PENDING
    with in_process_worker(app):
        _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == INTERRUPTED and row.attempt == 0 and row.started_at is None
    assert row.error_message == "Interrumpida: la tarea está deshabilitada para esta OLT"
    assert onus(app, olt_id) == {}


def test_a_busy_olt_re_sends_the_execution_without_using_a_retry(zte, redis_client,
                                                                   fast_requeue):
    app, olt_id, discover, _ = zte
    limiter = OltLimiter(redis_client)
    assert limiter.acquire(olt_id, "someone-else", limit=1, ttl_ms=60_000)
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    with in_process_worker(app):
        first_message = _send(app, execution_id, "descubrimiento")
        seen = set()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            row = fetch(app, execution_id)
            assert row.status == PENDING and row.attempt == 0
            seen.add(row.message_id)
            time.sleep(0.05)
        assert len(seen - {first_message}) >= 3      # re-sent again and again
        limiter.release(olt_id, "someone-else")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == SUCCESS and row.attempt == 1


def test_the_start_rate_limit_delays_the_start(zte, redis_client, fast_requeue):
    app, olt_id, discover, _ = zte
    with app.app_context():
        from facho.models import Olt
        db.session.get(Olt, olt_id).max_starts_per_minute = 1
        db.session.commit()
        execution_id = new_execution(discover, olt_id)
    limiter = OltLimiter(redis_client)
    now = limiter.server_now()
    # one start 58.5 s ago fills the window for 1.5 s more: until `frees_at` (Redis clock,
    # the one the limiter uses; the worker starting up eats into that wait, so the wait
    # is measured from here, not from the send)
    assert limiter.start_wait_ms(olt_id, 1, now_ms=int(now.timestamp() * 1000) - 58_500) == 0
    frees_at = now + timedelta(seconds=1.5)
    with in_process_worker(app):
        first_message = _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == SUCCESS and row.attempt == 1
    assert row.message_id != first_message            # re-sent while the window was full
    assert row.started_at >= frees_at - timedelta(milliseconds=50)


def test_a_bug_ends_as_failed_with_a_spanish_message(zte, monkeypatch):
    app, olt_id, discover, _ = zte
    from facho.inventory import discovery

    def broken(*args, **kwargs):
        raise KeyError("campo")

    monkeypatch.setattr(discovery, "discover", broken)
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    with in_process_worker(app):
        _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == FAILED and row.finished_at is not None
    assert row.error_message.startswith("Error interno del trabajador (KeyError")


def _running(app, execution_id, worker, heartbeat_age_s):
    with app.app_context():
        row = db.session.get(Execution, execution_id)
        row.status, row.worker, row.attempt = RUNNING, worker, 1
        row.started_at = row.heartbeat_at = utcnow() - timedelta(seconds=heartbeat_age_s)
        db.session.commit()


def test_a_stale_running_execution_is_resumed_as_a_new_attempt(zte):
    app, olt_id, discover, _ = zte
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    _running(app, execution_id, "otro-host:4242:1", heartbeat_age_s=300)
    with in_process_worker(app):
        _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == SUCCESS and row.attempt == 2
    assert row.worker.startswith(socket.gethostname() + ":")


def test_a_live_owner_on_another_host_is_left_alone_and_looked_at_later(zte):
    app, olt_id, discover, _ = zte
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    _running(app, execution_id, "otro-host:4242:1", heartbeat_age_s=1)
    with in_process_worker(app):
        message = _send(app, execution_id, "descubrimiento")
        deadline = time.monotonic() + 5
        while fetch(app, execution_id).message_id == message:
            assert time.monotonic() < deadline, "the redelivery was not re-sent for later"
            time.sleep(0.05)
        row = fetch(app, execution_id)
    assert (row.status, row.worker, row.attempt) == (RUNNING, "otro-host:4242:1", 1)
    assert onus(app, olt_id) == {}


def test_a_dead_worker_process_of_this_host_is_taken_over_at_once(zte):
    app, olt_id, discover, _ = zte
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _running(app, execution_id, f"{socket.gethostname()}:{gone.pid}:1", heartbeat_age_s=1)
    with in_process_worker(app):
        _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id], timeout_s=20)[execution_id]
    assert row.status == SUCCESS and row.attempt == 2
    assert row.worker != f"{socket.gethostname()}:{gone.pid}:1"


def test_a_long_walk_heartbeats_and_the_time_limit_ends_it_as_failed(sqlite_app, monkeypatch):
    import dramatiq

    import actors  # noqa: F401 - the broker, with every actor declared

    import facho.executions.run as module
    from tests.execution_helpers import slow_huawei_agent
    from tests.factories import int_discovery_oid
    monkeypatch.setattr(module, "HEARTBEAT_EVERY_S", 0.2)
    app = sqlite_app
    with slow_huawei_agent(rows=300, delay_s=0.2) as agent:     # 13 requests, about 2.6 s
        with app.app_context():
            seed_catalog()
            discovery_oid = int_discovery_oid()
            olt_id = make_olt("OLT-LENTA", agent.port, "publica")
            job_id = make_job("Descubrir", [discovery_oid], olt_ids=(olt_id,))
            execution_id = new_execution(job_id, olt_id)
        with in_process_worker(app):
            _send(app, execution_id, "descubrimiento")
            beats = set()
            deadline = time.monotonic() + 30
            while (row := fetch(app, execution_id)).status in (PENDING, RUNNING):
                assert time.monotonic() < deadline
                if row.status == RUNNING:
                    beats.add(row.heartbeat_at)
                time.sleep(0.05)
            with app.app_context():
                # the same walk with a 1.2 s time limit on its message
                limited_id = new_execution(job_id, olt_id)
                message = messaging.execution_message(limited_id, "descubrimiento")
                dramatiq.get_broker().enqueue(message.copy(options={"time_limit": 1200}))
            limited = wait_final(app, [limited_id])[limited_id]
    assert row.status == SUCCESS and row.duration_ms >= 2000
    assert len(beats) >= 5                   # refreshed every 0.2 s during a 2.6 s walk
    assert limited.status == FAILED and limited.attempt == 1 and limited.finished_at
    assert limited.error_message.startswith("La ejecución superó el tiempo límite")
    assert len(onus(app, olt_id)) == 300     # the first walk's inventory, untouched


def test_a_time_limit_raised_in_the_waiting_worker_thread_cancels_the_walk():
    """Dramatiq's time limit is raised asynchronously in the worker thread (as here, with
    PyThreadState_SetAsyncExc); the thread waits while the walk runs on the shared loop,
    so run_snmp raises it there and the walk's task is cancelled."""
    import asyncio
    import ctypes
    import threading

    from dramatiq.middleware import TimeLimitExceeded

    from facho.executions.targets import run_snmp

    cancelled = threading.Event()

    async def walk():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "finished"

    worker = threading.get_ident()
    timer = threading.Timer(0.2, lambda: ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(worker), ctypes.py_object(TimeLimitExceeded)))
    started = time.monotonic()
    timer.start()
    with pytest.raises(TimeLimitExceeded):
        run_snmp(walk())
    assert time.monotonic() - started < 2
    assert cancelled.wait(2)
    assert run_snmp(asyncio.sleep(0, "plain")) == "plain"   # the loop still works afterwards


def test_a_redis_hiccup_before_the_start_re_sends_instead_of_orphaning_the_row(
        zte, monkeypatch, fast_requeue):
    import redis

    app, olt_id, discover, _ = zte
    from facho.executions import recovery
    monkeypatch.setattr(recovery, "INFRA_RETRY_MS", (100, 200))
    calls = []
    real_acquire = OltLimiter.acquire

    def flaky_acquire(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise redis.ConnectionError("Redis se reinicia")
        return real_acquire(self, *args, **kwargs)

    monkeypatch.setattr(OltLimiter, "acquire", flaky_acquire)
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    with in_process_worker(app):
        first_message = _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == SUCCESS and row.attempt == 1 and len(calls) == 2
    assert row.message_id != first_message


def test_a_bug_before_the_start_fails_the_pending_row(zte, monkeypatch):
    app, olt_id, discover, _ = zte
    from facho.executions import transitions as executions

    def broken(execution):
        raise AttributeError("sin atributo")

    monkeypatch.setattr(executions, "disabled_reason", broken)
    with app.app_context():
        execution_id = new_execution(discover, olt_id)
    with in_process_worker(app):
        _send(app, execution_id, "descubrimiento")
        row = wait_final(app, [execution_id])[execution_id]
    assert row.status == FAILED and row.attempt == 0 and row.finished_at is not None
    assert row.error_message.startswith("Error interno del trabajador (AttributeError")
