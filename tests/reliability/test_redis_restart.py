"""Fault: Redis restarted empty while executions are pending and delayed (issue 6).

Real parts: a private redis-server (nothing saved, so a restart loses every message), a
real `dramatiq` worker process, real UDP agents on 127.0.0.1, a SQLite database shared by
the worker, the reconciler (`flask facho recover`, a subprocess) and the panel (the staff
test client of an app configured on the same private Redis).

In flight when Redis goes away:
- one discovery walking a slow OLT that takes one execution at a time (RUNNING);
- two executions of other jobs on that OLT, bouncing as BUSY re-sends (delayed messages);
- three executions sent with a 30 s delay (as a retry backoff does);
- two slots reserved ahead by the tick, whose per-second fan-out message is delayed.

The reconciler leaves messages alone for 60 s (`reconcile.GRACE_S`: a young PENDING row is
a queue, not a loss). The busy and delayed executions here are made two minutes old in the
database so that grace applies as it would in production, instead of the test waiting.

No fixed sleeps: the worker writes what it holds in memory (`_restart_worker.WorkerState`),
and the test waits until every consumer has dropped its delayed messages (the outage), then
until the worker holds no message that Redis lost (what it still had in memory is flushed:
re-sent, or gone for good), before it counts the lost ones.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import redis as redis_lib
import sqlalchemy as sa
from dramatiq.brokers.redis import RedisBroker

from facho.config import REPO_ROOT
from facho.scheduling import claim

from facho import messaging

from facho.scheduling import release

from facho.scheduling import schedule
from facho.scheduling import reconcile
from facho.messaging import NAMESPACE
from facho.extensions import db
from facho.models import PENDING, RUNNING, SUCCESS, Execution, SnmpJob, utcnow
from facho.executions.olt_limiter import OltLimiter
from tests.conftest import _fresh_schema, create_user, login, make_test_app, require
from tests.execution_helpers import (fetch, onus, peak_overlap, slow_huawei_agent, wait_final,
                                     wait_for)
from tests.factories import int_discovery_oid, make_job, make_olt, seed_catalog
from tests.processes import start_process, stop_process
from tests.reliability._servers import PrivateRedis, redis_binary

REPO = REPO_ROOT
SLOW_ROWS, FAST_ROWS = 600, 40
T = Execution.__table__


def _statuses_on_page(html: str) -> dict[int, str]:
    """{execution id: status} of the rows of the panel's executions list."""
    found = {}
    for chunk in html.split('name="rowid"')[1:]:
        row_id = re.search(r'value="(\d+)"', chunk)
        status = re.search(r'class="badge badge-\w+"[^>]*data-status="([A-Z]+)"', chunk)
        if row_id and status:
            found[int(row_id.group(1))] = status.group(1)
    return found


def _panel(client) -> tuple[int, dict[int, str], int, str, int]:
    """(list status code, statuses shown, dashboard code, dashboard html, healthz code)."""
    listing = client.get("/admin/executions/?page_size=100")
    dashboard = client.get("/admin/")
    health = client.get("/healthz")
    return (listing.status_code, _statuses_on_page(listing.get_data(as_text=True)),
            dashboard.status_code, dashboard.get_data(as_text=True), health.status_code)


def _ends_in_log(log_text: str, execution_id: int) -> int:
    return len(re.findall(rf"event=execution_end execution={execution_id} ", log_text))


def _peak_on_olt(rows) -> int:
    """Most executions of `rows` (with start and end) that overlapped in time."""
    return peak_overlap([(r.started_at, r.finished_at) for r in rows])


class _Lazy:
    """A failure message computed only when shown."""

    def __init__(self, make):
        self.make = make

    def __str__(self) -> str:
        return self.make()


def _latest_state(path: Path, newer_than: float) -> dict | None:
    """The worker's last `WorkerState` snapshot if taken after `newer_than` (epoch s)."""
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return state if state["at"] > newer_than else None


def _dropped_delayed(state: dict | None, before: dict) -> bool:
    """Every consumer met the outage: it replaced its delay queue (what it held is dropped),
    or its thread died (a broker bug: the executions it held stay PENDING, and the test
    says so at the end)."""
    return state is not None and all(
        not seen["alive"] or seen["delay_queue"] != before["consumers"][queue]["delay_queue"]
        for queue, seen in state["consumers"].items())


def _holds_nothing_redis_lost(state: dict | None, client, execution_ids) -> bool:
    """Every message of `execution_ids` the worker holds is still in Redis (fetched after
    the restart): nothing it took before the outage can be re-sent any more."""
    return state is not None and state["settled"] and all(
        client.hexists(f"{NAMESPACE}:{held['queue']}.msgs", held["redis_id"])
        for held in state["held"] if held["execution"] in execution_ids)


def test_redis_restarted_empty_loses_nothing_and_each_execution_runs_once(tmp_path,
                                                                          reliability):
    require(redis_binary() is not None, "a redis-server binary for a private Redis")
    private = PrivateRedis()
    private.start()
    worker = None
    client = redis_lib.Redis.from_url(private.url)
    side_broker = RedisBroker(url=private.url, namespace=NAMESPACE, middleware=[])
    sender = messaging.DramatiqSender(side_broker)
    database = f"sqlite:///{tmp_path / 'facho.db'}"
    app = make_test_app(database, tmp_path, REDIS_URL=private.url)
    _fresh_schema(app)
    marks = {"begin": time.monotonic()}
    try:
        with slow_huawei_agent(rows=SLOW_ROWS, delay_s=0.5) as slow, \
                slow_huawei_agent(rows=FAST_ROWS, delay_s=0.0) as fast:
            later = utcnow() + timedelta(hours=12)
            with app.app_context():
                seed_catalog()
                discovery_oid = int_discovery_oid()
                lenta = make_olt("OLT-LENTA", slow.port, "public", max_concurrent=1)
                rapidas = [make_olt(f"OLT-RAPIDA-{i}", fast.port, "public") for i in range(3)]
                quiet = dict(next_run_at=later, anchor_at=later, max_retries=0)
                jobs = {name: make_job(name, [discovery_oid], olt_ids=olts, **quiet)
                        for name, olts in (("Descubrir A", (lenta,)), ("Descubrir B", (lenta,)),
                                           ("Descubrir C", (lenta,)),
                                           ("Descubrir diferida", tuple(rapidas)))}
                jobs["Descubrir reservada"] = make_job(
                    "Descubrir reservada", [discovery_oid], olt_ids=tuple(rapidas[:2]),
                    interval_raw="1h", max_retries=0)
                create_user(app)
            panel = app.test_client()
            assert login(panel).status_code == 302

            env = dict(os.environ, FACHO_ENV="testing", DATABASE_URL=database,
                       REDIS_URL=private.url, FACHO_VAR_DIR=str(tmp_path),
                       SECRET_KEY="test-secret-key-0123456789", FACHO_LOG_LEVEL="INFO",
                       PYTHONPATH=str(REPO), FACHO_SNMP_TIMEOUT_S="3",
                       # renewals every TTL/3 = 1 s: the lease is back long before the
                       # reconciler acts, as in production (10 s against >= 60 s)
                       FACHO_OLT_LEASE_TTL_MS="3000")
            worker_log = tmp_path / "worker.log"
            state_path = tmp_path / "worker-state.json"
            worker = start_process(
                [str(Path(sys.executable).parent / "dramatiq"), "actors", "actors.executions",
                 "tests.reliability._restart_worker", "--processes", "1", "--threads", "2", "--queues", "discovery_main",
                 "get_main"],
                dict(env, FACHO_TEST_WORKER_STATE=str(state_path)), worker_log, REPO)
            wait_for(lambda: client.keys(f"{NAMESPACE}:worker:*") or worker.poll() is not None,
                      30, "worker did not start")
            assert worker.poll() is None, worker_log.read_text()[-3000:]
            marks["worker_up"] = time.monotonic()

            def manual(job_name, olt_id, delay_ms=0):
                with app.app_context():
                    row = Execution(job_id=jobs[job_name], olt_id=olt_id, job_host_id=db.session
                                    .execute(sa.text("SELECT id FROM job_hosts WHERE job_id=:j "
                                                     "AND olt_id=:o"), {"j": jobs[job_name],
                                                                        "o": olt_id}).scalar())
                    db.session.add(row)
                    db.session.commit()
                    out = messaging.Outgoing(row.id, "descubrimiento", f"test-{row.id}", delay_ms)
                    row.message_id = out.message_id
                    db.session.commit()
                    sender.send_executions([out])
                    return row.id

            running = manual("Descubrir A", lenta)
            wait_for(lambda: fetch(app, running).status == RUNNING and len(slow.requests) >= 2,
                      30, "the slow walk did not start")
            busy = [manual("Descubrir B", lenta), manual("Descubrir C", lenta)]
            # a BUSY re-send records its new message id: both are bouncing now
            wait_for(lambda: all(fetch(app, i).message_id != f"test-{i}" for i in busy),
                      15, "the busy executions were not re-sent")
            delayed = [manual("Descubrir diferida", o, delay_ms=30_000) for o in rapidas]
            with app.app_context():
                job = db.session.get(SnmpJob, jobs["Descubrir reservada"])
                slot = (utcnow() + timedelta(seconds=5)).replace(microsecond=0)
                job.anchor_at = job.next_run_at = slot
                db.session.commit()
                ticked = claim.tick(utcnow(), sender=sender)
                assert (ticked.claimed, ticked.armed) == (2, 1)
                reserved = db.session.execute(sa.select(T.c.id).where(
                    T.c.job_id == jobs["Descubrir reservada"])).scalars().all()
                # two minutes old: past the reconciler's grace, as a real backlog would be
                db.session.execute(T.update().where(T.c.id.in_(busy + delayed))
                                   .values(created_at=utcnow() - timedelta(minutes=2)))
                db.session.commit()
            waiting = busy + delayed + reserved
            everything = [running] + waiting
            assert reconcile.inflight_execution_ids(client) >= set(busy + delayed)
            assert release.armed_slot_epochs(client) == {schedule.slot_epoch_s(slot)}

            # --- Redis goes away, comes back empty --------------------------------------
            before = wait_for(lambda: _latest_state(state_path, 0), 30, "no worker state")
            marks["restart"] = time.monotonic()
            stopped_at = time.time()
            private.stop()
            down_code, down_seen, down_dash_code, down_dash, down_health = _panel(panel)
            # down until every consumer of the worker has met the outage (they poll every
            # second) and dropped the delayed messages it held in memory
            wait_for(lambda: _dropped_delayed(_latest_state(state_path, stopped_at), before),
                     30, "a consumer of the worker kept its delayed messages through the outage")
            private.start()
            up_at = time.time()
            downtime_s = up_at - stopped_at
            # the worker reconnects by itself: its consumers heartbeat again
            wait_for(lambda: client.zcard(f"{NAMESPACE}:__heartbeats__") > 0, 30,
                      "the worker did not reconnect to Redis")
            reconnect_s = time.time() - up_at
            assert worker.poll() is None, worker_log.read_text()[-3000:]
            # what the worker still held from before the outage is flushed: re-sent (busy
            # executions) or gone for good, so `lost` is what the reconciler will find
            reconnected_at = time.time()
            wait_for(lambda: _holds_nothing_redis_lost(
                _latest_state(state_path, reconnected_at), client, set(waiting)), 30,
                _Lazy(lambda: "the worker kept messages Redis had lost: " + json.dumps(
                    _latest_state(state_path, 0)) + " " + str({
                        i: fetch(app, i).status for i in everything})))
            inflight = reconcile.inflight_execution_ids(client)
            lost = [i for i in waiting if i not in inflight and fetch(app, i).status == PENDING]
            up_code, up_seen, up_dash_code, up_dash, _ = _panel(panel)

            # the reserved slot's arming died with Redis: the reconciler sweeps it once its
            # slot has come (before that it is not due; no scheduler runs in this test)
            wait_for(lambda: utcnow() >= slot, 30, "the reserved slot did not come")
            marks["recover"] = time.monotonic()
            recover = subprocess.run(
                [str(Path(sys.executable).parent / "flask"), "--app", "app", "facho",
                 "recover"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
            slow.delay_s = 0.01      # the rest of the walks go fast
            marks["recovered"] = time.monotonic()
            rows = wait_final(app, everything, timeout_s=60)
            marks["final"] = time.monotonic()
            again = subprocess.run(
                [str(Path(sys.executable).parent / "flask"), "--app", "app", "facho",
                 "recover"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    finally:
        if worker is not None:
            stop_process(worker)
        side_broker.close()
        client.close()
        private.cleanup()
        with app.app_context():
            db.engine.dispose()

    log_text = worker_log.read_text()
    figures = dict(re.findall(r"(\w+)=(\d+)", recover.stdout))
    runs = {i: _ends_in_log(log_text, i) for i in everything}
    on_lenta = [rows[i] for i in [running] + busy]
    reliability.record(
        "fault", "Redis reiniciado vacío con ejecuciones pendientes y diferidas",
        downtime_s=downtime_s, reconnect_s=reconnect_s, executions=len(everything),
        lost_messages=len(lost), resent=int(figures.get("resent", -1)),
        swept=int(figures.get("swept", -1)), second_pass_resent=again.stdout.strip(),
        runs_per_execution=sorted(set(runs.values())),
        duplicates=sum(n - 1 for n in runs.values() if n > 1),
        attempts=sorted({r.attempt for r in rows.values()}),
        peak_on_one_slot_olt=_peak_on_olt(on_lenta),
        panel_list_during_outage=down_code, dashboard_during_outage=down_dash_code,
        healthz_during_outage=down_health,
        phases_s={name: round(at - marks["begin"], 1) for name, at in marks.items()})

    # meanwhile the panel told the truth: the database's states, and that Redis was down
    assert down_code == 200 and up_code == 200
    assert down_seen[running] == RUNNING and all(down_seen[i] == PENDING for i in waiting)
    assert all(up_seen[i] == PENDING for i in lost)
    assert down_dash_code == 200 and "Redis no responde" in down_dash
    assert down_health == 503
    assert up_dash_code == 200 and "Redis no responde" not in up_dash
    # the restart really lost their messages; the reconciler sent each one again
    assert recover.returncode == 0, recover.stdout + recover.stderr
    assert len(lost) >= len(delayed) + len(reserved)
    assert int(figures["resent"]) + int(figures["swept"]) == len(lost)
    assert int(figures["swept"]) == len(reserved)
    assert again.returncode == 0 and "resent=0" in again.stdout and "swept=0" in again.stdout
    # and each execution ran exactly once, one at a time on the one-slot OLT
    assert {r.status for r in rows.values()} == {SUCCESS}, {
        i: (r.status, r.error_message) for i, r in rows.items()}
    assert {r.attempt for r in rows.values()} == {1}
    assert set(runs.values()) == {1}, runs
    assert _peak_on_olt(on_lenta) == 1
    assert len(onus(app, lenta)) == SLOW_ROWS
    assert all(len(onus(app, o)) == FAST_ROWS for o in rapidas)


def test_a_running_holder_takes_its_olt_slot_back_after_redis_comes_back_empty(
        redis_client, reliability):
    """The lease of a walk in progress vanishes with an empty restart (a flushed database
    here); the holder must take it back at its next renewal, or a second execution would
    join it on an OLT that allows one. An operator's `free` still wins."""
    limiter = OltLimiter(redis_client)
    with limiter.hold(7, 1, ttl_ms=300) as held:
        redis_client.flushdb()
        emptied_at = time.monotonic()
        wait_for(lambda: limiter.holders(7), 2, "the slot was not taken back")
        back_s = time.monotonic() - emptied_at
        intruder = limiter.acquire(7, "intruder", limit=1)
        assert not held.lost.is_set()
        assert limiter.free(7) == 1                 # the operator frees it: it stays freed
        time.sleep(0.3)
        assert held.lost.is_set() and limiter.holders(7) == []
    reliability.record("fault", "cupo de OLT perdido al vaciarse Redis", retaken_s=back_s,
                       intruder_admitted=intruder)
    assert intruder is False
