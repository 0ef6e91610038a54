"""Running jobs now: what qualifies, what is reported, and nothing left behind."""
from datetime import datetime, timezone

import dramatiq
import sqlalchemy as sa
import pytest
from dramatiq.brokers.redis import RedisBroker

from facho.messaging import NAMESPACE
from facho.extensions import db
from facho.executions.manual_run import run_jobs_now
from facho.models import PENDING, RUNNING, Execution, SnmpJob
from tests import factories as f
from tests.conftest import create_user, free_port

NEXT = datetime(2030, 1, 1, 5, 0, tzinfo=timezone.utc)


@pytest.fixture
def selection(any_app):
    with any_app.app_context():
        up, down = f.olt("OLT-UP"), f.olt("OLT-DOWN", enabled=False)
        enabled = f.job("descubrir-norte", olts=[up, down], next_run_at=NEXT)
        disabled = f.job("descubrir-sur", olts=[up], enabled=False)
        orphan = f.job("leer-potencia", job_type="get")
        db.session.commit()
        user_id = create_user(any_app)
        yield {"ids": [enabled.id, disabled.id, orphan.id], "user_id": user_id,
               "enabled": enabled.id, "olt_up": up.id}


def _queued_ids(client, queue):
    """Dramatiq message ids waiting in `queue` (Redis broker layout)."""
    import json
    raw = client.hvals(f"{NAMESPACE}:{queue}.msgs")
    return {json.loads(m)["message_id"] for m in raw}


def test_only_enabled_pairs_run_and_every_reason_is_reported(selection, redis_client):
    report = run_jobs_now(selection["ids"], selection["user_id"])
    messages = dict((text[:2], (cat, text)) for cat, text in report.messages())
    texts = [text for _, text in report.messages()]
    assert texts[0] == "🚀 Encolada 1 tarea: 1 ejecución creada y encolada"
    assert texts[1] == ('📊 Las ejecuciones aparecerán en "Ejecuciones" y se procesarán '
                        "en la cola discovery_main")
    assert any("OLT-DOWN" in t and "deshabilitadas" in t for t in texts)
    assert any("descubrir-sur" in t and "deshabilitada" in t for t in texts)
    assert any("leer-potencia" in t and "no tiene OLTs" in t for t in texts)
    assert messages  # every line is a (category, text) pair
    rows = Execution.query.all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.olt_id, row.requested_by_id, row.scheduled_for) == (
        PENDING, selection["olt_up"], selection["user_id"], None)
    assert row.message_id in _queued_ids(redis_client, "discovery_main")


def test_the_schedule_is_untouched_and_last_run_is_recorded(selection):
    run_jobs_now(selection["ids"], selection["user_id"])
    db.session.expire_all()
    job = db.session.get(SnmpJob, selection["enabled"])
    assert job.next_run_at == NEXT
    assert job.last_run_at is not None


def test_a_pair_already_pending_or_running_is_not_queued_again(selection):
    first = run_jobs_now(selection["ids"], selection["user_id"])
    Execution.query.filter_by(id=first.created[0]).update({"status": RUNNING})
    db.session.commit()
    second = run_jobs_now(selection["ids"], selection["user_id"])
    assert second.created == []
    assert any("descubrir-norte @ OLT-UP" in t for _, t in second.messages())
    assert Execution.query.count() == 1


def test_the_database_refuses_a_second_active_manual_run_for_a_pair(selection):
    run_jobs_now(selection["ids"], selection["user_id"])
    job_id, olt_id = selection["enabled"], selection["olt_up"]
    db.session.add(Execution(job_id=job_id, olt_id=olt_id, status=PENDING))
    with pytest.raises(Exception):
        db.session.commit()
    db.session.rollback()
    assert Execution.query.count() == 1


def test_with_the_broker_down_there_is_an_error_and_no_execution_left(selection):
    previous = dramatiq.get_broker()
    dead = RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0", namespace=NAMESPACE,
                       socket_connect_timeout=0.5)
    dramatiq.set_broker(dead)
    try:
        report = run_jobs_now(selection["ids"], selection["user_id"])
    finally:
        dramatiq.set_broker(previous)
    assert report.error and "Redis" in report.error
    assert report.created == []
    assert Execution.query.count() == 0
    assert report.messages()[0][0] == "error"


def test_a_slot_reserved_ahead_by_the_scheduler_does_not_block_a_manual_run(selection):
    from datetime import timedelta
    from facho.models import utcnow
    job_id, olt_id = selection["enabled"], selection["olt_up"]
    db.session.add(Execution(job_id=job_id, olt_id=olt_id, status=PENDING,
                             scheduled_for=utcnow() + timedelta(seconds=40)))
    db.session.commit()
    report = run_jobs_now([job_id], selection["user_id"])
    assert len(report.created) == 1 and report.already_active == []


def test_a_batch_that_failed_after_reaching_redis_keeps_the_rows_a_worker_took(
        selection, redis_client, monkeypatch):
    """A timeout while reading a pipeline's replies: Redis ran the commands, a worker may
    already be walking. Only rows nobody touched are discarded."""
    import redis as redis_lib
    from facho.messaging import DramatiqSender
    original = DramatiqSender.send_executions

    def sent_then_timed_out(self, outgoing):
        original(self, outgoing)
        first = outgoing[0].execution_id
        db.session.execute(sa.update(Execution).where(Execution.id == first)
                           .values(status=RUNNING, attempt=1))   # a fast worker took it
        raise redis_lib.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(DramatiqSender, "send_executions", sent_then_timed_out)
    report = run_jobs_now([selection["enabled"]], selection["user_id"])
    rows = Execution.query.all()
    assert [(r.status, r.attempt) for r in rows] == [(RUNNING, 1)]
    assert report.created == [rows[0].id]
    assert report.error and "Redis" in report.error


def test_the_summary_is_singular_for_one_and_the_seeds_words_for_several():
    from facho.executions.manual_run import run_summary
    assert run_summary(2, 5) == "Ejecutadas 2 tareas: 5 ejecuciones creadas y encoladas"
    assert run_summary(1, 1) == "Encolada 1 tarea: 1 ejecución creada y encolada"
    assert run_summary(1, 3) == "Encolada 1 tarea: 3 ejecuciones creadas y encoladas"


def test_when_nothing_qualified_the_messages_say_no_execution_was_created(selection):
    disabled_only = run_jobs_now([selection["ids"][1]], selection["user_id"])
    texts = [text for _, text in disabled_only.messages()]
    assert any("deshabilitada" in t for t in texts)
    assert texts[-1] == "No se crearon ejecuciones."
    run_jobs_now([selection["enabled"]], selection["user_id"])
    again = [text for _, text in run_jobs_now([selection["enabled"]],
                                               selection["user_id"]).messages()]
    assert again[0].startswith("Ya en curso") and again[-1] == "No se crearon ejecuciones."
    nothing = [text for _, text in run_jobs_now([], selection["user_id"]).messages()]
    assert nothing == ["No se seleccionó ninguna tarea."]
