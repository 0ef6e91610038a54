"""/api/v1 reads: OLTs with their counts (never a community), ONUs searched and filtered
across OLTs with keyset pages, one ONU with its readings, executions filtered as in the
panel, jobs. SQLite and PostgreSQL where the SQL differs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from facho.extensions import db
from facho.inventory.history import store
from facho.models import Onu
from tests.factories import COMMUNITY, add_brand, add_execution, add_job, add_olt, add_onus

UTC = timezone.utc


@pytest.fixture
def two_olts(app):
    brand = add_brand(app)
    north = add_olt(app, brand, "OLT-NORTE", v3_auth_clave="clave-v3-auth",
                    v3_priv_clave="clave-v3-priv")
    south = add_olt(app, brand, "OLT-SUR")
    add_onus(app, north, 3, status="online", serial="HWTC00AA")
    add_onus(app, north, 1, status="offline", present=False, first=10)
    add_onus(app, south, 2, status="online", slot=2, port=5)
    return north, south


def test_olts_come_with_their_counts_and_never_a_secret(app, reader, two_olts):
    north, south = two_olts
    response = reader.get("/api/v1/olts")
    items = {o["abreviatura"]: o for o in response.get_json()["items"]}
    assert items["OLT-NORTE"]["onus"] == {"total": 4, "presentes": 3, "ausentes": 1,
                                          "por_estado": {"online": 3, "offline": 1}}
    assert items["OLT-SUR"]["onus"]["total"] == 2 and items["OLT-SUR"]["id"] == south
    text = response.get_data(as_text=True)
    for secret in (COMMUNITY, "clave-v3-auth", "clave-v3-priv"):
        assert secret not in text
    assert not {"comunidad", "v3_auth_clave", "v3_priv_clave"} & set(items["OLT-SUR"])


def test_onus_are_searched_by_serial_description_or_name_across_olts(app, reader, two_olts):
    north, south = two_olts
    with app.app_context():
        db.session.get(Onu, 5).descripcion = "Cliente Pérez hwtc00aa"
        db.session.commit()
    found = reader.get("/api/v1/onus?q=hwtc00aa").get_json()["items"]
    assert [o["id"] for o in found] == [1, 2, 3, 5]
    by_name = reader.get("/api/v1/onus?q=0/2/5:").get_json()["items"]
    assert {o["olt"]["abreviatura"] for o in by_name} == {"OLT-SUR"}
    # LIKE's wildcards are searched as text
    assert reader.get("/api/v1/onus?q=%25").get_json()["items"] == []


@pytest.mark.parametrize("query, ids", [
    ("olt={north}", [1, 2, 3, 4]),
    ("slot=2&puerto=5", [5, 6]),
    ("estado=offline", [4]),
    ("presente=false", [4]),
    ("presente=true&olt={north}", [1, 2, 3]),
    ("rx_min=-22&rx_max=-20", [2, 3]),
    ("rx_min=-21.5", [3]),
])
def test_onus_are_filtered_like_the_panel_list(app, reader, two_olts, query, ids):
    with app.app_context():
        for onu_id, rx in ((1, -25.0), (2, -22.0), (3, -20.0)):
            db.session.get(Onu, onu_id).rx_power = rx
        db.session.commit()
    url = "/api/v1/onus?" + query.format(north=two_olts[0])
    assert [o["id"] for o in reader.get(url).get_json()["items"]] == ids


def test_a_reversed_power_range_names_the_field(app, reader):
    body = reader.get("/api/v1/onus?rx_min=-10&rx_max=-20").get_json()
    assert body["status"] == 422 and body["errores"][0]["campo"] == "rx_min"


def walk(caller, url, limit, cursor=None):
    """Follow `siguiente` from `cursor` to the end: (ids seen, pages read)."""
    seen, pages = [], 0
    while True:
        page = caller.get(f"{url}&limite={limit}" + (f"&despues_de={cursor}" if cursor else ""))
        body = page.get_json()
        seen.extend(o["id"] for o in body["items"])
        pages += 1
        cursor = body["siguiente"]
        if cursor is None:
            return seen, pages


def test_keyset_pages_return_every_onu_once_in_order(any_app, any_reader):
    brand = add_brand(any_app)
    olt = add_olt(any_app, brand, "OLT-1")
    ids = add_onus(any_app, olt, 23, status="online")
    seen, pages = walk(any_reader, "/api/v1/onus?estado=online", 5)
    assert seen == sorted(ids) and pages == 5
    exact, pages = walk(any_reader, "/api/v1/onus?estado=online", 23)
    assert exact == sorted(ids) and pages == 1     # a full last page says there is no more


def test_rows_added_or_removed_during_a_walk_never_repeat_or_hide_others(any_app, any_reader):
    brand = add_brand(any_app)
    olt = add_olt(any_app, brand, "OLT-1")
    ids = add_onus(any_app, olt, 10)
    first = any_reader.get("/api/v1/onus?limite=4").get_json()
    with any_app.app_context():     # an ONU of the first page goes, a new one arrives
        db.session.delete(db.session.get(Onu, ids[0]))
        db.session.commit()
    new = add_onus(any_app, olt, 1, first=99)
    rest, _ = walk(any_reader, "/api/v1/onus?", 4, first["siguiente"])
    seen = [o["id"] for o in first["items"]] + rest
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen) and seen[-1] == new[0]


def test_one_onu_comes_with_its_readings_raw_or_by_hour(any_app, any_reader):
    brand = add_brand(any_app)
    olt = add_olt(any_app, brand, "OLT-1")
    onu_id = add_onus(any_app, olt, 1, serial="ZTEG1234")[0]
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    with any_app.app_context():
        store.append([(onu_id, "rx_power", t0 + timedelta(minutes=m), -20.0 - m)
                      for m in (0, 15, 30, 70)])
        db.session.commit()
    base = f"/api/v1/onus/{onu_id}?desde=2026-03-01T00:00:00Z&hasta=2026-03-02T00:00:00Z"
    raw = any_reader.get(base).get_json()
    assert raw["onu"]["serie"] == "ZTEG1234" and raw["metricas"] == ["rx_power"]
    assert raw["historial"]["puntos"] == [
        {"t": "2026-03-01T10:00:00Z", "valor": -20.0}, {"t": "2026-03-01T10:15:00Z", "valor": -35.0},
        {"t": "2026-03-01T10:30:00Z", "valor": -50.0}, {"t": "2026-03-01T11:10:00Z", "valor": -90.0}]
    hourly = any_reader.get(base + "&resolucion=hour").get_json()["historial"]["puntos"]
    assert hourly == [
        {"t": "2026-03-01T10:00:00Z", "min": -50.0, "prom": pytest.approx(-35.0), "max": -20.0,
         "n": 3},
        {"t": "2026-03-01T11:00:00Z", "min": -90.0, "prom": -90.0, "max": -90.0, "n": 1}]
    other = any_reader.get(base + "&metrica=temperatura").get_json()["historial"]
    assert other["metrica"] == "temperatura" and other["puntos"] == []


@pytest.mark.parametrize("query, says", [
    ("desde=2026-03-02T00:00:00Z&hasta=2026-03-01T00:00:00Z", "anterior a «hasta»"),
    ("desde=2026-01-01T00:00:00Z&hasta=2026-03-01T00:00:00Z", "hasta 31 días"),
    ("desde=ayer", "ISO 8601"),
    ("resolucion=minuto", "Debe ser uno de: raw, hour"),
])
def test_a_bad_history_range_names_the_parameter(app, reader, query, says):
    brand = add_brand(app)
    onu_id = add_onus(app, add_olt(app, brand, "OLT-1"), 1)[0]
    body = reader.get(f"/api/v1/onus/{onu_id}?{query}").get_json()
    assert body["status"] == 422 and says in body["detail"]


@pytest.fixture
def executions(app, api_user):
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    job = add_job(app, brand, [olt_a, olt_b], nombre="descubrir")
    other = add_job(app, brand, [olt_a], nombre="potencia", job_type="get")
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    return {
        "failed": add_execution(app, job, olt_a, status="FAILED", created_at=when,
                                error_message="Tiempo agotado"),
        "ok": add_execution(app, job, olt_b, status="SUCCESS",
                            created_at=when + timedelta(hours=1)),
        "manual": add_execution(app, other, olt_a, status="SUCCESS", scheduled_for=None,
                                requested_by_id=api_user, created_at=when + timedelta(hours=2)),
        "job": job, "other": other, "olt_a": olt_a, "user": api_user,
    }


@pytest.mark.parametrize("query, keys", [
    ("", ["manual", "ok", "failed"]),
    ("estado=FAILED", ["failed"]),
    ("tarea={job}", ["ok", "failed"]),
    ("olt={olt_a}", ["manual", "failed"]),
    ("origen=manual", ["manual"]),
    ("origen=programada", ["ok", "failed"]),
    ("solicitada_por={user}", ["manual"]),
    ("desde=2026-05-01T13:00:00Z", ["manual", "ok"]),
    ("hasta=2026-05-01T13:00:00Z", ["ok", "failed"]),
])
def test_executions_are_filtered_as_in_the_panel_newest_first(app, reader, executions, query,
                                                             keys):
    url = "/api/v1/ejecuciones?" + query.format(**executions)
    assert [e["id"] for e in reader.get(url).get_json()["items"]] == [executions[k]
                                                                      for k in keys]


def test_an_execution_reads_with_its_job_olt_and_error(app, reader, executions):
    body = reader.get(f"/api/v1/ejecuciones/{executions['failed']}").get_json()
    assert body["tarea"] == {"id": executions["job"], "nombre": "descubrir",
                             "tipo": "descubrimiento"}
    assert body["olt"]["abreviatura"] == "OLT-A" and body["estado_texto"] == "Fallida"
    assert body["error"] == "Tiempo agotado" and body["manual"] is False
    manual = reader.get(f"/api/v1/ejecuciones/{executions['manual']}").get_json()
    assert manual["solicitada_por"] == "integrador" and manual["manual"] is True


def test_execution_pages_walk_newest_first_without_repeats(app, reader, executions):
    seen, pages = walk(reader, "/api/v1/ejecuciones?origen=programada", 1)
    assert seen == [executions["ok"], executions["failed"]] and pages == 2


def test_jobs_list_their_schedule_and_olt_count(app, reader, executions):
    items = {j["nombre"]: j for j in reader.get("/api/v1/tareas").get_json()["items"]}
    assert items["descubrir"]["olts"] == 2 and items["descubrir"]["intervalo"] == "5m"
    assert items["potencia"]["tipo"] == "get"
    only_get = reader.get("/api/v1/tareas?tipo=get").get_json()["items"]
    assert [j["nombre"] for j in only_get] == ["potencia"]


def test_a_jobs_next_run_is_its_claimed_pending_slot_as_in_the_panel(app, reader):
    """`next_run_at` is the first slot not yet claimed; a reserved PENDING slot comes first
    (issue 9, 3.3: the panel's jobs list, the dashboard and the API give one answer)."""
    brand = add_brand(app)
    olt = add_olt(app, brand)
    job = add_job(app, brand, [olt], next_run_at=datetime(2030, 1, 1, 15, 1, tzinfo=UTC))
    add_execution(app, job, olt, scheduled_for=datetime(2030, 1, 1, 15, 0, tzinfo=UTC))
    [item] = reader.get("/api/v1/tareas").get_json()["items"]
    assert item["proxima_ejecucion"].startswith("2030-01-01T15:00:00"), item


def test_a_control_character_in_a_search_is_refused_not_sent_to_the_database(any_app,
                                                                            any_reader):
    body = any_reader.get("/api/v1/onus?q=a%00b").get_json()
    assert body["status"] == 422
    assert body["errores"] == [{"campo": "q", "ubicacion": "consulta",
                                "mensaje": "No puede contener caracteres de control."}]
