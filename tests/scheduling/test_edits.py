"""facho.scheduling.edits: disabling interrupts PENDING work at once (any ORM path), and job edits
re-plan from the new grid. Runs on SQLite and PostgreSQL."""
from datetime import datetime, timedelta

import pytest

from facho.scheduling import edits as lifecycle
from facho.models import Execution, Olt, SnmpJob, SnmpJobHost
from tests.factories import UTC, add_brand, add_execution, add_job, add_olt
from tests.panel import fetch


@pytest.fixture
def world(any_app):
    """Two OLTs, two jobs; job 1 runs on both OLTs, job 2 on OLT A."""
    app = any_app
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    job_1 = add_job(app, brand, [olt_a, olt_b], nombre="T1")
    job_2 = add_job(app, brand, [olt_a], nombre="T2")
    rows = {
        "1a_pending": add_execution(app, job_1, olt_a),
        "1a_running": add_execution(app, job_1, olt_a, "RUNNING"),
        "1a_success": add_execution(app, job_1, olt_a, "SUCCESS"),
        "1b_pending": add_execution(app, job_1, olt_b),
        "2a_pending": add_execution(app, job_2, olt_a),
    }
    return app, dict(olt_a=olt_a, olt_b=olt_b, job_1=job_1, job_2=job_2), rows


def statuses(app, rows):
    return {name: fetch(app, Execution, id_).status for name, id_ in rows.items()}


def test_interrupt_pending_by_olt_changes_only_pending_rows_of_that_olt(world):
    app, ids, rows = world
    from facho.extensions import db
    with app.app_context():
        changed = lifecycle.interrupt_pending(db.session, olt_id=ids["olt_a"],
                                              reason="Interrumpida: prueba")
        db.session.commit()
    assert changed == 2
    assert statuses(app, rows) == {"1a_pending": "INTERRUPTED", "1a_running": "RUNNING",
                                   "1a_success": "SUCCESS", "1b_pending": "PENDING",
                                   "2a_pending": "INTERRUPTED"}
    row = fetch(app, Execution, rows["1a_pending"])
    assert row.error_message == "Interrumpida: prueba" and row.finished_at is not None


def test_interrupt_pending_combines_filters(world):
    app, ids, rows = world
    from facho.extensions import db
    with app.app_context():
        changed = lifecycle.interrupt_pending(db.session, job_id=ids["job_1"],
                                              olt_id=ids["olt_b"], reason="x")
        db.session.commit()
    assert changed == 1
    assert statuses(app, rows)["1b_pending"] == "INTERRUPTED"
    assert statuses(app, rows)["1a_pending"] == "PENDING"


def test_interrupt_pending_refuses_an_unfiltered_call(any_app):
    from facho.extensions import db
    with any_app.app_context(), pytest.raises(ValueError):
        lifecycle.interrupt_pending(db.session, reason="todo")


@pytest.mark.parametrize("model, key, attribute, expected, reason", [
    (Olt, "olt_a", "habilitar_olt", {"1a_pending", "2a_pending"}, lifecycle.REASON_OLT),
    (SnmpJob, "job_1", "enabled", {"1a_pending", "1b_pending"}, lifecycle.REASON_JOB),
])
def test_any_orm_change_to_disabled_interrupts(world, model, key, attribute, expected, reason):
    app, ids, rows = world
    from facho.extensions import db
    with app.app_context():
        setattr(db.session.get(model, ids[key]), attribute, False)
        db.session.commit()
    now = statuses(app, rows)
    assert {name for name, status in now.items() if status == "INTERRUPTED"} == expected
    assert now["1a_running"] == "RUNNING" and now["1a_success"] == "SUCCESS"
    assert {fetch(app, Execution, rows[name]).error_message for name in expected} == {reason}


def test_disabling_a_job_host_interrupts_that_pair_only(world):
    app, ids, rows = world
    from facho.extensions import db
    with app.app_context():
        host = db.session.query(SnmpJobHost).filter_by(job_id=ids["job_1"],
                                                       olt_id=ids["olt_a"]).one()
        host.enabled = False
        db.session.commit()
    assert statuses(app, rows) == {"1a_pending": "INTERRUPTED", "1a_running": "RUNNING",
                                   "1a_success": "SUCCESS", "1b_pending": "PENDING",
                                   "2a_pending": "PENDING"}


def test_change_without_loading_the_old_value_still_interrupts(world):
    """A row whose flag was never read (expired after commit) is still caught."""
    app, ids, rows = world
    from facho.extensions import db
    with app.app_context():
        olt = db.session.get(Olt, ids["olt_b"])
        db.session.commit()  # expires every attribute
        olt.habilitar_olt = False
        db.session.commit()
    assert statuses(app, rows)["1b_pending"] == "INTERRUPTED"


def test_other_edits_and_enabling_interrupt_nothing(world):
    app, ids, rows = world
    from facho.extensions import db
    with app.app_context():
        olt = db.session.get(Olt, ids["olt_a"])
        olt.descripcion = "otra"
        olt.habilitar_olt = True  # unchanged
        db.session.get(SnmpJob, ids["job_2"]).enabled = True
        db.session.commit()
    assert set(statuses(app, rows).values()) == {"PENDING", "RUNNING", "SUCCESS"}


def test_listener_counts_what_it_interrupted(world):
    app, ids, _ = world
    from facho.extensions import db
    with app.app_context():
        db.session.get(Olt, ids["olt_a"]).habilitar_olt = False
        db.session.flush()
        assert lifecycle.take_interrupted_count(db.session) == 2
        assert lifecycle.take_interrupted_count(db.session) == 0
        db.session.rollback()


# --- plan_job ------------------------------------------------------------------------------

NOW = datetime(2025, 3, 10, 12, 34, 56, 789000, tzinfo=UTC)


def test_new_interval_job_starts_now_on_a_fresh_anchor():
    job = SnmpJob(interval_raw="5m", enabled=True)
    assert lifecycle.plan_job(job, created=True, now=NOW)
    assert job.anchor_at == NOW.replace(microsecond=0)
    assert job.next_run_at == job.anchor_at


def test_changed_interval_starts_the_new_grid_at_the_edit_when_no_claimed_slot_collides(app):
    from facho.extensions import db
    brand = add_brand(app)
    job_id = add_job(app, brand, interval_raw="1h", anchor_at=datetime(2024, 1, 1, tzinfo=UTC),
                      next_run_at=NOW + timedelta(seconds=20))
    with app.app_context():
        job = db.session.get(SnmpJob, job_id)
        job.interval_raw = "7m"
        assert lifecycle.plan_job(job, created=False, now=NOW)
        anchor = NOW.replace(microsecond=0)
        assert job.anchor_at == anchor
        # Nothing was claimed on the new grid: it starts at the edit (issue 9: the old
        # bound skipped up to a tick horizon of new slots whatever had been claimed).
        assert job.next_run_at == anchor
        db.session.rollback()


def test_unchanged_schedule_is_not_replanned(app):
    from facho.extensions import db
    brand = add_brand(app)
    anchor, next_run = datetime(2024, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    job_id = add_job(app, brand, anchor_at=anchor, next_run_at=next_run)
    with app.app_context():
        job = db.session.get(SnmpJob, job_id)
        job.interval_raw = "5m"  # same value
        job.descripcion = "x"
        assert not lifecycle.plan_job(job, created=False, now=NOW)
        assert (job.anchor_at, job.next_run_at) == (anchor, next_run)
        db.session.rollback()


def test_new_cron_job_runs_at_the_next_cron_instant():
    job = SnmpJob(cron_expr="0 2 * * *", cron_tz="America/Lima", enabled=True)
    lifecycle.plan_job(job, created=True, now=NOW)
    # 02:00 in Lima (UTC-5) = 07:00 UTC; NOW is 12:34 UTC, so the next one is tomorrow.
    assert job.next_run_at == datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
