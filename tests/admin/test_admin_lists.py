"""Read-only lists (Ejecuciones, ONUs) and Tareas por OLT: order, filters, search, badges."""
import re
from datetime import datetime

import pytest

from facho.models import Execution, Onu, SnmpJobHost
from tests.conftest import create_user
from tests.factories import UTC, add, add_brand, add_execution, add_job, add_olt
from tests.panel import fetch, post, run_action, table, text


@pytest.fixture
def history(app):
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    job_1 = add_job(app, brand, [olt_a, olt_b], nombre="Descubrimiento")
    job_2 = add_job(app, brand, [olt_a], nombre="Lectura rx", job_type="get")
    admin_id = create_user(app, username="jefa")
    made = lambda **kw: add_execution(app, **kw)  # noqa: E731
    rows = {
        "old_ok": made(job_id=job_1, olt_id=olt_a, status="SUCCESS", duration_ms=1530,
                       created_at=datetime(2025, 1, 10, 4, 0, tzinfo=UTC)),
        "failed": made(job_id=job_1, olt_id=olt_b, status="FAILED",
                       error_message="Tiempo de espera agotado",
                       created_at=datetime(2025, 1, 10, 16, 0, tzinfo=UTC)),
        "manual": made(job_id=job_2, olt_id=olt_a, status="PENDING", scheduled_for=None,
                       requested_by_id=admin_id,
                       created_at=datetime(2025, 1, 11, 9, 0, tzinfo=UTC)),
    }
    return dict(olt_a=olt_a, olt_b=olt_b, job_1=job_1, job_2=job_2, user=admin_id), rows


def ids_in(page):
    """Execution ids in list order (the N.º column)."""
    return [int(n) for n in re.findall(r'<td class="col-id">\s*(\d+)\s*</td>', page)]


def test_executions_newest_first_with_badges_and_duration(app, staff_client, history):
    _, rows = history
    page = text(staff_client.get("/admin/executions/"))
    assert ids_in(page) == [rows["manual"], rows["failed"], rows["old_ok"]]
    assert ('<span class="badge badge-success" title="Exitosa: terminó y guardó sus datos" '
            'data-status="SUCCESS">Exitosa</span>') in page
    assert ('<span class="badge badge-danger" title="Fallida: terminó con error (vea Error / '
            'motivo)" data-status="FAILED">Fallida</span>') in page
    assert "1.5 s" in page and "Tiempo de espera agotado" in page
    assert "jefa" in page and "Programada" in page


EXECUTION_FILTERS = [
    ("flt0_estado_igual_a=FAILED", ["failed"]),
    ("flt0_tarea_igual_a={job_2}", ["manual"]),
    ("flt0_olt_igual_a={olt_b}", ["failed"]),
    ("flt0_solicitada_por_igual_a={user}", ["manual"]),
    ("flt0_origen_es=programada", ["failed", "old_ok"]),
    # Dates are typed in Lima time: 2025-01-10 11:00 Lima = 16:00 UTC.
    ("flt0_creada_entre=2025-01-10 00:00:00 to 2025-01-10 11:00:00", ["failed"]),
    ("flt0_creada_desde=2025-01-10 10:59:59", ["manual", "failed"]),
    ("flt0_creada_hasta=2025-01-09 23:00:00", ["old_ok"]),
]


def test_execution_filters(app, staff_client, history):
    ids, rows = history
    for query, expected in EXECUTION_FILTERS:
        page = text(staff_client.get("/admin/executions/?" + query.format(**ids)))
        assert ids_in(page) == [rows[name] for name in expected], query


def test_execution_details_are_read_only(app, staff_client, history):
    _, rows = history
    page = text(staff_client.get(f"/admin/executions/details/?id={rows['failed']}"))
    assert "Tiempo de espera agotado" in page and "OLT-B" in page
    assert staff_client.get(f"/admin/executions/edit/?id={rows['failed']}").status_code == 302
    response = post(staff_client, "/admin/executions/delete/", {"id": str(rows["failed"])})
    assert response.status_code == 200
    assert fetch(app, Execution, rows["failed"]) is not None


def test_onu_filters_and_search(app, staff_client):
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    for olt, index, slot, port, serial, desc, status, present in [
        (olt_a, "1.1", 1, 3, "HWTCA3B1799D", "Cliente Pérez", "online", True),
        (olt_a, "1.2", 2, 3, "HWTC00000001", "Cliente Gómez", "offline", True),
        (olt_b, "9.1", 1, 5, "ZTEG12345678", "Plaza central", "online", False),
    ]:
        add(app, Onu(olt_id=olt, raw_index=index, slot=slot, port=port, onu_id=1,
                     name=f"0/{slot}/{port}:1", serial=serial, descripcion=desc,
                     status=status, present=present, rx_power=-21.5))
    get = lambda q: table(text(staff_client.get("/admin/onus/?" + q)))  # noqa: E731
    page = get(f"flt0_olt_igual_a={olt_b}")
    assert "ZTEG12345678" in page and "HWTC" not in page
    page = get("flt0_slot_igual_a=2")
    assert "HWTC00000001" in page and "HWTCA3B1799D" not in page
    page = get("flt0_puerto_igual_a=5")
    assert "ZTEG12345678" in page and "HWTC" not in page
    page = get("flt0_estado_igual_a=offline")
    assert "HWTC00000001" in page and "ZTEG" not in page and "HWTCA3B1799D" not in page
    page = get("flt0_presente_igual_a=0")
    assert "ZTEG12345678" in page and "HWTC" not in page
    page = get("search=A3B1799D")
    assert "HWTCA3B1799D" in page and "HWTC00000001" not in page
    page = get("search=Gómez")
    assert "HWTC00000001" in page and "HWTCA3B1799D" not in page
    assert "-21.50 dBm" in page
    assert staff_client.get("/admin/onus/new/").status_code == 302


def test_job_host_bulk_disable_interrupts_that_pair(app, staff_client, history):
    ids, rows = history
    with app.app_context():
        host = SnmpJobHost.query.filter_by(job_id=ids["job_2"], olt_id=ids["olt_a"]).one().id
    page = text(run_action(staff_client, "job_hosts", "deshabilitar", [host]))
    assert "Se deshabilitó 1 tarea por OLT." in page
    assert "1 ejecución pendiente fue interrumpida." in page
    assert fetch(app, SnmpJobHost, host).enabled is False
    manual = fetch(app, Execution, rows["manual"])
    assert manual.status == "INTERRUPTED"
    assert manual.error_message == "Interrumpida: la tarea está deshabilitada para esta OLT"
    page = table(text(staff_client.get("/admin/job_hosts/?flt0_habilitada_igual_a=0")))
    assert "Lectura rx" in page and "Descubrimiento" not in page
