""""🚀 Ejecutar tareas seleccionadas" on the jobs list (DESIGN 6), through the panel's own
action form: what it flashes, what it creates, and who may use it."""
import json
import re
import threading
from html import unescape

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from facho.messaging import NAMESPACE
from facho.models import PENDING, Execution, SnmpJob
from tests.conftest import create_user, csrf_token_from, free_port, login
from tests.factories import add_brand, add_job, add_olt, add_run_selection
from tests.panel import alerts, count, fetch, queued_message_ids, run_action, text

RUN = "ejecutar"
SUCCESS_LINE = "🚀 Encolada 1 tarea: 1 ejecución creada y encolada"
INFO_LINE = ('📊 Las ejecuciones aparecerán en "Ejecuciones" y se procesarán '
             "en la cola discovery_main")


@pytest.fixture
def three_jobs(app):
    """One enabled job on two OLTs (one disabled), one disabled job, one job without OLTs."""
    return add_run_selection(app)


def test_the_action_is_offered_first_with_a_spanish_confirmation(app, staff_client, three_jobs):
    page = text(staff_client.get("/admin/snmp_jobs/"))
    menu = re.search(r'Con seleccionados</a>\s*<div class="dropdown-menu">(.*?)</div>', page,
                     flags=re.S).group(1)
    names = re.findall(r"modelActions.execute\('(\w+)'\)", menu)
    assert names[0] == RUN and set(names) == {RUN, "delete", "habilitar", "deshabilitar"}
    assert "🚀 Ejecutar tareas seleccionadas" in menu
    confirmations = json.loads(unescape(re.search(
        r'<div id="actions-confirmation-data" class="d-none">(.*?)</div>', page).group(1)))
    assert confirmations[RUN].startswith("¿Ejecutar ahora las tareas seleccionadas?")


def test_running_three_jobs_flashes_every_outcome_and_queues_one(
        app, staff_client, three_jobs, redis_client):
    ids = [three_jobs[k] for k in ("enabled", "disabled", "orphan")]
    response = run_action(staff_client, "snmp_jobs", RUN, ids)
    assert response.status_code == 200
    shown = alerts(text(response))
    assert shown[0] == ("success", SUCCESS_LINE)
    assert shown[1] == ("info", INFO_LINE)
    warnings = [message for kind, message in shown if kind == "warning"]
    assert warnings == [
        '⚠️ Tarea "descubrir-norte": OLTs deshabilitadas omitidas: OLT-DOWN.',
        '⚠️ La tarea "descubrir-sur" está deshabilitada: no se ejecutó.',
        '⚠️ La tarea "leer-potencia" no tiene OLTs asignadas.',
    ]
    assert [kind for kind, _ in shown].count("danger") == 0
    rows = _executions(app)
    assert len(rows) == 1
    row = rows[0]
    assert (row.job_id, row.olt_id, row.status, row.scheduled_for) == (
        three_jobs["enabled"], three_jobs["up"], PENDING, None)
    assert row.requested_by_id is not None and row.message_id in queued_message_ids(redis_client)
    assert fetch(app, SnmpJob, three_jobs["enabled"]).last_run_at is not None


def test_running_again_while_pending_queues_nothing_and_says_so(app, staff_client, three_jobs):
    run_action(staff_client, "snmp_jobs", RUN, [three_jobs["enabled"]])
    first = _executions(app)[0].id
    shown = alerts(text(run_action(staff_client, "snmp_jobs", RUN, [three_jobs["enabled"]])))
    assert ("warning", f"Ya en curso, no se encolaron de nuevo: descubrir-norte @ OLT-UP "
                       f"(#{first})") in shown
    assert not [m for kind, m in shown if kind == "success"]
    assert count(app, Execution) == 1


def test_two_simultaneous_clicks_create_one_execution(tmp_path, redis_url):
    """Two requests for the same pair at the same moment (a double click, two browsers):
    one execution. Needs a file database shared by two server threads."""
    from tests.conftest import make_test_app
    from facho.extensions import db
    app = make_test_app(f"sqlite:///{tmp_path / 'race.db'}", tmp_path)
    with app.app_context():
        db.create_all()
    brand = add_brand(app)
    job = add_job(app, brand, [add_olt(app, brand, "OLT-UP")], nombre="descubrir")
    create_user(app)
    clients, tokens = [], []
    for _ in range(2):
        client = app.test_client()
        assert login(client).status_code == 302
        clients.append(client)
        tokens.append(csrf_token_from(text(client.get("/admin/snmp_jobs/"))))
    barrier, statuses = threading.Barrier(2), []

    def click(client, token):
        barrier.wait()
        statuses.append(client.post("/admin/snmp_jobs/action/", data={
            "action": RUN, "rowid": [str(job)], "csrf_token": token}).status_code)

    threads = [threading.Thread(target=click, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302, 302]
    assert count(app, Execution) == 1
    with app.app_context():
        db.engine.dispose()


def test_with_the_broker_down_an_error_is_shown_and_nothing_is_left(
        app, staff_client, three_jobs):
    previous = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0",
                                    namespace=NAMESPACE, socket_connect_timeout=0.5))
    try:
        response = run_action(staff_client, "snmp_jobs", RUN, [three_jobs["enabled"]])
    finally:
        dramatiq.set_broker(previous)
    assert response.status_code == 200
    shown = alerts(text(response))
    assert shown[0][0] == "danger"
    assert "el broker (Redis) no responde" in shown[0][1]
    assert not [m for kind, m in shown if kind == "success"]
    assert count(app, Execution) == 0
    assert fetch(app, SnmpJob, three_jobs["enabled"]).last_run_at is None
    # the panel keeps working
    assert staff_client.get("/admin/snmp_jobs/").status_code == 200
    assert staff_client.get("/admin/executions/").status_code == 200


def test_a_user_without_staff_rights_cannot_run_jobs(app, three_jobs):
    create_user(app, username="invitado", staff=False)
    client = app.test_client()
    login(client, username="invitado")
    token = csrf_token_from(text(client.get("/login")))
    response = client.post("/admin/snmp_jobs/action/", data={
        "action": RUN, "rowid": [str(three_jobs["enabled"])], "csrf_token": token})
    assert response.status_code == 403
    assert count(app, Execution) == 0


def test_a_request_without_csrf_token_is_refused(app, staff_client, three_jobs):
    response = run_action(staff_client, "snmp_jobs", RUN, [three_jobs["enabled"]],
                          with_token=False)
    assert response.status_code == 400
    assert count(app, Execution) == 0
    forged = staff_client.post("/admin/snmp_jobs/action/", data={
        "action": RUN, "rowid": [str(three_jobs["enabled"])], "csrf_token": "forjado.1"})
    assert forged.status_code == 400
    assert count(app, Execution) == 0


def test_an_anonymous_request_is_sent_to_login(app, three_jobs):
    anonymous = app.test_client()
    response = anonymous.post("/admin/snmp_jobs/action/", data={
        "action": RUN, "rowid": [str(three_jobs["enabled"])]})
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith("/login")
    assert count(app, Execution) == 0


def _executions(app):
    from facho.extensions import db
    with app.app_context():
        rows = db.session.query(Execution).order_by(Execution.id).all()
        for row in rows:
            db.session.expunge(row)
        return rows
