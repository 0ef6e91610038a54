"""`flask facho …` commands: output and exit codes, healthy and unhealthy, on real Redis."""
import json
import os
import socket
import time

import dramatiq
import pytest

from facho.extensions import db
from facho.models import FAILED, PENDING, Brand, Execution, IndexFormula, Oid, User, utcnow
from tests import factories as f


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, **kwargs):
        return runner.invoke(args=["facho", *args], **kwargs)
    return invoke


def test_create_user_hashes_the_password_and_refuses_duplicates(app, cli, monkeypatch):
    monkeypatch.setenv("FACHO_PASSWORD", "una-clave-larga")
    result = cli("create-user", "noc1", "--staff")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = User.query.filter_by(username="noc1").one()
        assert user.is_staff and user.check_password("una-clave-larga")
        assert "una-clave-larga" not in user.password_hash
    again = cli("create-user", "noc1")
    assert again.exit_code == 1 and "ya existe" in again.output


def test_create_user_rejects_a_bad_name_and_a_short_password(cli, monkeypatch):
    monkeypatch.setenv("FACHO_PASSWORD", "corta")
    assert cli("create-user", "noc2").exit_code == 2
    monkeypatch.setenv("FACHO_PASSWORD", "una-clave-larga")
    bad = cli("create-user", "con espacio")
    assert bad.exit_code == 2 and "Usuario inválido" in bad.output


def test_seed_is_idempotent(app, cli):
    first = cli("seed")
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = (Brand.query.count(), Oid.query.count(), IndexFormula.query.count())
        assert counts[0] >= 2 and counts[1] >= 5 and counts[2] >= 2
    second = cli("seed")
    assert "marcas=" in first.output and "agregados" in first.output
    # a second run says nothing was missing, not a row of zeros that reads as data gone
    assert "sin cambios" in second.output and "=0" not in second.output
    with app.app_context():
        assert (Brand.query.count(), Oid.query.count(), IndexFormula.query.count()) == counts


def test_ensure_admin_creates_one_staff_user_once(app, cli, monkeypatch):
    monkeypatch.setenv("FACHO_ADMIN_PASSWORD", "clave-de-admin-1")
    result = cli("ensure-admin")
    assert "clave-de-admin-1" in result.output
    assert "existente" in cli("ensure-admin").output
    with app.app_context():
        assert User.query.filter_by(is_staff=True).count() == 1


@pytest.fixture
def rows(app):
    with app.app_context():
        olt = f.olt("OLT-A")
        job = f.job("descubrir", olts=[olt])
        db.session.add_all([
            Execution(job=job, olt=olt, status=FAILED, error_message="Sin respuesta",
                      scheduled_for=utcnow().replace(microsecond=0)),
            Execution(job=job, olt=olt, status=PENDING),
        ])
        db.session.commit()


def test_recent_lists_the_latest_executions_with_filters_and_json(cli, rows):
    table = cli("recent", "-n", "5")
    assert table.exit_code == 0 and "FAILED" in table.output
    who = {r["status"]: r["requested_by"] for r in json.loads(cli("recent", "--json").output)}
    assert who == {FAILED: "programada", PENDING: "manual (CLI)"}
    only_failed = json.loads(cli("recent", "--status", "failed", "--json").output)
    assert [r["status"] for r in only_failed] == ["FAILED"]
    assert cli("recent", "-n", "0").exit_code == 2


def test_tasks_shows_pending_and_running_with_their_age(cli, rows):
    data = json.loads(cli("tasks", "--json").output)
    assert [(r["status"], r["job"], r["olt"]) for r in data] == [(PENDING, "descubrir", "OLT-A")]
    assert data[0]["age_s"] >= 0


def test_status_is_unhealthy_without_workers_or_scheduler_ticks(cli, rows):
    result = cli("status")
    assert result.exit_code == 1
    assert "no hay workers activos" in result.output
    assert "PENDING=1" in result.output and "FAILED=1" in result.output
    assert "Scheduler: líder=- último tick nunca" in result.output


def test_status_is_healthy_with_a_live_worker_and_a_recent_tick(app, cli, rows, redis_client):
    from facho.scheduling.lease import LeaderLease
    from facho.messaging import get_broker
    broker = get_broker()
    LeaderLease(redis_client).record_tick({"claimed": 0})
    broker.declare_queue("maintenance")
    worker = dramatiq.Worker(broker, worker_threads=1, queues={"maintenance"})
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not list(redis_client.scan_iter("facho:worker:*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        result = cli("status", "--json")
        data = json.loads(result.output)
        assert result.exit_code == 0, data["problems"]
        assert len(data["workers"]) == 1 and data["scheduler"]["healthy"]
        assert set(data["queues"]) >= {"scheduler", "discovery_main", "get_main"}
        listed = cli("workers", "--json")
        assert listed.exit_code == 0
        [beating] = json.loads(listed.output)
        # the heartbeat of this very process: its host:pid, its queue and thread count
        assert beating["id"] == f"{socket.gethostname()}:{os.getpid()}"
        assert beating["queues"] == "maintenance" and beating["threads"] == 1
        assert 0 <= beating["up_s"] < 60
    finally:
        worker.stop()
    assert cli("workers").exit_code == 1  # a stopped worker withdraws at once


def test_a_process_that_only_sends_messages_is_not_counted_as_a_worker(app, cli, rows):
    from facho.messaging import send_execution
    with app.app_context():
        send_execution(1, "descubrimiento")
    assert cli("workers").exit_code == 1


def test_workers_exits_non_zero_when_none_is_alive(cli):
    result = cli("workers")
    assert result.exit_code == 1 and "(nada)" in result.output


def test_locks_lists_and_frees_stale_per_olt_slots(app, cli, redis_client):
    from facho.executions.olt_limiter import OltLimiter
    with app.app_context():
        olt_id = f.olt("OLT-L").id
        db.session.commit()
    limiter = OltLimiter(redis_client)
    now = limiter.server_now()
    now_ms = int(now.timestamp() * 1000)
    # a holder whose worker died 10 s ago: its lease expired and nobody purged it yet
    assert limiter.acquire(olt_id, "vivo", limit=2, ttl_ms=60_000)
    assert limiter.acquire(olt_id, "muerto", limit=2, ttl_ms=1, now_ms=now_ms - 10_000)
    listed = cli("locks")
    assert listed.exit_code == 1 and "OLT-L" in listed.output and "muerto" in listed.output
    freed = cli("locks", "--free-stale")
    assert "cupos vencidos liberados: 1" in freed.output and freed.exit_code == 0
    assert [h.token for h in limiter.holders(olt_id)] == ["vivo"]
    assert cli("locks", "--free", "OLT-L").exit_code == 0
    assert limiter.holders(olt_id) == []
    assert cli("locks", "--free", "NO-EXISTE").exit_code == 2


def test_run_queues_a_job_by_name_and_reports_unknown_names(app, cli, redis_client):
    with app.app_context():
        up = f.olt("OLT-R")
        f.job("leer", olts=[up], job_type="get")
        db.session.commit()
    result = cli("run", "leer", "--olt", "OLT-R")
    assert result.exit_code == 0, result.output
    assert "Encolada 1 tarea: 1 ejecución creada y encolada" in result.output
    assert "get_main" in result.output
    again = cli("run", "leer")
    assert again.exit_code == 1 and "Ya en curso" in again.output
    assert cli("run", "no-existe").exit_code == 2
    assert cli("run", "leer", "--olt", "NO-EXISTE").exit_code == 2
    with app.app_context():
        assert Execution.query.filter_by(status=PENDING).count() == 1


def test_recover_resends_a_pending_execution_whose_message_was_lost(app, cli, redis_client):
    from datetime import timedelta
    from facho.models import utcnow
    with app.app_context():
        olt = f.olt("OLT-X")
        job = f.job("leer-x", olts=[olt], job_type="get")
        lost = Execution(job=job, olt=olt, status=PENDING, message_id="perdido",
                         created_at=utcnow() - timedelta(minutes=5))
        db.session.add(lost)
        db.session.commit()
        lost_id = lost.id
    result = cli("recover", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["resent"] == 1
    queued = [json.loads(m) for m in redis_client.hvals("facho:get_main.msgs")]
    assert [m["args"] for m in queued] == [[lost_id]]
    assert json.loads(cli("recover", "--json").output)["resent"] == 0   # already in the queue


def test_with_redis_down_status_and_recover_fail_with_a_clear_line(tmp_path):
    from tests.conftest import _fresh_schema, free_port, make_test_app
    app = make_test_app(f"sqlite:///{tmp_path / 'down.db'}", tmp_path,
                        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    _fresh_schema(app)
    runner = app.test_cli_runner()
    status = runner.invoke(args=["facho", "status"])
    assert status.exit_code == 1 and "Redis no responde" in status.output
    recover = runner.invoke(args=["facho", "recover"])
    assert recover.exit_code == 1 and "Redis no responde" in recover.output
    assert "Traceback" not in status.output + recover.output
