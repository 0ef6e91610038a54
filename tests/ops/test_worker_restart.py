"""`flask facho restart` (issue 9, 3.8): a graceful restart of the `dramatiq` worker
processes through Redis (facho/ops/worker_restart.py, facho/middleware/restart.py).

The live test runs what the Procfile runs: a real `dramatiq actors` process (its main
process and one worker process) on real Redis and a SQLite file, a slow fake OLT so an
execution is RUNNING when the restart comes, and the command as a subprocess. Every wait
is a condition with a deadline.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import sqlalchemy as sa

from facho.config import REPO_ROOT
from facho.ops import worker_restart
from facho.messaging import NAMESPACE
from facho.extensions import db
from facho.messaging import send_execution
from facho.models import RUNNING, SUCCESS, Execution, Onu
from tests.execution_helpers import fetch, slow_huawei_agent, wait_final, wait_for
from tests.factories import int_discovery_oid, make_job, make_olt, new_execution, seed_catalog
from tests.processes import start_process, stop_process

REPO = REPO_ROOT
BIN = Path(sys.executable).parent
SLOW_ROWS = 400          # 17 requests of 25 rows once released; 400 requests while held
NO_WORKER = "ningún worker confirmó el reinicio"


def _worker_ids(client) -> set[str]:
    return {k.decode().split(":", 2)[2] for k in client.scan_iter(f"{NAMESPACE}:worker:*")}


def _flask(env, *args, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "app", "facho", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=timeout_s)


def _one_row_per_request_until(agent, released: threading.Event) -> None:
    """Until `released` is set the agent answers each GetBulk with one row, so the walk
    (one request per row, `delay_s` each) outlasts every wait of the test: it is still
    running when the restart request reaches its worker process, however long the
    `flask` command takes to start (8-9 s at load 9 on 2 cores, longer than the whole
    17-request walk)."""
    policy = agent.policy
    agent.policy = lambda kind, oids, repetitions: policy(
        kind, oids, repetitions if released.is_set() else 1)


def test_restart_hands_back_a_running_execution_and_dramatiq_starts_new_worker_processes(
        sqlite_app, redis_client, tmp_path):
    """Two worker processes under one `dramatiq` main (one SIGHUP for both), one of them
    walking a slow OLT when the restart comes."""
    app = sqlite_app
    released = threading.Event()
    with slow_huawei_agent(rows=SLOW_ROWS, delay_s=0.5) as slow:
        _one_row_per_request_until(slow, released)
        with app.app_context():
            seed_catalog()
            olt = make_olt("OLT-LENTA", slow.port, "public")
            job = make_job("Descubrir lenta", [int_discovery_oid()], olt_ids=(olt,),
                           max_retries=0)
            execution_id = new_execution(job, olt)
        env = dict(os.environ, FACHO_ENV="testing",
                   DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   REDIS_URL=os.environ["REDIS_URL"], FACHO_VAR_DIR=str(tmp_path),
                   SECRET_KEY="test-secret-key-0123456789", FACHO_LOG_LEVEL="INFO",
                   PYTHONPATH=str(REPO), FACHO_SNMP_TIMEOUT_S="3")
        log_path = tmp_path / "worker.log"
        main = start_process([str(BIN / "dramatiq"), "actors", "actors.executions",
                              "--processes", "2", "--threads", "2",
                              "--queues", "discovery_main", "get_main"], env, log_path, REPO)
        try:
            old = wait_for(lambda: len(_worker_ids(redis_client)) == 2 or main.poll() is not None,
                           30, "the worker processes did not start") and _worker_ids(redis_client)
            assert main.poll() is None, log_path.read_text()[-3000:]
            old_pids = {int(w.rsplit(":", 1)[1]) for w in old}
            assert {psutil.Process(p).ppid() for p in old_pids} == {main.pid}

            with app.app_context():
                message_id = send_execution(execution_id, "descubrimiento")
                db.session.execute(sa.update(Execution).where(Execution.id == execution_id)
                                   .values(message_id=message_id))
                db.session.commit()
            wait_for(lambda: fetch(app, execution_id).status == RUNNING
                     and len(slow.requests) >= 2, 30, "the slow walk did not start")
            runner = fetch(app, execution_id).worker.rsplit(":", 1)[0]     # host:pid
            assert runner in old

            command = subprocess.Popen(
                [str(BIN / "flask"), "--app", "app", "facho", "restart", "--espera", "90"],
                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # once the process that was walking has stopped, the re-run may go fast
                def stopped():
                    request = worker_restart.current_request(redis_client)
                    if request is None:
                        return command.poll() is not None
                    answer = worker_restart.read_answers(redis_client, request["id"])
                    return answer.workers.get(runner, {}).get("state") == worker_restart.STOPPED
                wait_for(stopped, 60, "the worker process that was walking did not stop")
                slow.delay_s = 0.01
                released.set()
                out, err = command.communicate(timeout=120)
            finally:
                if command.poll() is None:
                    command.kill()
                    command.wait(10)
            print(out)
            assert command.returncode == 0, out + err + log_path.read_text()[-3000:]

            # the `dramatiq` main process never exited: honcho or systemd saw nothing
            assert main.poll() is None
            new = wait_for(lambda: len(_worker_ids(redis_client) - old) == 2, 30,
                           "no new worker processes") and _worker_ids(redis_client) - old
            assert _worker_ids(redis_client) == new
            assert not any(psutil.pid_exists(p) for p in old_pids)
            assert {psutil.Process(int(w.rsplit(":", 1)[1])).ppid() for w in new} == {main.pid}

            assert f"{runner}: confirmó el reinicio; se detiene con 1 ejecución en curso" in out
            (idle,) = old - {runner}
            assert f"{idle}: confirmó el reinicio; se detiene con 0 ejecuciones en curso" in out
            assert f"{idle}: detenido; no tenía ejecuciones en curso" in out
            for worker_id in new:
                assert f"{worker_id}: proceso worker nuevo en marcha" in out
            assert "Reinicio completo: 2 workers reiniciados, 2 procesos nuevos" in out

            row = wait_final(app, [execution_id], timeout_s=60)[execution_id]
            assert row.status == SUCCESS, row.error_message
            if f"{runner}: detenido: 0 ejecuciones terminadas, 1 devuelta a la cola" in out:
                # handed back at the shutdown and run again, once, by a new process
                assert row.attempt == 2 and row.worker.rsplit(":", 1)[0] in new
            else:   # the walk ended before the shutdown reached it
                assert f"{runner}: detenido: 1 ejecución terminada, 0 devueltas" in out
                assert row.attempt == 1 and row.worker.startswith(f"{runner}:")
        finally:
            stop_process(main)
    log = log_path.read_text()
    # one end, never two copies of the walk writing the inventory
    assert len(re.findall(rf"event=execution_end execution={execution_id} ", log)) == 1, log
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Onu)
                                  .where(Onu.olt_id == olt)).scalar() == SLOW_ROWS
    # one SIGHUP for both processes; the main process re-executed itself (same pid)
    assert log.count("Sending signal 'SIGHUP'") == 1
    assert log.count("is booting up") == 2


def test_restart_without_workers_exits_non_zero_with_a_spanish_line(sqlite_app, redis_client,
                                                                     tmp_path):
    env = dict(os.environ, FACHO_ENV="testing",
               DATABASE_URL=sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=os.environ["REDIS_URL"], FACHO_VAR_DIR=str(tmp_path),
               SECRET_KEY="test-secret-key-0123456789", PYTHONPATH=str(REPO))
    done = _flask(env, "restart", "--espera", "5")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"error: {NO_WORKER}: no hay workers activos" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert redis_client.get(worker_restart.REQUEST_KEY) is None


def test_a_worker_that_is_not_a_dramatiq_process_answers_and_is_left_alone(app, redis_client):
    """The scheduler's in-process worker (here: one in the test process) publishes presence
    too: it answers that it does not restart, and the command says nobody restarted."""
    from tests.execution_helpers import in_process_worker
    with in_process_worker(app, threads=1) as worker:
        (worker_id,) = wait_for(lambda: _worker_ids(redis_client), 10, "no presence")
        result = app.test_cli_runner().invoke(args=["facho", "restart", "--espera", "20"])
        assert result.exit_code == 1, result.output
        assert f"{worker_id}: no se reinicia: no es un proceso worker de `dramatiq" in result.output
        assert f"{NO_WORKER} en 20 s (los que respondieron no son procesos" in result.output
        assert all(t.is_alive() for t in worker.workers)        # still running
    assert redis_client.get(worker_restart.REQUEST_KEY) is None


def test_one_restart_at_a_time_and_a_request_is_withdrawn_only_by_its_owner(redis_client):
    first, busy = worker_restart.post_request(redis_client, ["h:1"], ttl_s=60)
    assert first and busy is None
    again, busy = worker_restart.post_request(redis_client, ["h:2"], ttl_s=60)
    assert again == "" and busy["id"] == first and busy["targets"] == ["h:1"]
    result = worker_restart.restart_workers(redis_client, ["h:2"], timeout_s=5,
                                            echo=lambda line: None)
    assert result.problem.startswith("ya hay un reinicio en curso")
    assert not worker_restart.withdraw_request(redis_client, "otro")
    assert worker_restart.withdraw_request(redis_client, first)
    assert redis_client.get(worker_restart.REQUEST_KEY) is None


def test_answers_are_read_back_and_told_in_spanish(redis_client):
    request_id, _ = worker_restart.post_request(redis_client, ["h:1", "h:2"], ttl_s=60)
    assert worker_restart.claim_signal(redis_client, request_id, "h", 7, "h:1")
    assert not worker_restart.claim_signal(redis_client, request_id, "h", 7, "h:2")
    assert worker_restart.signalled_by(redis_client, request_id, "h", 7) == "h:1"
    worker_restart.answer(redis_client, request_id, "h:1", {
        "state": worker_restart.STOPPED, "host": "h", "pid": 1, "ppid": 7, "finished": 2,
        "handed_back": 1, "unfinished": 0})
    worker_restart.answer(redis_client, request_id, "new:h:3", {"host": "h", "pid": 3,
                                                                "ppid": 7})
    answers = worker_restart.read_answers(redis_client, request_id)
    assert set(answers.workers) == {"h:1"} and set(answers.new) == {"h:3"}
    assert worker_restart.describe("h:1", answers.workers["h:1"]) == (
        "h:1: detenido: 2 ejecuciones terminadas, 1 devuelta a la cola")
    assert 0 < redis_client.ttl(worker_restart.answers_key(request_id)) <= \
        worker_restart.ANSWERS_TTL_S
    assert json.loads(redis_client.get(worker_restart.REQUEST_KEY))["id"] == request_id
