"""SNMP jobs in the panel: OLT selection -> job hosts, schedule validation and re-planning,
brand consistency, bulk enable/disable."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facho.models import Execution, SnmpJob, SnmpJobHost, utcnow
from facho.scheduling.schedule import parse_interval
from tests.factories import UTC, add_brand, add_execution, add_job, add_oid, add_olt
from tests.panel import count, fetch, field_errors, post, run_action, table, text


DISCOVERY_OIDS: dict[int, int] = {}     # brand id -> its discovery OID (huawei fixture)


def job_form(brand_id, olt_ids=(), oid_ids=None, **overrides):
    """A valid form: a discovery job needs a discovery OID, the brand's is used by default."""
    if oid_ids is None:
        oid_ids = [DISCOVERY_OIDS[brand_id]] if brand_id in DISCOVERY_OIDS else []
    data = {"nombre": "Descubrimiento norte", "descripcion": "", "brand": str(brand_id),
            "job_type": "descubrimiento", "olts": [str(i) for i in olt_ids],
            "oids": [str(i) for i in oid_ids], "interval_raw": "5m", "cron_expr": "",
            "cron_tz": "America/Lima", "enabled": "y", "max_retries": "2",
            "retry_delay_seconds": "30"}
    data.update(overrides)
    return data


def host_olts(app, job_id):
    from facho.extensions import db
    with app.app_context():
        return sorted(h.olt_id for h in db.session.query(SnmpJobHost).filter_by(job_id=job_id))


@pytest.fixture
def huawei(app):
    brand = add_brand(app, "Huawei")
    DISCOVERY_OIDS[brand] = add_oid(app, brand, nombre="Huawei ONT descubrimiento",
                                     oid="1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9",
                                     espacio="descubrimiento")
    return brand, add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")


def test_created_job_gets_job_hosts_and_a_first_run_on_its_grid(app, staff_client, huawei):
    brand, olt_a, olt_b = huawei
    before = utcnow()
    page = text(post(staff_client, "/admin/snmp_jobs/new/", job_form(brand, [olt_a, olt_b])))
    assert "Registro creado." in page
    with app.app_context():
        job = SnmpJob.query.one()
        job_id, anchor, next_run = job.id, job.anchor_at, job.next_run_at
    assert host_olts(app, job_id) == [olt_a, olt_b]
    assert anchor.microsecond == 0 and before - timedelta(seconds=1) <= anchor <= utcnow()
    # On the grid (anchor + k * 5 min); the first slot (the anchor) was claimed at save
    # time, so the next one not claimed is one interval later.
    assert (next_run - anchor) % parse_interval("5m") == timedelta(0)
    assert next_run == anchor + parse_interval("5m")
    # The list speaks Spanish: schedule in words, its OLTs, time left.
    assert "cada 5 minutos" in page and "OLT-A, OLT-B" in page
    assert "Próxima ejecución" in page and "Falta" in page


def test_next_run_is_shown_in_the_operator_time_zone(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    add_job(app, brand, [olt_a], next_run_at=datetime(2030, 1, 1, 15, 0, tzinfo=UTC))
    page = text(staff_client.get("/admin/snmp_jobs/"))
    assert "2030-01-01 10:00:00" in page  # Lima is UTC-5


def test_editing_the_selection_adds_and_removes_job_hosts(app, staff_client, huawei):
    brand, olt_a, olt_b = huawei
    olt_c = add_olt(app, brand, "OLT-C")
    job = add_job(app, brand, [olt_a, olt_b], nombre="Descubrimiento norte")
    with app.app_context():
        kept_host = SnmpJobHost.query.filter_by(job_id=job, olt_id=olt_a).one().id
    pending_b = add_execution(app, job, olt_b, "PENDING")
    page = text(post(staff_client, f"/admin/snmp_jobs/edit/?id={job}",
                     job_form(brand, [olt_a, olt_c])))
    assert "Cambios guardados." in page
    assert host_olts(app, job) == [olt_a, olt_c]
    assert fetch(app, SnmpJobHost, kept_host) is not None  # kept, with its history
    removed = fetch(app, Execution, pending_b)
    assert removed.status == "INTERRUPTED"
    assert removed.error_message == "Interrumpida: la OLT fue quitada de la tarea"


def test_edit_form_shows_the_current_olts_selected(app, staff_client, huawei):
    brand, olt_a, olt_b = huawei
    job = add_job(app, brand, [olt_b])
    page = text(staff_client.get(f"/admin/snmp_jobs/edit/?id={job}"))
    olts_select = re.search(r'<select[^>]*id="olts".*?</select>', page, flags=re.S).group(0)
    assert f'<option selected value="{olt_b}">' in olts_select
    assert f'<option value="{olt_a}">' in olts_select


def test_changing_the_interval_replans_from_the_new_grid(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    old_anchor = datetime(2024, 1, 1, tzinfo=UTC)
    job = add_job(app, brand, [olt_a], interval_raw="1d", anchor_at=old_anchor,
                   next_run_at=datetime(2030, 1, 1, tzinfo=UTC))
    before = utcnow()
    post(staff_client, f"/admin/snmp_jobs/edit/?id={job}",
         job_form(brand, [olt_a], interval_raw="2h"))
    stored = fetch(app, SnmpJob, job)
    assert stored.interval_raw == "2h"
    assert stored.anchor_at != old_anchor and stored.anchor_at >= before - timedelta(seconds=1)
    assert (stored.next_run_at - stored.anchor_at) % timedelta(hours=2) == timedelta(0)
    # The save claims the new grid's slots up to the claim horizon (one tick ahead), so
    # next_run_at is the first slot past it.
    assert before + timedelta(seconds=60) <= stored.next_run_at <= utcnow() + timedelta(hours=2)


def test_editing_other_fields_keeps_the_grid(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    anchor, next_run = datetime(2024, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    job = add_job(app, brand, [olt_a], anchor_at=anchor, next_run_at=next_run)
    post(staff_client, f"/admin/snmp_jobs/edit/?id={job}",
         job_form(brand, [olt_a], descripcion="otra descripción"))
    stored = fetch(app, SnmpJob, job)
    assert stored.descripcion == "otra descripción"
    assert (stored.anchor_at, stored.next_run_at) == (anchor, next_run)


def test_cron_job_is_planned_on_the_cron_instants(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    post(staff_client, "/admin/snmp_jobs/new/",
         job_form(brand, [olt_a], interval_raw="", cron_expr="0  2 * * *"))
    with app.app_context():
        job = SnmpJob.query.one()
        assert job.interval_raw is None and job.cron_expr == "0 2 * * *"
        local = job.next_run_at.astimezone(ZoneInfo("America/Lima"))
    assert (local.hour, local.minute, local.second) == (2, 0, 0)


BAD_JOB_INPUT = [
    ({"interval_raw": "5x"}, "interval_raw", "Intervalo inválido"),
    ({"interval_raw": "0m"}, "interval_raw", "Intervalo inválido: debe ser mayor que cero"),
    ({"interval_raw": "m5"}, "interval_raw", "Intervalo inválido"),
    ({"interval_raw": "", "cron_expr": ""}, "interval_raw",
     "Indique un intervalo (por ejemplo 5m) o una expresión cron."),
    ({"interval_raw": "5m", "cron_expr": "0 2 * * *"}, "cron_expr",
     "Indique un intervalo o una expresión cron, no ambos."),
    ({"interval_raw": "", "cron_expr": "61 * * * *"}, "cron_expr", "Expresión cron inválida"),
    ({"interval_raw": "", "cron_expr": "0 2 * *"}, "cron_expr", "debe tener 5 campos"),
    ({"interval_raw": "", "cron_expr": "0 2 * * *", "cron_tz": "America/Limaa"}, "cron_tz",
     "Zona horaria desconocida"),
    ({"nombre": ""}, "nombre", "Este campo es obligatorio."),
    ({"max_retries": "-1"}, "max_retries", "Debe estar entre 0 y 10."),
]


def test_bad_schedule_input_is_refused_and_nothing_is_saved(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    for overrides, field, message in BAD_JOB_INPUT:
        page = text(post(staff_client, "/admin/snmp_jobs/new/",
                         job_form(brand, [olt_a], **overrides)))
        errors = field_errors(page)
        assert any(message in m for m in errors.get(field, [])), (overrides, errors)
        assert count(app, SnmpJob) == 0 and count(app, SnmpJobHost) == 0, overrides


def test_olt_of_another_brand_is_refused(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    zte = add_brand(app, "ZTE")
    olt_zte = add_olt(app, zte, "OLT-ZTE")
    page = text(post(staff_client, "/admin/snmp_jobs/new/", job_form(brand, [olt_a, olt_zte])))
    assert ("La OLT OLT-ZTE es de la marca ZTE, no de Huawei: quítela o cambie la marca "
            "de la tarea.") in field_errors(page)["olts"]
    assert count(app, SnmpJob) == 0 and count(app, SnmpJobHost) == 0


def test_oid_of_another_brand_is_refused_but_a_brandless_oid_fits(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    zte = add_brand(app, "ZTE")
    zte_oid = add_oid(app, zte, nombre="Serie ZTE", oid="1.3.6.1.4.1.3902.1012.3.28.1.1.5")
    any_oid = add_oid(app, None, nombre="sysDescr", oid="1.3.6.1.2.1.1.1.0")
    page = text(post(staff_client, "/admin/snmp_jobs/new/",
                     job_form(brand, [olt_a], [zte_oid, any_oid])))
    assert "El OID Serie ZTE es de la marca ZTE, no de Huawei." in field_errors(page)["oids"]
    assert count(app, SnmpJob) == 0
    page = text(post(staff_client, "/admin/snmp_jobs/new/",
                     job_form(brand, [olt_a], [any_oid, DISCOVERY_OIDS[brand]])))
    assert "Registro creado." in page


def test_job_form_page_carries_the_brand_map_for_client_side_filtering(app, staff_client,
                                                                       huawei):
    brand, olt_a, _ = huawei
    page = text(staff_client.get("/admin/snmp_jobs/new/"))
    assert 'id="job-brand-map"' in page and "/static/js/job_form.js" in page
    assert f'"{olt_a}": {brand}' in page


def test_duplicate_job_name_is_refused(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    add_job(app, brand, [olt_a], nombre="Descubrimiento norte")
    page = text(post(staff_client, "/admin/snmp_jobs/new/", job_form(brand, [olt_a])))
    assert "Ya existe una tarea con este nombre." in field_errors(page)["nombre"]
    assert count(app, SnmpJob) == 1


def test_bulk_disable_interrupts_pending_of_those_jobs_only(app, staff_client, huawei):
    brand, olt_a, olt_b = huawei
    job_1 = add_job(app, brand, [olt_a, olt_b], nombre="T1")
    job_2 = add_job(app, brand, [olt_a], nombre="T2")
    pending = [add_execution(app, job_1, olt_a), add_execution(app, job_1, olt_b)]
    running = add_execution(app, job_1, olt_a, "RUNNING")
    failed = add_execution(app, job_1, olt_b, "FAILED")
    other = add_execution(app, job_2, olt_a)

    page = text(run_action(staff_client, "snmp_jobs", "deshabilitar", [job_1]))

    assert "Se deshabilitó 1 tarea." in page
    assert "2 ejecuciones pendientes fueron interrumpidas." in page
    assert fetch(app, SnmpJob, job_1).enabled is False
    for execution_id in pending:
        row = fetch(app, Execution, execution_id)
        assert (row.status, row.error_message) == (
            "INTERRUPTED", "Interrumpida: la tarea fue deshabilitada")
    assert fetch(app, Execution, running).status == "RUNNING"
    assert fetch(app, Execution, failed).status == "FAILED"
    assert fetch(app, Execution, other).status == "PENDING"


def test_bulk_enable_replans_from_now(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    stale = datetime(2020, 1, 1, tzinfo=UTC)
    job = add_job(app, brand, [olt_a], enabled=False, anchor_at=stale, next_run_at=stale)
    before = utcnow()
    page = text(run_action(staff_client, "snmp_jobs", "habilitar", [job]))
    assert "Se habilitó 1 tarea." in page
    stored = fetch(app, SnmpJob, job)
    assert stored.enabled is True
    assert stored.anchor_at == stale  # same grid...
    assert stored.next_run_at >= before - timedelta(seconds=1)  # ...from now on
    assert (stored.next_run_at - stale) % timedelta(minutes=5) == timedelta(0)


def test_disabling_in_the_edit_form_interrupts_pending(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    job = add_job(app, brand, [olt_a])
    pending = add_execution(app, job, olt_a)
    form = job_form(brand, [olt_a])
    del form["enabled"]
    post(staff_client, f"/admin/snmp_jobs/edit/?id={job}", form)
    assert fetch(app, SnmpJob, job).enabled is False
    assert fetch(app, Execution, pending).status == "INTERRUPTED"


def test_filters_by_enabled_and_job_type(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    add_job(app, brand, [olt_a], nombre="Tarea activa")
    add_job(app, brand, [olt_a], nombre="Tarea apagada", enabled=False)
    add_job(app, brand, [olt_a], nombre="Lectura rx", job_type="get")
    page = table(text(staff_client.get("/admin/snmp_jobs/?flt0_habilitada_igual_a=0")))
    assert "Tarea apagada" in page and "Tarea activa" not in page
    page = table(text(staff_client.get("/admin/snmp_jobs/?flt0_tipo_igual_a=get")))
    assert "Lectura rx" in page and "Tarea activa" not in page


def test_changing_the_schedule_interrupts_reservations_of_the_old_grid(app, staff_client,
                                                                       huawei):
    brand, olt_a, _ = huawei
    job = add_job(app, brand, [olt_a], interval_raw="1m")
    now = utcnow()
    due = add_execution(app, job, olt_a, scheduled_for=now - timedelta(seconds=5))
    reserved = add_execution(app, job, olt_a, scheduled_for=now + timedelta(seconds=40))
    page = text(post(staff_client, f"/admin/snmp_jobs/edit/?id={job}",
                     job_form(brand, [olt_a], interval_raw="10m")))
    assert "1 ejecución pendiente fue interrumpida." in page
    row = fetch(app, Execution, reserved)
    assert (row.status, row.error_message) == (
        "INTERRUPTED", "Interrumpida: la programación de la tarea cambió")
    assert fetch(app, Execution, due).status == "PENDING"  # already due: it runs
    assert fetch(app, SnmpJob, job).next_run_at > now + timedelta(seconds=40)


# --- issue 9: first slot at save time, next slot shown, form checks ------------------------

def test_a_new_job_s_first_slot_is_claimed_and_sent_at_save_time(app, staff_client, huawei):
    """No minute tick in between: saving the job creates and sends its first slot."""
    brand, olt_a, olt_b = huawei
    post(staff_client, "/admin/snmp_jobs/new/", job_form(brand, [olt_a, olt_b]))
    from facho.extensions import db
    with app.app_context():
        job = SnmpJob.query.one()
        rows = Execution.query.filter_by(job_id=job.id).all()
        assert sorted(r.olt_id for r in rows) == sorted([olt_a, olt_b])
        assert {r.scheduled_for for r in rows} == {job.anchor_at}
        assert all(r.message_id for r in rows)              # sent, not waiting for a tick
        assert job.next_run_at == job.anchor_at + timedelta(minutes=5)
        db.session.rollback()


def test_an_edited_job_s_first_new_slot_is_claimed_and_sent_at_save_time(app, staff_client,
                                                                         huawei):
    """1d -> 30s: the new grid's first slot (at the edit) is sent when the form is saved,
    not at the next minute tick."""
    brand, olt_a, _ = huawei
    job = add_job(app, brand, [olt_a], interval_raw="1d",
                  anchor_at=datetime(2024, 1, 1, tzinfo=UTC),
                  next_run_at=datetime(2030, 1, 1, tzinfo=UTC))
    post(staff_client, f"/admin/snmp_jobs/edit/?id={job}",
         job_form(brand, [olt_a], interval_raw="30s"))
    from facho.extensions import db
    with app.app_context():
        stored = db.session.get(SnmpJob, job)
        rows = Execution.query.filter_by(job_id=job).all()
        assert stored.interval_raw == "30s"
        assert stored.anchor_at in {r.scheduled_for for r in rows}, rows
        assert all(r.message_id for r in rows if r.scheduled_for <= utcnow())
        assert stored.next_run_at > utcnow()
        db.session.rollback()


def test_the_jobs_list_shows_a_claimed_pending_slot_as_the_next_run(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    job = add_job(app, brand, [olt_a], next_run_at=datetime(2030, 1, 1, 15, 1, tzinfo=UTC))
    add_execution(app, job, olt_a, scheduled_for=datetime(2030, 1, 1, 15, 0, tzinfo=UTC))
    page = table(text(staff_client.get("/admin/snmp_jobs/")))
    assert "2030-01-01 10:00:00" in page                   # the reserved slot (Lima, UTC-5)
    assert "2030-01-01 10:01:00" not in page


def test_intervals_under_the_configured_minimum_are_refused_in_spanish(app, staff_client,
                                                                      huawei):
    brand, olt_a, _ = huawei
    page = text(post(staff_client, "/admin/snmp_jobs/new/",
                     job_form(brand, [olt_a], interval_raw="1s")))
    assert any("Intervalo demasiado corto: el mínimo es 10 s" in m
               for m in field_errors(page).get("interval_raw", [])), field_errors(page)
    assert count(app, SnmpJob) == 0


def test_the_job_form_says_what_the_overlap_policy_does(app, staff_client, huawei):
    page = text(staff_client.get("/admin/snmp_jobs/new/"))
    assert "sigue en curso" in page and "se omite" in page


JOB_OID_CHECKS = [
    ("descubrimiento", dict(espacio="serial"), "oids",
     "Una tarea de descubrimiento necesita un OID de espacio «descubrimiento»"),
    ("get", dict(espacio="descubrimiento"), "oids",
     "Una tarea de lectura necesita al menos un OID que escriba un campo"),
]


@pytest.mark.parametrize("job_type, oid_kw, field, message", JOB_OID_CHECKS)
def test_a_job_whose_oids_cannot_work_is_refused_under_the_field(app, staff_client, huawei,
                                                                job_type, oid_kw, field,
                                                                message):
    brand, olt_a, _ = huawei
    oid = add_oid(app, brand, nombre="Uno", **oid_kw)
    page = text(post(staff_client, "/admin/snmp_jobs/new/",
                     job_form(brand, [olt_a], [oid], job_type=job_type)))
    assert any(message in m for m in field_errors(page).get(field, [])), field_errors(page)
    assert count(app, SnmpJob) == 0


def test_an_oid_whose_default_does_not_fit_its_field_is_refused(app, staff_client, huawei):
    from facho.extensions import db
    from facho.models import Oid
    brand, olt_a, _ = huawei
    oid = add_oid(app, brand, nombre="Potencia RX", espacio="rx_power")
    with app.app_context():
        row = db.session.get(Oid, oid)
        row.formato, row.default_value = "dbm_huawei", "sin dato"
        db.session.commit()
    page = text(post(staff_client, "/admin/snmp_jobs/new/",
                     job_form(brand, [olt_a], [oid], job_type="get")))
    assert any("El valor por defecto «sin dato» del OID «Potencia RX»" in m
               for m in field_errors(page).get("oids", [])), field_errors(page)
    assert count(app, SnmpJob) == 0


def test_the_edit_form_lists_only_the_jobs_brand_oids(app, staff_client, huawei):
    brand, olt_a, _ = huawei
    zte = add_brand(app, "ZTE")
    add_oid(app, zte, nombre="Serie ZTE", oid="1.3.6.1.4.1.3902.1012.3.28.1.1.5")
    add_oid(app, None, nombre="sysDescr", oid="1.3.6.1.2.1.1.1.0")
    job = add_job(app, brand, [olt_a])
    page = text(staff_client.get(f"/admin/snmp_jobs/edit/?id={job}"))
    oids_select = re.search(r'<select[^>]*id="oids".*?</select>', page, flags=re.S).group(0)
    assert "sysDescr" in oids_select and "Serie ZTE" not in oids_select
