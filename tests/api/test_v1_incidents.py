"""/api/v1/incidentes: incidents listed with the panel's filters, and acknowledged with the
panel's own transition (by the token's user, notifying the rule's channels once)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from facho.extensions import db
from facho.models import AlertRule, Incident, NotificationChannel, NotificationOutbox, utcnow
from tests.factories import add, add_brand, add_incident, add_olt


@pytest.fixture
def incidents(app):
    brand = add_brand(app)
    north = add_olt(app, brand, "OLT-NORTE")
    south = add_olt(app, brand, "OLT-SUR", ip_address="10.0.0.2")
    channel = add(app, NotificationChannel(nombre="Guardia", url="json://127.0.0.1:9/x"))
    with app.app_context():
        rule = AlertRule(nombre="cortes", kind="pon_caida", scope="todas", params={})
        rule.channels = [db.session.get(NotificationChannel, channel)]
        db.session.add(rule)
        db.session.commit()
        rule_id = rule.id
    now = utcnow()
    return {
        "fibre": add_incident(app, north, rule_id=rule_id, slot=1, port=1,
                              cause="corte de fibra", onus_included=20, onus_suppressed=12,
                              opened_at=now - timedelta(hours=3)),
        "old": add_incident(app, north, kind="olt_inalcanzable", title="OLT-NORTE caída",
                            state="resuelto", opened_at=now - timedelta(days=3),
                            resolved_at=now - timedelta(days=2)),
        "south": add_incident(app, south, kind="pon_degradada", title="Sur degradada",
                              opened_at=now - timedelta(hours=1)),
        "north": north,
    }


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [i["id"] for i in response.get_json()["items"]]


def test_incidents_are_listed_newest_first_and_filtered(app, reader, incidents):
    assert _ids(reader.get("/api/v1/incidentes")) == [
        incidents["south"], incidents["old"], incidents["fibre"]]
    assert _ids(reader.get("/api/v1/incidentes?estado=abierto")) == [
        incidents["south"], incidents["fibre"]]
    assert _ids(reader.get(f"/api/v1/incidentes?olt={incidents['north']}&tipo=pon_caida")) \
        == [incidents["fibre"]]
    fibre = reader.get("/api/v1/incidentes?tipo=pon_caida").get_json()["items"][0]
    assert (fibre["pon"], fibre["causa"], fibre["onus_incluidas"],
            fibre["alertas_suprimidas"]) == ("0/1/1", "corte de fibra", 20, 12)
    assert reader.get("/api/v1/incidentes?estado=cerrado").status_code == 422


def test_acknowledging_needs_ejecutar_and_queues_one_notification(app, reader, make_caller,
                                                                  incidents):
    url = f"/api/v1/incidentes/{incidents['fibre']}/reconocer"
    assert reader.post(url, json={}).status_code == 403
    runner = make_caller(("ejecutar",))
    answer = runner.post(url, json={"nota": "cuadrilla en camino"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["estado"], body["reconocido_por"], body["nota"]) == (
        "reconocido", "integrador", "cuadrilla en camino")
    again = runner.post(url, json={})
    assert again.status_code == 409 and "no está abierto" in again.get_json()["detail"]
    assert runner.post("/api/v1/incidentes/999999/reconocer", json={}).status_code == 404
    with app.app_context():
        row = db.session.get(Incident, incidents["fibre"])
        assert row.acknowledged_by == "integrador"
        outbox = db.session.query(NotificationOutbox).filter_by(
            incident_id=incidents["fibre"]).all()
        assert [o.transition for o in outbox] == ["reconocido"]


def test_incidents_export_as_csv_from_the_api_and_the_panel_with_their_filters(
        app, reader, staff_client, incidents):
    import csv
    import io

    api = reader.get("/api/v1/incidentes.csv?estado=abierto")
    assert api.status_code == 200 and api.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(api.get_data(as_text=True).lstrip("\ufeff"))))
    assert [int(r["id"]) for r in rows] == sorted([incidents["fibre"], incidents["south"]])
    fibre = next(r for r in rows if int(r["id"]) == incidents["fibre"])
    assert (fibre["olt"], fibre["causa"], fibre["onus_incluidas"]) == (
        "OLT-NORTE", "corte de fibra", "20")
    panel = staff_client.get("/admin/incidentes/exportar.csv?flt0_estado_igual_a=resuelto")
    assert panel.status_code == 200
    assert "incidentes" in panel.headers["Content-Disposition"]
    listed = panel.get_data(as_text=True)
    assert "OLT-NORTE caída" in listed and "Sur degradada" not in listed
    page = staff_client.get("/admin/incidentes/").get_data(as_text=True)
    assert 'id="export-csv-link"' in page
