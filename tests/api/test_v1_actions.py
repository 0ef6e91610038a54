"""/api/v1 actions: "run now" and "re-run" call the panel's own functions
(executions.manual_run), so the same selection gives the same rows and the same messages
as the panel's "🚀 Ejecutar" and "🔁 Re-ejecutar"; the execution is requested by the token's
user; 202 when something was queued, 409 when nothing could be, 404 for unknown ids."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.models import PENDING, SUCCESS, Execution, User
from tests.factories import add_execution, add_run_selection
from tests.panel import alerts, queued_message_ids, run_action, text


@pytest.fixture
def three_jobs(app):
    """The panel test's selection (tests/admin/test_admin_run_action.py)."""
    return add_run_selection(app)


def rows(app, exclude=()):
    with app.app_context():
        return [(e.job_id, e.olt_id, e.status, e.scheduled_for, e.requested_by_id)
                for e in db.session.scalars(sa.select(Execution).where(
                    Execution.id.notin_(list(exclude))).order_by(Execution.id))]


def finish_all(app):
    with app.app_context():
        db.session.execute(sa.update(Execution).values(status=SUCCESS))
        db.session.commit()


def user_id(app, username):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def test_run_now_gives_the_panels_rows_and_messages(app, staff_client, make_caller, api_user,
                                                   three_jobs, redis_client):
    caller = make_caller(("ejecutar",))
    ids = [three_jobs[k] for k in ("enabled", "disabled", "orphan")]
    response = caller.post("/api/v1/tareas/ejecutar", json={"tareas": ids})
    assert response.status_code == 202
    body = response.get_json()
    api_messages = [(m["tipo"], m["texto"]) for m in body["mensajes"]]
    api_rows = rows(app)
    assert [r[:4] for r in api_rows] == [(three_jobs["enabled"], three_jobs["up"], PENDING,
                                          None)]
    assert api_rows[0][4] == api_user                      # requested by the token's user
    assert body["tareas"] == ["descubrir-norte"] and len(body["ejecuciones"]) == 1
    with app.app_context():
        message_id = db.session.get(Execution, body["ejecuciones"][0]).message_id
    assert message_id in queued_message_ids(redis_client)

    finish_all(app)
    before = {e for e in body["ejecuciones"]}
    panel = alerts(text(run_action(staff_client, "snmp_jobs", "ejecutar", ids)))
    panel_rows = rows(app, exclude=before)
    assert panel == api_messages
    assert [r[:4] for r in panel_rows] == [r[:4] for r in api_rows]
    assert panel_rows[0][4] == user_id(app, "operador")


def test_running_again_while_pending_is_a_409_with_the_panels_warning(app, make_caller,
                                                                      three_jobs):
    caller = make_caller(("ejecutar",))
    first = caller.post("/api/v1/tareas/ejecutar", json={"tareas": [three_jobs["enabled"]]})
    queued = first.get_json()["ejecuciones"][0]
    again = caller.post("/api/v1/tareas/ejecutar", json={"tareas": [three_jobs["enabled"]]})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    body = again.get_json()
    warning = f"Ya en curso, no se encolaron de nuevo: descubrir-norte @ OLT-UP (#{queued})"
    assert ("warning", warning) in [(m["tipo"], m["texto"]) for m in body["mensajes"]]
    assert warning in body["detail"]
    assert len(rows(app)) == 1


def test_unknown_jobs_are_a_404_naming_them_and_nothing_runs(app, make_caller, three_jobs):
    caller = make_caller(("ejecutar",))
    response = caller.post("/api/v1/tareas/ejecutar",
                           json={"tareas": [three_jobs["enabled"], 999]})
    assert response.status_code == 404
    assert response.get_json()["errores"][0]["mensaje"] == "No existe la tarea 999."
    assert rows(app) == []


def test_a_disabled_job_alone_is_a_409_saying_why(app, make_caller, three_jobs):
    caller = make_caller(("ejecutar",))
    response = caller.post("/api/v1/tareas/ejecutar", json={"tareas": [three_jobs["disabled"]]})
    assert response.status_code == 409
    assert 'La tarea "descubrir-sur" está deshabilitada' in response.get_json()["detail"]


def test_rerun_of_a_failed_execution_queues_its_job_on_its_olt(app, make_caller, api_user,
                                                               three_jobs):
    caller = make_caller(("ejecutar",))
    failed = add_execution(app, three_jobs["enabled"], three_jobs["up"], status="FAILED")
    response = caller.post(f"/api/v1/ejecuciones/{failed}/reejecutar")
    assert response.status_code == 202
    new = response.get_json()["ejecuciones"]
    assert rows(app, exclude=[failed]) == [(three_jobs["enabled"], three_jobs["up"], PENDING,
                                            None, api_user)]
    assert len(new) == 1


def test_rerun_refuses_what_did_not_fail_and_what_does_not_exist(app, make_caller, three_jobs):
    caller = make_caller(("ejecutar",))
    done = add_execution(app, three_jobs["enabled"], three_jobs["up"], status="SUCCESS")
    response = caller.post(f"/api/v1/ejecuciones/{done}/reejecutar")
    assert response.status_code == 409
    assert response.get_json()["detail"].startswith("Solo se re-ejecutan ejecuciones fallidas")
    assert caller.post("/api/v1/ejecuciones/999/reejecutar").status_code == 404
    assert len(rows(app)) == 1
