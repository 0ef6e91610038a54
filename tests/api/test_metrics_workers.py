"""/api/v1/metrics after a run of executions across two real worker processes: the text
parses with Prometheus' parser and its figures are the database's.

The metrics are computed from the database and Redis at scrape time (no in-process
counters, so no PROMETHEUS_MULTIPROC_DIR): what two `dramatiq actors` processes wrote must
show whole in one scrape of the web app, a third process. The run: one discovery job on
four OLTs answered by a fake Huawei agent and one that does not answer (its executions
fail), three rounds each, on PostgreSQL."""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from facho.config import REPO_ROOT
from facho.extensions import db
from facho.messaging import NAMESPACE
from facho.models import Execution, Olt, Onu, SnmpJob
from tests.conftest import create_user
from tests.execution_helpers import (send_execution, slow_huawei_agent, wait_final,
                                     wait_for)
from tests.factories import (add_token, int_discovery_oid, make_job, make_olt,
                             new_execution, seed_catalog)
from tests.processes import start_process, stop_process
from tests.snmp_agents import udp_free_port

BIN = Path(sys.executable).parent
ROUNDS = 3


def start_worker(app, tmp_path, name):
    env = dict(os.environ, FACHO_ENV="testing", REDIS_URL=os.environ["REDIS_URL"],
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               FACHO_VAR_DIR=str(tmp_path), SECRET_KEY="test-secret-key-0123456789",
               PYTHONPATH=str(REPO_ROOT), FACHO_SNMP_TIMEOUT_S="0.3", FACHO_SNMP_RETRIES="0")
    return start_process([str(BIN / "dramatiq"), "actors", "actors.executions",
                          "--processes", "1", "--threads", "2", "--queues", "discovery_main"],
                         env, tmp_path / f"{name}.log", REPO_ROOT)


def scrape(app, secret: str) -> dict:
    response = app.test_client().get("/api/v1/metrics",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_match_the_database_after_executions_on_two_worker_processes(
        pg_app, redis_client, tmp_path):
    app = pg_app
    secret = add_token(app, create_user(app, username="prometheus", password="x"))[1]
    with slow_huawei_agent(rows=48, delay_s=0.02) as agent, app.app_context():
        seed_catalog()
        olts = [make_olt(f"OLT-{n}", agent.port, "public") for n in range(4)]
        olts.append(make_olt("OLT-MUDA", udp_free_port(), "public"))
        job = make_job("Descubrir", [int_discovery_oid()], olt_ids=tuple(olts),
                       max_retries=0)
        base = datetime(2026, 1, 1, tzinfo=UTC)
        ids = [new_execution(job, olt, base + timedelta(minutes=5 * r))
               for r in range(ROUNDS) for olt in olts]

        workers = [start_worker(app, tmp_path, f"worker{n}") for n in range(2)]
        try:
            wait_for(lambda: len(list(redis_client.scan_iter(f"{NAMESPACE}:worker:*"))) == 2,
                     60, "two worker processes")
            for execution_id in ids:
                send_execution(app, execution_id)
            rows = wait_final(app, ids, timeout_s=60)
            alive = scrape(app, secret)[("facho_workers_alive", ())]
        finally:
            for proc in workers:
                stop_process(proc)

        # host:pid:thread of the thread that ran each one
        assert len({r.worker.rsplit(":", 1)[0] for r in rows.values()}) == 2, \
            "both processes ran executions"
        got = scrape(app, secret)
        db.session.remove()
        stored = dict(((status,), n) for status, n in db.session.execute(
            sa.select(Execution.status, sa.func.count()).group_by(Execution.status)))
        assert stored[("SUCCESS",)] == 4 * ROUNDS and stored[("FAILED",)] == ROUNDS
        for (status,), n in stored.items():
            assert got[("facho_executions", (("job_type", "descubrimiento"),
                                             ("status", status)))] == n
        hist = "facho_execution_duration_seconds"
        finished = db.session.execute(sa.select(sa.func.count()).select_from(Execution)
                                      .where(Execution.duration_ms.isnot(None))).scalar()
        assert got[(hist + "_gcount", (("job_type", "descubrimiento"),))] == finished
        for olt_id in olts:
            name = db.session.get(Olt, olt_id).abreviatura
            onus = db.session.execute(sa.select(sa.func.count()).select_from(Onu)
                                      .where(Onu.olt_id == olt_id)).scalar()
            scraped = sum(v for (metric, labels), v in got.items()
                          if metric == "facho_onus" and ("olt", name) in labels)
            assert scraped == onus == (48 if name != "OLT-MUDA" else 0)
        assert alive == 2 and db.session.get(SnmpJob, job).nombre == "Descubrir"
