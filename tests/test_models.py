"""The database itself refuses what must never exist, on SQLite and PostgreSQL."""
from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from facho.extensions import db
from facho.models import Brand, Execution, Olt, SnmpJob, SnmpJobHost

SLOT = datetime(2026, 11, 24, 12, 0, 30, tzinfo=timezone.utc)


def _job_on_olt():
    brand = Brand(nombre="Huawei")
    olt = Olt(abreviatura="OLT-1", ip_address="127.0.0.1", comunidad="secreto", brand=brand)
    job = SnmpJob(nombre="descubrir", brand=brand, job_type="descubrimiento", interval_raw="5m")
    db.session.add_all([brand, olt, job])
    db.session.flush()
    return job, olt


def test_a_second_execution_for_the_same_slot_is_refused(any_app):
    with any_app.app_context():
        job, olt = _job_on_olt()
        db.session.add(Execution(job=job, olt=olt, scheduled_for=SLOT))
        db.session.commit()
        db.session.add(Execution(job=job, olt=olt, scheduled_for=SLOT))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.query(Execution).count() == 1


def test_manual_runs_have_no_slot_and_repeat_once_the_previous_one_ended(any_app):
    with any_app.app_context():
        job, olt = _job_on_olt()
        db.session.add_all([Execution(job=job, olt=olt, status="SUCCESS"),
                            Execution(job=job, olt=olt, status="FAILED"),
                            Execution(job=job, olt=olt)])
        db.session.commit()
        assert db.session.query(Execution).count() == 3


def test_two_active_manual_runs_for_one_pair_are_refused(any_app):
    with any_app.app_context():
        job, olt = _job_on_olt()
        db.session.add(Execution(job=job, olt=olt, status="RUNNING"))
        db.session.commit()
        db.session.add(Execution(job=job, olt=olt))
        with pytest.raises(IntegrityError):
            db.session.commit()


@pytest.mark.parametrize("interval_raw, cron_expr", [(None, None), ("5m", "*/5 * * * *")])
def test_a_job_has_exactly_one_of_interval_and_cron(any_app, interval_raw, cron_expr):
    with any_app.app_context():
        brand = Brand(nombre="ZTE")
        db.session.add(SnmpJob(nombre="x", brand=brand, job_type="get",
                               interval_raw=interval_raw, cron_expr=cron_expr))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_unknown_status_and_port_out_of_range_are_refused(any_app):
    with any_app.app_context():
        job, olt = _job_on_olt()
        db.session.commit()
        db.session.add(Execution(job=job, olt=olt, status="DONE"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        olt = db.session.get(Olt, olt.id)
        olt.snmp_port = 70000
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_a_job_runs_on_an_olt_through_one_job_host_only(any_app):
    with any_app.app_context():
        job, olt = _job_on_olt()
        db.session.add_all([SnmpJobHost(job=job, olt=olt), SnmpJobHost(job=job, olt=olt)])
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_times_come_back_as_aware_utc(any_app):
    with any_app.app_context():
        job, olt = _job_on_olt()
        job.next_run_at = SLOT
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(SnmpJob, job.id).next_run_at
        assert stored == SLOT and stored.tzinfo is not None


def test_a_refused_write_never_carries_the_community_in_its_error_text(any_app):
    """Database errors get logged in full; their text must not hold the bound values."""
    with any_app.app_context():
        _, olt = _job_on_olt()
        db.session.add(Olt(abreviatura="OLT-1", ip_address="127.0.0.2",
                           comunidad="otra-comunidad-secreta", brand=olt.brand))
        with pytest.raises(IntegrityError) as refused:
            db.session.flush()
        db.session.rollback()
    assert "otra-comunidad-secreta" not in str(refused.value)
    assert "hidden due to hide_parameters" in str(refused.value)
