"""An OLT's polling budget reaches every execution through its SNMP target
(`executions.targets.snmp_target`): a GetBulk-refusing OLT fails with the setting to change
and works in GETNEXT mode; executions running at once share the OLT's requests-per-second
cap; the agent sees no more walks at once than the OLT allows; many slow OLTs stay in
flight on one worker with bounded threads and file descriptors. Real executions
(`run_execution` or an in-process Dramatiq worker), real Redis, the fast agent on 127.0.0.1."""
from __future__ import annotations

import asyncio
import os
import threading

import pytest

import facho.executions.run as run_module
from facho.extensions import db
from facho.models import FAILED, SUCCESS, Olt, Onu, SnmpJob
from facho.ops.olt_sim import write_snmprec
from facho.snmp.codec import GETBULK, GETNEXT
from facho.snmp.shared_loop import shared_loop
from tests.execution_helpers import in_process_worker, run_now, send_execution, wait_final
from tests.factories import make_job, make_olt, new_execution, seed_catalog
from tests.snmp_agents import fast_agent


@pytest.fixture
def c300(sqlite_app, tmp_path):
    """A ZTE OLT (256 ONUs) served by the fast agent, with a discovery and a get job."""
    write_snmprec(tmp_path / "zte.snmprec", "zte", 256, seed=2)
    return sqlite_app, tmp_path / "zte.snmprec"


def _olt_with_jobs(app, port, **budget):
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("C300", port, "zte", marca="ZTE", modelo="C300", **budget)
        discover = make_job("Descubrir ZTE", ["ZTE ONU descubrimiento", "ZTE ONU nombre"],
                            marca="ZTE", olt_ids=(olt_id,))
        get = make_job("Potencia ZTE", ["ZTE ONU potencia RX"], marca="ZTE", job_type="get",
                       olt_ids=(olt_id,))
    return olt_id, discover, get


def test_an_olt_answering_getbulk_empty_fails_naming_the_setting_then_works_in_getnext_mode(c300):
    app, recording = c300
    with fast_agent(recording, bulk="empty") as agent:
        olt_id, discover, _ = _olt_with_jobs(app, agent.port, max_repetitions=25)
        with app.app_context():
            first = new_execution(discover, olt_id)
        failed = run_now(app, first)
        assert failed.status == FAILED
        assert "«Solo GETNEXT»" in failed.error_message
        assert "respondió vacío" in failed.error_message

        with app.app_context():
            db.session.get(Olt, olt_id).getnext_only = True
            db.session.commit()
            second = new_execution(discover, olt_id)
        before = agent.stats.pdus[GETBULK]
        done = run_now(app, second)
    assert done.status == SUCCESS, done.error_message
    assert done.result_summary["found"] == 256
    assert agent.stats.pdus[GETBULK] == before   # not one GetBulk in GETNEXT mode
    assert agent.stats.pdus[GETNEXT] >= 256


def test_an_olt_hanging_on_getbulk_fails_naming_the_getnext_setting(redis_url, tmp_path):
    """A ZTE C300 that never answers GetBulk (GET and GETNEXT work): the execution fails
    once its attempts run out, and its message says to try «Solo GETNEXT»."""
    from tests.conftest import _fresh_schema, make_test_app

    app = make_test_app(f"sqlite:///{tmp_path / 'facho.db'}", tmp_path,
                        FACHO_SNMP_TIMEOUT_S="0.3", FACHO_SNMP_RETRIES="0")
    _fresh_schema(app)
    write_snmprec(tmp_path / "zte.snmprec", "zte", 64, seed=2)
    with fast_agent(tmp_path / "zte.snmprec", bulk="silent") as agent:
        olt_id, discover, _ = _olt_with_jobs(app, agent.port, max_repetitions=25)
        with app.app_context():
            db.session.get(SnmpJob, discover).max_retries = 0   # the message, not the retries
            db.session.commit()
            execution = new_execution(discover, olt_id)
        failed = run_now(app, execution)
    assert failed.status == FAILED
    assert "Sin respuesta SNMP" in failed.error_message
    assert "«Solo GETNEXT»" in failed.error_message
    assert agent.stats.pdus[GETBULK] >= 1


CAP = 25


def test_two_executions_at_once_share_the_olt_requests_per_second(c300):
    app, recording = c300
    with fast_agent(recording) as agent:
        olt_id, discover, get = _olt_with_jobs(app, agent.port, max_repetitions=4,
                                               max_requests_per_second=CAP, max_concurrent=2)
        with app.app_context():
            ids = [new_execution(discover, olt_id), new_execution(get, olt_id)]
        rows = {}
        threads = [threading.Thread(target=lambda e=e: rows.update({e: run_now(app, e)}))
                   for e in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert [rows[e].status for e in ids] == [SUCCESS, SUCCESS], [rows[e].error_message
                                                                  for e in ids]
    assert agent.stats.requests > 2 * CAP
    assert agent.stats.peak_per_second <= CAP * 1.1, dict(agent.stats.per_second)


def test_max_concurrent_holds_at_the_agent_with_more_worker_threads_than_slots(
        sqlite_app, tmp_path, monkeypatch):
    """Six executions on one OLT allowing two at once, six worker threads free, 100 ms RTT:
    the agent never has more than two requests of this OLT waiting (each walk sends one
    at a time), and it did see two: the limit, not the worker, was the bound."""

    monkeypatch.setattr(run_module, "BUSY_DELAY_MS", (50, 150))   # requeue a busy OLT soon
    app = sqlite_app
    write_snmprec(tmp_path / "olt.snmprec", "huawei", 200, seed=3)
    with fast_agent(tmp_path / "olt.snmprec", rtt_ms=100) as agent:
        with app.app_context():
            seed_catalog()
            olt_id = make_olt("OLT", agent.port, "olt", max_concurrent=2, max_repetitions=10)
            jobs = [make_job(f"Descubrir {n}", ["Huawei ONT descubrimiento"],
                             olt_ids=(olt_id,)) for n in range(6)]
            ids = [new_execution(job, olt_id) for job in jobs]
        with in_process_worker(app, threads=6, queues=("discovery_main",)):
            for execution_id in ids:
                send_execution(app, execution_id)
            rows = wait_final(app, ids, timeout_s=60)
    assert {r.status for r in rows.values()} == {SUCCESS}, [r.error_message
                                                            for r in rows.values()]
    assert agent.stats.peak_outstanding == 2


# --- many slow OLTs in flight on one worker ---------------------------------------------

OLTS, WORKER_THREADS, ONUS_PER_OLT, RTT_MS = 200, 200, 64, 500


def test_many_slow_olts_in_flight_on_one_worker_with_bounded_threads_and_fds(pg_app, tmp_path):
    """200 OLTs 500 ms away, discovered by one in-process Dramatiq worker with 200 threads
    on PostgreSQL: every worker thread keeps one walk in flight at the agent at once (the
    database pool's 15 connections do not hold them back: a walk holds none), the process
    gains one thread per walk in flight and one socket, and every OLT's ONUs are stored.
    Small GetBulks (x4: 17 requests, 8.5 s a walk) so that the walks, not the store, fill
    the time."""

    app = pg_app
    recording = tmp_path / "olt.snmprec"
    write_snmprec(recording, "huawei", ONUS_PER_OLT, seed=4)
    communities = {f"olt{n}": recording for n in range(OLTS)}
    shared_loop().run(asyncio.sleep(0))          # the loop's own thread and fds exist now
    with fast_agent(communities, rtt_ms=RTT_MS) as agent:
        with app.app_context():
            seed_catalog()
            olt_ids = [make_olt(f"OLT{n}", agent.port, f"olt{n}", max_repetitions=4)
                       for n in range(OLTS)]
            job = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=tuple(olt_ids))
            ids = [new_execution(job, olt_id) for olt_id in olt_ids]
        peaks = {"threads": 0, "fds": 0}
        sampling = threading.Event()

        def sample():
            while not sampling.wait(0.02):
                peaks["threads"] = max(peaks["threads"], threading.active_count())
                peaks["fds"] = max(peaks["fds"], len(os.listdir("/proc/self/fd")))

        threads_before = threading.active_count()
        fds_before = len(os.listdir("/proc/self/fd"))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with in_process_worker(app, threads=WORKER_THREADS, queues=("discovery_main",)):
            for execution_id in ids:
                send_execution(app, execution_id)
            rows = wait_final(app, ids, timeout_s=60)
        sampling.set()
        sampler.join()
    assert {r.status for r in rows.values()} == {SUCCESS}, {
        i: r.error_message for i, r in rows.items() if r.status != SUCCESS}
    with app.app_context():
        stored = db.session.execute(db.select(db.func.count(Onu.id))).scalar_one()
    assert stored == OLTS * ONUS_PER_OLT
    # in flight together at the agent: (nearly) one walk per worker thread
    assert agent.stats.peak_outstanding >= WORKER_THREADS * 4 // 5, agent.stats.peak_outstanding
    # one thread per walk in flight (the worker thread waiting on it), plus the worker's
    # own and the two keepers shared by every execution (heartbeats, OLT leases): a
    # thread per renewal would be three per walk
    assert peaks["threads"] <= threads_before + WORKER_THREADS + 10, peaks["threads"]
    # a UDP socket per walk in flight and the database pool's connections (5 + 10
    # overflow), not an event loop (epoll + self-pipe) per thread
    assert peaks["fds"] <= fds_before + WORKER_THREADS + 15 + 10
