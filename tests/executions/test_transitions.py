"""The worker guard: every transition is a compare-and-set, so a redelivered or duplicated
message never runs an execution twice, and a dead worker's row can be resumed."""
from datetime import timedelta

import pytest

from facho.executions import transitions as executions
from facho.extensions import db
from facho.models import (FAILED, INTERRUPTED, PENDING, RUNNING, SUCCESS, Brand, Execution,
                          Olt, SnmpJob, SnmpJobHost, utcnow)


@pytest.fixture
def pending(any_app):
    with any_app.app_context():
        brand = Brand(nombre="Huawei")
        olt = Olt(abreviatura="OLT-1", ip_address="127.0.0.1", comunidad="c", brand=brand)
        job = SnmpJob(nombre="descubrir", brand=brand, job_type="descubrimiento",
                      interval_raw="5m")
        host = SnmpJobHost(job=job, olt=olt)
        execution = Execution(job=job, olt=olt, job_host=host)
        db.session.add_all([brand, olt, job, host, execution])
        db.session.commit()
        yield execution.id


def _row(execution_id):
    db.session.expire_all()
    return db.session.get(Execution, execution_id)


def test_only_the_first_of_two_deliveries_starts_the_execution(pending):
    first = executions.start(pending, "w1")
    second = executions.start(pending, "w2")
    assert first is not None and first.attempt == 1 and not first.took_over
    assert second is None
    assert _row(pending).status == RUNNING and _row(pending).worker == "w1"


def test_a_running_execution_with_a_live_worker_is_left_alone(pending):
    executions.start(pending, "w1")
    assert executions.start(pending, "w2", now=utcnow() + timedelta(seconds=30)) is None


def test_a_dead_workers_execution_is_resumed_as_a_new_attempt(pending):
    executions.start(pending, "w1")
    later = utcnow() + timedelta(seconds=executions.STALE_AFTER_S + 1)
    resumed = executions.start(pending, "w2", now=later)
    assert resumed is not None and resumed.took_over and resumed.attempt == 2
    # the dead worker, should it wake up, can no longer finish the row
    assert executions.finish(pending, "w1", SUCCESS) is False
    assert executions.finish(pending, "w2", SUCCESS, summary={"found": 3}) is True
    row = _row(pending)
    assert (row.status, row.worker, row.result_summary) == (SUCCESS, "w2", {"found": 3})


def test_finishing_updates_the_job_host_counters_and_the_job(pending):
    executions.start(pending, "w1")
    executions.finish(pending, "w1", FAILED, error="Sin respuesta de la OLT")
    row = _row(pending)
    assert row.job_host.consecutive_failures == 1 and row.job_host.last_failure_at
    assert row.job.last_run_at is not None and row.duration_ms is not None
    assert row.error_message == "Sin respuesta de la OLT" and row.finished_at


def test_a_retry_goes_back_to_pending_and_counts_the_next_attempt(pending):
    executions.start(pending, "w1")
    assert executions.back_to_pending(pending, "w1", error="timeout")
    assert _row(pending).status == PENDING
    again = executions.start(pending, "w2")
    assert again.attempt == 2


def test_an_interrupted_execution_never_starts(pending):
    assert executions.interrupt(pending, "Interrumpida: la tarea fue deshabilitada")
    assert executions.start(pending, "w1") is None
    assert _row(pending).status == INTERRUPTED


def test_disabled_reason_names_what_was_disabled(pending):
    row = _row(pending)
    assert executions.disabled_reason(row) is None
    row.olt.habilitar_olt = False
    db.session.commit()
    assert "OLT" in executions.disabled_reason(_row(pending))


def test_a_dead_owners_row_is_resumed_or_interrupted_only_as_it_was_seen(pending):
    executions.start(pending, "w1")
    seen = _row(pending)
    as_seen = (pending, "w1", seen.attempt, seen.heartbeat_at)
    assert executions.heartbeat_owned([(pending, "w1")]) == {pending}   # it lives after all
    assert not executions.resume_dead(*as_seen, "m-2", "reanudada")
    assert not executions.interrupt_dead(*as_seen, "interrumpida")
    assert _row(pending).status == RUNNING and _row(pending).worker == "w1"

    beat = _row(pending).heartbeat_at
    assert executions.resume_dead(pending, "w1", seen.attempt, beat, "m-2", "reanudada")
    row = _row(pending)
    assert (row.status, row.worker, row.heartbeat_at, row.message_id, row.error_message) == \
        (PENDING, None, None, "m-2", "reanudada")
    assert not executions.resume_dead(pending, "w1", seen.attempt, beat, "m-3", "otra vez")
