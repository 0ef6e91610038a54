"""Ejecuciones in the panel: who asked, badges, the full error and a readable summary, the
list refreshing itself only while something is active, "🔁 Re-ejecutar" of failed runs and
the background deletion of old executions."""
import json
import time
import re
from datetime import datetime, timedelta

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from facho.messaging import NAMESPACE
from facho.models import FAILED, PENDING, Execution, utcnow
from tests.conftest import create_user, free_port
from tests.panel import alerts
from tests.factories import UTC, add_brand, add_execution, add_job, add_olt
from tests.panel import count, post, run_action, table, text

LONG_ERROR = ("Tiempo de espera agotado consultando 127.0.0.1:161 (3 intentos de 2 s). "
              "Verifique que la OLT responde SNMP, la comunidad y el puerto.\n"
              "Detalle: walk de 1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3 detenido en la fila 812.")
SUMMARY = {"found": 256, "new": 3, "gone": 1, "walk_ms": 1530, "formula": "ZTE C320",
           "empty_walk": False, "oids": ["ZTE ONU nombre", "ZTE ONU serie"],
           "per_oid": {"ZTE ONU potencia RX": {"updated": 250, "missing": 6}},
           "campo_nuevo": "<b>sin marcado</b>"}


RETRIED_SLOT = datetime(2030, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def rows(app):
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    olt_off = add_olt(app, brand, "OLT-OFF", habilitar_olt=False)
    job_1 = add_job(app, brand, [olt_a, olt_b, olt_off], nombre="Descubrimiento")
    job_2 = add_job(app, brand, [olt_a], nombre="Lectura rx", job_type="get")
    jefa = create_user(app, username="jefa")
    made = lambda **kw: add_execution(app, **kw)  # noqa: E731
    ids = {
        "failed_a1": made(job_id=job_1, olt_id=olt_a, status=FAILED, error_message=LONG_ERROR),
        "failed_a2": made(job_id=job_1, olt_id=olt_a, status=FAILED, error_message="otro"),
        "failed_b": made(job_id=job_1, olt_id=olt_b, status=FAILED, error_message="x"),
        "failed_off": made(job_id=job_1, olt_id=olt_off, status=FAILED, error_message="x"),
        "ok": made(job_id=job_2, olt_id=olt_a, status="SUCCESS", result_summary=SUMMARY,
                   duration_ms=1530),
        "manual": made(job_id=job_2, olt_id=olt_a, status="INTERRUPTED", scheduled_for=None,
                       requested_by_id=jefa),
        "cli": made(job_id=job_2, olt_id=olt_a, status="SUCCESS", scheduled_for=None),
        "retried": made(job_id=job_2, olt_id=olt_a, status="SUCCESS", attempt=3,
                        duration_ms=400, scheduled_for=RETRIED_SLOT,
                        created_at=RETRIED_SLOT - timedelta(minutes=1),
                        finished_at=RETRIED_SLOT + timedelta(seconds=12.5)),
    }
    return dict(ids, job_1=job_1, job_2=job_2, olt_a=olt_a, olt_b=olt_b, jefa=jefa)


def row_html(page: str, execution_id: int) -> str:
    for row in re.findall(r"<tr>.*?</tr>", table(page), flags=re.S):
        if re.search(rf'<td class="col-id">\s*{execution_id}\s*</td>', row):
            return row
    raise AssertionError(f"execution {execution_id} not listed")


def test_list_shows_badges_and_who_asked(app, staff_client, rows):
    page = text(staff_client.get("/admin/executions/"))
    failed = row_html(page, rows["failed_a1"])
    assert ('<span class="badge badge-danger" title="Fallida: terminó con error (vea Error / '
            'motivo)" data-status="FAILED">Fallida</span>') in failed
    assert 'title="FAILED"' not in page   # the hover text is Spanish too
    assert re.search(r'<td class="col-requested_by">\s*programada\s*</td>', failed)
    assert "…" in failed and LONG_ERROR not in failed           # the list shortens errors
    manual = row_html(page, rows["manual"])
    assert re.search(r'<td class="col-requested_by">\s*jefa\s*</td>', manual)
    assert "badge-warning" in manual
    cli = row_html(page, rows["cli"])
    assert re.search(r'<td class="col-requested_by">\s*manual \(CLI\)\s*</td>', cli)
    ok = row_html(page, rows["ok"])
    assert "badge-success" in ok and "1.5 s" in ok
    assert re.search(r'<td class="col-attempt">\s*0\s*</td>', ok)
    # after retries the duration is the total since the slot too, not only the last attempt
    retried = row_html(page, rows["retried"])
    assert "400 ms (3 intentos, 12.5 s en total)" in retried


def test_details_show_the_full_error_and_a_readable_summary(app, staff_client, rows):
    page = text(staff_client.get(f"/admin/executions/details/?id={rows['failed_a1']}"))
    error = re.search(r'<pre class="facho-error">(.*?)</pre>', page, flags=re.S).group(1)
    assert error.replace("&#39;", "'") == LONG_ERROR

    page = text(staff_client.get(f"/admin/executions/details/?id={rows['ok']}"))
    summary = re.search(r'<dl class="row facho-summary">.*</dl>', page, flags=re.S).group(0)
    pairs = dict(re.findall(r'<dt class="col-sm-4" data-key="(\w+)">[^<]*</dt>'
                            r'<dd class="col-sm-8">(.*?)</dd>', summary, flags=re.S))
    assert pairs["found"] == "256" and pairs["new"] == "3" and pairs["gone"] == "1"
    assert pairs["walk_ms"] == "1.5 s" and pairs["empty_walk"] == "No"
    assert pairs["oids"] == "ZTE ONU nombre, ZTE ONU serie"
    assert pairs["campo_nuevo"] == "&lt;b&gt;sin marcado&lt;/b&gt;"    # escaped, never HTML
    assert '<dt class="col-sm-4" data-key="found">ONUs encontradas</dt>' in summary
    assert '<dt class="col-sm-4" data-key="updated">Actualizadas</dt><dd class="col-sm-8">250' \
        in summary                                                     # nested per OID
    keys = re.findall(r'data-key="(\w+)"', summary)
    assert keys.index("found") < keys.index("new") < keys.index("formula") < keys.index(
        "campo_nuevo")
    # the raw JSON is only a folded extra, after the readable list
    assert page.index("facho-summary") < page.index("Ver JSON") < page.index("&#34;found&#34;")


def test_filters_by_user_and_date(app, staff_client, rows):
    page = text(staff_client.get(f"/admin/executions/?flt0_solicitada_por_igual_a={rows['jefa']}"))
    assert re.findall(r'<td class="col-id">\s*(\d+)\s*</td>', page) == [str(rows["manual"])]
    today = utcnow().astimezone(app.config["FACHO"].tz)
    start = (today - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    end = (today + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    page = text(staff_client.get(f"/admin/executions/?flt0_creada_entre={start} to {end}"))
    assert len(re.findall(r'<td class="col-id">', page)) == 7
    page = text(staff_client.get("/admin/executions/?flt0_creada_hasta=2001-01-01 00:00:00"))
    assert re.findall(r'<td class="col-id">', page) == []


def test_the_list_refreshes_itself_only_while_something_on_it_is_active(app, staff_client,
                                                                        rows):
    page = text(staff_client.get("/admin/executions/"))
    assert 'data-active="0"' in page and "live_list.js" not in page
    running = add_execution(app, rows["job_2"], rows["olt_a"], "RUNNING")
    page = text(staff_client.get("/admin/executions/"))
    assert 'data-active="1"' in page
    script = re.search(r'<script src="([^"]+)" id="live-list-script"\s+'
                       r'data-interval-ms="(\d+)"', page)
    assert script.group(1) == "/static/js/live_list.js" and script.group(2) == "3000"
    assert staff_client.get(script.group(1)).status_code == 200
    # only what is on the page counts: filtered to failures, nothing to watch
    page = text(staff_client.get("/admin/executions/?flt0_estado_igual_a=FAILED"))
    assert "live_list.js" not in page
    assert str(running) not in re.findall(r'<td class="col-id">\s*(\d+)\s*</td>', page)


def test_rerun_creates_one_pending_per_failed_pair_and_refuses_the_rest(
        app, staff_client, rows, redis_client):
    before = count(app, Execution)
    selected = [rows[k] for k in ("failed_a1", "failed_a2", "failed_b", "failed_off", "ok",
                                  "manual")]
    page = text(run_action(staff_client, "executions", "reejecutar", selected))
    shown = alerts(page)
    assert ("warning", f"Solo se re-ejecutan ejecuciones fallidas; se omitieron: "
                       f"#{rows['ok']} (Exitosa), #{rows['manual']} (Interrumpida).") in shown
    assert ("success", "🚀 Encolada 1 tarea: 2 ejecuciones creadas y encoladas") in shown
    assert ("warning", '⚠️ Tarea "Descubrimiento": OLTs deshabilitadas omitidas: OLT-OFF.') \
        in shown
    from facho.extensions import db
    with app.app_context():
        new = db.session.query(Execution).filter(Execution.id > max(selected)).filter(
            Execution.scheduled_for.is_(None), Execution.status == PENDING).all()
        pairs = sorted((e.job_id, e.olt_id) for e in new)
        assert pairs == sorted([(rows["job_1"], rows["olt_a"]), (rows["job_1"], rows["olt_b"])])
        assert {e.requested_by.username for e in new} == {"operador"}
        queued = {json.loads(raw)["message_id"]
                  for raw in redis_client.hvals(f"{NAMESPACE}:discovery_main.msgs")}
        assert {e.message_id for e in new} <= queued
    assert count(app, Execution) == before + 2
    # again: both pairs are now pending, nothing new
    page = text(run_action(staff_client, "executions", "reejecutar", [rows["failed_b"]]))
    assert any(kind == "warning" and "Ya en curso" in m for kind, m in alerts(page))
    assert count(app, Execution) == before + 2


def test_rerun_of_only_finished_rows_creates_nothing(app, staff_client, rows):
    before = count(app, Execution)
    shown = alerts(text(run_action(staff_client, "executions", "reejecutar", [rows["ok"]])))
    assert shown == [("warning", f"Solo se re-ejecutan ejecuciones fallidas; se omitió: "
                                 f"#{rows['ok']} (Exitosa).")]
    assert count(app, Execution) == before


def test_rerun_needs_the_csrf_token(app, staff_client, rows):
    before = count(app, Execution)
    response = run_action(staff_client, "executions", "reejecutar", [rows["failed_b"]],
                          with_token=False)
    assert response.status_code == 400
    assert count(app, Execution) == before


def _maintenance_messages(redis_client):
    return [json.loads(raw) for raw in redis_client.hvals(f"{NAMESPACE}:maintenance.msgs")]


def test_old_executions_are_deleted_in_the_background(app, staff_client, rows, redis_client):
    old = add_execution(app, rows["job_2"], rows["olt_a"], "SUCCESS",
                         created_at=utcnow() - timedelta(days=40))
    add_execution(app, rows["job_2"], rows["olt_a"], "PENDING",
                   created_at=utcnow() - timedelta(days=40))      # never counted: active
    page = text(staff_client.get("/admin/executions/"))
    assert 'href="/admin/executions/eliminar-antiguas/"' in page
    page = text(staff_client.get("/admin/executions/eliminar-antiguas/"))
    counts = dict(re.findall(r"<tr><td>(\d+) días</td><td class=\"text-right\">(\d+)</td>",
                             page))
    assert counts["30"] == "1" and counts["90"] == "0"
    response = post(staff_client, "/admin/executions/eliminar-antiguas/", {"dias": "30"})
    shown = alerts(text(response))
    assert shown == [("success", "🧹 Eliminación programada en segundo plano (cola maintenance):"
                                 " se borrarán por lotes las ejecuciones terminadas anteriores "
                                 "a 30 días (ahora 1).")]
    [message] = _maintenance_messages(redis_client)
    assert (message["actor_name"], message["args"], message["queue_name"]) == (
        "purge_executions", [30], "maintenance")
    assert count(app, Execution, id=old) == 1     # nothing deleted by the web request
    # a real worker on the maintenance queue runs the purge
    from tests.execution_helpers import in_process_worker
    with in_process_worker(app, threads=1, queues=("maintenance",)):
        deadline = time.monotonic() + 20
        while count(app, Execution, id=old) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert count(app, Execution, id=old) == 0
    assert count(app, Execution, status="PENDING") >= 1   # active rows are never purged


def test_purge_form_refuses_bad_days_broker_down_and_missing_token(app, staff_client, rows,
                                                                   redis_client):
    page = text(post(staff_client, "/admin/executions/eliminar-antiguas/", {"dias": "0"}))
    assert "Debe estar entre 1 y 3650 días." in page
    response = staff_client.post("/admin/executions/eliminar-antiguas/", data={"dias": "30"})
    assert response.status_code == 400
    previous = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0",
                                    namespace=NAMESPACE, socket_connect_timeout=0.5))
    try:
        response = post(staff_client, "/admin/executions/eliminar-antiguas/", {"dias": "30"})
    finally:
        dramatiq.set_broker(previous)
    assert response.status_code == 200
    assert any(kind == "danger" and "el broker (Redis) no responde" in m
               for kind, m in alerts(text(response)))
    assert _maintenance_messages(redis_client) == []


def test_created_dates_are_shown_in_the_operators_zone(app, staff_client, rows):
    made = add_execution(app, rows["job_2"], rows["olt_a"], "SUCCESS",
                          created_at=datetime(2025, 1, 10, 16, 0, tzinfo=UTC))
    page = text(staff_client.get("/admin/executions/"))
    assert "2025-01-10 11:00:00" in row_html(page, made)     # 16:00 UTC = 11:00 Lima
